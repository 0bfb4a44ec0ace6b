package io.regcast.testing;

import static io.regcast.testing.RawWebSocket.OP_BINARY;
import static io.regcast.testing.RawWebSocket.OP_CLOSE;
import static io.regcast.testing.RawWebSocket.OP_CONTINUATION;
import static io.regcast.testing.RawWebSocket.OP_PING;
import static io.regcast.testing.RawWebSocket.OP_TEXT;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.regcast.testing.RawWebSocket.Frame;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ProtocolException;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The raw test client's codec on in-memory streams, and its handshake against a scripted server. */
class RawWebSocketTest {
  private static final byte[] MASK = {(byte) 0x37, (byte) 0xfa, (byte) 0x21, (byte) 0x3d};
  private static final Duration DEADLINE = Duration.ofSeconds(5);

  // ---- codec ----------------------------------------------------------------------------------

  @ParameterizedTest(name = "{0} bytes → {1}-byte header")
  @CsvSource({"0, 2", "1, 2", "125, 2", "126, 4", "65535, 4", "65536, 10", "200000, 10"})
  void encodesEachLengthInItsShortestFormAndDecodesItBack(int length, int headerBytes) throws IOException {
    byte[] payload = pattern(length);

    byte[] wire = RawWebSocket.encodeFrame(true, OP_BINARY, payload, null);

    assertEquals(headerBytes + length, wire.length);
    assertEquals(0x82, wire[0] & 0xFF, "FIN + binary");
    int marker = wire[1] & 0x7F;
    assertEquals(length <= 125 ? length : length <= 0xFFFF ? 126 : 127, marker);
    assertEquals(length, declaredLength(wire));
    assertEquals(new Frame(true, OP_BINARY, payload), decode(wire, false));
  }

  @ParameterizedTest(name = "{0} bytes masked")
  @CsvSource({"0", "5", "125", "126", "65535", "65536"})
  void masksWithTheKeyAfterTheLengthAndUnmasksOnDecode(int length) throws IOException {
    byte[] payload = pattern(length);

    byte[] wire = RawWebSocket.encodeFrame(false, OP_TEXT, payload, MASK);

    int header = length <= 125 ? 2 : length <= 0xFFFF ? 4 : 10;
    assertEquals(header + 4 + length, wire.length);
    assertEquals(0x01, wire[0] & 0xFF, "no FIN, text");
    assertEquals(0x80, wire[1] & 0x80, "mask bit");
    assertArrayEquals(MASK, Arrays.copyOfRange(wire, header, header + 4));
    for (int i = 0; i < length; i++) {
      assertEquals((byte) (payload[i] ^ MASK[i % 4]), wire[header + 4 + i], "byte " + i);
    }
    assertEquals(new Frame(false, OP_TEXT, payload), decode(wire, true));
  }

  @Test
  void encodesTheRfcExampleFrames() {
    // RFC 6455 §5.7: "Hello", unmasked and masked with 37 fa 21 3d
    byte[] hello = "Hello".getBytes(UTF_8);
    assertArrayEquals(hex("810548656c6c6f"), RawWebSocket.encodeFrame(true, OP_TEXT, hello, null));
    assertArrayEquals(hex("818537fa213d7f9f4d5158"), RawWebSocket.encodeFrame(true, OP_TEXT, hello, MASK));
    // a fragmented unmasked text message, and an unmasked ping
    assertArrayEquals(hex("010348656c"), RawWebSocket.encodeFrame(false, OP_TEXT, "Hel".getBytes(UTF_8), null));
    assertArrayEquals(hex("80026c6f"), RawWebSocket.encodeFrame(true, OP_CONTINUATION, "lo".getBytes(UTF_8), null));
    assertArrayEquals(hex("890548656c6c6f"), RawWebSocket.encodeFrame(true, OP_PING, hello, null));
  }

  @Test
  void readsCloseCodesAndReasons() throws IOException {
    Frame close = decode(RawWebSocket.encodeFrame(true, OP_CLOSE, RawWebSocket.closePayload(1009, "too big"), null), false);
    assertEquals(1009, close.closeCode());
    assertEquals("too big", close.closeReason());
    Frame empty = decode(RawWebSocket.encodeFrame(true, OP_CLOSE, new byte[0], null), false);
    assertEquals(RawWebSocket.NO_STATUS_RECEIVED, empty.closeCode());
    assertEquals("", empty.closeReason());
    assertTrue(close.isControl());
  }

  @Test
  void refusesWhatAServerMustNotSend() {
    byte[] masked = RawWebSocket.encodeFrame(true, OP_TEXT, "x".getBytes(UTF_8), MASK);
    assertThrows(ProtocolException.class, () -> decode(masked, false), "masked frame from a server");
    byte[] unmasked = RawWebSocket.encodeFrame(true, OP_TEXT, "x".getBytes(UTF_8), null);
    assertThrows(ProtocolException.class, () -> decode(unmasked, true), "unmasked frame from a client");
    assertThrows(ProtocolException.class, () -> decode(hex("c10178"), false), "RSV1 set");
    assertThrows(ProtocolException.class, () -> decode(hex("827e007d" + "00".repeat(125)), false), "16-bit 125");
    assertThrows(ProtocolException.class, () -> decode(hex("827f000000000000ffff"), false), "64-bit 65535");
    assertThrows(EOFException.class, () -> decode(hex("8205abcd"), false), "truncated payload");
  }

  @Test
  void computesTheRfcAcceptValue() {
    assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", RawWebSocket.acceptFor("dGhlIHNhbXBsZSBub25jZQ=="));
  }

  // ---- against a scripted server ----------------------------------------------------------------

  private ServerSocket server;

  @BeforeEach
  void listen() throws IOException {
    server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
  }

  @AfterEach
  void stopListening() throws IOException {
    server.close();
  }

  /** What the scripted server does with one accepted connection. */
  private interface Script {
    void run(Map<String, String> requestHeaders, String requestLine, Socket socket) throws Exception;
  }

  /** Accepts one connection, reads the request head, runs {@code script}; completes when it is done. */
  private CompletableFuture<Void> serveOnce(Script script) {
    return CompletableFuture.runAsync(
        () -> {
          try (Socket socket = server.accept()) {
            socket.setSoTimeout((int) DEADLINE.toMillis());
            InputStream in = socket.getInputStream();
            String requestLine = readLine(in);
            Map<String, String> headers = new HashMap<>();
            for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
              int colon = line.indexOf(':');
              headers.put(line.substring(0, colon).trim().toLowerCase(), line.substring(colon + 1).trim());
            }
            script.run(headers, requestLine, socket);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  /** One CRLF-terminated line, byte by byte: nothing after the request head is consumed. */
  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int b; (b = in.read()) != '\n'; ) {
      if (b < 0) {
        throw new EOFException("request ended after: " + line);
      }
      line.append((char) b);
    }
    return line.toString().strip();
  }

  private static void answer101(Socket socket, String accept, String extraHeader) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(
        ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + accept + "\r\n" + extraHeader + "\r\n")
            .getBytes(ISO_8859_1));
    out.flush();
  }

  @Test
  void upgradesExposesTheHeadersAndExchangesFrames() throws Exception {
    CompletableFuture<Void> served =
        serveOnce(
            (headers, requestLine, socket) -> {
              assertEquals("GET /gateways/d4e/ws?x=1 HTTP/1.1", requestLine);
              assertEquals("websocket", headers.get("upgrade"));
              assertEquals("13", headers.get("sec-websocket-version"));
              assertEquals("regcast-test", headers.get("user-agent"));
              answer101(socket, RawWebSocket.acceptFor(headers.get("sec-websocket-key")),
                  "X-Yc-Apigateway-Websocket-Connection-Id: c-1\r\n");
              DataInputStream in = new DataInputStream(socket.getInputStream());
              Frame fromClient = RawWebSocket.decodeFrame(in, true);
              assertEquals(new Frame(true, OP_TEXT, "ping?".getBytes(UTF_8)), fromClient);
              OutputStream out = socket.getOutputStream();
              out.write(RawWebSocket.encodeFrame(true, OP_TEXT, "x".repeat(70_000).getBytes(UTF_8), null));
              out.write(RawWebSocket.encodeFrame(true, OP_CLOSE, RawWebSocket.closePayload(1001, "bye"), null));
              out.flush();
              assertEquals(1001, RawWebSocket.decodeFrame(in, true).closeCode(), "the close echo");
            });

    try (RawWebSocket ws =
        RawWebSocket.open("127.0.0.1", server.getLocalPort(), "/gateways/d4e/ws?x=1", Map.of("User-Agent", "regcast-test"))) {
      assertEquals(101, ws.status());
      assertTrue(ws.upgraded());
      assertEquals("c-1", ws.header("x-yc-apigateway-websocket-connection-id"));
      ws.sendText("ping?");
      Frame big = ws.readFrame(DEADLINE);
      assertEquals(70_000, big.payload().length);
      assertEquals(1001, ws.readUntilClose(DEADLINE));
      assertEquals("bye", ws.closeReason());
    }
    served.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Test
  void exposesAnAnswerOtherThan101WithItsBody() throws Exception {
    CompletableFuture<Void> served =
        serveOnce(
            (headers, requestLine, socket) -> {
              byte[] body = "{\"code\":5}".getBytes(UTF_8);
              socket.getOutputStream().write(
                  ("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                          + "\r\n\r\n")
                      .getBytes(ISO_8859_1));
              socket.getOutputStream().write(body);
              socket.getOutputStream().flush();
            });

    try (RawWebSocket ws = RawWebSocket.open("127.0.0.1", server.getLocalPort(), "/gateways/nope/ws", Map.of())) {
      assertEquals(404, ws.status());
      assertFalse(ws.upgraded());
      assertEquals("application/json", ws.header("Content-Type"));
      assertEquals("{\"code\":5}", ws.bodyText());
      assertThrows(IllegalStateException.class, () -> ws.sendText("no"));
    }
    served.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Test
  void removesADefaultHeaderMappedToNull() throws Exception {
    CompletableFuture<Void> served =
        serveOnce(
            (headers, requestLine, socket) -> {
              assertFalse(headers.containsKey("upgrade"), headers::toString);
              assertEquals("d4e.gw.example", headers.get("host"));
              socket.getOutputStream().write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".getBytes(ISO_8859_1));
            });
    Map<String, String> extra = new LinkedHashMap<>();
    extra.put("Upgrade", null);
    extra.put("host", "d4e.gw.example");

    try (RawWebSocket ws = RawWebSocket.open("127.0.0.1", server.getLocalPort(), "/ws", extra)) {
      assertEquals(400, ws.status());
    }
    served.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Test
  void refusesA101WithTheWrongAccept() {
    CompletableFuture<Void> served = serveOnce((headers, requestLine, socket) -> answer101(socket, "d3Jvbmc=", ""));

    AssertionError error =
        assertThrows(AssertionError.class, () -> RawWebSocket.open("127.0.0.1", server.getLocalPort(), "/ws", Map.of()));
    assertTrue(error.getMessage().contains("Sec-WebSocket-Accept"), error.getMessage());
    served.join();
  }

  @Test
  void failsClearlyAtTheDeadlineAndReportsAConnectionEndedWithoutCloseFrame() throws Exception {
    CompletableFuture<Void> proceed = new CompletableFuture<>();
    CompletableFuture<Void> served =
        serveOnce(
            (headers, requestLine, socket) -> {
              answer101(socket, RawWebSocket.acceptFor(headers.get("sec-websocket-key")), "");
              proceed.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
              socket.getOutputStream().write(RawWebSocket.encodeFrame(true, OP_PING, new byte[] {1}, null));
              // then closes the socket: no close frame
            });

    try (RawWebSocket ws = RawWebSocket.open("127.0.0.1", server.getLocalPort(), "/ws", Map.of())) {
      long started = System.nanoTime();
      AssertionError timeout = assertThrows(AssertionError.class, () -> ws.readFrame(Duration.ofMillis(200)));
      long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      assertTrue(timeout.getMessage().contains("no complete frame within PT0.2S"), timeout.getMessage());
      assertTrue(tookMillis >= 190 && tookMillis < 2_000, "took " + tookMillis + " ms");

      ws.stopReading();
      assertThrows(IllegalStateException.class, () -> ws.readFrame(DEADLINE));
      ws.resumeReading();

      proceed.complete(null);
      assertEquals(-1, ws.readUntilClose(DEADLINE), "the ping is skipped, then the TCP connection ends");
    }
    served.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Test
  void setsTheReceiveBufferBeforeConnecting() throws Exception {
    CompletableFuture<Void> served =
        serveOnce((headers, requestLine, socket) -> answer101(socket, RawWebSocket.acceptFor(headers.get("sec-websocket-key")), ""));

    RawWebSocket.Options small = RawWebSocket.Options.DEFAULTS.withReceiveBufferSize(4096);
    try (RawWebSocket ws = RawWebSocket.open("127.0.0.1", server.getLocalPort(), "/ws", Map.of(), small)) {
      // the kernel may round up (Linux doubles it), never to the default of ~128 KiB
      int size = ws.socket().getReceiveBufferSize();
      assertTrue(size >= 4096 && size <= 16384, "receive buffer " + size);
    }
    served.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  // ---- helpers ------------------------------------------------------------------------------------

  private static Frame decode(byte[] wire, boolean expectMasked) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(wire));
    Frame frame = RawWebSocket.decodeFrame(in, expectMasked);
    assertEquals(-1, in.read(), "the frame used every byte");
    return frame;
  }

  private static long declaredLength(byte[] wire) {
    int marker = wire[1] & 0x7F;
    if (marker <= 125) {
      return marker;
    }
    if (marker == 126) {
      return ((wire[2] & 0xFF) << 8) | (wire[3] & 0xFF);
    }
    long length = 0;
    for (int i = 2; i < 10; i++) {
      length = (length << 8) | (wire[i] & 0xFF);
    }
    return length;
  }

  private static byte[] pattern(int length) {
    byte[] bytes = new byte[length];
    for (int i = 0; i < length; i++) {
      bytes[i] = (byte) (i * 31 + 7);
    }
    return bytes;
  }

  private static byte[] hex(String hex) {
    return java.util.HexFormat.of().parseHex(hex);
  }
}

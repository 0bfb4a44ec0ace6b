package io.regcast.testing;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A deliberately low-level RFC 6455 client on a plain {@link Socket}, for protocol edge-case tests:
 * it does the HTTP upgrade by hand, sends any frame (unmasked, reserved opcodes, lying lengths via
 * {@link #sendRaw}), and reads frames one at a time with a deadline. It never answers anything by
 * itself (no automatic pong, no close echo except in {@link #readUntilClose}) and never reads in
 * the background: bytes the server sends stay in the kernel's receive buffer until a read method
 * is called — which is what a slow-consumer test wants (see {@link #stopReading} and {@link
 * Options#receiveBufferSize}).
 *
 * <p>The wire format lives in the static {@link #encodeFrame} / {@link #decodeFrame} pair, which
 * work on plain streams so the codec is tested without a socket.
 *
 * <pre>{@code
 * try (RawWebSocket ws = RawWebSocket.open("127.0.0.1", port, "/gateways/" + id + "/ws", Map.of())) {
 *   assertEquals(101, ws.status());
 *   ws.sendFrame(true, RawWebSocket.OP_TEXT, "hi".getBytes(UTF_8), false); // unmasked: illegal
 *   assertEquals(1002, ws.readUntilClose(Duration.ofSeconds(5)));
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one test thread drives it.
 */
public final class RawWebSocket implements AutoCloseable {
  public static final int OP_CONTINUATION = 0x0;
  public static final int OP_TEXT = 0x1;
  public static final int OP_BINARY = 0x2;
  public static final int OP_CLOSE = 0x8;
  public static final int OP_PING = 0x9;
  public static final int OP_PONG = 0xA;

  /** The close code reported for a close frame without a payload (RFC 6455 §7.1.5). */
  public static final int NO_STATUS_RECEIVED = 1005;

  /** RFC 6455 §1.3: appended to Sec-WebSocket-Key before hashing into Sec-WebSocket-Accept. */
  private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int MAX_HEADER_BYTES = 64 * 1024;
  private static final int MAX_BODY_BYTES = 1024 * 1024;

  /**
   * Socket settings applied before connecting.
   *
   * @param receiveBufferSize {@link Socket#setReceiveBufferSize} before connect (so the TCP window
   *     is negotiated with it); 0 = the OS default
   * @param connectTimeout TCP connect timeout
   * @param handshakeTimeout how long to wait for the whole HTTP response to the upgrade request
   */
  public record Options(int receiveBufferSize, Duration connectTimeout, Duration handshakeTimeout) {
    public static final Options DEFAULTS = new Options(0, Duration.ofSeconds(5), Duration.ofSeconds(10));

    public Options {
      if (receiveBufferSize < 0) {
        throw new IllegalArgumentException("receiveBufferSize must be >= 0: " + receiveBufferSize);
      }
      Objects.requireNonNull(connectTimeout, "connectTimeout");
      Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
    }

    public Options withReceiveBufferSize(int bytes) {
      return new Options(bytes, connectTimeout, handshakeTimeout);
    }

    public Options withHandshakeTimeout(Duration timeout) {
      return new Options(receiveBufferSize, connectTimeout, timeout);
    }
  }

  /** One frame as it was on the wire (payload unmasked). */
  public record Frame(boolean fin, int opcode, byte[] payload) {
    public Frame {
      Objects.requireNonNull(payload, "payload");
    }

    public boolean isControl() {
      return (opcode & 0x8) != 0;
    }

    /** The payload decoded as UTF-8 (malformed input replaced, for messages). */
    public String text() {
      return new String(payload, UTF_8);
    }

    /** A close frame's status code; {@link #NO_STATUS_RECEIVED} when its payload is empty. */
    public int closeCode() {
      requireClose();
      return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : NO_STATUS_RECEIVED;
    }

    /** A close frame's reason (after the two code bytes), "" if none. */
    public String closeReason() {
      requireClose();
      return payload.length > 2 ? new String(payload, 2, payload.length - 2, UTF_8) : "";
    }

    private void requireClose() {
      if (opcode != OP_CLOSE) {
        throw new IllegalStateException("not a close frame: " + this);
      }
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Frame f && fin == f.fin && opcode == f.opcode && Arrays.equals(payload, f.payload);
    }

    @Override
    public int hashCode() {
      return Objects.hash(fin, opcode, Arrays.hashCode(payload));
    }

    @Override
    public String toString() {
      String shown =
          payload.length <= 64
              ? (opcode == OP_TEXT ? '"' + text() + '"' : HexFormat.of().formatHex(payload))
              : payload.length + " bytes";
      return "Frame[fin=" + fin + ", opcode=0x" + Integer.toHexString(opcode) + ", payload=" + shown + "]";
    }
  }

  private final String target;
  private final Socket socket;
  private final DeadlineInputStream deadlineIn;
  private final DataInputStream in;
  private final OutputStream out;
  private final int status;
  private final String statusLine;
  private final Map<String, List<String>> headers;
  private final byte[] body;
  private boolean readingStopped;
  private String closeReason = "";

  private RawWebSocket(
      String target,
      Socket socket,
      DeadlineInputStream deadlineIn,
      DataInputStream in,
      OutputStream out,
      String statusLine,
      int status,
      Map<String, List<String>> headers,
      byte[] body) {
    this.target = target;
    this.socket = socket;
    this.deadlineIn = deadlineIn;
    this.in = in;
    this.out = out;
    this.statusLine = statusLine;
    this.status = status;
    this.headers = headers;
    this.body = body;
  }

  /** {@link #open(String, int, String, Map, Options)} with {@link Options#DEFAULTS}. */
  public static RawWebSocket open(String host, int port, String pathAndQuery, Map<String, String> extraHeaders)
      throws IOException {
    return open(host, port, pathAndQuery, extraHeaders, Options.DEFAULTS);
  }

  /**
   * Connects and sends the upgrade request: {@code GET pathAndQuery HTTP/1.1} with Host, Upgrade,
   * Connection, a random Sec-WebSocket-Key and Sec-WebSocket-Version 13, then {@code extraHeaders}
   * in their iteration order. An extra header named like a default one (case-insensitive) replaces
   * it; mapped to {@code null} (use a {@link LinkedHashMap}) it removes it — e.g. no Upgrade header
   * for a plain GET, or a Host of {@code {gatewayId}.domain} for Host-based routing.
   *
   * <p>Returns once the response's headers are read, whatever the status: check {@link #status()}.
   * A 101 must carry the right Sec-WebSocket-Accept (else AssertionError) and the socket is then
   * ready for frames; any other status's body is read (by Content-Length, or until the server
   * closes) and exposed as {@link #body()}, and no frames can be exchanged.
   */
  public static RawWebSocket open(
      String host, int port, String pathAndQuery, Map<String, String> extraHeaders, Options options)
      throws IOException {
    String target = "ws://" + host + ":" + port + pathAndQuery;
    byte[] nonce = new byte[16];
    RANDOM.nextBytes(nonce);
    String key = Base64.getEncoder().encodeToString(nonce);

    Map<String, String> requestHeaders = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    List<String> order = new ArrayList<>();
    putHeader(requestHeaders, order, "Host", host + ":" + port);
    putHeader(requestHeaders, order, "Upgrade", "websocket");
    putHeader(requestHeaders, order, "Connection", "Upgrade");
    putHeader(requestHeaders, order, "Sec-WebSocket-Key", key);
    putHeader(requestHeaders, order, "Sec-WebSocket-Version", "13");
    extraHeaders.forEach((name, value) -> putHeader(requestHeaders, order, name, value));
    StringBuilder request = new StringBuilder("GET ").append(pathAndQuery).append(" HTTP/1.1\r\n");
    for (String name : order) {
      String value = requestHeaders.get(name);
      if (value != null) {
        request.append(name).append(": ").append(value).append("\r\n");
      }
    }
    request.append("\r\n");

    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      if (options.receiveBufferSize() > 0) {
        socket.setReceiveBufferSize(options.receiveBufferSize());
      }
      socket.connect(new InetSocketAddress(host, port), Math.toIntExact(options.connectTimeout().toMillis()));
      DeadlineInputStream deadlineIn = new DeadlineInputStream(socket);
      DataInputStream in = new DataInputStream(new BufferedInputStream(deadlineIn, 64 * 1024));
      OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
      out.write(request.toString().getBytes(ISO_8859_1));
      out.flush();

      deadlineIn.setDeadline(options.handshakeTimeout());
      String statusLine;
      Map<String, List<String>> responseHeaders = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      try {
        statusLine = readHttpLine(in);
        for (String line = readHttpLine(in); !line.isEmpty(); line = readHttpLine(in)) {
          int colon = line.indexOf(':');
          if (colon <= 0) {
            throw new ProtocolException("malformed response header line: " + line);
          }
          responseHeaders
              .computeIfAbsent(line.substring(0, colon).trim(), k -> new ArrayList<>())
              .add(line.substring(colon + 1).trim());
        }
      } catch (SocketTimeoutException e) {
        throw new AssertionError(
            "GET " + target + ": no complete response within " + options.handshakeTimeout(), e);
      }
      String[] parts = statusLine.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
        throw new ProtocolException("malformed status line: " + statusLine);
      }
      int status = Integer.parseInt(parts[1]);
      byte[] body = new byte[0];
      if (status == 101) {
        verifyUpgrade(target, key, responseHeaders);
      } else {
        body = readBody(target, in, responseHeaders, options.handshakeTimeout());
      }
      deadlineIn.clearDeadline();
      Map<String, List<String>> frozen = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      responseHeaders.forEach((name, values) -> frozen.put(name, List.copyOf(values)));
      return new RawWebSocket(
          target, socket, deadlineIn, in, out, statusLine, status, Collections.unmodifiableMap(frozen), body);
    } catch (IOException | RuntimeException | Error e) {
      closeQuietly(socket);
      throw e;
    }
  }

  private static void putHeader(Map<String, String> headers, List<String> order, String name, String value) {
    if (!headers.containsKey(name)) {
      order.add(name);
    }
    headers.put(name, value);
  }

  private static void verifyUpgrade(String target, String key, Map<String, List<String>> headers) {
    String expected = acceptFor(key);
    List<String> accept = headers.getOrDefault("Sec-WebSocket-Accept", List.of());
    if (!accept.equals(List.of(expected))) {
      throw new AssertionError(
          "GET " + target + ": 101 with Sec-WebSocket-Accept " + accept + ", expected [" + expected + "]; headers "
              + headers);
    }
    String upgrade = String.join(",", headers.getOrDefault("Upgrade", List.of()));
    if (!upgrade.equalsIgnoreCase("websocket")) {
      throw new AssertionError("GET " + target + ": 101 with Upgrade '" + upgrade + "'; headers " + headers);
    }
    String connection = String.join(",", headers.getOrDefault("Connection", List.of())).toLowerCase(Locale.ROOT);
    if (!Arrays.stream(connection.split(",")).map(String::trim).toList().contains("upgrade")) {
      throw new AssertionError("GET " + target + ": 101 with Connection '" + connection + "'; headers " + headers);
    }
  }

  /** The Sec-WebSocket-Accept value a server must answer to {@code key} (RFC 6455 §4.2.2). */
  public static String acceptFor(String key) {
    try {
      byte[] sha1 = MessageDigest.getInstance("SHA-1").digest((key + ACCEPT_GUID).getBytes(ISO_8859_1));
      return Base64.getEncoder().encodeToString(sha1);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-1", e);
    }
  }

  private static byte[] readBody(String target, DataInputStream in, Map<String, List<String>> headers, Duration timeout)
      throws IOException {
    List<String> length = headers.getOrDefault("Content-Length", List.of());
    String encoding = String.join(",", headers.getOrDefault("Transfer-Encoding", List.of()));
    try {
      if (!length.isEmpty()) {
        byte[] body = new byte[Integer.parseInt(length.get(0))];
        in.readFully(body);
        return body;
      }
      if (encoding.toLowerCase(Locale.ROOT).contains("chunked")) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (int size; (size = Integer.parseInt(readHttpLine(in).split(";", 2)[0].trim(), 16)) > 0; ) {
          body.write(in.readNBytes(size));
          readHttpLine(in);
        }
        for (String trailer = readHttpLine(in); !trailer.isEmpty(); trailer = readHttpLine(in)) {
          // trailers ignored
        }
        return body.toByteArray();
      }
      // Neither: the body lasts until the server closes (or there is none and it keeps the
      // connection open, which the deadline ends).
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      byte[] buffer = new byte[8192];
      for (int n; body.size() < MAX_BODY_BYTES && (n = in.read(buffer)) >= 0; ) {
        body.write(buffer, 0, n);
      }
      return body.toByteArray();
    } catch (SocketTimeoutException e) {
      if (length.isEmpty() && !encoding.toLowerCase(Locale.ROOT).contains("chunked")) {
        return new byte[0];
      }
      throw new AssertionError("GET " + target + ": response body incomplete after " + timeout, e);
    }
  }

  /** One CRLF-terminated (bare LF tolerated) ISO-8859-1 line, without the terminator. */
  private static String readHttpLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b; (b = in.read()) != '\n'; ) {
      if (b < 0) {
        throw new EOFException("connection ended inside the HTTP response after: " + line.toString(ISO_8859_1));
      }
      if (line.size() >= MAX_HEADER_BYTES) {
        throw new ProtocolException("HTTP response line longer than " + MAX_HEADER_BYTES + " bytes");
      }
      line.write(b);
    }
    byte[] bytes = line.toByteArray();
    int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
    return new String(bytes, 0, end, ISO_8859_1);
  }

  // ---- the response to the upgrade request ----------------------------------------------------

  public int status() {
    return status;
  }

  /** e.g. {@code HTTP/1.1 101 Switching Protocols} */
  public String statusLine() {
    return statusLine;
  }

  /** Every response header, names case-insensitive, values in the order received. */
  public Map<String, List<String>> headers() {
    return headers;
  }

  /** The first value of a response header, or null. */
  public String header(String name) {
    List<String> values = headers.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  /** The body of a non-101 response (empty for a 101). */
  public byte[] body() {
    return body.clone();
  }

  public String bodyText() {
    return new String(body, UTF_8);
  }

  public boolean upgraded() {
    return status == 101;
  }

  /** The underlying socket (e.g. to read its local port or shut down output). */
  public Socket socket() {
    return socket;
  }

  // ---- sending ----------------------------------------------------------------------------------

  /**
   * Writes one frame as given, flushed: no validation, so a test can send what a correct client
   * never would (unmasked, a control frame that is fragmented or too long, a reserved opcode).
   * Lengths use the shortest encoding (7, 16 or 64 bits); {@code masked} uses a random key.
   */
  public void sendFrame(boolean fin, int opcode, byte[] payload, boolean masked) throws IOException {
    byte[] maskKey = null;
    if (masked) {
      maskKey = new byte[4];
      RANDOM.nextBytes(maskKey);
    }
    requireUpgraded();
    encodeFrame(out, fin, opcode, payload, maskKey);
    out.flush();
  }

  /** Writes bytes as they are (a frame with reserved bits, a header that lies about its length…). */
  public void sendRaw(byte[] bytes) throws IOException {
    requireUpgraded();
    out.write(bytes);
    out.flush();
  }

  /** One masked, final text frame. */
  public void sendText(String text) throws IOException {
    sendFrame(true, OP_TEXT, text.getBytes(UTF_8), true);
  }

  /** One masked, final binary frame. */
  public void sendBinary(byte[] data) throws IOException {
    sendFrame(true, OP_BINARY, data, true);
  }

  public void sendPing(byte[] payload) throws IOException {
    sendFrame(true, OP_PING, payload, true);
  }

  public void sendPong(byte[] payload) throws IOException {
    sendFrame(true, OP_PONG, payload, true);
  }

  /** A masked close frame with {@code code} and {@code reason}. */
  public void sendClose(int code, String reason) throws IOException {
    sendFrame(true, OP_CLOSE, closePayload(code, reason), true);
  }

  /** A masked close frame without a payload (no status code). */
  public void sendClose() throws IOException {
    sendFrame(true, OP_CLOSE, new byte[0], true);
  }

  public static byte[] closePayload(int code, String reason) {
    byte[] text = reason.getBytes(UTF_8);
    byte[] payload = new byte[2 + text.length];
    payload[0] = (byte) (code >>> 8);
    payload[1] = (byte) code;
    System.arraycopy(text, 0, payload, 2, text.length);
    return payload;
  }

  // ---- receiving --------------------------------------------------------------------------------

  /**
   * The next frame, whatever it is (pings are returned, not answered). Fails with an
   * AssertionError naming the deadline if no complete frame arrives in time, and when the
   * connection ends first; an IOException for anything else (e.g. a reset). A frame from the server
   * that is masked or has a reserved bit set is a ProtocolException.
   */
  public Frame readFrame(Duration deadline) throws IOException {
    requireReading();
    deadlineIn.setDeadline(deadline);
    try {
      return decodeFrame(in, false);
    } catch (SocketTimeoutException e) {
      throw new AssertionError(target + ": no complete frame within " + deadline, e);
    } catch (EOFException e) {
      throw new AssertionError(target + ": the connection ended before a complete frame (" + e.getMessage() + ")", e);
    } finally {
      deadlineIn.clearDeadline();
    }
  }

  /**
   * Reads and discards frames until a close frame arrives, answers it with a close frame of the
   * same code (best effort, as RFC 6455 §5.5.1 asks) and returns its code — {@link
   * #NO_STATUS_RECEIVED} for an empty close frame — or -1 when the TCP connection ended (FIN or
   * reset) without one. Fails with an AssertionError if neither happens within {@code deadline}.
   * The close frame's reason is then {@link #closeReason()}.
   */
  public int readUntilClose(Duration deadline) throws IOException {
    requireReading();
    deadlineIn.setDeadline(deadline);
    try {
      while (true) {
        Frame frame;
        try {
          frame = decodeFrame(in, false);
        } catch (EOFException | SocketException ended) {
          // SocketException: "Connection reset" — the server cut the connection
          return -1;
        }
        if (frame.opcode() == OP_CLOSE) {
          closeReason = frame.closeReason();
          int code = frame.closeCode();
          try {
            byte[] echo = code == NO_STATUS_RECEIVED ? new byte[0] : closePayload(code, "");
            encodeFrame(out, true, OP_CLOSE, echo, maskKey());
            out.flush();
          } catch (IOException alreadyGone) {
            // the server may close the TCP connection right after its close frame
          }
          return code;
        }
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError(target + ": neither a close frame nor the end of the connection within " + deadline, e);
    } finally {
      deadlineIn.clearDeadline();
    }
  }

  /** The reason of the close frame {@link #readUntilClose} returned, "" if none. */
  public String closeReason() {
    return closeReason;
  }

  /**
   * From now on this client reads nothing (a read method fails with IllegalStateException until
   * {@link #resumeReading}): what the server sends piles up in the socket's receive buffer and then
   * the server's send buffer — a slow consumer. Nothing is read in the background in any case;
   * this makes the intent explicit and catches a test that reads by mistake.
   */
  public void stopReading() {
    readingStopped = true;
  }

  public void resumeReading() {
    readingStopped = false;
  }

  /** Resets the connection (RST, not FIN): a client that vanishes without a close handshake. */
  public void abort() {
    try {
      socket.setSoLinger(true, 0);
    } catch (SocketException ignored) {
      // closing anyway
    }
    closeQuietly(socket);
  }

  /** Closes the TCP connection (FIN) without a close frame. */
  @Override
  public void close() {
    closeQuietly(socket);
  }

  private void requireUpgraded() {
    if (!upgraded()) {
      throw new IllegalStateException(target + " was not upgraded: " + statusLine);
    }
  }

  private void requireReading() {
    requireUpgraded();
    if (readingStopped) {
      throw new IllegalStateException(target + ": stopReading() was called; resumeReading() first");
    }
  }

  private static byte[] maskKey() {
    byte[] key = new byte[4];
    RANDOM.nextBytes(key);
    return key;
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // nothing left to do
    }
  }

  @Override
  public String toString() {
    return "RawWebSocket[" + target + ", " + statusLine + "]";
  }

  // ---- the codec (RFC 6455 §5.2), on plain streams -----------------------------------------------

  /**
   * Writes one frame: FIN and opcode, the payload length in its shortest form (7 bits up to 125,
   * 126 + 16 bits up to 65535, else 127 + 64 bits), and the payload — masked with {@code maskKey}
   * (4 bytes, sent after the length) when it is not null. RSV bits are 0. Nothing is checked, so
   * illegal frames can be written on purpose.
   */
  public static void encodeFrame(OutputStream out, boolean fin, int opcode, byte[] payload, byte[] maskKey)
      throws IOException {
    if (opcode < 0 || opcode > 0xF) {
      throw new IllegalArgumentException("opcode is 4 bits: " + opcode);
    }
    if (maskKey != null && maskKey.length != 4) {
      throw new IllegalArgumentException("a masking key is 4 bytes, got " + maskKey.length);
    }
    out.write((fin ? 0x80 : 0) | opcode);
    int maskBit = maskKey != null ? 0x80 : 0;
    int length = payload.length;
    if (length <= 125) {
      out.write(maskBit | length);
    } else if (length <= 0xFFFF) {
      out.write(maskBit | 126);
      out.write(length >>> 8);
      out.write(length & 0xFF);
    } else {
      out.write(maskBit | 127);
      long wide = length;
      for (int shift = 56; shift >= 0; shift -= 8) {
        out.write((int) (wide >>> shift) & 0xFF);
      }
    }
    if (maskKey == null) {
      out.write(payload);
    } else {
      out.write(maskKey);
      byte[] masked = new byte[length];
      for (int i = 0; i < length; i++) {
        masked[i] = (byte) (payload[i] ^ maskKey[i & 3]);
      }
      out.write(masked);
    }
  }

  /** {@link #encodeFrame(OutputStream, boolean, int, byte[], byte[])} into a new array. */
  public static byte[] encodeFrame(boolean fin, int opcode, byte[] payload, byte[] maskKey) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(payload.length + 14);
    try {
      encodeFrame(bytes, fin, opcode, payload, maskKey);
    } catch (IOException impossible) {
      throw new IllegalStateException(impossible);
    }
    return bytes.toByteArray();
  }

  /**
   * Reads one frame and unmasks its payload. {@code expectMasked}: frames from a client must be
   * masked and frames from a server must not (RFC 6455 §5.1) — anything else, a set RSV bit (no
   * extension is ever negotiated here), or a length that is not minimally encoded or does not fit
   * an int is a ProtocolException. An end of stream before the first byte or inside the frame is
   * an EOFException.
   */
  public static Frame decodeFrame(DataInputStream in, boolean expectMasked) throws IOException {
    int first = in.readUnsignedByte();
    int second = in.readUnsignedByte();
    if ((first & 0x70) != 0) {
      throw new ProtocolException("reserved bits set: 0x" + Integer.toHexString(first));
    }
    boolean masked = (second & 0x80) != 0;
    if (masked != expectMasked) {
      throw new ProtocolException(masked ? "masked frame, expected unmasked" : "unmasked frame, expected masked");
    }
    long length = second & 0x7F;
    if (length == 126) {
      length = in.readUnsignedShort();
      if (length <= 125) {
        throw new ProtocolException("16-bit length " + length + " is not minimal");
      }
    } else if (length == 127) {
      length = in.readLong();
      if (length <= 0xFFFF) {
        throw new ProtocolException("64-bit length " + length + " is not minimal (or negative)");
      }
      if (length > Integer.MAX_VALUE - 8) {
        throw new ProtocolException("frame of " + length + " bytes is too large for this client");
      }
    }
    byte[] maskKey = null;
    if (masked) {
      maskKey = new byte[4];
      in.readFully(maskKey);
    }
    byte[] payload = new byte[(int) length];
    in.readFully(payload);
    if (maskKey != null) {
      for (int i = 0; i < payload.length; i++) {
        payload[i] ^= maskKey[i & 3];
      }
    }
    return new Frame((first & 0x80) != 0, first & 0x0F, payload);
  }

  /**
   * The socket's input with a deadline: before each read, the socket's read timeout is set to the
   * time left, so a read that would pass the deadline ends with SocketTimeoutException.
   */
  private static final class DeadlineInputStream extends FilterInputStream {
    private final Socket socket;
    private long deadlineNanos;
    private boolean hasDeadline;

    DeadlineInputStream(Socket socket) throws IOException {
      super(socket.getInputStream());
      this.socket = socket;
    }

    void setDeadline(Duration timeout) {
      deadlineNanos = System.nanoTime() + timeout.toNanos();
      hasDeadline = true;
    }

    void clearDeadline() {
      hasDeadline = false;
    }

    private void arm() throws IOException {
      if (!hasDeadline) {
        socket.setSoTimeout(0);
        return;
      }
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        throw new SocketTimeoutException("deadline passed");
      }
      socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000)));
    }

    @Override
    public int read() throws IOException {
      arm();
      return super.read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      arm();
      return super.read(b, off, len);
    }
  }
}

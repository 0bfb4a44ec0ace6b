package io.regcast.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.regcast.metrics.Metrics;
import io.regcast.model.Gateway;
import io.regcast.model.HistorySettings;
import io.regcast.testing.RawWebSocket;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What one client, and all of them, may hold of a listener before a connection is a WebSocket or
 * an event stream: the handshake timeout, the connection limits in all and per address, and the
 * gateway's allowed origins for browsers' upgrades. Real sockets, a real listener.
 */
class GatewayLimitsTest {
  private static final String GW = "d4elimits";
  private static final String STRICT = "d4elimitsstrict";
  private static final Duration HANDSHAKE_TIMEOUT = Duration.ofMillis(400);
  private static final int MAX_CONNECTIONS = 5;
  private static final int MAX_PER_IP = 3;
  private static final Duration WAIT = Duration.ofSeconds(5);

  private static GatewayServer server;
  private static Metrics metrics;
  private static int port;

  @BeforeAll
  static void start() throws Exception {
    metrics = new Metrics(new Metrics.Settings(false));
    server = startServer(metrics);
    port = server.address().getPort();
  }

  /** A listener of its own, for a test whose counts must not meet another test's closing connections. */
  private static GatewayServer startServer(Metrics metrics) throws InterruptedException {
    GatewaySettings base = GatewayServerTest.settings(Duration.ofMinutes(10), Duration.ofMinutes(60), 1 << 20);
    GatewaySettings settings = new GatewaySettings(base.host(), 0, "", base.maxFrameSize(), base.maxMessageSize(),
        base.pingInterval(), base.idleTimeout(), base.maxLifetime(), base.closeGrace(), base.slowConsumerPolicy(),
        base.maxQueuedBytes(), base.eventLoopThreads(),
        new GatewaySettings.Limits(HANDSHAKE_TIMEOUT, MAX_CONNECTIONS, MAX_PER_IP));
    GatewayDirectory directory = new GatewayDirectory("", new HistorySettings(1000, Duration.ofHours(1)));
    directory.replaceAll(List.of(
        new Gateway(GW, "b1g", "limits", "", List.of("/a"), Instant.now()),
        new Gateway(STRICT, "b1g", "strict", "", List.of("/a"), Instant.now(), false, null,
            List.of("https://app.example.com"))));
    return GatewayServer.start(settings, directory, "tok123", metrics);
  }

  @AfterAll
  static void stop() {
    server.stop();
  }

  private static Socket connect(String fromAddress) throws IOException {
    return connect(fromAddress, port);
  }

  private static Socket connect(String fromAddress, int toPort) throws IOException {
    Socket socket = new Socket();
    socket.bind(new InetSocketAddress(InetAddress.getByName(fromAddress), 0));
    socket.connect(new InetSocketAddress("127.0.0.1", toPort), (int) WAIT.toMillis());
    socket.setSoTimeout((int) WAIT.toMillis());
    return socket;
  }

  /** Everything the server sends until it closes the connection (fails if it does not within the wait). */
  private static String readUntilClosed(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
    long deadline = System.nanoTime() + WAIT.toNanos();
    byte[] buffer = new byte[4096];
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        got.write(buffer, 0, n);
        if (System.nanoTime() > deadline) {
          break;
        }
      }
      if (System.nanoTime() <= deadline) {
        return got.toString(StandardCharsets.ISO_8859_1);
      }
    } catch (SocketTimeoutException e) {
      // falls through
    }
    throw new AssertionError("the server did not close the connection within " + WAIT + "; got " + got);
  }

  /**
   * A WebSocket opened from {@code fromAddress} (the 101's head read): it holds its place, where an
   * idle socket would be cut at the handshake timeout.
   */
  private static Socket upgradedFrom(String fromAddress, int toPort) throws IOException {
    Socket socket = connect(fromAddress, toPort);
    socket.getOutputStream().write(request("/gateways/" + GW + "/a").getBytes(StandardCharsets.US_ASCII));
    InputStream in = socket.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new AssertionError("closed before its 101: " + head);
      }
      head.append((char) b);
    }
    assertTrue(head.toString().startsWith("HTTP/1.1 101"), head.toString());
    return socket;
  }

  private static String request(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  }

  @Test
  void aClientThatSendsHalfARequestAndThenNothingIsCutAfterTheHandshakeTimeout() throws Exception {
    long before = metrics.counterValue("regcast_gateway_handshake_timeouts_total");
    try (Socket slow = connect("127.0.0.1")) {
      long started = System.nanoTime();
      slow.getOutputStream().write("GET /gateways/d4elimits/a HTTP/1.1\r\nHost: 127.0".getBytes(StandardCharsets.US_ASCII));
      assertEquals("", readUntilClosed(slow), "cut without an answer");
      long tookMillis = (System.nanoTime() - started) / 1_000_000;
      assertTrue(tookMillis >= HANDSHAKE_TIMEOUT.toMillis() - 50, "cut after " + tookMillis + " ms");
    }
    assertEquals(before + 1, metrics.counterValue("regcast_gateway_handshake_timeouts_total"));
  }

  @Test
  void anOpenWebSocketOutlivesTheHandshakeTimeout() throws Exception {
    try (RawWebSocket ws = RawWebSocket.open("127.0.0.1", port, "/gateways/" + GW + "/a", Map.of())) {
      assertEquals(101, ws.status());
      long opened = System.nanoTime();
      // the server's keep-alive pings (every 300 ms) go on past twice the handshake timeout ...
      while (System.nanoTime() - opened < 2 * HANDSHAKE_TIMEOUT.toNanos()) {
        assertEquals(0x9, ws.readFrame(WAIT).opcode(), "a keep-alive ping");
      }
      // ... and a ping of ours is still answered
      ws.sendPing("still here".getBytes(StandardCharsets.UTF_8));
      RawWebSocket.Frame frame;
      do {
        frame = ws.readFrame(WAIT);
      } while (frame.opcode() == 0x9);
      assertEquals(0xA, frame.opcode());
      assertEquals("still here", new String(frame.payload(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void oneAddressIsRefusedWith429BeyondItsLimitWhileAnotherStillConnects() throws Exception {
    GatewayServer own = startServer(new Metrics(new Metrics.Settings(false)));
    int ownPort = own.address().getPort();
    List<Socket> held = new ArrayList<>(); // open WebSockets, each holding its place
    try {
      for (int i = 0; i < MAX_PER_IP; i++) {
        held.add(upgradedFrom("127.0.0.2", ownPort));
      }
      try (Socket over = connect("127.0.0.2", ownPort)) {
        over.getOutputStream().write(request("/gateways/" + GW + "/a").getBytes(StandardCharsets.US_ASCII));
        String answer = readUntilClosed(over);
        assertTrue(answer.startsWith("HTTP/1.1 429"), answer);
        assertTrue(answer.toLowerCase(java.util.Locale.ROOT).contains("retry-after: 1"), answer);
      }
      held.add(upgradedFrom("127.0.0.3", ownPort)); // another address is not held back
    } finally {
      for (Socket s : held) {
        s.close();
      }
      own.stop();
    }
  }

  @Test
  void theNodeRefusesWith503BeyondItsConnectionsAndTakesNewOnesOnceSomeClose() throws Exception {
    GatewayServer own = startServer(new Metrics(new Metrics.Settings(false)));
    int ownPort = own.address().getPort();
    List<Socket> held = new ArrayList<>();
    try {
      String[] addresses = {"127.0.0.3", "127.0.0.4", "127.0.0.5"};
      for (int i = 0; i < MAX_CONNECTIONS; i++) {
        held.add(upgradedFrom(addresses[i % addresses.length], ownPort));
      }
      try (Socket over = connect("127.0.0.6", ownPort)) {
        over.getOutputStream().write(request("/gateways/" + GW + "/a").getBytes(StandardCharsets.US_ASCII));
        String answer = readUntilClosed(over);
        assertTrue(answer.startsWith("HTTP/1.1 503"), answer);
      }
      held.remove(0).close();
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (true) { // the closed one's place is free once the server has seen it close
        try (Socket next = connect("127.0.0.6", ownPort)) {
          next.getOutputStream().write(request("/gateways/" + GW + "/a").getBytes(StandardCharsets.US_ASCII));
          String status = new String(next.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1);
          if (status.equals("HTTP/1.1 101")) {
            break;
          }
          assertEquals("HTTP/1.1 503", status);
        }
        assertTrue(System.nanoTime() < deadline, "the closed connection's place was not freed");
      }
    } finally {
      for (Socket s : held) {
        s.close();
      }
      own.stop();
    }
  }

  @Test
  void aBrowsersUpgradeFromAnOriginTheGatewayDoesNotListIsRefusedWith403() throws Exception {
    try (RawWebSocket denied = RawWebSocket.open("127.0.0.1", port, "/gateways/" + STRICT + "/a",
        Map.of("Origin", "https://evil.example.com"))) {
      assertEquals(403, denied.status());
    }
    try (RawWebSocket allowed = RawWebSocket.open("127.0.0.1", port, "/gateways/" + STRICT + "/a",
        Map.of("Origin", "https://app.example.com"))) {
      assertEquals(101, allowed.status());
    }
    try (RawWebSocket notABrowser = RawWebSocket.open("127.0.0.1", port, "/gateways/" + STRICT + "/a", Map.of())) {
      assertEquals(101, notABrowser.status());
    }
  }
}

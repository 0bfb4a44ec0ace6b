package io.regcast.gateway;

import static io.regcast.testing.RawWebSocket.OP_BINARY;
import static io.regcast.testing.RawWebSocket.OP_CONTINUATION;
import static io.regcast.testing.RawWebSocket.OP_PONG;
import static io.regcast.testing.RawWebSocket.OP_TEXT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.regcast.metrics.Metrics;
import io.regcast.model.Gateway;
import io.regcast.testing.RawWebSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The data plane alone (no actor system): a real Netty server on a free port with short timings,
 * driven by a raw RFC 6455 client and by the JDK's WebSocket client.
 */
class GatewayServerTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String GW = "d4egatewayone";
  private static final String OTHER = "d4egatewaytwo";
  private static final String SLOW_CONSUMER_DISCONNECTS = "regcast_gateway_slow_consumer_disconnects_total";
  private static GatewayServer server;
  private static int port;

  static GatewaySettings settings(Duration idle, Duration lifetime, long maxQueued) {
    return new GatewaySettings(
        "127.0.0.1", 0, "gw.example", 32 * 1024, 128 * 1024, Duration.ofMillis(300), idle, lifetime,
        Duration.ofMillis(500), GatewaySettings.SlowConsumerPolicy.DISCONNECT, maxQueued, 2,
        GatewaySettings.Limits.DEFAULT);
  }

  static GatewayServer start(GatewaySettings settings) throws InterruptedException {
    return start(settings, new Metrics(new Metrics.Settings(false)));
  }

  static GatewayServer start(GatewaySettings settings, Metrics metrics) throws InterruptedException {
    GatewayDirectory directory = new GatewayDirectory(settings.domain(), new io.regcast.model.HistorySettings(1000, java.time.Duration.ofHours(24)));
    directory.replaceAll(
        List.of(
            new Gateway(GW, "b1g", "one", "", List.of("/a", "/b", "/c"), Instant.now()),
            new Gateway(OTHER, "b1g", "two", "", List.of("/a"), Instant.now())));
    return GatewayServer.start(settings, directory, "tok123", metrics);
  }

  @BeforeAll
  static void startServer() throws Exception {
    server = start(settings(Duration.ofMinutes(10), Duration.ofMinutes(60), 256 * 1024));
    port = server.address().getPort();
  }

  @AfterAll
  static void stopServer() {
    server.stop();
  }

  private static RawWebSocket open(String path) throws Exception {
    return RawWebSocket.open("127.0.0.1", port, path, Map.of());
  }

  /** Opens and waits until the server has registered the connection (its id is known). */
  private static RawWebSocket connected(String gateway, String path) throws Exception {
    return connected(server, gateway, path, RawWebSocket.Options.DEFAULTS);
  }

  private static RawWebSocket connected(
      GatewayServer on, String gateway, String path, RawWebSocket.Options options) throws Exception {
    RawWebSocket ws =
        RawWebSocket.open("127.0.0.1", on.address().getPort(), "/gateways/" + gateway + path, Map.of(), options);
    assertEquals(101, ws.status(), ws.statusLine());
    String id = ws.header(HandshakeHandler.CONNECTION_ID_HEADER);
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (on.connection(id).isEmpty()) {
      assertTrue(System.nanoTime() < deadline, "connection " + id + " never registered");
      Thread.onSpinWait();
    }
    return ws;
  }

  @Test
  void upgradeOnADeclaredPathAnswers101WithAConnectionIdNamingThisNode() throws Exception {
    try (RawWebSocket ws = open("/gateways/" + GW + "/a?x=1")) {
      assertEquals(101, ws.status());
      String id = ws.header(HandshakeHandler.CONNECTION_ID_HEADER);
      assertEquals(20, id.length());
      assertEquals("tok123", ConnectionIds.tokenOf(id));
    }
  }

  @Test
  void unknownGatewayOrPathIs404AndAPlainRequestIs426() throws Exception {
    try (RawWebSocket ws = open("/gateways/d4enothere/a")) {
      assertEquals(404, ws.status());
    }
    try (RawWebSocket ws = open("/gateways/" + GW + "/z")) {
      assertEquals(404, ws.status());
    }
    try (RawWebSocket ws = open("/elsewhere")) {
      assertEquals(404, ws.status());
    }
    Map<String, String> noUpgrade = new LinkedHashMap<>();
    noUpgrade.put("Upgrade", null);
    noUpgrade.put("Connection", null);
    try (RawWebSocket ws = RawWebSocket.open("127.0.0.1", port, "/gateways/" + GW + "/a", noUpgrade)) {
      assertEquals(426, ws.status());
    }
  }

  @Test
  void hostBasedRoutingFindsTheGatewayFromTheHostName() throws Exception {
    try (RawWebSocket ws = RawWebSocket.open("127.0.0.1", port, "/b", Map.of("Host", GW + ".gw.example:" + port))) {
      assertEquals(101, ws.status());
    }
    try (RawWebSocket ws = RawWebSocket.open("127.0.0.1", port, "/z", Map.of("Host", GW + ".gw.example"))) {
      assertEquals(404, ws.status());
    }
  }

  @Test
  void eachPathGetsExactlyItsOwnMessagesInOrder() throws Exception {
    List<String> paths = List.of("/a", "/b", "/c");
    Map<String, List<RawWebSocket>> clients = new LinkedHashMap<>();
    for (String path : paths) {
      List<RawWebSocket> onPath = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        onPath.add(connected(GW, path));
      }
      clients.put(path, onPath);
    }
    RawWebSocket otherGateway = connected(OTHER, "/a");
    try {
      int messages = 50;
      for (int n = 0; n < messages; n++) {
        for (String path : paths) {
          server.broadcast(new PathKey(GW, path), true, (path + "#" + n).getBytes(StandardCharsets.UTF_8), 0);
        }
      }
      server.broadcast(new PathKey(GW, "/a"), false, new byte[] {1, 2, 3}, 0);
      for (String path : paths) {
        for (RawWebSocket ws : clients.get(path)) {
          for (int n = 0; n < messages; n++) {
            RawWebSocket.Frame frame = ws.readFrame(WAIT);
            assertEquals(OP_TEXT, frame.opcode());
            assertEquals(path + "#" + n, frame.text());
          }
        }
      }
      for (RawWebSocket ws : clients.get("/a")) {
        RawWebSocket.Frame frame = ws.readFrame(WAIT);
        assertEquals(OP_BINARY, frame.opcode());
        assertArrayEquals(new byte[] {1, 2, 3}, frame.payload());
      }
      server.broadcast(new PathKey(OTHER, "/a"), true, "only-other".getBytes(StandardCharsets.UTF_8), 0);
      assertEquals("only-other", otherGateway.readFrame(WAIT).text(), "the other gateway saw none of the first gateway's messages");
    } finally {
      clients.values().forEach(list -> list.forEach(RawWebSocket::close));
      otherGateway.close();
    }
  }

  @Test
  void jdkClientReceivesTextAndBinaryAndClosesCleanly() throws Exception {
    LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
    WebSocket ws =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .buildAsync(
                URI.create("ws://127.0.0.1:" + port + "/gateways/" + GW + "/c"),
                new WebSocket.Listener() {
                  @Override
                  public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                    received.add(data.toString());
                    w.request(1);
                    return null;
                  }

                  @Override
                  public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
                    byte[] bytes = new byte[data.remaining()];
                    data.get(bytes);
                    received.add(bytes);
                    w.request(1);
                    return null;
                  }

                  @Override
                  public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
                    received.add("closed " + code);
                    return null;
                  }
                })
            .get(10, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (server.connectionsOf(GW).stream().noneMatch(c -> c.path().equals("/c"))) {
      assertTrue(System.nanoTime() < deadline);
      Thread.onSpinWait();
    }
    server.broadcast(new PathKey(GW, "/c"), true, "héllo".getBytes(StandardCharsets.UTF_8), 0);
    server.broadcast(new PathKey(GW, "/c"), false, new byte[] {9, 8}, 0);
    assertEquals("héllo", received.poll(10, TimeUnit.SECONDS));
    assertArrayEquals(new byte[] {9, 8}, (byte[]) received.poll(10, TimeUnit.SECONDS));
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(10, TimeUnit.SECONDS);
    assertEquals("closed 1000", received.poll(10, TimeUnit.SECONDS));
  }

  @Test
  void pingWithPayloadGetsItsPong() throws Exception {
    try (RawWebSocket ws = connected(GW, "/a")) {
      ws.sendPing("are-you-there".getBytes(StandardCharsets.UTF_8));
      RawWebSocket.Frame frame = ws.readFrame(WAIT);
      while (frame.opcode() != OP_PONG) {
        frame = ws.readFrame(WAIT); // skip the server's own keep-alive pings
      }
      assertEquals("are-you-there", frame.text());
    }
  }

  @Test
  void unmaskedClientFrameIsAProtocolError1002() throws Exception {
    try (RawWebSocket ws = connected(GW, "/a")) {
      ws.sendFrame(true, OP_TEXT, "hi".getBytes(StandardCharsets.UTF_8), false);
      assertEquals(1002, ws.readUntilClose(WAIT));
    }
  }

  @Test
  void frameOverThirtyTwoKibIsClosedWith1009() throws Exception {
    try (RawWebSocket ws = connected(GW, "/a")) {
      ws.sendFrame(true, OP_BINARY, new byte[32 * 1024 + 1], true);
      assertEquals(1009, ws.readUntilClose(WAIT));
    }
  }

  @Test
  void frameOfExactlyThirtyTwoKibIsAccepted() throws Exception {
    try (RawWebSocket ws = connected(GW, "/a")) {
      ws.sendFrame(true, OP_BINARY, new byte[32 * 1024], true);
      ws.sendPing(new byte[] {7});
      RawWebSocket.Frame frame = ws.readFrame(WAIT);
      while (frame.opcode() != OP_PONG) {
        frame = ws.readFrame(WAIT);
      }
      assertArrayEquals(new byte[] {7}, frame.payload());
    }
  }

  @Test
  void messageOverOneHundredTwentyEightKibInFragmentsIsClosedWith1009() throws Exception {
    try (RawWebSocket ws = connected(GW, "/a")) {
      byte[] part = new byte[32 * 1024];
      ws.sendFrame(false, OP_BINARY, part, true);
      ws.sendFrame(false, OP_CONTINUATION, part, true);
      ws.sendFrame(false, OP_CONTINUATION, part, true);
      ws.sendFrame(false, OP_CONTINUATION, part, true);
      ws.sendFrame(true, OP_CONTINUATION, new byte[1], true);
      assertEquals(1009, ws.readUntilClose(WAIT));
    }
  }

  @Test
  void invalidUtf8TextIsClosedWith1007() throws Exception {
    try (RawWebSocket ws = connected(GW, "/a")) {
      ws.sendFrame(true, OP_TEXT, new byte[] {(byte) 0xC3, (byte) 0x28}, true);
      assertEquals(1007, ws.readUntilClose(WAIT));
    }
  }

  @Test
  void idleConnectionIsClosedWith1001DespiteAnsweringPings() throws Exception {
    GatewayServer shortIdle = start(settings(Duration.ofMillis(700), Duration.ofMinutes(60), 1 << 20));
    try (RawWebSocket ws = connected(shortIdle, GW, "/a", RawWebSocket.Options.DEFAULTS)) {
      long start = System.nanoTime();
      RawWebSocket.Frame frame = ws.readFrame(WAIT);
      while (frame.opcode() != RawWebSocket.OP_CLOSE) {
        if (frame.opcode() == RawWebSocket.OP_PING) {
          ws.sendPong(frame.payload()); // pongs do not count as activity
        }
        frame = ws.readFrame(WAIT);
      }
      assertEquals(1001, frame.closeCode());
      assertTrue(System.nanoTime() - start >= Duration.ofMillis(650).toNanos());
    } finally {
      shortIdle.stop();
    }
  }

  @Test
  void connectionIsClosedWith1001AtTheEndOfItsLifetimeEvenWhenActive() throws Exception {
    GatewayServer shortLife = start(settings(Duration.ofMinutes(10), Duration.ofMillis(800), 1 << 20));
    try (RawWebSocket ws = connected(shortLife, GW, "/a", RawWebSocket.Options.DEFAULTS)) {
      ws.sendText("still here");
      assertEquals(1001, ws.readUntilClose(WAIT));
      assertEquals("connection lifetime reached", ws.closeReason());
    } finally {
      shortLife.stop();
    }
  }

  @Test
  void shutdownClosesEveryConnectionWith1001() throws Exception {
    GatewayServer stopping = start(settings(Duration.ofMinutes(10), Duration.ofMinutes(60), 1 << 20));
    List<RawWebSocket> clients = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      clients.add(connected(stopping, GW, "/b", RawWebSocket.Options.DEFAULTS));
    }
    CompletableFuture<Void> stopped = CompletableFuture.runAsync(stopping::stop);
    for (RawWebSocket ws : clients) {
      assertEquals(1001, ws.readUntilClose(WAIT));
      ws.close();
    }
    stopped.get(10, TimeUnit.SECONDS);
  }

  @Test
  void slowConsumerIsClosedWith1008WhileAHundredOthersGetEveryMessageInOrder() throws Exception {
    Metrics metrics = new Metrics(new Metrics.Settings(false));
    GatewayServer fanout = start(settings(Duration.ofMinutes(10), Duration.ofMinutes(60), 256 * 1024), metrics);
    PathKey key = new PathKey(GW, "/b");
    int others = 100;
    int messageSize = 16 * 1024;
    long limitBytes = 24L * 1024 * 1024;
    List<RawWebSocket> readers = new ArrayList<>();
    var readerThreads = java.util.concurrent.Executors.newFixedThreadPool(others);
    try (RawWebSocket slow = connected(fanout, GW, "/b", RawWebSocket.Options.DEFAULTS.withReceiveBufferSize(4096))) {
      slow.stopReading();
      for (int i = 0; i < others; i++) {
        readers.add(connected(fanout, GW, "/b", RawWebSocket.Options.DEFAULTS));
      }
      List<CompletableFuture<Integer>> counts = new ArrayList<>();
      List<java.util.concurrent.atomic.AtomicInteger> progress = new ArrayList<>();
      for (RawWebSocket reader : readers) {
        var read = new java.util.concurrent.atomic.AtomicInteger();
        progress.add(read);
        counts.add(CompletableFuture.supplyAsync(() -> readInOrder(reader, read), readerThreads));
      }
      int pushed = 0;
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (metrics.counterValue(SLOW_CONSUMER_DISCONNECTS) == 0) {
        assertTrue((long) pushed * messageSize < limitBytes, "the slow consumer was not cut after " + pushed + " messages");
        assertTrue(System.nanoTime() < deadline, "the slow consumer was not cut within 10 s");
        // The readers are healthy but share two cores with the publisher: keep the publisher at
        // most a window ahead of the slowest of them, so that only the stalled client overflows.
        int window = 32;
        while (pushed >= window && progress.stream().mapToInt(java.util.concurrent.atomic.AtomicInteger::get).min().orElse(0) < pushed - window) {
          assertTrue(System.nanoTime() < deadline, "the readers fell behind");
          Thread.onSpinWait();
        }
        byte[] payload = new byte[messageSize];
        ByteBuffer.wrap(payload).putInt(pushed);
        fanout.broadcast(key, false, payload, 0);
        pushed++;
      }
      byte[] end = new byte[4];
      ByteBuffer.wrap(end).putInt(-1);
      fanout.broadcast(key, false, end, 0);
      for (CompletableFuture<Integer> count : counts) {
        assertEquals(pushed, count.get(30, TimeUnit.SECONDS));
      }
      assertEquals(1, metrics.counterValue(SLOW_CONSUMER_DISCONNECTS));
      // It was sent 1008 behind the data it never read, then cut after the close grace: reading
      // now finds that close frame, or the end of the connection.
      slow.resumeReading();
      int code = slow.readUntilClose(WAIT);
      assertTrue(code == 1008 || code == -1, "close code " + code);
    } finally {
      readers.forEach(RawWebSocket::close);
      readerThreads.shutdownNow();
      fanout.stop();
    }
  }

  /** Reads binary frames numbered 0, 1, … until the end marker -1; returns how many, failing on a gap. */
  private static int readInOrder(RawWebSocket ws, java.util.concurrent.atomic.AtomicInteger read) {
    try {
      int expected = 0;
      while (true) {
        RawWebSocket.Frame frame = ws.readFrame(Duration.ofSeconds(30));
        if (frame.opcode() != OP_BINARY) {
          continue;
        }
        int n = ByteBuffer.wrap(frame.payload()).getInt();
        if (n == -1) {
          return expected;
        }
        assertEquals(expected, n, "out of order or missing");
        expected++;
        read.set(expected);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}

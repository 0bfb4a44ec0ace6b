package io.regcast.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.regcast.metrics.Metrics;
import io.regcast.model.Gateway;
import io.regcast.model.HistorySettings;
import io.regcast.testing.RawWebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Server-Sent Events on the gateway's URLs, read by a raw HTTP client that checks the chunk framing. */
class EventStreamTest {
  private static final Duration WAIT = StreamResumeTest.WAIT;
  private static final String OPEN = "d4esseopen";
  private static final String STRICT = "d4essestrict";
  private static final String KEYED = "d4essekeyed";
  private static final String APP = "https://app.example";
  private static final ListHistory history = new ListHistory();
  private static GatewayServer server;

  static GatewayServer start(Duration lifetime) throws InterruptedException {
    GatewayDirectory directory = new GatewayDirectory("", new HistorySettings(1000, Duration.ofHours(24)));
    List<String> paths = List.of("/a", "/b", "/c", "/d", "/e");
    directory.replaceAll(List.of(
        new Gateway(OPEN, "b1g", "open", "", paths, Instant.now()),
        new Gateway(STRICT, "b1g", "strict", "", paths, Instant.now(), false, null, List.of(APP)),
        new Gateway(KEYED, "b1g", "keyed", "", paths, Instant.now(), true)));
    // the test's own rule: "Bearer good" or ?apiKey=good may connect, any other key may not
    ConnectAuthorizer keys = (gatewayId, authorization, queryKey) -> authorization == null && queryKey == null
        ? ConnectAuthorizer.Verdict.UNAUTHENTICATED
        : "Bearer good".equals(authorization) || "good".equals(queryKey)
            ? ConnectAuthorizer.Verdict.ALLOWED
            : ConnectAuthorizer.Verdict.FORBIDDEN;
    return GatewayServer.create(GatewayServerTest.settings(Duration.ofMillis(300), lifetime, 1 << 20), directory,
        "tok123", keys, history, 1000, GatewayServer.DEFAULT_TAIL_LINGER, new Metrics(new Metrics.Settings(false)))
        .listen();
  }

  @BeforeAll
  static void startServer() throws Exception {
    server = start(Duration.ofMinutes(60));
  }

  @AfterAll
  static void stopServer() {
    server.stop();
  }

  private static void publish(PathKey key, long position, String payload) {
    byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
    history.append(key, new StreamEntry(position, bytes, System.currentTimeMillis()));
    server.broadcast(key, position, bytes, System.currentTimeMillis(), 0);
  }

  private static RawEventStream stream(GatewayServer on, PathKey key, String query, Map<String, String> headers)
      throws Exception {
    RawEventStream sse = RawEventStream.get(on.address().getPort(), "/gateways/" + key.gatewayId() + key.path() + query, headers);
    if (sse.status() == 200) {
      String id = sse.header(HandshakeHandler.CONNECTION_ID_HEADER);
      StreamResumeTest.await("registered", () -> on.connection(id).isPresent());
      assertEquals("retry: 2000\n\n", sse.nextBlock(WAIT));
    }
    return sse;
  }

  @Test
  void eventStreamAnswersItsHeadersThenRetryThenEachMessageAsIdAndOneDataLinePerLine() throws Exception {
    PathKey key = new PathKey(OPEN, "/a");
    try (RawEventStream sse = stream(server, key, "", Map.of("User-Agent", "sse-test"))) {
      assertEquals(200, sse.status());
      assertEquals("text/event-stream", sse.header("Content-Type"));
      assertEquals("no-cache", sse.header("Cache-Control"));
      assertEquals("chunked", sse.header("Transfer-Encoding"));
      String id = sse.header(HandshakeHandler.CONNECTION_ID_HEADER);
      assertEquals("tok123", ConnectionIds.tokenOf(id));
      assertEquals("sse-test", server.connection(id).orElseThrow().userAgent());
      assertTrue(server.connectionsOf(OPEN).stream().anyMatch(c -> c.id().equals(id)));
      publish(key, 1, "{\"n\":1}");
      publish(key, 2, "{\"a\":\n2}");
      assertEquals("id: 1\ndata: {\"n\":1}\n\n", sse.nextEvent(WAIT));
      assertEquals("id: 2\ndata: {\"a\":\ndata: 2}\n\n", sse.nextEvent(WAIT));
    }
  }

  @Test
  void keepAliveCommentsComeEveryPingInterval() throws Exception {
    try (RawEventStream sse = stream(server, new PathKey(OPEN, "/b"), "", Map.of())) {
      assertEquals(": keep-alive\n\n", sse.nextBlock(WAIT));
      assertEquals(": keep-alive\n\n", sse.nextBlock(WAIT));
    }
  }

  @Test
  void lastEventIdHeaderResumesFromTheTailAndWinsOverTheQuery() throws Exception {
    PathKey key = new PathKey(OPEN, "/c");
    try (RawEventStream first = stream(server, key, "", Map.of())) {
      for (int p = 1; p <= 5; p++) {
        publish(key, p, "{\"n\":" + p + "}");
      }
      assertEquals("id: 5\ndata: {\"n\":5}\n\n", drainTo(first, "id: 5\n"));
      int asked = history.asked();
      try (RawEventStream sse = stream(server, key, "?lastEventId=1", Map.of("Last-Event-ID", "3"))) {
        assertEquals("id: 4\ndata: {\"n\":4}\n\n", sse.nextEvent(WAIT));
        assertEquals("id: 5\ndata: {\"n\":5}\n\n", sse.nextEvent(WAIT));
        publish(key, 6, "{\"n\":6}");
        assertEquals("id: 6\ndata: {\"n\":6}\n\n", sse.nextEvent(WAIT));
      }
      assertEquals(asked, history.asked());
    }
  }

  private static String drainTo(RawEventStream sse, String prefix) throws Exception {
    String block = sse.nextEvent(WAIT);
    while (!block.startsWith(prefix)) {
      block = sse.nextEvent(WAIT);
    }
    return block;
  }

  @Test
  void resumeOlderThanTheLogKeepsGetsAGapEventFirst() throws Exception {
    PathKey key = new PathKey(OPEN, "/d");
    history.retain(key, 2);
    for (int p = 1; p <= 6; p++) {
      publish(key, p, "{\"n\":" + p + "}"); // no connection here: no tail, the log answers
    }
    try (RawEventStream sse = stream(server, key, "?lastEventId=2", Map.of())) {
      assertEquals("event: gap\ndata: {\"gap\":{\"lastEventId\":\"2\",\"resumedAfter\":\"4\"}}\n\n", sse.nextEvent(WAIT));
      assertEquals("id: 5\ndata: {\"n\":5}\n\n", sse.nextEvent(WAIT));
      assertEquals("id: 6\ndata: {\"n\":6}\n\n", sse.nextEvent(WAIT));
    }
  }

  @Test
  void corsAllowsTheGatewaysOriginsAndRefusesOthersWith403() throws Exception {
    PathKey strict = new PathKey(STRICT, "/a");
    try (RawEventStream sse = stream(server, strict, "", Map.of("Origin", APP))) {
      assertEquals(200, sse.status());
      assertEquals(APP, sse.header("Access-Control-Allow-Origin"));
      assertEquals("origin", sse.header("Vary").toLowerCase());
    }
    try (RawEventStream sse = stream(server, strict, "", Map.of("Origin", "https://evil.example"))) {
      assertEquals(403, sse.status());
      assertTrue(sse.body().contains("https://evil.example"), sse.body());
      assertTrue(sse.body().contains("allowedOrigins"), sse.body());
    }
    try (RawEventStream sse = stream(server, new PathKey(OPEN, "/a"), "", Map.of("Origin", "https://any.example"))) {
      assertEquals(200, sse.status());
      assertEquals("*", sse.header("Access-Control-Allow-Origin"));
    }
  }

  @Test
  void preflightAnswers204WithTheAllowedHeadersOr403() throws Exception {
    int port = server.address().getPort();
    Map<String, String> asking = Map.of("Origin", APP, "Access-Control-Request-Headers", "last-event-id");
    try (RawEventStream preflight = RawEventStream.open(port, "OPTIONS", "/gateways/" + STRICT + "/a", asking)) {
      assertEquals(204, preflight.status());
      assertEquals(APP, preflight.header("Access-Control-Allow-Origin"));
      assertEquals("Last-Event-ID, Authorization", preflight.header("Access-Control-Allow-Headers"));
      assertEquals("GET", preflight.header("Access-Control-Allow-Methods"));
    }
    try (RawEventStream preflight =
        RawEventStream.open(port, "OPTIONS", "/gateways/" + STRICT + "/a", Map.of("Origin", "https://evil.example"))) {
      assertEquals(403, preflight.status());
    }
  }

  @Test
  void eventStreamsNeedTheSameApiKeyAsWebSockets() throws Exception {
    PathKey keyed = new PathKey(KEYED, "/a");
    try (RawEventStream sse = stream(server, keyed, "", Map.of())) {
      assertEquals(401, sse.status());
      assertEquals("Bearer", sse.header("WWW-Authenticate"));
    }
    try (RawEventStream sse = stream(server, keyed, "", Map.of("Authorization", "Bearer other"))) {
      assertEquals(403, sse.status());
    }
    try (RawEventStream sse = stream(server, keyed, "?apiKey=good", Map.of())) {
      assertEquals(200, sse.status());
    }
  }

  @Test
  void connectionsApiSendWritesADataEventWithoutIdAndDisconnectEndsTheStream() throws Exception {
    try (RawEventStream sse = stream(server, new PathKey(OPEN, "/e"), "", Map.of())) {
      String id = sse.header(HandshakeHandler.CONNECTION_ID_HEADER);
      assertTrue(server.send(id, true, "hello".getBytes(StandardCharsets.UTF_8)));
      assertEquals("data: hello\n\n", sse.nextEvent(WAIT));
      assertTrue(server.disconnect(id, 1000, "disconnected"));
      assertNull(sse.nextEvent(WAIT), "the stream ends with its last chunk");
      assertTrue(sse.closedByServer(WAIT));
      StreamResumeTest.await("gone from the registry", () -> server.connection(id).isEmpty());
    }
  }

  @Test
  void streamEndsWithItsLastChunkAtTheEndOfItsLifetime() throws Exception {
    GatewayServer shortLife = start(Duration.ofMillis(800));
    try (RawEventStream sse = stream(shortLife, new PathKey(OPEN, "/a"), "", Map.of())) {
      long start = System.nanoTime();
      assertNull(sse.nextEvent(WAIT));
      assertTrue(System.nanoTime() - start >= Duration.ofMillis(600).toNanos());
      assertTrue(sse.closedByServer(WAIT));
    } finally {
      shortLife.stop();
    }
  }

  @Test
  void shutdownEndsEventStreamsAndClosesWebSocketsWith1001() throws Exception {
    GatewayServer stopping = start(Duration.ofMinutes(60));
    PathKey key = new PathKey(OPEN, "/a");
    try (RawEventStream sse = stream(stopping, key, "", Map.of());
        RawWebSocket ws = RawWebSocket.open("127.0.0.1", stopping.address().getPort(), "/gateways/" + OPEN + "/a", Map.of())) {
      assertEquals(101, ws.status());
      CompletableFuture<Void> stopped = CompletableFuture.runAsync(stopping::stop);
      assertNull(sse.nextEvent(WAIT));
      assertEquals(1001, ws.readUntilClose(WAIT));
      stopped.get(10, TimeUnit.SECONDS);
    }
  }
}

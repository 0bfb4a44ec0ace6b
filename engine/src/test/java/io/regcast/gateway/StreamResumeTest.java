package io.regcast.gateway;

import static io.regcast.testing.RawWebSocket.OP_TEXT;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * regcast.v1 and resuming WebSockets against a real server whose paths' logs are a {@link
 * ListHistory}: what the tail answers, what the log answers, and the seam between replay and live
 * messages under concurrent broadcasts.
 */
class StreamResumeTest {
  static final Duration WAIT = Duration.ofSeconds(10);
  /** Default history (a tail of the server's 1000). */
  static final String GW = "d4estreamone";
  /** Keeps 3 messages. */
  static final String SMALL = "d4estreamsmall";
  /** Keeps a minute of messages. */
  static final String YOUNG = "d4estreamyoung";
  /** Keeps none. */
  static final String NONE = "d4estreamnone";
  private static final Pattern V1 = Pattern.compile("\\{\"id\":\"(\\d+)\",\"message\":(.*)\\}", Pattern.DOTALL);
  private static final ListHistory history = new ListHistory();
  private static GatewayServer server;

  static GatewayDirectory directory(String domain) {
    GatewayDirectory directory = new GatewayDirectory(domain, new HistorySettings(5000, Duration.ofHours(24)));
    List<String> paths = List.of("/a", "/b", "/c", "/d", "/e", "/linger");
    directory.replaceAll(List.of(
        new Gateway(GW, "b1g", "one", "", paths, Instant.now()),
        new Gateway(SMALL, "b1g", "small", "", paths, Instant.now(), false, new HistorySettings(3, Duration.ofHours(24)), null),
        new Gateway(YOUNG, "b1g", "young", "", paths, Instant.now(), false, new HistorySettings(100, Duration.ofSeconds(60)), null),
        new Gateway(NONE, "b1g", "none", "", paths, Instant.now(), false, new HistorySettings(0, Duration.ofHours(24)), null)));
    return directory;
  }

  /** Short, so that a deserted path's tail goes within a test. */
  private static final Duration TAIL_LINGER = Duration.ofMillis(500);

  @BeforeAll
  static void startServer() throws Exception {
    GatewaySettings settings = GatewayServerTest.settings(Duration.ofMinutes(10), Duration.ofMinutes(60), 1 << 20);
    server = GatewayServer.create(settings, directory(""), "tok123", ConnectAuthorizer.ALLOW_ALL, history, 1000,
        TAIL_LINGER, new Metrics(new Metrics.Settings(false))).listen();
  }

  @AfterAll
  static void stopServer() {
    server.stop();
  }

  static String payload(PathKey key, long position) {
    return "{\"path\":\"" + key.path() + "\",\"n\":" + position + "}";
  }

  /** What the node does: the log has the message before the gateway broadcasts it. */
  private static void publish(PathKey key, long position, long appendedAtMillis) {
    byte[] bytes = payload(key, position).getBytes(StandardCharsets.UTF_8);
    history.append(key, new StreamEntry(position, bytes, appendedAtMillis));
    server.broadcast(key, position, bytes, appendedAtMillis, 0);
  }

  private static void publishAll(PathKey key, long from, long to) {
    for (long p = from; p <= to; p++) {
      publish(key, p, System.currentTimeMillis());
    }
  }

  static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, what);
      Thread.onSpinWait();
    }
  }

  private static RawWebSocket open(PathKey key, String query, Map<String, String> headers) throws Exception {
    return RawWebSocket.open("127.0.0.1", server.address().getPort(), "/gateways/" + key.gatewayId() + key.path() + query, headers);
  }

  /** A plain connection registered on {@code key}: what keeps the path's tail on this node. */
  private static RawWebSocket anchor(PathKey key) throws Exception {
    RawWebSocket ws = open(key, "", Map.of());
    assertEquals(101, ws.status());
    String id = ws.header(HandshakeHandler.CONNECTION_ID_HEADER);
    await("registered", () -> server.connection(id).isPresent());
    return ws;
  }

  private static RawWebSocket v1(PathKey key, String lastEventId) throws Exception {
    Map<String, String> headers = new HashMap<>(Map.of("Sec-WebSocket-Protocol", "regcast.v1"));
    if (lastEventId != null) {
      headers.put("Last-Event-ID", lastEventId);
    }
    RawWebSocket ws = open(key, "", headers);
    assertEquals(101, ws.status(), ws.statusLine());
    assertEquals("regcast.v1", ws.header("Sec-WebSocket-Protocol"));
    return ws;
  }

  /** The next text message, as {@code position} (and checks its envelope holds the exact reference message). */
  private static long nextPosition(RawWebSocket ws, PathKey key) throws Exception {
    RawWebSocket.Frame frame = ws.readFrame(WAIT);
    while (frame.opcode() != OP_TEXT) {
      frame = ws.readFrame(WAIT);
    }
    Matcher m = V1.matcher(frame.text());
    assertTrue(m.matches(), frame.text());
    long position = Long.parseLong(m.group(1));
    assertEquals(payload(key, position), m.group(2));
    return position;
  }

  private static String nextText(RawWebSocket ws) throws Exception {
    RawWebSocket.Frame frame = ws.readFrame(WAIT);
    while (frame.opcode() != OP_TEXT) {
      frame = ws.readFrame(WAIT);
    }
    return frame.text();
  }

  @Test
  void plainClientGetsTheExactReferenceMessageAndNoSubprotocol() throws Exception {
    PathKey key = new PathKey(GW, "/a");
    try (RawWebSocket plain = anchor(key);
        RawWebSocket other = open(key, "", Map.of("Sec-WebSocket-Protocol", "chat"))) {
      assertNull(plain.header("Sec-WebSocket-Protocol"));
      assertNull(other.header("Sec-WebSocket-Protocol"), "only regcast.v1 is ever selected");
      await("registered", () -> server.connectionsOf(GW).stream().filter(c -> c.path().equals("/a")).count() == 2);
      publishAll(key, 1, 1);
      assertEquals(payload(key, 1), nextText(plain));
      assertEquals(payload(key, 1), nextText(other));
    }
  }

  @Test
  void regcastV1ClientGetsEachMessageWithItsPositionAsId() throws Exception {
    PathKey key = new PathKey(GW, "/b");
    try (RawWebSocket ws = v1(key, null)) {
      String id = ws.header(HandshakeHandler.CONNECTION_ID_HEADER);
      await("registered", () -> server.connection(id).isPresent());
      publishAll(key, 1, 2);
      assertEquals("{\"id\":\"1\",\"message\":" + payload(key, 1) + "}", nextText(ws));
      assertEquals("{\"id\":\"2\",\"message\":" + payload(key, 2) + "}", nextText(ws));
    }
  }

  @Test
  void resumeWithinTheTailGetsExactlyTheMessagesAfterItsIdThenLiveOnesWithoutAskingTheLog() throws Exception {
    PathKey key = new PathKey(SMALL, "/a");
    try (RawWebSocket anchor = anchor(key)) {
      publishAll(key, 1, 20);
      await("tail filled", () -> server.tailSize(key) == 3);
      int asked = history.asked();
      try (RawWebSocket ws = v1(key, "18")) {
        assertEquals(19, nextPosition(ws, key));
        assertEquals(20, nextPosition(ws, key));
        publishAll(key, 21, 21);
        assertEquals(21, nextPosition(ws, key));
      }
      try (RawWebSocket ws = v1(key, "21")) {
        String id = ws.header(HandshakeHandler.CONNECTION_ID_HEADER);
        await("registered", () -> server.connection(id).isPresent());
        publishAll(key, 22, 22);
        assertEquals(22, nextPosition(ws, key), "nothing missed: live at once");
      }
      assertEquals(asked, history.asked());
    }
  }

  @Test
  void resumeOlderThanTheTailGoesToTheLogWhichWritesItsGapFirst() throws Exception {
    PathKey key = new PathKey(SMALL, "/b");
    history.retain(key, 10);
    try (RawWebSocket anchor = anchor(key)) {
      publishAll(key, 1, 20);
      int asked = history.asked();
      try (RawWebSocket ws = open(key, "?lastEventId=3", Map.of("Sec-WebSocket-Protocol", "regcast.v1"))) {
        assertEquals(101, ws.status());
        assertEquals("{\"gap\":{\"lastEventId\":\"3\",\"resumedAfter\":\"10\"}}", nextText(ws));
        for (long p = 11; p <= 20; p++) {
          assertEquals(p, nextPosition(ws, key));
        }
        publishAll(key, 21, 21);
        assertEquals(21, nextPosition(ws, key));
      }
      assertEquals(asked + 1, history.asked());
    }
  }

  @Test
  void resumesAtRandomIdsAmidTwoThousandConcurrentBroadcastsSeeEveryLaterPositionExactlyOnce() throws Exception {
    PathKey key = new PathKey(GW, "/c");
    int clients = 20;
    long last = 2100;
    ExecutorService readers = Executors.newFixedThreadPool(clients);
    List<RawWebSocket> opened = new ArrayList<>();
    try (RawWebSocket anchor = anchor(key)) {
      publishAll(key, 1, 100);
      AtomicLong published = new AtomicLong(100);
      CompletableFuture<Void> publisher = CompletableFuture.runAsync(() -> {
        for (long p = 101; p <= last; p++) {
          publish(key, p, System.currentTimeMillis());
          published.set(p);
          // Paced, so that the resumes land amid the broadcasts rather than after them.
          LockSupport.parkNanos(200_000);
        }
      });
      List<CompletableFuture<List<Long>>> seen = new ArrayList<>();
      List<Long> from = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        long now = published.get();
        long after = ThreadLocalRandom.current().nextLong(Math.max(0, now - 800), now + 1);
        RawWebSocket ws = i % 2 == 0
            ? v1(key, Long.toString(after))
            : open(key, "?lastEventId=" + after, Map.of("Sec-WebSocket-Protocol", "regcast.v1"));
        opened.add(ws);
        from.add(after);
        seen.add(CompletableFuture.supplyAsync(() -> readThrough(ws, key, last), readers));
      }
      publisher.get(60, TimeUnit.SECONDS);
      for (int i = 0; i < clients; i++) {
        List<Long> positions = seen.get(i).get(60, TimeUnit.SECONDS);
        long after = from.get(i);
        assertEquals(last - after, positions.size(), "client after " + after);
        for (int k = 0; k < positions.size(); k++) {
          assertEquals(after + 1 + k, positions.get(k), "client after " + after + ": duplicate or hole");
        }
      }
    } finally {
      opened.forEach(RawWebSocket::close);
      readers.shutdownNow();
    }
  }

  private static List<Long> readThrough(RawWebSocket ws, PathKey key, long last) {
    List<Long> positions = new ArrayList<>();
    try {
      long p = 0;
      while (p < last) {
        p = nextPosition(ws, key);
        positions.add(p);
      }
      return positions;
    } catch (Exception e) {
      throw new AssertionError("after " + positions, e);
    }
  }

  @Test
  void resumeOnAPlainWebSocketIsRefusedWith400NamingTheSubprotocol() throws Exception {
    PathKey key = new PathKey(GW, "/d");
    for (RawWebSocket ws : List.of(open(key, "?lastEventId=3", Map.of()), open(key, "", Map.of("Last-Event-ID", "3")))) {
      try (ws) {
        assertEquals(400, ws.status());
        assertTrue(ws.bodyText().contains("lastEventId / Last-Event-ID"), ws.bodyText());
        assertTrue(ws.bodyText().contains("regcast.v1"), ws.bodyText());
      }
    }
  }

  @Test
  void unavailableHistoryClosesTheResumingConnectionWith1011() throws Exception {
    PathKey key = new PathKey(GW, "/e");
    history.failing = true;
    try (RawWebSocket ws = v1(key, "not-a-position")) {
      assertEquals(1011, ws.readUntilClose(WAIT));
    } finally {
      history.failing = false;
    }
  }

  @Test
  void tailKeepsNoMoreThanTheGatewaysMaxMessagesAndIsFreedOnceThePathsLastConnectionLeftForTheLinger()
      throws Exception {
    PathKey key = new PathKey(SMALL, "/c");
    RawWebSocket anchor = anchor(key);
    publishAll(key, 1, 10);
    await("tail of 3", () -> server.tailSize(key) == 3);
    long closed = System.nanoTime();
    anchor.close();
    await("tail freed", () -> server.tailSize(key) == 0);
    assertTrue(System.nanoTime() - closed >= TAIL_LINGER.toNanos(), "kept for the linger first");
  }

  @Test
  void clientsThatComeBackToADesertedPathWithinTheLingerResumeFromItsTailWhichKeptUpMeanwhile() throws Exception {
    PathKey key = new PathKey(GW, "/linger");
    RawWebSocket anchor = anchor(key);
    publishAll(key, 1, 3);
    await("tail of 3", () -> server.tailSize(key) == 3);
    anchor.close();
    publishAll(key, 4, 6); // nobody is connected here now
    int asked = history.asked();
    try (RawWebSocket ws = v1(key, "2")) {
      for (long p = 3; p <= 6; p++) {
        assertEquals(p, nextPosition(ws, key));
      }
    }
    assertEquals(asked, history.asked(), "answered from memory, not from the log");
  }

  @Test
  void tailDropsMessagesOlderThanTheGatewaysMaxAgeAndSendsTheirResumesToTheLog() throws Exception {
    PathKey key = new PathKey(YOUNG, "/a");
    try (RawWebSocket anchor = anchor(key)) {
      long old = System.currentTimeMillis() - Duration.ofMinutes(2).toMillis();
      for (long p = 1; p <= 5; p++) {
        publish(key, p, old);
      }
      publishAll(key, 6, 8);
      assertEquals(3, server.tailSize(key));
      int asked = history.asked();
      try (RawWebSocket ws = v1(key, "2")) {
        assertEquals(3, nextPosition(ws, key), "the log (this one keeps them) answers");
      }
      assertEquals(asked + 1, history.asked());
    }
  }

  @Test
  void gatewayKeepingNoHistoryHasAnEmptyTailYetResumesAtTheNewestIdGoLiveAtOnce() throws Exception {
    PathKey key = new PathKey(NONE, "/a");
    try (RawWebSocket anchor = anchor(key)) {
      publishAll(key, 1, 5);
      assertEquals(0, server.tailSize(key));
      int asked = history.asked();
      try (RawWebSocket ws = v1(key, "5")) {
        String id = ws.header(HandshakeHandler.CONNECTION_ID_HEADER);
        await("registered", () -> server.connection(id).isPresent());
        publishAll(key, 6, 6);
        assertEquals(6, nextPosition(ws, key));
      }
      assertEquals(asked, history.asked());
    }
  }
}

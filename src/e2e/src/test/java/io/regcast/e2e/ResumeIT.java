package io.regcast.e2e;

import static io.regcast.e2e.ClusterScene.numbers;
import static io.regcast.e2e.ClusterScene.ms;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Nothing lost at the last hop (step 8), on one node: each gateway path keeps a log of what it
 * broadcast, every message with its position; a client that speaks {@code regcast.v1} sees the
 * position as the message's id and, after a disconnect, resumes with {@code Last-Event-ID} (or
 * {@code ?lastEventId=}) — the node first sends what it retains after that id, then live ones, no
 * message twice and none skipped; an id no longer retained (or unknown) gets a gap notice first. A
 * plain client still gets the reference's bytes. The same stream is served as Server-Sent Events
 * on the path's URL (read here by {@code curl -N} and by headless Chromium's {@code EventSource},
 * across origins and across a restart of the node).
 *
 * <p>Real clients and sockets: the JDK's WebSocket ({@link BroadcastClient}), npm {@code ws} and
 * Python {@code websockets} ({@link ExternalWsClient}), Debian's curl ({@link CurlEventStream}) and
 * chromium ({@link BrowserEventSource}); events in as a registry's webhook notifications, one
 * event per message (trigger batch size 1). One node for the whole class (its gateway pings every
 * {@value #PING_INTERVAL}, so event streams get keep-alive comments as often); each test has its
 * own gateway. The browser test restarts the node on its ports and runs last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ResumeIT {
  private static final String CONNECTIONS = "/apigateways/websocket/v1/connections/";
  private static final String PING_INTERVAL = "500ms";
  /** For a request, a connection, a message that is due. */
  private static final Duration WAIT = Duration.ofSeconds(15);

  @TempDir static Path dataDir;
  private static int[] ports;
  private static NodeProcess node;
  private static JsonHttp api;

  @BeforeAll
  static void startNode() throws Exception {
    ports = NodeProcess.freePorts(2); // kept for the restart of the browser test
    node = started(
        new NodeProcess("resume-1", dataDir)
            .withPorts(ports[0], ports[1])
            .withSystemProperty("regcast.gateway.ping-interval", PING_INTERVAL));
    api = new JsonHttp(node.baseUrl());
  }

  @AfterAll
  static void stopNode() throws InterruptedException {
    if (node != null) {
      node.close();
    }
  }

  // ---- 1. resume after a disconnect ----

  enum ResumeBy {
    HEADER,
    QUERY;

    BroadcastClient.Handshake after(String id) {
      return this == HEADER
          ? BroadcastClient.Handshake.V1.resumingAfter(id)
          : BroadcastClient.Handshake.V1.resumingAfterInQuery(id);
    }
  }

  /**
   * A regcast.v1 client gets message 1 (the 101 names the subprotocol), disconnects; five batches
   * go out meanwhile (a second v1 client, connected all along, receives them); the client connects
   * again with the id of message 1 (as the header Last-Event-ID, or as ?lastEventId=): it receives
   * exactly those five, in order, each with the same id and bytes as the witness got them live,
   * then message 7 sent after the five arrived — and nothing in between.
   */
  @ParameterizedTest(name = "resume by {0}")
  @EnumSource(ResumeBy.class)
  @Order(1)
  void aV1ClientThatResumesWithItsLastIdGetsExactlyTheFiveBatchesItMissedInOrderThenLiveOnes(ResumeBy by)
      throws Exception {
    long t0 = System.nanoTime();
    ClusterScene scene = scene("resume-" + by.name().toLowerCase(), Map.of());
    try (BroadcastClient witness = connect(scene, "witness", BroadcastClient.Handshake.V1)) {
      BroadcastClient.Message first;
      try (BroadcastClient client = connect(scene, "client", BroadcastClient.Handshake.V1)) {
        assertEquals(BroadcastClient.V1, client.subprotocol(), "the 101 answers the subprotocol");
        scene.ingest(api, 1);
        first = client.next(WAIT);
        assertEquals(List.of(1L), numbers(first), first::text);
        assertNotNull(first.id(), () -> "a v1 message has an id: " + first.text());
      }
      scene.ingestEach(api, 2, 6);
      List<BroadcastClient.Message> live = take(witness, 6);

      long resuming = System.nanoTime();
      try (BroadcastClient resumed = connect(scene, "resumed", by.after(first.id()), false)) {
        assertEquals(BroadcastClient.V1, resumed.subprotocol(), "the 101 of a resume answers the subprotocol");
        List<BroadcastClient.Message> replayed = take(resumed, 5);
        long replayedAt = replayed.get(4).nanos();
        scene.ingest(api, 7);
        BroadcastClient.Message seventh = resumed.next(WAIT);
        BroadcastClient.Message witnessed = witness.next(WAIT);

        assertEquals(texts(live.subList(1, 6)), texts(replayed), "the five missed messages, as they went out live");
        assertEquals(List.of(List.of(2L), List.of(3L), List.of(4L), List.of(5L), List.of(6L)),
            replayed.stream().map(ClusterScene::numbers).toList());
        assertEquals(witnessed.text(), seventh.text(), "then the live one");
        assertEquals(List.of(7L), numbers(seventh), seventh::text);
        assertEquals(6, resumed.messages().size(), () -> "nothing else came before the live one: " + resumed.messages());
        List<BroadcastClient.Message> all = new ArrayList<>(List.of(first));
        all.addAll(resumed.messages());
        assertEquals(List.of(), Positions.problems(all), () -> "ids " + Positions.ids(all));
        assertEquals(List.of(), Positions.problems(witness.messages()), () -> "witness ids " + Positions.ids(witness.messages()));
        System.out.printf(
            "[resume 1] a v1 client resumed by %s after id %s: the 5 batches it missed, in order, with the bytes they"
                + " went out with, then the live one, ids %s: ok (replayed %d ms after the upgrade was sent; test %d ms)%n",
            by == ResumeBy.HEADER ? "Last-Event-ID" : "?lastEventId=", first.id(), Positions.ids(all),
            ms(replayedAt - resuming), ms(System.nanoTime() - t0));
      }
    }
  }

  // ---- 2. a resume from further back than the path retains ----

  /**
   * A gateway that keeps 5 messages per path ({@code historySettings.maxMessages: 5}); a v1
   * client gets message 1 and leaves; messages 2–10 go out. Resuming after id 1 gives first a gap
   * notice — {@code lastEventId} the client's id, {@code resumedAfter} the id of message 5 —
   * then exactly messages 6–10. So does an id the path never gave out (its {@code lastEventId}
   * is that id), and so does the event stream ({@code event: gap}, then the five). Message 11
   * then reaches both resumed clients live, next.
   */
  @Test
  @Order(2)
  void aResumeFromAnIdNoLongerRetainedStartsWithAGapThenExactlyTheFiveRetainedMessages() throws Exception {
    long t0 = System.nanoTime();
    Map<String, Object> keepFive = Map.of("historySettings", Map.of("maxMessages", 5, "maxAge", "86400s"));
    ClusterScene scene = scene("retention", keepFive);
    JsonNode gateway = api.get("/apigateways/v1/apigateways/" + scene.gatewayId()).ok();
    assertEquals(5, gateway.path("historySettings").path("maxMessages").asInt(), gateway::toString);
    try (BroadcastClient witness = connect(scene, "witness", BroadcastClient.Handshake.V1)) {
      BroadcastClient.Message first;
      try (BroadcastClient client = connect(scene, "client", BroadcastClient.Handshake.V1)) {
        scene.ingest(api, 1);
        first = client.next(WAIT);
      }
      scene.ingestEach(api, 2, 10);
      List<BroadcastClient.Message> live = take(witness, 10);
      String fifth = live.get(4).id();
      List<BroadcastClient.Message> retained = live.subList(5, 10);

      try (BroadcastClient resumed = connect(scene, "resumed", BroadcastClient.Handshake.V1.resumingAfter(first.id()), false);
          BroadcastClient unknown = connect(scene, "unknown id", BroadcastClient.Handshake.V1.resumingAfter("not-an-id"), false);
          CurlEventStream curl = CurlEventStream.open(sseUrl(scene), Map.of("Last-Event-ID", first.id()))) {
        assertGapThenRetained(resumed, first.id(), fifth, retained);
        assertGapThenRetained(unknown, "not-an-id", fifth, retained);

        assertEquals(200, curl.head(WAIT).status(), () -> curl.head(WAIT) + curl.details());
        CurlEventStream.Event gap = curl.next(WAIT);
        assertEquals("gap", gap.type(), gap::toString);
        assertEquals(gapNotice(first.id(), fifth), JsonHttp.JSON.readTree(gap.data()), gap::toString);
        for (BroadcastClient.Message m : retained) {
          CurlEventStream.Event e = curl.next(WAIT);
          assertEquals(List.of("message", m.id(), inner(m)), List.of(e.type(), String.valueOf(e.id()), e.data()), e::toString);
        }

        scene.ingest(api, 11);
        BroadcastClient.Message eleventh = witness.next(WAIT);
        assertEquals(eleventh.text(), resumed.next(WAIT).text(), "then the live one, next");
        assertEquals(eleventh.text(), unknown.next(WAIT).text(), "then the live one, next");
        CurlEventStream.Event live11 = curl.next(WAIT);
        assertEquals(List.of(eleventh.id(), inner(eleventh)), List.of(String.valueOf(live11.id()), live11.data()));
        System.out.printf(
            "[resume 2] retention 5, 10 messages: a resume after id %s (and after an unknown id, and over Server-Sent"
                + " Events) gets the gap {resumedAfter %s} then exactly ids %s, then the live one: ok (test %d ms)%n",
            first.id(), fifth, Positions.ids(retained), ms(System.nanoTime() - t0));
      }
    }
  }

  private static void assertGapThenRetained(
      BroadcastClient client, String lastEventId, String resumedAfter, List<BroadcastClient.Message> retained)
      throws InterruptedException {
    List<BroadcastClient.Message> got = take(client, 1 + retained.size());
    JsonNode gap = JsonHttp.JSON.createObjectNode().set("gap", got.get(0).gap());
    assertEquals(gapNotice(lastEventId, resumedAfter), gap, () -> client.name() + ": first the gap: " + got.get(0).text());
    assertEquals(texts(retained), texts(got.subList(1, got.size())), () -> client.name() + ": then exactly the retained ones");
  }

  private static JsonNode gapNotice(String lastEventId, String resumedAfter) {
    JsonNode notice = JsonHttp.JSON.createObjectNode();
    ((com.fasterxml.jackson.databind.node.ObjectNode) notice)
        .putObject("gap").put("lastEventId", lastEventId).put("resumedAfter", resumedAfter);
    return notice;
  }

  // ---- 3. the plain protocol is unchanged ----

  /**
   * A plain client (no subprotocol, no resume parameter) and a v1 client on the same path: the
   * plain client's 101 names no subprotocol and each of its messages is the reference's {@code
   * {"messages":[…]}}, byte for byte what the v1 client gets inside {@code message}; the v1
   * message has exactly the fields {@code id} and {@code message}.
   */
  @Test
  @Order(3)
  void aPlainClientOnTheSamePathStillGetsExactlyTheReferenceBytesThatAV1ClientGetsInsideMessage() throws Exception {
    long t0 = System.nanoTime();
    ClusterScene scene = scene("plain", Map.of());
    try (BroadcastClient plain = connect(scene, "plain", BroadcastClient.Handshake.PLAIN);
        BroadcastClient v1 = connect(scene, "v1", BroadcastClient.Handshake.V1)) {
      assertEquals("", plain.subprotocol(), "a plain client's 101 names no subprotocol");
      scene.ingestEach(api, 1, 3);
      List<BroadcastClient.Message> reference = take(plain, 3);
      List<BroadcastClient.Message> positioned = take(v1, 3);
      for (int i = 0; i < 3; i++) {
        BroadcastClient.Message p = reference.get(i);
        BroadcastClient.Message v = positioned.get(i);
        JsonNode parsed = JsonHttp.JSON.readTree(p.text());
        assertEquals(List.of("messages"), fieldNames(parsed), p::text);
        assertEquals(List.of((long) i + 1), numbers(p), p::text);
        JsonNode wrapped = JsonHttp.JSON.readTree(v.text());
        assertEquals(List.of("id", "message"), fieldNames(wrapped), v::text);
        assertEquals(parsed, wrapped.path("message"), "the same message");
        assertEquals(p.text(), inner(v), "the reference bytes, exactly, inside the v1 message");
      }
      assertEquals(List.of(), Positions.problems(positioned), () -> "ids " + Positions.ids(positioned));
      System.out.printf(
          "[resume 3] a plain client next to a v1 client gets the reference bytes, exactly those inside the v1"
              + " message (%d bytes, e.g. %s): ok (test %d ms)%n",
          reference.get(0).text().length(), abbreviate(positioned.get(0).text()), ms(System.nanoTime() - t0));
    }
  }

  /** Last-Event-ID (header or query) without the subprotocol regcast.v1: 400, no WebSocket. */
  @Test
  @Order(4)
  void aResumeParameterWithoutRegcastV1IsRefusedWith400() throws Exception {
    long t0 = System.nanoTime();
    ClusterScene scene = scene("refused", Map.of());
    BroadcastClient.Handshake header = BroadcastClient.Handshake.PLAIN.resumingAfter("1");
    BroadcastClient.Handshake query = BroadcastClient.Handshake.PLAIN.resumingAfterInQuery("1");
    assertEquals(400, BroadcastClient.refusal(wsUrl(scene), WAIT, header), "Last-Event-ID without regcast.v1");
    assertEquals(400, BroadcastClient.refusal(wsUrl(scene), WAIT, query), "?lastEventId= without regcast.v1");
    System.out.printf(
        "[resume 4] Last-Event-ID and ?lastEventId= without regcast.v1 are refused with 400: ok (test %d ms)%n",
        ms(System.nanoTime() - t0));
  }

  // ---- 4. clients regcast did not write ----

  enum External {
    NODE_WS,
    PYTHON_WEBSOCKETS;

    ExternalWsClient start(URI url, String lastEventId) throws IOException {
      List<String> arguments = ExternalWsClient.v1(lastEventId);
      return this == NODE_WS ? ExternalWsClient.node(url.toString(), arguments) : ExternalWsClient.python(url.toString(), arguments);
    }
  }

  /**
   * npm {@code ws} and Python {@code websockets}, offering regcast.v1: the server chooses it; the
   * client gets message 1 with an id and exits; messages 2–4 go out; started again with {@code
   * Last-Event-ID} (that id), it gets 2–4 — the bytes a JDK v1 client got live — then 5, live.
   */
  @ParameterizedTest
  @EnumSource(External.class)
  @Order(5)
  void anExternalV1ClientResumesAfterItsLastIdWithNothingMissingOrTwice(External kind) throws Exception {
    long t0 = System.nanoTime();
    ClusterScene scene = scene("interop-" + kind.name().toLowerCase().replace('_', '-'), Map.of());
    try (BroadcastClient witness = connect(scene, "witness", BroadcastClient.Handshake.V1)) {
      String firstId;
      try (ExternalWsClient client = kind.start(wsUrl(scene), null)) {
        awaitListed(client, client.expect("open", WAIT));
        scene.ingest(api, 1);
        BroadcastClient.Message first = text(client);
        assertEquals(List.of(1L), numbers(first), first::text);
        firstId = first.id();
        assertEquals(witness.next(WAIT).text(), first.text(), "the bytes every v1 client gets");
      }
      scene.ingestEach(api, 2, 4);
      List<BroadcastClient.Message> live = take(witness, 3);
      try (ExternalWsClient resumed = kind.start(wsUrl(scene), firstId)) {
        JsonNode open = resumed.expect("open", WAIT);
        assertEquals(BroadcastClient.V1, open.path("protocol").asText(), () -> open + resumed.details());
        List<BroadcastClient.Message> got = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          got.add(text(resumed));
        }
        scene.ingest(api, 5);
        BroadcastClient.Message fifth = text(resumed);
        assertEquals(texts(live), texts(got), "the three missed, as they went out");
        assertEquals(witness.next(WAIT).text(), fifth.text(), "then the live one, next");
        got.add(fifth);
        assertEquals(List.of(), Positions.problems(got), () -> "ids " + Positions.ids(got));
        System.out.printf(
            "[resume 5] %s with regcast.v1 resumed after id %s: ids %s, nothing missing or twice: ok (test %d ms)%n",
            resumed.kind(), firstId, Positions.ids(got), ms(System.nanoTime() - t0));
      }
    }
  }

  /** Waits until the external client's connection (id from its open event) is on the node: broadcasts reach it. */
  private static void awaitListed(ExternalWsClient client, JsonNode open) throws InterruptedException {
    assertEquals(BroadcastClient.V1, open.path("protocol").asText(), () -> "the 101 answers the subprotocol: " + open
        + client.details());
    String id = open.path("connectionId").asText();
    assertFalse(id.isEmpty(), () -> open + client.details());
    long until = System.nanoTime() + WAIT.toNanos();
    while (api.get(CONNECTIONS + id).status() != 200) {
      if (System.nanoTime() > until) {
        throw new AssertionError(client.kind() + ": connection " + id + " not found within " + WAIT);
      }
      TimeUnit.MILLISECONDS.sleep(20); // polling interval
    }
  }

  /** The next text message of an external client, as a BroadcastClient would read it. */
  private static BroadcastClient.Message text(ExternalWsClient client) {
    JsonNode message = client.expect("message", WAIT);
    assertEquals("text", message.path("type").asText(), () -> message + client.details());
    return BroadcastClient.parse(System.nanoTime(), message.path("data").asText());
  }

  // ---- 5. Server-Sent Events ----

  /**
   * {@code curl -N} with {@code Accept: text/event-stream}, {@code Last-Event-ID} (the id of
   * message 1) and an {@code Origin} on the path's URL: 200, {@code text/event-stream}, the
   * gateway's default allowed origin; {@code retry:} first; messages 2 and 3 (retained) then 4
   * (live), each {@code id: <its id>} and {@code data: <the reference bytes>}; keep-alive
   * comments while nothing is sent.
   */
  @Test
  @Order(6)
  void curlReadsTheEventStreamRetryFirstThenIdAndReferenceBytesPerMessageAndKeepAlives() throws Exception {
    long t0 = System.nanoTime();
    ClusterScene scene = scene("sse-curl", Map.of());
    try (BroadcastClient plain = connect(scene, "plain", BroadcastClient.Handshake.PLAIN);
        BroadcastClient v1 = connect(scene, "v1", BroadcastClient.Handshake.V1)) {
      scene.ingestEach(api, 1, 3);
      List<BroadcastClient.Message> reference = new ArrayList<>(take(plain, 3));
      List<BroadcastClient.Message> ids = new ArrayList<>(take(v1, 3));
      String origin = "http://origin.example";
      try (CurlEventStream curl =
          CurlEventStream.open(sseUrl(scene), Map.of("Last-Event-ID", ids.get(0).id(), "Origin", origin))) {
        CurlEventStream.Head head = curl.head(WAIT);
        assertEquals(200, head.status(), () -> head + curl.details());
        assertTrue(String.valueOf(head.header("Content-Type")).startsWith("text/event-stream"), head::toString);
        String allowed = head.header("Access-Control-Allow-Origin");
        assertTrue("*".equals(allowed) || origin.equals(allowed), () -> "allowedOrigins [\"*\"] by default: " + head);
        List<CurlEventStream.Event> got = new ArrayList<>(List.of(curl.next(WAIT), curl.next(WAIT)));
        scene.ingest(api, 4);
        reference.add(plain.next(WAIT));
        ids.add(v1.next(WAIT));
        got.add(curl.next(WAIT));
        int comments = curl.comments();
        curl.awaitComments(comments + 1, Duration.ofSeconds(5));

        assertTrue(curl.order().get(0).startsWith("retry "), () -> "retry: first: " + curl.order());
        for (int i = 0; i < 3; i++) {
          CurlEventStream.Event e = got.get(i);
          assertEquals("message", e.type(), e::toString);
          assertEquals(ids.get(i + 1).id(), e.id(), () -> "its own id: line: " + e);
          assertEquals(reference.get(i + 1).text(), e.data(), "data: the reference bytes");
        }
        System.out.printf(
            "[resume 6] curl -N reads the event stream (retry: %s first; resumed after id %s: ids %s, the reference"
                + " bytes; keep-alive comments; Access-Control-Allow-Origin %s): ok (test %d ms)%n",
            curl.retry(), ids.get(0).id(), got.stream().map(CurlEventStream.Event::id).toList(), allowed,
            ms(System.nanoTime() - t0));
      }
    }
  }

  /**
   * A page served from another origin opens {@code new EventSource(url)} on the path of a gateway
   * whose {@code allowedOrigins} lists that origin: once a warm-up message reached it, messages
   * 1–3 do; a page from an origin not listed gets an error and no message (neither then nor when
   * message 4 reaches the first page). The node is stopped with SIGTERM and relaunched on its
   * ports; messages 5–7 go out as soon as it is ready, maybe before the browser is back. The
   * EventSource reconnects by itself (it sends Last-Event-ID) and never gives up; it ends with
   * every message exactly once, in order, its ids consecutive — message 8 comes next.
   */
  @Test
  @Order(100) // restarts the shared node: last
  void aBrowserEventSourceFromAnAllowedOriginSurvivesANodeRestartWithEveryMessageOnceAndADeniedOriginGetsNothing()
      throws Exception {
    long t0 = System.nanoTime();
    try (BrowserEventSource page = BrowserEventSource.serve()) {
      ClusterScene scene = scene("sse-browser", Map.of("allowedOrigins", List.of(page.origin().toString())));
      JsonNode gateway = api.get("/apigateways/v1/apigateways/" + scene.gatewayId()).ok();
      assertEquals(List.of(page.origin().toString()), strings(gateway.path("allowedOrigins")), gateway::toString);
      page.open(sseUrl(scene));
      PageStream stream = new PageStream(page);
      stream.expectOpen();
      // The stream's subscription may take a moment: the first message the page gets is a warm-up one.
      long warmUps = warmUp(scene, stream);
      scene.ingestEach(api, 1, 3);
      stream.awaitNumber(3);

      String deniedHow;
      try (BrowserEventSource denied = BrowserEventSource.serve()) {
        denied.open(sseUrl(scene));
        JsonNode error = denied.expect("error", WAIT);
        deniedHow = "readyState " + error.path("readyState").asInt();
        scene.ingest(api, 4);
        stream.awaitNumber(4);
        List<JsonNode> more = denied.takeArrived();
        assertTrue(more.stream().allMatch(e -> "error".equals(e.path("event").asText())),
            () -> "a page of an origin not allowed gets no stream: " + error + " " + more);
      }

      long stopping = System.nanoTime();
      int exit = node.stopGracefully();
      assertTrue(exit == 0 || exit == 143, "exit code after SIGTERM: " + exit);
      // What the path's URL answers while the node starts, as the browser's reconnects would see it.
      StartupProbe probe = new StartupProbe(sseUrl(scene), page.origin().toString());
      try {
        node = started(node.relaunch("resume-2"));
      } finally {
        probe.stopOnceServed(WAIT);
      }
      api = new JsonHttp(node.baseUrl());
      long ready = System.nanoTime();
      scene.ingestEach(api, 5, 7);
      try {
        stream.awaitNumber(7);
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "\nwhile the node started, an event-stream request on the path"
            + " (Origin allowed) got: " + probe, e);
      }
      long backAt = stream.lastOpenAt;
      scene.ingest(api, 8);
      PageStream.Received eighth = stream.next();

      assertEquals(List.of(8L), eighth.numbers(), () -> "message 8 comes next: " + eighth);
      List<Long> expected = new ArrayList<>();
      for (long w = ClusterScene.WARM_UP; w < ClusterScene.WARM_UP + warmUps; w++) {
        expected.add(w);
      }
      List<Long> measured = new ArrayList<>();
      for (long n = 1; n <= 8; n++) {
        measured.add(n);
      }
      List<Long> got = stream.numbers();
      assertEquals(measured, got.subList(got.size() - 8, got.size()), () -> "every message once, in order: " + got);
      assertTrue(expected.containsAll(got.subList(0, got.size() - 8)), () -> "before them only warm-ups: " + got);
      assertEquals(List.of(), Positions.problems(stream.asMessages()), () -> "ids " + stream.ids());
      assertTrue(stream.opens >= 2, () -> "the EventSource reconnected by itself: " + stream);
      assertEquals(0, stream.gaveUp, () -> "the EventSource never gave up: " + stream);
      System.out.printf(
          "[resume 7] headless Chromium's EventSource from an allowed origin got every message once across a SIGTERM"
              + " and relaunch of the node (ids %s; %d errors while it was down; it reconnected by itself %d ms after the"
              + " node was ready, %d ms after the SIGTERM; during the start the path answered %s); an origin not allowed"
              + " got an error (%s) and nothing: ok (test %d ms)%n",
          stream.ids(), stream.errors, ms(backAt - ready), ms(backAt - stopping), probe, deniedHow,
          ms(System.nanoTime() - t0));
    }
  }

  /**
   * Requests the event stream of {@code url} every {@value #PROBE_EVERY_MS} ms from its start
   * until it is answered 200 ({@link #stopOnceServed}), recording each answer ("refused" when
   * nothing listens) with when it came: a browser's EventSource that reconnects meanwhile gets one
   * of them, and any answer but 200 makes it give up for good (HTML standard, "fail the connection").
   */
  private static final class StartupProbe {
    private static final long PROBE_EVERY_MS = 25;
    private static final java.net.http.HttpClient HTTP =
        java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private final long startedAt = System.nanoTime();
    private final List<String> answers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.concurrent.CountDownLatch served = new java.util.concurrent.CountDownLatch(1);
    private final Thread thread;
    private volatile boolean stop;

    StartupProbe(URI url, String origin) {
      thread = new Thread(() -> run(url, origin), "startup-probe");
      thread.setDaemon(true);
      thread.start();
    }

    private void run(URI url, String origin) {
      java.net.http.HttpRequest request =
          java.net.http.HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(2))
              .header("Accept", "text/event-stream").header("Origin", origin).GET().build();
      String previous = null;
      while (!stop) {
        String answer;
        try {
          var response = HTTP.send(request, java.net.http.HttpResponse.BodyHandlers.ofInputStream());
          response.body().close(); // an event stream does not end by itself
          answer = Integer.toString(response.statusCode());
        } catch (java.net.ConnectException refused) {
          answer = "refused";
        } catch (IOException e) {
          answer = e.getClass().getSimpleName();
        } catch (InterruptedException e) {
          return;
        }
        if (!answer.equals(previous)) {
          answers.add(answer + " from " + ms(System.nanoTime() - startedAt) + " ms");
          previous = answer;
        }
        if (answer.equals("200")) {
          served.countDown();
          return;
        }
        try {
          TimeUnit.MILLISECONDS.sleep(PROBE_EVERY_MS); // polling interval
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    /** Waits (at most {@code deadline}) for a 200, then stops. */
    void stopOnceServed(Duration deadline) throws InterruptedException {
      served.await(deadline.toMillis(), TimeUnit.MILLISECONDS);
      stop = true;
      thread.interrupt();
    }

    @Override
    public String toString() {
      return String.join(", then ", answers) + " (from the relaunch)";
    }
  }

  /** Warm-up messages until one reaches the page (at most 10, 2 s each); how many were sent. */
  private static long warmUp(ClusterScene scene, PageStream stream) throws InterruptedException {
    for (long n = ClusterScene.WARM_UP; n < ClusterScene.WARM_UP + 10; n++) {
      scene.ingest(api, n);
      if (stream.hasNumber(n, Duration.ofSeconds(2))) {
        return n - ClusterScene.WARM_UP + 1;
      }
    }
    throw new AssertionError("no warm-up message reached the page: " + stream);
  }

  /** What an EventSource page reported: its messages (in order), opens, errors. */
  private static final class PageStream {
    record Received(String id, String data, List<Long> numbers) {}

    private final BrowserEventSource page;
    private final List<Received> received = new ArrayList<>();
    int opens;
    int errors;
    int gaveUp;
    long lastOpenAt;

    PageStream(BrowserEventSource page) {
      this.page = page;
    }

    void expectOpen() {
      JsonNode first = page.next(WAIT);
      if (!"open".equals(first.path("event").asText())) {
        throw new AssertionError("the EventSource did not open: " + first + page.details());
      }
      opens++;
      lastOpenAt = System.nanoTime();
    }

    /** Reads the page's events until a message arrives; the message. */
    Received next() {
      long until = System.nanoTime() + WAIT.toNanos();
      int before = received.size();
      while (received.size() == before) {
        if (!read(Duration.ofNanos(until - System.nanoTime()))) {
          throw new AssertionError("no message reached the page within " + WAIT + ": " + this + page.details());
        }
      }
      return received.get(before);
    }

    void awaitNumber(long n) {
      while (!numbers().contains(n)) {
        next();
      }
    }

    boolean hasNumber(long n, Duration within) {
      long until = System.nanoTime() + within.toNanos();
      while (!numbers().contains(n)) {
        if (!read(Duration.ofNanos(until - System.nanoTime()))) {
          return false;
        }
      }
      return true;
    }

    /**
     * Reads one event of the page (waiting at most {@code within}) and records it; false if none
     * came. An EventSource that gave up (readyState CLOSED) ends the test at once.
     */
    private boolean read(Duration within) {
      JsonNode event = page.poll(within.isNegative() ? Duration.ZERO : within);
      if (event == null) {
        return false;
      }
      switch (event.path("event").asText()) {
        case "open" -> {
          opens++;
          lastOpenAt = System.nanoTime();
        }
        case "error" -> {
          errors++;
          if (event.path("readyState").asInt() == BrowserEventSource.CLOSED) {
            gaveUp++;
            throw new AssertionError("the EventSource gave up (readyState CLOSED): " + this + page.details());
          }
        }
        case "message" -> {
          String data = event.path("data").asText();
          received.add(new Received(event.path("id").asText(), data, ClusterScene.numbers(BroadcastClient.parse(System.nanoTime(), data))));
        }
        default -> throw new AssertionError("the page reported " + event + "; " + this + page.details());
      }
      return true;
    }

    List<Long> numbers() {
      return received.stream().flatMap(r -> r.numbers().stream()).toList();
    }

    List<String> ids() {
      return received.stream().map(Received::id).toList();
    }

    /** As v1 messages (id and events), for {@link Positions#problems}. */
    List<BroadcastClient.Message> asMessages() {
      return received.stream()
          .map(r -> new BroadcastClient.Message(0, List.of(), r.data(), r.id().isEmpty() ? null : r.id(), null))
          .toList();
    }

    @Override
    public String toString() {
      return received.size() + " messages (events " + numbers() + ", ids " + ids() + "), " + opens + " opens, "
          + errors + " errors";
    }
  }

  // ---- helpers ----

  /** A fresh scene on the shared node: a trigger of batch size 1 to a gateway with path /ws (and these fields). */
  private static ClusterScene scene(String prefix, Map<String, Object> gatewayFields) {
    return ClusterScene.create(api, prefix, 1, "1s", gatewayFields);
  }

  private static URI wsUrl(ClusterScene scene) {
    return URI.create("ws://127.0.0.1:" + ports[1] + "/gateways/" + scene.gatewayId() + ClusterScene.PATH);
  }

  /** The path's URL on the gateway's listener, for Server-Sent Events. */
  private static URI sseUrl(ClusterScene scene) {
    return URI.create("http://127.0.0.1:" + ports[1] + "/gateways/" + scene.gatewayId() + ClusterScene.PATH);
  }

  /** A client of the scene's path, listed by the node (so broadcasts reach it) when this returns. */
  private static BroadcastClient connect(ClusterScene scene, String name, BroadcastClient.Handshake handshake) {
    return connect(scene, name, handshake, true);
  }

  /**
   * A client of the scene's path; {@code listed}: wait until the node lists it (a resuming client
   * need not: what it is to get comes from the log).
   */
  private static BroadcastClient connect(
      ClusterScene scene, String name, BroadcastClient.Handshake handshake, boolean listed) {
    BroadcastClient client =
        BroadcastClient.connect(name, wsUrl(scene), "regcast-resume-" + UUID.randomUUID(), WAIT, handshake);
    if (listed) {
      try {
        api.awaitConnectionId(scene.gatewayId(), client, WAIT);
      } catch (RuntimeException | Error e) {
        client.close();
        throw e;
      }
    }
    return client;
  }

  /** The client's next {@code count} messages. */
  private static List<BroadcastClient.Message> take(BroadcastClient client, int count) throws InterruptedException {
    List<BroadcastClient.Message> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(client.next(WAIT));
    }
    return out;
  }

  private static List<String> texts(List<BroadcastClient.Message> messages) {
    return messages.stream().map(BroadcastClient.Message::text).toList();
  }

  /**
   * The text of a v1 message's {@code message} as it is in the frame: the bytes after {@code
   * "message":} up to the closing brace of the wrapper (the contract: the exact reference message).
   */
  private static String inner(BroadcastClient.Message v1) {
    String text = v1.text();
    int at = text.indexOf("\"message\":");
    if (at < 0 || !text.endsWith("}")) {
      throw new AssertionError("not a v1 message: " + text);
    }
    String inner = text.substring(at + "\"message\":".length(), text.length() - 1).strip();
    if (inner.endsWith(",")) { // "message" came before "id"
      throw new AssertionError("a v1 message whose id follows its message: " + text);
    }
    return inner;
  }

  private static List<String> fieldNames(JsonNode object) {
    List<String> names = new ArrayList<>();
    object.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    for (Iterator<JsonNode> it = array.elements(); it.hasNext(); ) {
      out.add(it.next().asText());
    }
    return out;
  }

  private static String abbreviate(String text) {
    return text.length() <= 60 ? text : text.substring(0, 60) + "…";
  }

  private static NodeProcess started(NodeProcess process) throws Exception {
    process.start();
    System.out.printf(
        "%s ready in %d ms from launch (node reports %d ms) at %s%n",
        process.name(), process.startMillis(), process.reportedReadyMillis(), process.baseUrl());
    return process;
  }
}

package io.regcast.e2e;

import static io.regcast.e2e.DistributionEvents.deleteTag;
import static io.regcast.e2e.DistributionEvents.digest;
import static io.regcast.e2e.DistributionEvents.envelope;
import static io.regcast.e2e.DistributionEvents.push;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node killed with SIGKILL keeps what it acknowledged to the registry: after a restart on the
 * same data directory (and the same ports, so WebSocket clients reconnect to the same URL) the
 * events it answered {@code 202} for reach the clients of the trigger's gateway path — killed
 * while a batch is open, and in the middle of a burst of ingest.
 *
 * <p>Real JVMs and sockets: the node is {@code engine/target/regcast.jar} ({@link NodeProcess}),
 * events come in as a registry's webhook notifications over HTTP, and the clients are the JDK's
 * WebSocket ({@link BroadcastClient}).
 *
 * <p>A message sent while no client is connected reaches nobody (as in the reference), and a
 * single node cannot hold its clients across its own restart. The restarted trigger entity is
 * remembered, so it starts with the node and at once sends what is due; the node accepts clients
 * on the path from about that moment on. Each test is therefore built so that nothing is due
 * before its client has reconnected (and checks it), so that a client's view proves what it
 * asserts.
 */
class CrashRecoveryIT {
  private static final String CLOUDS = "/resource-manager/v1/clouds";
  private static final String FOLDERS = "/resource-manager/v1/folders";
  private static final String REGISTRIES = "/container-registry/v1/registries";
  private static final String GATEWAYS = "/apigateways/v1/apigateways";
  private static final String ACCOUNTS = "/iam/v1/serviceAccounts";
  private static final String TRIGGERS = "/triggers/v1/triggers";
  private static final String PATH = "/ws";
  private static final String TYPE_PREFIX = "yandex.cloud.events.containerregistry.";
  private static final List<String> ALL_TYPES =
      List.of(
          "CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE",
          "CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE",
          "CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE_TAG",
          "CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE_TAG");
  /** For one request, a connection to register, a message that is due to arrive. */
  private static final Duration WAIT = Duration.ofSeconds(10);
  /** How long nothing more may arrive after the expected messages. */
  private static final Duration QUIET = Duration.ofSeconds(2);

  /** The resources a trigger needs, and the trigger. */
  private record Scene(String cloudId, String folderId, String registryId, String gatewayId, String triggerId) {}

  // ---- 1. kill -9 while a batch is open ----

  private static final Duration OPEN_BATCH_CUTOFF = Duration.ofSeconds(10);
  /** The node times batches with the wall clock, the test with System.nanoTime. */
  private static final Duration CLOCK_SLACK = Duration.ofMillis(50);

  /**
   * Three notifications, one CR event each, join a batch (size 100, cutoff 10 s) and the node is
   * killed as soon as the third got its 202. The remembered trigger entity starts again with the
   * node, recovers its open batch with the time it opened and re-arms the cutoff timer from that
   * time; the batch reaches the client that reconnected to the restarted node within cutoff + 10 s
   * of the kill (and not before its cutoff), each event once, and nothing follows it.
   */
  @Test
  void aBatchOpenAtAKill9ArrivesAfterTheRestartWithinCutoffPlus10sEachEventOnce(@TempDir Path dataDir)
      throws Exception {
    int[] ports = NodeProcess.freePorts(2);
    String repository = "crash/open-batch";
    String image = digest(0xA);
    Instant t0 = Instant.parse("2026-11-28T13:55:53.043627551Z");
    List<ObjectNode> notifications =
        List.of(
            envelope(push(repository, image, null, t0)), // push by digest → CreateImage
            envelope(push(repository, image, "v1", t0.plusSeconds(1))), // tag it → CreateImageTag
            envelope(deleteTag(repository, "v1", t0.plusSeconds(2)))); // untag → DeleteImageTag
    Scene scene;
    long firstSent;
    long lastAccepted;
    long killedAt;
    try (NodeProcess first = started(new NodeProcess("open-batch-1", dataDir).withPorts(ports[0], ports[1]))) {
      JsonHttp api = new JsonHttp(first.baseUrl());
      scene = setUp(api, 100, "10s");
      try (BroadcastClient client =
          BroadcastClient.connect("client of the first node", wsUrl(first, scene), userAgent(), WAIT)) {
        api.awaitConnectionId(scene.gatewayId(), client, WAIT);
        firstSent = System.nanoTime();
        for (ObjectNode notification : notifications) {
          ingest(api, scene, notification).expect(202);
        }
        lastAccepted = System.nanoTime();
        killedAt = System.nanoTime();
        first.kill();
        assertTrue(client.awaitEnd(WAIT), () -> "the killed node's client is still connected: " + client);
        assertEquals(List.of(), client.messages(), "nothing was sent before the kill: the batch was open");
      }
    }

    try (NodeProcess second = new NodeProcess("open-batch-2", dataDir).withPorts(ports[0], ports[1])) {
      Restarted restarted = restartAndReconnect(second, wsUrl(ports[1], scene));
      long readyAt = restarted.readyAt();
      try (BroadcastClient client = restarted.client()) {
        new JsonHttp(second.baseUrl()).awaitConnectionId(scene.gatewayId(), client, WAIT);
        long registeredAt = System.nanoTime();
        // The batch opened after its first event was sent: it cannot have gone out before this.
        assertTrue(
            registeredAt < firstSent + OPEN_BATCH_CUTOFF.toNanos(),
            () -> "inconclusive: the restarted node took " + ms(registeredAt - killedAt) + " ms to serve the client"
                + " again; the batch may have been sent before, to no client");

        Duration bound = OPEN_BATCH_CUTOFF.plusSeconds(10);
        BroadcastClient.Message batch = client.next(Duration.ofNanos(killedAt + bound.toNanos() - System.nanoTime()));
        BroadcastClient.Message extra = client.poll(QUIET);

        String registry = scene.registryId();
        List<List<String>> got = batch.events().stream().map(CrashRecoveryIT::typeDigestTag).toList();
        boolean rearmed = batch.nanos() < readyAt + OPEN_BATCH_CUTOFF.toNanos();
        System.out.printf(
            "[open batch] restart: node ready %d ms after the kill (JVM launch to ready line %d ms), client connected"
                + " %d ms after the kill (%d attempts); the batch arrived %d ms after the kill, %d ms after the first"
                + " notification was sent, %d ms after the last 202, %d ms after the node was ready; its cutoff ran"
                + " from %s: %s%n",
            ms(readyAt - killedAt), second.startMillis(), ms(client.openedNanos() - killedAt), client.attempts(),
            ms(batch.nanos() - killedAt), ms(batch.nanos() - firstSent), ms(batch.nanos() - lastAccepted),
            ms(batch.nanos() - readyAt),
            rearmed
                ? "the opening time stored before the kill (re-armed on recovery)"
                : "the restart (the trigger had not stored the events; the registry re-delivered them)",
            got);
        assertEquals(
            List.of(
                List.of("CreateImage", image, ""),
                List.of("CreateImageTag", image, "v1"),
                List.of("DeleteImageTag", image, "v1")),
            got,
            () -> "the open batch, each accepted event once, in order: " + batch.text());
        Set<String> ids = new HashSet<>();
        for (JsonNode event : batch.events()) {
          String id = event.path("event_metadata").path("event_id").asText();
          assertTrue(ids.add(id), () -> "event ids: " + batch.text());
          assertEquals(registry, event.path("details").path("registry_id").asText(), event::toString);
          assertEquals(
              registry + "/" + repository, event.path("details").path("repository_name").asText(), event::toString);
          assertEquals(scene.folderId(), event.path("event_metadata").path("folder_id").asText(), event::toString);
          assertEquals(scene.cloudId(), event.path("event_metadata").path("cloud_id").asText(), event::toString);
        }
        // The batch opened when the trigger stored its first event, after that event was sent.
        assertTrue(
            batch.nanos() - firstSent >= OPEN_BATCH_CUTOFF.minus(CLOCK_SLACK).toNanos(),
            () -> "the batch went out " + ms(batch.nanos() - firstSent) + " ms after its first event was sent,"
                + " before its cutoff of " + OPEN_BATCH_CUTOFF);
        assertNull(extra, () -> "more arrived after the batch: " + (extra == null ? "" : extra.text()));
      }
    }
  }

  // ---- 2. kill -9 in the middle of a burst ----

  private static final int BURST = 300;
  private static final int BURST_BATCH_SIZE = 10;
  private static final Duration BURST_CUTOFF = Duration.ofSeconds(60);
  /**
   * The node is killed once this many notifications of the burst were accepted: half way through
   * a batch (see the test), so that the batch before it has long been sent and the open one is
   * far from full.
   */
  private static final int KILL_AFTER = 155;
  /** Events numbered from here on are the markers ingested after the restart. */
  private static final long MARKER = 1_000_000;

  /**
   * A sender posts {@value #BURST} notifications (a push by digest each: one CreateImage event)
   * one after the other as fast as the node answers, and the node is killed once
   * {@value #KILL_AFTER} got their 202; the sender stops there (the request in flight gets no
   * answer). After a restart on the same data directory a client reconnects, a batch's worth of
   * marker events is ingested (it fills the open batch, which goes out at once) and the first
   * marker is awaited: every event that got a 202 has then reached a client — the
   * one connected before the kill or the one connected after the restart — in order, and none
   * twice except those of the last batch sent before the kill (sent, maybe not yet recorded as
   * sent when the node died).
   *
   * <p>Why batches of 10 with a 60 s cutoff (and not a 1 s cutoff): the restarted trigger entity
   * is remembered, so it starts with the node and sends what is due at once — a recovered batch
   * older than its cutoff or already full, or a batch the registry's re-delivery fills up. The
   * node accepts WebSocket clients only from about that moment on (once it has read its
   * gateways), so such a batch goes to no client (as in the reference, a message sent while no
   * client is connected is gone) and a client's view could not tell that from a lost event. With a
   * 1 s cutoff that happened in 3 runs of 13 (the recovered batch went out 20–50 ms before the
   * client's connection). Here nothing is due before the client is back: the batch open at the
   * kill holds at most the few events after the last batch sent (5 requests before the kill), and
   * its cutoff runs 60 s from its first event — the test checks both before asserting.
   */
  @Test
  void everyEventAcceptedBeforeAKill9InTheMiddleOfABurstArrives(@TempDir Path dataDir) throws Exception {
    int[] ports = NodeProcess.freePorts(2);
    String repository = "crash/burst";
    Scene scene;
    IngestBurst burst;
    long killedAt;
    BroadcastClient before;
    try (NodeProcess first = started(new NodeProcess("burst-1", dataDir).withPorts(ports[0], ports[1]))) {
      JsonHttp api = new JsonHttp(first.baseUrl());
      scene = setUp(api, BURST_BATCH_SIZE, BURST_CUTOFF.toSeconds() + "s");
      before = BroadcastClient.connect("client of the first node", wsUrl(first, scene), userAgent(), WAIT);
      try {
        api.awaitConnectionId(scene.gatewayId(), before, WAIT);
        burst = new IngestBurst(api, scene.registryId(), repository, BURST).start(KILL_AFTER);
        burst.awaitAccepted(Duration.ofSeconds(30));
        killedAt = System.nanoTime();
        burst.stop();
        first.kill();
        burst.awaitStopped(WAIT);
        assertTrue(before.awaitEnd(WAIT), () -> "the killed node's client is still connected: " + before);
      } finally {
        before.close();
      }
    }

    try (NodeProcess second = new NodeProcess("burst-2", dataDir).withPorts(ports[0], ports[1])) {
      Restarted restarted = restartAndReconnect(second, wsUrl(ports[1], scene));
      try (BroadcastClient after = restarted.client()) {
        JsonHttp api = new JsonHttp(second.baseUrl());
        api.awaitConnectionId(scene.gatewayId(), after, WAIT);
        long registeredAt = System.nanoTime();

        // Nothing may have been due while no client was connected (see above), or the test proves nothing.
        List<BroadcastClient.Message> got = before.messages();
        long lastReceived = got.isEmpty() ? -1 : max(BurstDelivery.numbers(got.get(got.size() - 1)));
        long openedFirst = lastReceived + 1;
        assertTrue(
            burst.sent() - openedFirst < BURST_BATCH_SIZE,
            () -> "inconclusive: " + (burst.sent() - openedFirst) + " events were sent after the last one the client"
                + " received before the kill (" + lastReceived + "): either the trigger lagged, and a full batch may"
                + " have gone out at the restart to no client, or a batch recorded as sent just before the kill was"
                + " lost");
        assertTrue(
            registeredAt < burst.sentAt(openedFirst) + BURST_CUTOFF.toNanos(),
            () -> "inconclusive: the client reconnected " + ms(registeredAt - burst.sentAt(openedFirst)) + " ms after"
                + " event " + openedFirst + " was sent, after the cutoff of the batch it opened");

        // Messages keep the registry's order: once the first marker is in, everything before it is too.
        // The markers that do not fit in the batch wait for the cutoff: nothing follows for now.
        ObjectNode[] markers = new ObjectNode[BURST_BATCH_SIZE];
        for (int i = 0; i < markers.length; i++) {
          markers[i] = push(repository, digest(MARKER + i), null, Instant.now());
        }
        long markerSent = System.nanoTime();
        ingest(api, scene, envelope(markers)).expect(202);
        long markerArrived = awaitEvent(after, MARKER, WAIT);
        BroadcastClient.Message extra = after.poll(QUIET);

        BurstDelivery d = new BurstDelivery(burst, MARKER, before, after);
        System.out.printf(
            "[burst] %d notifications sent in %d ms before the kill: %d accepted (202), %d without an answer %s,"
                + " %d refused %s; batches of %d, cutoff %s%n[burst] %s%n"
                + "[burst] restart: node ready %d ms after the kill, client connected %d ms after the kill"
                + " (%d attempts);"
                + " the batch open at the kill (filled up by the markers) arrived %d ms after the kill, %d ms after"
                + " the markers were sent%n",
            burst.sent(), ms(killedAt - burst.startedAt()), burst.accepted.size(), burst.unanswered.size(),
            burst.unanswered.keySet(), burst.refused.size(), burst.refused, BURST_BATCH_SIZE, BURST_CUTOFF, d,
            ms(restarted.readyAt() - killedAt), ms(after.openedNanos() - killedAt), after.attempts(),
            ms(markerArrived - killedAt), ms(markerArrived - markerSent));

        assertEquals(Map.of(), burst.refused, "every notification before the kill was answered 202");
        d.assertSound();
        d.assertDuplicatesFrom(lastReceived - BURST_BATCH_SIZE + 1);
        assertNull(extra, () -> "more arrived after the batch with the marker: " + (extra == null ? "" : extra.text()));
        assertTrue(d.missing.isEmpty(), () -> "accepted (202) but never delivered: " + d);
      }
    }
  }

  // ---- helpers ----

  /**
   * Cloud, folder, registry, gateway with path /ws, a service account allowed to broadcast in the
   * folder, and a trigger on all four event types.
   */
  private static Scene setUp(JsonHttp api, int size, String cutoff) {
    String cloud = created(api.post(CLOUDS, Map.of("name", "crash-cloud")));
    String folder = created(api.post(FOLDERS, Map.of("cloudId", cloud, "name", "crash-folder")));
    String registry = created(api.post(REGISTRIES, Map.of("folderId", folder, "name", "crash-registry")));
    String gateway =
        created(
            api.post(GATEWAYS, Map.of("folderId", folder, "name", "crash-gateway", "websocketPaths", List.of(PATH))));
    String account = created(api.post(ACCOUNTS, Map.of("folderId", folder, "name", "crash-robot")));
    // The trigger broadcasts as its service account, which needs a role on the gateway (or above it).
    api.allowBroadcast(folder, account);
    Map<String, Object> rule =
        Map.of(
            "eventType", ALL_TYPES,
            "registryId", registry,
            "batchSettings", Map.of("size", size, "cutoff", cutoff),
            "gatewayWebsocketBroadcast", Map.of("gatewayId", gateway, "path", PATH, "serviceAccountId", account));
    String trigger =
        created(
            api.post(
                TRIGGERS,
                Map.of("folderId", folder, "name", "crash-trigger", "rule", Map.of("containerRegistry", rule))));
    return new Scene(cloud, folder, registry, gateway, trigger);
  }

  private static String created(JsonHttp.Response response) {
    return response.createdId();
  }

  private static JsonHttp.Response ingest(JsonHttp api, Scene scene, ObjectNode envelope) {
    return DistributionEvents.notify(api, scene.registryId(), envelope);
  }

  /** A restarted node's client, and when the node logged that it was ready (System.nanoTime). */
  private record Restarted(BroadcastClient client, long readyAt) {}

  /**
   * Starts the node and, from the moment it is launched, a client that connects to {@code url} as
   * soon as the node serves it (its gateway answers 404 until the node has read its gateways,
   * which it does a little before its ready line).
   */
  private static Restarted restartAndReconnect(NodeProcess node, URI url) throws Exception {
    long[] readyAt = new long[1];
    BroadcastClient client = BroadcastClient.connectWhileStarting(
        "client of the restarted node", url, userAgent(), () -> {
          started(node);
          readyAt[0] = System.nanoTime();
        }, WAIT);
    return new Restarted(client, readyAt[0]);
  }

  /** Reads messages until one holds the event numbered {@code event}; when it arrived. */
  private static long awaitEvent(BroadcastClient client, long event, Duration deadline) throws InterruptedException {
    long until = System.nanoTime() + deadline.toNanos();
    while (true) {
      BroadcastClient.Message m = client.next(Duration.ofNanos(until - System.nanoTime()));
      if (BurstDelivery.numbers(m).contains(event)) {
        return m.nanos();
      }
    }
  }

  private static NodeProcess started(NodeProcess node) throws Exception {
    node.start();
    System.out.printf(
        "%s ready in %d ms from launch (node reports %d ms) at %s%n",
        node.name(), node.startMillis(), node.reportedReadyMillis(), node.baseUrl());
    return node;
  }

  private static URI wsUrl(NodeProcess node, Scene scene) {
    return wsUrl(node.gatewayUrl().getPort(), scene);
  }

  private static URI wsUrl(int gatewayPort, Scene scene) {
    return URI.create("ws://127.0.0.1:" + gatewayPort + "/gateways/" + scene.gatewayId() + PATH);
  }

  private static String userAgent() {
    return "regcast-crash-" + UUID.randomUUID();
  }

  /** [event type without its prefix, image digest, tag]. */
  private static List<String> typeDigestTag(JsonNode event) {
    String type = event.path("event_metadata").path("event_type").asText();
    return List.of(
        type.startsWith(TYPE_PREFIX) ? type.substring(TYPE_PREFIX.length()) : type,
        event.path("details").path("image_digest").asText(),
        event.path("details").path("tag").asText());
  }

  private static long max(Set<Long> numbers) {
    return numbers.stream().mapToLong(Long::longValue).max().orElse(-1);
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}

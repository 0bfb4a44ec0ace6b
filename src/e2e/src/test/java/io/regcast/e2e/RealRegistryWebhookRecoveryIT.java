package io.regcast.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 6, webhook robustness, with a real CNCF Distribution registry: the node is stopped
 * (SIGTERM) while the registry keeps pushing, so the registry's notifications fail and are retried
 * ({@code backoff: 1s}, same envelope and event ids, in order); the node restarts on the same data
 * directory and ports, and each event then reaches the reconnected client exactly once.
 *
 * <p>Its own node and registry (the node restarts, which the class-shared ones of {@link
 * RealRegistryIT} must not). The trigger batches {@value #SIZE} events with a 60 s cutoff: the
 * retried events may reach the restarted node before its client has reconnected, and a batch sent
 * then would go to nobody (as in the reference), so nothing may fall due before the client is
 * back. Manifest PUTs of known tags then fill the open batch, which goes out at once: it must hold
 * the events pushed while the node was down, each once, in order, then the fillers. The registry
 * delivers one endpoint's events in order, so a retry the node did not dedupe would sit in that
 * batch before the fillers and push one of them out.
 */
class RealRegistryWebhookRecoveryIT {
  private static final String REGISTRIES = "/container-registry/v1/registries";
  private static final String GATEWAYS = "/apigateways/v1/apigateways";
  private static final String PATH = "/ws";
  private static final String TYPE_PREFIX = "yandex.cloud.events.containerregistry.";
  private static final List<String> ALL_TYPES =
      List.of(
          "CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE",
          "CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE",
          "CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE_TAG",
          "CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE_TAG");
  private static final int SIZE = 10;
  private static final Duration WAIT = Duration.ofSeconds(10);
  /** How long the registry's retries may take to get through once the node is back. */
  private static final Duration RETRIED = Duration.ofSeconds(20);
  private static final String REPO = "s6/app";

  private String cloudId;
  private String folderId;
  private String registryId;
  private String gatewayId;

  @Test
  void eventsPushedWhileTheNodeIsDownArriveExactlyOnceAfterItsRestart(@TempDir Path dir) throws Exception {
    long scenarioStarted = System.nanoTime();
    long stopTook;
    int[] ports = NodeProcess.freePorts(2);
    Path data = dir.resolve("node");
    Path images = Files.createDirectories(dir.resolve("images"));
    RegistryProcess.buildImage(images, "a", "image a");
    RegistryProcess.buildImage(images, "b", "image b");

    try (NodeProcess first = new NodeProcess("real-registry-webhook-1", data).withPorts(ports[0], ports[1]).start()) {
      JsonHttp api = new JsonHttp(first.baseUrl());
      String secret = setUp(api);
      try (RegistryProcess registry =
          new RegistryProcess("docker-registry-webhook", dir.resolve("registry"))
              .start(first.baseUrl().resolve(REGISTRIES + "/" + registryId + "/notifications"), secret)) {
        URI url = URI.create("ws://127.0.0.1:" + ports[1] + "/gateways/" + gatewayId + PATH);

        // Live: push a as v1 (CreateImage + CreateImageTag) and fill the batch with 8 tags.
        String a;
        RegistryProcess.Manifest manifestA;
        try (BroadcastClient before = BroadcastClient.connect("client before the stop", url, userAgent(), WAIT)) {
          api.awaitConnectionId(gatewayId, before, WAIT);
          push(registry, images, "a", "v1");
          a = registry.digest(REPO, "v1");
          manifestA = registry.manifest(REPO, "v1");
          List<List<String>> expected = new ArrayList<>();
          expected.add(ev("CreateImage", "v1", a));
          expected.add(ev("CreateImageTag", "v1", a));
          for (int i = 1; i <= SIZE - 2; i++) {
            registry.putManifest(REPO, "live-" + i, manifestA);
            expected.add(ev("CreateImageTag", "live-" + i, a));
          }
          BroadcastClient.Message m = before.next(WAIT);
          assertEvents(expected, m.events(), m.text());

          long stopped = System.nanoTime();
          first.stopGracefully();
          assertTrue(before.awaitEnd(WAIT), () -> "the stopped node's client is still connected: " + before);
          stopTook = ms(System.nanoTime() - stopped);
        }

        // While the node is down: retag (copy) and move v1 to image b. The registry's
        // notifications fail; it keeps them in order and retries every second.
        long down = System.nanoTime();
        RegistryProcess.skopeo(
            "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
            registry.docker(REPO + ":v1"), registry.docker(REPO + ":v2"));
        push(registry, images, "b", "v1");
        String b = registry.digest(REPO, "v1");
        List<List<String>> whileDown =
            List.of(
                ev("CreateImageTag", "v2", a),
                ev("CreateImage", "v1", b),
                ev("DeleteImageTag", "v1", a),
                ev("CreateImageTag", "v1", b));

        try (NodeProcess second = new NodeProcess("real-registry-webhook-2", data).withPorts(ports[0], ports[1])) {
          long restartAt = System.nanoTime();
          BroadcastClient after = restartAndReconnect(second, url);
          try (after) {
            JsonHttp api2 = new JsonHttp(second.baseUrl());
            api2.awaitConnectionId(gatewayId, after, WAIT);
            long reconnected = System.nanoTime();
            assertNull(after.poll(Duration.ZERO), "nothing is due before the batch is full");

            // Fill the batch: the retried events (4), then fillers up to SIZE. The registry sends
            // the fillers after the retried events, so they fill the same batch only once the
            // registry got through; the batch comes once all SIZE are in.
            List<List<String>> expected = new ArrayList<>(whileDown);
            for (int i = 1; i <= SIZE - whileDown.size(); i++) {
              registry.putManifest(REPO, "after-" + i, manifestA);
              expected.add(ev("CreateImageTag", "after-" + i, a));
            }
            BroadcastClient.Message m = after.next(RETRIED);
            long arrived = System.nanoTime();
            assertEvents(expected, m.events(), m.text());

            // Nothing more: another full batch of fresh tags is the very next message.
            List<List<String>> more = new ArrayList<>();
            for (int i = 1; i <= SIZE; i++) {
              registry.putManifest(REPO, "more-" + i, manifestA);
              more.add(ev("CreateImageTag", "more-" + i, a));
            }
            BroadcastClient.Message next = after.next(WAIT);
            assertEvents(more, next.events(), next.text());
            Set<String> ids = new HashSet<>();
            for (JsonNode e : m.events()) {
              ids.add(e.path("event_metadata").path("event_id").asText());
            }
            for (JsonNode e : next.events()) {
              assertTrue(ids.add(e.path("event_metadata").path("event_id").asText()), () -> "event ids repeat: " + next.text());
            }
            RealRegistryIT.printPassed(
                "scenario 6",
                String.format(
                    "node stopped (SIGTERM) in %d ms; %d events pushed while it was down (in %d ms),"
                        + " node ready %d ms after launch, client back %d ms after the restart; each arrived"
                        + " exactly once, in order, %d ms after the client reconnected (registry retries, backoff"
                        + " 1s; %d registry log lines mention a retry)",
                    stopTook, whileDown.size(), ms(restartAt - down), second.startMillis(),
                    ms(reconnected - restartAt), ms(arrived - reconnected),
                    registry.output().lines().filter(l -> l.contains("retry")).count()),
                System.nanoTime() - scenarioStarted);
          }
        }
      }
    }
  }

  /**
   * Scenario 7, registry catch-up: events the registry lost are recovered by {@code :reconcile}.
   * While the node is down the registry pushes, retags and deletes (its notifications fail), then
   * restarts — and forgets the notifications it was retrying. After the node's restart {@code
   * :reconcile} reads the registry's API and emits exactly the events live ingest would have (in
   * some order: the registry does not say in which its changes happened), with the image ids live
   * ingest gave; fillers pushed afterwards complete the batch, so nothing else came. A second
   * {@code :reconcile} finds nothing: the next full batch is fillers only.
   */
  @Test
  void eventsTheRegistryLostWhileTheNodeWasDownAreRecoveredByReconcile(@TempDir Path dir) throws Exception {
    long reconcileScenarioStarted = System.nanoTime();
    int[] ports = NodeProcess.freePorts(3);
    Path data = dir.resolve("node");
    Path images = Files.createDirectories(dir.resolve("images"));
    for (String image : List.of("a", "b", "c")) {
      RegistryProcess.buildImage(images, image, "image " + image);
    }
    URI registryUrl = URI.create("http://127.0.0.1:" + ports[2]);
    URI url = URI.create("ws://127.0.0.1:" + ports[1] + "/gateways/");
    String a;
    String c;
    String imageIdOfA;
    RegistryProcess.Manifest manifestC;
    String secret;
    try (NodeProcess first = new NodeProcess("real-registry-reconcile-1", data).withPorts(ports[0], ports[1]).start()) {
      JsonHttp api = new JsonHttp(first.baseUrl());
      secret = setUp(api, "s7", registryUrl);
      url = url.resolve(gatewayId + PATH);
      try (RegistryProcess registry = registry(dir, first, ports[2], secret);
          BroadcastClient before = BroadcastClient.connect("client before the stop", url, userAgent(), WAIT)) {
        api.awaitConnectionId(gatewayId, before, WAIT);
        // Live: a as v1 and old, c as keep, and fillers on c up to a full batch.
        push(registry, images, "a", "v1");
        a = registry.digest(REPO, "v1");
        RegistryProcess.skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false",
            registry.docker(REPO + ":v1"), registry.docker(REPO + ":old"));
        push(registry, images, "c", "keep");
        c = registry.digest(REPO, "keep");
        manifestC = registry.manifest(REPO, "keep");
        List<List<String>> live = new ArrayList<>(List.of(
            ev("CreateImage", "v1", a), ev("CreateImageTag", "v1", a), ev("CreateImageTag", "old", a),
            ev("CreateImage", "keep", c), ev("CreateImageTag", "keep", c)));
        live.addAll(fill(registry, manifestC, "live", SIZE - live.size(), c));
        BroadcastClient.Message m = before.next(WAIT);
        assertEvents(live, m.events(), m.text());
        imageIdOfA = m.events().get(0).path("details").path("image_id").asText();
        first.stopGracefully();
        assertTrue(before.awaitEnd(WAIT), () -> "the stopped node's client is still connected: " + before);

        // While the node is down: push b as b1, retag it latest, delete a (with its two tags).
        push(registry, images, "b", "b1");
        RegistryProcess.skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false",
            registry.docker(REPO + ":b1"), registry.docker(REPO + ":latest"));
        RegistryProcess.skopeo("delete", "--tls-verify=false", registry.docker(REPO + "@" + a));
      } // the registry stops, and with it the notifications it was retrying
    }
    String b;
    try (RegistryProcess registry = new RegistryProcess("docker-registry-reconcile-2", dir.resolve("registry"))
            .onPort(ports[2])
            .start(URI.create("http://127.0.0.1:" + ports[0] + REGISTRIES + "/" + registryId + "/notifications"), secret);
        NodeProcess second = new NodeProcess("real-registry-reconcile-2", data).withPorts(ports[0], ports[1])) {
      b = registry.digest(REPO, "b1");
      BroadcastClient after = restartAndReconnect(second, url);
      try (after) {
        JsonHttp api = new JsonHttp(second.baseUrl());
        api.awaitConnectionId(gatewayId, after, WAIT);
        long started = System.nanoTime();
        JsonNode reconciled = api.post(REGISTRIES + "/" + registryId + ":reconcile", Map.of()).ok();
        long took = ms(System.nanoTime() - started);
        assertEquals(3, reconciled.path("changes").size(), reconciled::toString); // a delete and two tags: six events
        List<List<String>> whileDown = List.of(
            ev("CreateImage", "b1", b), ev("CreateImageTag", "b1", b), ev("CreateImageTag", "latest", b),
            ev("DeleteImage", "", a), ev("DeleteImageTag", "v1", a), ev("DeleteImageTag", "old", a));
        List<List<String>> fillers = fill(registry, manifestC, "after", SIZE - whileDown.size(), c);
        BroadcastClient.Message m = after.next(WAIT);
        List<JsonNode> events = m.events();
        assertEquals(Set.copyOf(whileDown), Set.copyOf(described(events.subList(0, whileDown.size()))), m::text);
        assertEvents(concat(described(events.subList(0, whileDown.size())), fillers), events, m.text());
        for (JsonNode e : events.subList(0, whileDown.size())) {
          if (e.path("details").path("image_digest").asText().equals(a)) {
            assertEquals(imageIdOfA, e.path("details").path("image_id").asText(), "the image id live ingest gave a");
          }
        }

        JsonNode again = api.post(REGISTRIES + "/" + registryId + ":reconcile", Map.of()).ok();
        assertEquals(0, again.path("changes").size(), again::toString);
        List<List<String>> more = fill(registry, manifestC, "more", SIZE, c);
        BroadcastClient.Message next = after.next(WAIT);
        assertEvents(more, next.events(), next.text());
        RealRegistryIT.printPassed("scenario 7",
            String.format("registry restarted while the node was down (its retries lost); :reconcile found %d changes"
                + " in %d ms → the 6 events live ingest would have emitted, image ids as live, nothing more; a second"
                + " :reconcile found none", reconciled.path("changes").size(), took),
            System.nanoTime() - reconcileScenarioStarted);
      }
    }
  }

  private RegistryProcess registry(Path dir, NodeProcess node, int port, String secret) throws Exception {
    return new RegistryProcess("docker-registry-reconcile-1", dir.resolve("registry"))
        .onPort(port)
        .start(node.baseUrl().resolve(REGISTRIES + "/" + registryId + "/notifications"), secret);
  }

  /** Tags {@code count} fillers {@code prefix-i} on the manifest (live webhooks); their expected events. */
  private List<List<String>> fill(
      RegistryProcess registry, RegistryProcess.Manifest manifest, String prefix, int count, String digest) throws Exception {
    List<List<String>> out = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      registry.putManifest(REPO, prefix + "-" + i, manifest);
      out.add(ev("CreateImageTag", prefix + "-" + i, digest));
    }
    return out;
  }

  private static <T> List<T> concat(List<T> first, List<T> second) {
    List<T> out = new ArrayList<>(first);
    out.addAll(second);
    return out;
  }

  /** Cloud, folder, registry (reconciled at {@code registryUrl}, if any), gateway, robot, trigger (batches of {@value #SIZE}, cutoff 60 s), and the registry's key. */
  private String setUp(JsonHttp api) {
    return setUp(api, "s6", null);
  }

  private String setUp(JsonHttp api, String prefix, URI registryUrl) {
    cloudId = created(api.post("/resource-manager/v1/clouds", Map.of("name", prefix + "-cloud")));
    folderId = created(api.post("/resource-manager/v1/folders", Map.of("cloudId", cloudId, "name", prefix + "-folder")));
    Map<String, Object> registry = new java.util.HashMap<>(Map.of("folderId", folderId, "name", prefix + "-registry"));
    if (registryUrl != null) {
      registry.put("url", registryUrl.toString());
    }
    registryId = created(api.post(REGISTRIES, registry));
    gatewayId =
        created(api.post(GATEWAYS, Map.of("folderId", folderId, "name", prefix + "-gateway", "websocketPaths", List.of(PATH))));
    String account = created(api.post("/iam/v1/serviceAccounts", Map.of("folderId", folderId, "name", prefix + "-robot")));
    api.allowBroadcast(folderId, account);
    Map<String, Object> rule =
        Map.of(
            "eventType", ALL_TYPES,
            "registryId", registryId,
            "batchSettings", Map.of("size", SIZE, "cutoff", "60s"),
            "gatewayWebsocketBroadcast", Map.of("gatewayId", gatewayId, "path", PATH, "serviceAccountId", account));
    created(
        api.post(
            "/triggers/v1/triggers",
            Map.of("folderId", folderId, "name", prefix + "-trigger", "rule", Map.of("containerRegistry", rule))));
    String user = created(api.post("/iam/v1/users", Map.of("name", prefix + "-pusher")));
    JsonNode issued = api.post("/iam/v1/apiKeys", Map.of("userId", user, "description", "docker-registry")).ok();
    String secret =
        issued.has("secret") ? issued.path("secret").asText() : issued.path("response").path("secret").asText();
    assertFalse(secret.isEmpty(), () -> "no secret in " + issued);
    api.grant(REGISTRIES + "/" + registryId, user, "userAccount", "container-registry.images.pusher");
    return secret;
  }

  private static void push(RegistryProcess registry, Path images, String image, String tag) throws Exception {
    RegistryProcess.skopeo(
        "copy", "--dest-tls-verify=false",
        "oci:" + images.resolve("oci").toAbsolutePath() + ":" + image, registry.docker(REPO + ":" + tag));
  }

  /** Starts the node and, from its launch on, a client that connects as soon as the gateway serves it. */
  private static BroadcastClient restartAndReconnect(NodeProcess node, URI url) throws Exception {
    return BroadcastClient.connectWhileStarting("client after the restart", url, userAgent(), node::start, WAIT);
  }


  /** [type without prefix, repository_name, tag, image_digest]. */
  private List<String> ev(String type, String tag, String digest) {
    return List.of(type, registryId + "/" + REPO, tag, digest);
  }

  private void assertEvents(List<List<String>> expected, List<JsonNode> got, String text) {
    Set<String> ids = new HashSet<>();
    for (JsonNode event : got) {
      assertTrue(ids.add(event.path("event_metadata").path("event_id").asText()), () -> "distinct event ids: " + text);
      assertEquals(folderId, event.path("event_metadata").path("folder_id").asText(), event::toString);
      assertEquals(cloudId, event.path("event_metadata").path("cloud_id").asText(), event::toString);
    }
    assertEquals(expected, described(got), () -> "events: " + text);
  }

  /** Each event as {@link #ev} writes it. */
  private static List<List<String>> described(List<JsonNode> events) {
    List<List<String>> out = new ArrayList<>();
    for (JsonNode event : events) {
      String type = event.path("event_metadata").path("event_type").asText();
      out.add(
          List.of(
              type.startsWith(TYPE_PREFIX) ? type.substring(TYPE_PREFIX.length()) : type,
              event.path("details").path("repository_name").asText(),
              event.path("details").path("tag").asText(),
              event.path("details").path("image_digest").asText()));
    }
    return out;
  }

  private static String created(JsonHttp.Response response) {
    return response.createdId();
  }

  private static String userAgent() {
    return "regcast-real-registry-webhook-" + UUID.randomUUID();
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}

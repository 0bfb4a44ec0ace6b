package io.regcast.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real CNCF Distribution registry ({@link RegistryProcess}: Debian's docker-registry 2.8) drives
 * a regcast node ({@link NodeProcess}) through its webhook notifications; images are built with
 * umoci and pushed, copied and deleted with skopeo, and the trigger's messages are read by
 * WebSocket clients ({@link BroadcastClient}; in scenario 8 also a real browser, {@link
 * BrowserWsClient}). Each scenario that passes prints one {@code [scenario N] …: ok (T ms)} line (the latency measurement {@code [latency] …}).
 *
 * <p>One node and one registry serve the class. The trigger takes all four event types with
 * batches of one event, so each event is one message. Each scenario uses its own repository, and
 * "nothing more" is proven with a sentinel: a new tag pushed to {@code sync/sentinel} after the
 * scenario must be the very next event (the registry sends its events in order, one FIFO per
 * endpoint, and a trigger keeps that order). Before each scenario the same sentinel drains
 * whatever an earlier scenario may have left.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RealRegistryIT {
  private static final String CLOUDS = "/resource-manager/v1/clouds";
  private static final String FOLDERS = "/resource-manager/v1/folders";
  private static final String REGISTRIES = "/container-registry/v1/registries";
  private static final String GATEWAYS = "/apigateways/v1/apigateways";
  private static final String ACCOUNTS = "/iam/v1/serviceAccounts";
  private static final String USERS = "/iam/v1/users";
  private static final String API_KEYS = "/iam/v1/apiKeys";
  private static final String TRIGGERS = "/triggers/v1/triggers";
  private static final String CONNECTIONS = "/apigateways/websocket/v1/connections/";
  private static final String PATH = "/ws";
  private static final String OTHER_PATH = "/other";
  private static final String TYPE_PREFIX = "yandex.cloud.events.containerregistry.";
  private static final List<String> ALL_TYPES =
      List.of(
          "CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE",
          "CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE",
          "CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE_TAG",
          "CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE_TAG");
  private static final String SENTINEL = "sync/sentinel";
  /** For one message that is due, a connection to register, the registry to answer. */
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir static Path dir;

  private static NodeProcess node;
  private static RegistryProcess registry;
  private static JsonHttp api;
  private static String cloudId;
  private static String folderId;
  private static String registryId;
  private static String gatewayId;
  private static BroadcastClient client;
  private static BroadcastClient otherClient;
  private static String otherConnectionId;
  private static String accountId;
  private static Path images;
  private static RegistryProcess.Manifest sentinelManifest;
  private static String sentinelDigest;
  private static final AtomicInteger marks = new AtomicInteger();
  private static long scenarioStarted;

  @BeforeAll
  static void startNodeAndRegistry() throws Exception {
    long started = System.nanoTime();
    node = new NodeProcess("real-registry", dir.resolve("node")).start();
    api = new JsonHttp(node.baseUrl());
    cloudId = created(api.post(CLOUDS, Map.of("name", "real-cloud")));
    folderId = created(api.post(FOLDERS, Map.of("cloudId", cloudId, "name", "real-folder")));
    registryId = created(api.post(REGISTRIES, Map.of("folderId", folderId, "name", "real-registry")));
    gatewayId =
        created(
            api.post(
                GATEWAYS,
                Map.of("folderId", folderId, "name", "real-gateway", "websocketPaths", List.of(PATH, OTHER_PATH))));
    String account = created(api.post(ACCOUNTS, Map.of("folderId", folderId, "name", "real-robot")));
    api.allowBroadcast(folderId, account);
    accountId = account;
    Map<String, Object> rule =
        Map.of(
            "eventType", ALL_TYPES,
            "registryId", registryId,
            "batchSettings", Map.of("size", 1, "cutoff", "1s"),
            "gatewayWebsocketBroadcast", Map.of("gatewayId", gatewayId, "path", PATH, "serviceAccountId", account));
    created(
        api.post(
            TRIGGERS, Map.of("folderId", folderId, "name", "real-trigger", "rule", Map.of("containerRegistry", rule))));

    // The registry's own identity: a user with an API key, allowed to push to this registry only.
    String user = created(api.post(USERS, Map.of("name", "real-registry-pusher")));
    JsonNode issued = api.post(API_KEYS, Map.of("userId", user, "description", "docker-registry")).ok();
    String secret = issued.has("secret") ? issued.path("secret").asText() : issued.path("response").path("secret").asText();
    assertFalse(secret.isEmpty(), () -> "no secret in " + issued);
    api.grant(REGISTRIES + "/" + registryId, user, "userAccount", "container-registry.images.pusher");

    registry =
        new RegistryProcess("docker-registry", dir.resolve("registry"))
            .start(node.baseUrl().resolve(REGISTRIES + "/" + registryId + "/notifications"), secret);

    images = java.nio.file.Files.createDirectories(dir.resolve("images"));
    RegistryProcess.buildImage(images, "a", "image a");
    RegistryProcess.buildImage(images, "b", "image b");

    client = BroadcastClient.connect("client on " + PATH, gatewayUrl(gatewayId, PATH), userAgent(), WAIT);
    otherClient = BroadcastClient.connect("client on " + OTHER_PATH, gatewayUrl(gatewayId, OTHER_PATH), userAgent(), WAIT);
    awaitConnectionId(client);
    otherConnectionId = awaitConnectionId(otherClient);

    push("a", SENTINEL, "s0");
    sentinelManifest = registry.manifest(SENTINEL, "s0");
    sentinelDigest = registry.digest(SENTINEL, "s0");
    sync(); // the sentinel's own CreateImage + CreateImageTag, and anything else so far
    System.out.printf(
        "[real registry] node %s, docker-registry at %s, trigger path ready in %d ms%n",
        node.baseUrl(), registry.baseUrl(), ms(System.nanoTime() - started));
  }

  @AfterAll
  static void stopEverything() throws Exception {
    try {
      if (client != null) {
        client.close();
      }
      if (otherClient != null) {
        otherClient.close();
      }
    } finally {
      try {
        if (registry != null) {
          registry.close();
        }
      } finally {
        if (node != null) {
          node.close();
        }
      }
    }
  }

  /** Whatever an earlier scenario left (a failed one) is read and dropped; the scenario's clock starts. */
  @BeforeEach
  void drain() throws Exception {
    sync();
    scenarioStarted = System.nanoTime();
  }

  // ---- scenarios ----

  @Test
  @Order(1)
  void pushingANewImageWithATagSendsCreateImageAndCreateImageTagAndNothingToAnotherPath() throws Exception {
    String repo = "demo/hello";
    long t = System.nanoTime();
    push("a", repo, "v1");
    String d = registry.digest(repo, "v1");
    List<JsonNode> got = next(2);
    long took = ms(System.nanoTime() - t);
    assertEvents(List.of(ev("CreateImage", repo, "v1", d), ev("CreateImageTag", repo, "v1", d)), got);
    assertEquals(
        got.get(0).path("details").path("image_id").asText(),
        got.get(1).path("details").path("image_id").asText(),
        "one image, one image_id");
    assertNothingMore();
    assertNothingOnTheOtherPath();
    passed("scenario 1",
        "push %s:v1 → CreateImage + CreateImageTag (%s) on %s in %d ms, nothing more, nothing on %s",
        repo, d, PATH, took, OTHER_PATH);
  }

  @Test
  @Order(2)
  void copyingAKnownImageToANewTagSendsOnlyCreateImageTag() throws Exception {
    String repo = "s2/hello";
    push("a", repo, "v1");
    String d = registry.digest(repo, "v1");
    assertEvents(List.of(ev("CreateImage", repo, "v1", d), ev("CreateImageTag", repo, "v1", d)), next(2));

    long t = System.nanoTime();
    RegistryProcess.skopeo(
        "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
        registry.docker(repo + ":v1"), registry.docker(repo + ":latest"));
    List<JsonNode> got = next(1);
    long took = ms(System.nanoTime() - t);
    assertEquals(d, registry.digest(repo, "latest"));
    assertEvents(List.of(ev("CreateImageTag", repo, "latest", d)), got);
    assertNothingMore();
    passed("scenario 2", "skopeo copy %s:v1 → :latest → CreateImageTag only, in %d ms, nothing more", repo, took);
  }

  @Test
  @Order(3)
  void pushingAnotherImageUnderATagMovesTheTag() throws Exception {
    String repo = "s3/hello";
    push("a", repo, "v1");
    String old = registry.digest(repo, "v1");
    assertEvents(List.of(ev("CreateImage", repo, "v1", old), ev("CreateImageTag", repo, "v1", old)), next(2));

    long t = System.nanoTime();
    push("b", repo, "v1");
    String moved = registry.digest(repo, "v1");
    assertNotEquals(old, moved, "image b is another image");
    List<JsonNode> got = next(3);
    long took = ms(System.nanoTime() - t);
    assertEvents(
        List.of(
            ev("CreateImage", repo, "v1", moved),
            ev("DeleteImageTag", repo, "v1", old),
            ev("CreateImageTag", repo, "v1", moved)),
        got);
    assertNothingMore();
    passed("scenario 3",
        "push another image as %s:v1 → CreateImage, DeleteImageTag (old), CreateImageTag in %d ms, nothing more",
        repo, took);
  }

  @Test
  @Order(4)
  void deletingAnImageWithTwoTagsSendsDeleteImageAndTwoDeleteImageTags() throws Exception {
    String repo = "s4/hello";
    push("a", repo, "v1");
    String d = registry.digest(repo, "v1");
    RegistryProcess.skopeo(
        "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
        registry.docker(repo + ":v1"), registry.docker(repo + ":latest"));
    assertEvents(
        List.of(ev("CreateImage", repo, "v1", d), ev("CreateImageTag", repo, "v1", d), ev("CreateImageTag", repo, "latest", d)),
        next(3));

    long t = System.nanoTime();
    RegistryProcess.skopeo("delete", "--tls-verify=false", registry.docker(repo + "@" + d));
    List<JsonNode> got = next(3);
    long took = ms(System.nanoTime() - t);
    assertEvents(
        List.of(ev("DeleteImage", repo, "", d), ev("DeleteImageTag", repo, "v1", d), ev("DeleteImageTag", repo, "latest", d)),
        got);
    // The registry follows its manifest delete with a tag delete per tag: they must add nothing.
    assertNothingMore();
    passed("scenario 4",
        "skopeo delete %s@%s (tags v1, latest) → DeleteImage + 2 DeleteImageTag in %d ms, nothing more",
        repo, d, took);
  }

  @Test
  @Order(5)
  void filtersSeeOnlyTheirEventsAndBatchingGroupsABurstIntoMessagesOfAtMostFive() throws Exception {
    String app = "s5/app";
    String other = "s5/other";
    String burst = "s5/burst";
    int batchSize = 5;
    String gateway =
        created(
            api.post(
                GATEWAYS,
                Map.of(
                    "folderId", folderId, "name", "s5-gateway", "websocketPaths", List.of("/filtered", "/batched"))));
    created(
        api.post(
            TRIGGERS,
            Map.of(
                "folderId", folderId, "name", "s5-filtered",
                "rule",
                Map.of(
                    "containerRegistry",
                    Map.of(
                        "eventType", ALL_TYPES,
                        "registryId", registryId,
                        "imageName", app,
                        "tag", "v1",
                        "batchSettings", Map.of("size", 1, "cutoff", "1s"),
                        "gatewayWebsocketBroadcast",
                        Map.of("gatewayId", gateway, "path", "/filtered", "serviceAccountId", accountId))))));
    created(
        api.post(
            TRIGGERS,
            Map.of(
                "folderId", folderId, "name", "s5-batched",
                "rule",
                Map.of(
                    "containerRegistry",
                    Map.of(
                        "eventType", List.of("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE_TAG"),
                        "registryId", registryId,
                        "imageName", burst,
                        "batchSettings", Map.of("size", batchSize, "cutoff", "2s"),
                        "gatewayWebsocketBroadcast",
                        Map.of("gatewayId", gateway, "path", "/batched", "serviceAccountId", accountId))))));
    try (BroadcastClient filtered =
            BroadcastClient.connect("client on /filtered", gatewayUrl(gateway, "/filtered"), userAgent(), WAIT);
        BroadcastClient batched =
            BroadcastClient.connect("client on /batched", gatewayUrl(gateway, "/batched"), userAgent(), WAIT)) {
      awaitConnectionId(gateway, filtered);
      awaitConnectionId(gateway, batched);

      // Filters: s5/app:v1 only. Non-matching tag and repository in between; the registry keeps
      // its order and so does the trigger, so anything let through would show up among these.
      long t = System.nanoTime();
      push("a", app, "v1");
      String a = registry.digest(app, "v1");
      push("a", app, "v2"); // tag v2: filtered out
      push("a", other, "v1"); // another repository: filtered out
      push("b", app, "v1"); // the tag moves: all three events are about s5/app:v1
      String b = registry.digest(app, "v1");
      List<List<String>> expected =
          List.of(
              ev("CreateImage", app, "v1", a),
              ev("CreateImageTag", app, "v1", a),
              ev("CreateImage", app, "v1", b),
              ev("DeleteImageTag", app, "v1", a),
              ev("CreateImageTag", app, "v1", b));
      List<JsonNode> got = new ArrayList<>();
      for (int i = 0; i < expected.size(); i++) {
        BroadcastClient.Message m = filtered.next(WAIT);
        assertEquals(1, m.events().size(), () -> "a batch of one event: " + m.text());
        got.add(m.events().get(0));
      }
      long filterTook = ms(System.nanoTime() - t);
      assertEvents(expected, got);

      // Batching: t0 by skopeo (the blobs), then t1..t7 as quick manifest PUTs: 8 CreateImageTags.
      t = System.nanoTime();
      push("a", burst, "t0");
      RegistryProcess.Manifest manifest = registry.manifest(burst, "t0");
      String d = registry.digest(burst, "t0");
      int tags = 8;
      for (int i = 1; i < tags; i++) {
        registry.putManifest(burst, "t" + i, manifest);
      }
      List<List<String>> burstExpected = new ArrayList<>();
      for (int i = 0; i < tags; i++) {
        burstExpected.add(ev("CreateImageTag", burst, "t" + i, d));
      }
      List<JsonNode> events = new ArrayList<>();
      List<Integer> sizes = new ArrayList<>();
      long until = System.nanoTime() + WAIT.toNanos();
      while (events.size() < tags) {
        BroadcastClient.Message m = batched.next(Duration.ofNanos(Math.max(1, until - System.nanoTime())));
        assertTrue(
            m.events().size() >= 1 && m.events().size() <= batchSize,
            () -> "a message of 1.." + batchSize + " events: " + m.text());
        sizes.add(m.events().size());
        events.addAll(m.events());
      }
      long batchTook = ms(System.nanoTime() - t);
      assertEvents(burstExpected, events);
      assertTrue(
          sizes.stream().anyMatch(n -> n > 1), () -> "a burst of " + tags + " tags was grouped: sizes " + sizes);

      // The filtered path got nothing from the burst (another repository): moving s5/app:v1 back
      // to image a (known in s5/app, still tagged v2) gives the very next events there.
      push("a", app, "v1");
      List<JsonNode> back = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        BroadcastClient.Message m = filtered.next(WAIT);
        assertEquals(1, m.events().size(), () -> "a batch of one event: " + m.text());
        back.add(m.events().get(0));
      }
      assertEvents(List.of(ev("DeleteImageTag", app, "v1", b), ev("CreateImageTag", app, "v1", a)), back);
      passed("scenario 5",
          "filter %s:v1 → exactly its 5 events (v2 and %s filtered out) in %d ms;"
              + " batch size %d/cutoff 2s: %d CreateImageTags in messages of %s events, in order, in %d ms",
          app, other, filterTook, batchSize, tags, sizes, batchTook);
    }
  }

  /**
   * The figure the issue asks for: from {@code skopeo copy} returning to the client's receipt of
   * the CreateImageTag (batches of one), over 20 copies of one image to 20 new tags.
   */
  @Test
  @Order(7)
  void latencyFromSkopeoCopyToTheClient() throws Exception {
    String repo = "lat/app";
    int pushes = 20;
    push("a", repo, "v1");
    String d = registry.digest(repo, "v1");
    assertEvents(List.of(ev("CreateImage", repo, "v1", d), ev("CreateImageTag", repo, "v1", d)), next(2));
    List<Long> fromReturn = new ArrayList<>();
    List<Long> fromStart = new ArrayList<>();
    for (int i = 1; i <= pushes; i++) {
      long started = System.nanoTime();
      RegistryProcess.skopeo(
          "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
          registry.docker(repo + ":v1"), registry.docker(repo + ":t" + i));
      long returned = System.nanoTime();
      BroadcastClient.Message m;
      try {
        m = client.next(WAIT);
      } catch (AssertionError e) {
        throw new AssertionError("push " + i + " of " + pushes + " did not arrive", e);
      }
      assertEvents(List.of(ev("CreateImageTag", repo, "t" + i, d)), m.events());
      fromReturn.add(m.nanos() - returned);
      fromStart.add(m.nanos() - started);
    }
    assertEquals(pushes, fromReturn.size());
    assertNothingMore();
    passed("latency",
        "latency skopeo copy → client: median %.1f ms, p90 %.1f ms, min %.1f ms, max %.1f ms over %d pushes"
            + " (from skopeo copy starting: median %.1f ms)",
        percentile(fromReturn, 50), percentile(fromReturn, 90), percentile(fromReturn, 0), percentile(fromReturn, 100),
        pushes, percentile(fromStart, 50));
  }

  /**
   * Scenario 8: scenario 1 as a web page sees it. Headless Chromium on a page the test serves
   * ({@link BrowserWsClient}) opens {@code new WebSocket(url)} on the trigger's path; the texts the
   * page received are the push's CreateImage and CreateImageTag, the very JSON the JDK client on
   * the same path got, and then nothing but the sentinel.
   */
  @Test
  @Order(8)
  void aBrowserPageOnTheTriggersPathReceivesCreateImageAndCreateImageTag() throws Exception {
    String repo = "s8/hello";
    try (BrowserWsClient browser = BrowserWsClient.open(gatewayUrl(gatewayId, PATH))) {
      browser.expect("open", WAIT);
      api.awaitConnectionId(gatewayId, browser.kind(), browser.userAgent(), WAIT);
      long connected = ms(System.nanoTime() - scenarioStarted);

      long t = System.nanoTime();
      push("a", repo, "v1");
      String d = registry.digest(repo, "v1");
      List<JsonNode> got = nextInBrowser(browser, 2);
      long took = ms(System.nanoTime() - t);
      assertEvents(List.of(ev("CreateImage", repo, "v1", d), ev("CreateImageTag", repo, "v1", d)), got);
      assertEquals(
          got.get(0).path("details").path("image_id").asText(),
          got.get(1).path("details").path("image_id").asText(),
          "one image, one image_id");
      assertEquals(next(2), got, "the browser got the JSON the JDK client on the same path got");

      // Nothing more: after the JDK client's sentinel, the browser's next message is that sentinel.
      assertNothingMore();
      List<JsonNode> sentinel = nextInBrowser(browser, 1);
      assertEquals(
          List.of(List.of("CreateImageTag", registryId + "/" + SENTINEL, "mark-" + marks.get(), sentinelDigest)),
          sentinel.stream().map(RealRegistryIT::view).toList(),
          () -> "the browser's next message: " + sentinel);
      passed("scenario 8",
          "headless Chromium, page served by the test, connected in %d ms; push %s:v1 → CreateImage + CreateImageTag"
              + " (%s) on %s in %d ms, the same JSON as the JDK client's, nothing more",
          connected, repo, d, PATH, took);
    }
  }

  /**
   * The next {@code n} messages the browser's page received, one event each: each is a text
   * message whose exact text is a trigger's {@code {"messages":[event]}}.
   */
  private static List<JsonNode> nextInBrowser(BrowserWsClient browser, int n) throws Exception {
    List<JsonNode> events = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      JsonNode received = browser.expect("message", WAIT);
      assertEquals("text", received.path("type").asText(), () -> "a text message: " + received);
      JsonNode message = JsonHttp.JSON.readTree(received.path("data").asText());
      assertTrue(
          message.isObject() && message.size() == 1 && message.path("messages").size() == 1,
          () -> "a trigger's message with one event: " + received);
      events.add(message.path("messages").get(0));
    }
    return events;
  }

  /** Nearest-rank percentile of nanosecond values, in milliseconds (negative: before the copy returned). */
  private static double percentile(List<Long> nanos, int p) {
    List<Long> sorted = nanos.stream().sorted().toList();
    int rank = p == 0 ? 0 : (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank))) / 1e6;
  }

  // ---- helpers ----

  /** skopeo copy of the OCI layout's image {@code image} to {@code repo:tag} in the registry. */
  private static void push(String image, String repo, String tag) throws Exception {
    RegistryProcess.skopeo(
        "copy", "--dest-tls-verify=false",
        "oci:" + images.resolve("oci").toAbsolutePath() + ":" + image, registry.docker(repo + ":" + tag));
  }

  /** [type without prefix, repository_name, tag, image_digest]. */
  private static List<String> ev(String type, String repo, String tag, String digest) {
    return List.of(type, registryId + "/" + repo, tag, digest);
  }

  private static List<String> view(JsonNode event) {
    String type = event.path("event_metadata").path("event_type").asText();
    return List.of(
        type.startsWith(TYPE_PREFIX) ? type.substring(TYPE_PREFIX.length()) : type,
        event.path("details").path("repository_name").asText(),
        event.path("details").path("tag").asText(),
        event.path("details").path("image_digest").asText());
  }

  /** The next {@code n} messages on the trigger's path, one event each (batches of one). */
  private static List<JsonNode> next(int n) throws InterruptedException {
    List<JsonNode> events = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      BroadcastClient.Message m;
      try {
        m = client.next(WAIT);
      } catch (AssertionError e) {
        throw new AssertionError(
            "message " + (i + 1) + " of " + n + " did not come; got so far " + events.stream().map(RealRegistryIT::view).toList()
                + "\n--- registry output ---\n" + tail(registry.output()), e);
      }
      assertEquals(1, m.events().size(), () -> "a batch of one event: " + m.text());
      events.add(m.events().get(0));
    }
    return events;
  }

  private static void assertEvents(List<List<String>> expected, List<JsonNode> got) {
    List<List<String>> seen = got.stream().map(RealRegistryIT::view).toList();
    assertEquals(expected, seen, () -> "events: " + got);
    Set<String> ids = new HashSet<>();
    for (JsonNode event : got) {
      assertTrue(ids.add(event.path("event_metadata").path("event_id").asText()), () -> "distinct event ids: " + got);
      assertEquals(registryId, event.path("details").path("registry_id").asText(), event::toString);
      assertEquals(folderId, event.path("event_metadata").path("folder_id").asText(), event::toString);
      assertEquals(cloudId, event.path("event_metadata").path("cloud_id").asText(), event::toString);
      assertFalse(event.path("details").path("image_id").asText().isEmpty(), event::toString);
    }
  }

  /**
   * PUTs the sentinel manifest under a new tag and reads the trigger's path up to its
   * CreateImageTag; returns the events that came before it.
   */
  private static List<JsonNode> sync() throws Exception {
    String tag = "mark-" + marks.incrementAndGet();
    registry.putManifest(SENTINEL, tag, sentinelManifest);
    List<JsonNode> before = new ArrayList<>();
    long until = System.nanoTime() + WAIT.toNanos();
    while (true) {
      BroadcastClient.Message m = client.next(Duration.ofNanos(Math.max(1, until - System.nanoTime())));
      for (JsonNode event : m.events()) {
        List<String> v = view(event);
        if (v.get(0).equals("CreateImageTag") && v.get(1).equals(registryId + "/" + SENTINEL) && v.get(2).equals(tag)) {
          return before;
        }
        before.add(event);
      }
    }
  }

  /** Nothing arrives on the trigger's path before the sentinel pushed now. */
  private static void assertNothingMore() throws Exception {
    List<JsonNode> extra = sync();
    assertEquals(List.of(), extra.stream().map(RealRegistryIT::view).toList(), () -> "more arrived: " + extra);
  }

  /** The other path's client gets a marker sent to it now as its first message. */
  private static void assertNothingOnTheOtherPath() throws Exception {
    String marker = "marker-" + UUID.randomUUID();
    api.post(
            CONNECTIONS + otherConnectionId + ":send",
            Map.of("data", Base64.getEncoder().encodeToString(marker.getBytes(StandardCharsets.UTF_8))))
        .ok();
    BroadcastClient.Message m = otherClient.next(WAIT);
    assertEquals(marker, m.text(), "a message arrived on " + OTHER_PATH + " before the marker");
    assertEquals(1, otherClient.messages().size(), () -> "messages on " + OTHER_PATH + ": " + otherClient.messages());
  }

  /** Waits until the gateway lists the client's connection; its id. */
  private static String awaitConnectionId(BroadcastClient c) {
    return awaitConnectionId(gatewayId, c);
  }

  private static String awaitConnectionId(String gateway, BroadcastClient c) {
    return api.awaitConnectionId(gateway, c, WAIT);
  }

  /**
   * The one line a scenario prints once it passed, for the CI log: {@code [scenario N] what: ok (T
   * ms)}, T since the scenario started (after the drain).
   */
  private static void passed(String scenario, String what, Object... args) {
    printPassed(scenario, String.format(what, args), System.nanoTime() - scenarioStarted);
  }

  /** {@code [scenario N] what: ok (T ms)} on stdout, which failsafe shows in the build's output. */
  static void printPassed(String scenario, String what, long tookNanos) {
    System.out.printf("[%s] %s: ok (%d ms)%n", scenario, what, ms(tookNanos));
  }

  private static URI gatewayUrl(String gateway, String path) {
    return URI.create("ws://127.0.0.1:" + node.gatewayUrl().getPort() + "/gateways/" + gateway + path);
  }

  private static String created(JsonHttp.Response response) {
    return response.createdId();
  }

  private static String userAgent() {
    return "regcast-real-registry-" + UUID.randomUUID();
  }

  private static String tail(String text) {
    return text.length() <= 4000 ? text : text.substring(text.length() - 4000);
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}

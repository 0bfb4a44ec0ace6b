package io.regcast.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * regcast as a server under test: the fat jar as its own JVM (H2 journal in a temporary data
 * directory, {@code WRITE_DELAY=0}) or a local cluster of such JVMs sharing PostgreSQL
 * ({@link LocalCluster}), set up over the (first node's) admin API with two registries, each with a
 * trigger on one gateway: {@code SINGLE} (batch size 1 → path /ws) and {@code BATCHES} (size 100,
 * cutoff 1 s → path /bulk). Publishing is what a registry does: a Distribution notification of
 * one manifest push (the image under a new tag, the tag carrying the benchmark's tag), answered
 * {@code 202} once durably stored; the trigger renders it into the message clients receive. In a
 * cluster, publishing goes to the first node's ingest and clients connect to every node's gateway.
 */
final class RegcastTarget implements ServerUnderTest {
  private static final String DIST = "application/vnd.docker.distribution.events.v1+json";
  private static final String DIGEST = "sha256:6d3edb806fcfd15ecea8af7adde0a1a8c6992e2ab882e0d3e6804cc5a0d0775c";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The target's name in compare's tables: {@code regcast}, or {@code regcast-nohistory} (maxMessages 0). */
  static final String NAME = "regcast";
  static final String NO_HISTORY = "regcast-nohistory";

  private final RegcastNodes nodes;
  private final String name;
  /** The gateway's {@code historySettings.maxMessages}: 1000 (the node's default, stated) or 0 (nothing kept). */
  private final int historyMaxMessages;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final String adminKey;
  private String gatewayId;
  private String singleRegistry;
  private String batchRegistry;

  private RegcastTarget(RegcastNodes nodes, String adminKey, String name) {
    this.nodes = nodes;
    this.adminKey = adminKey;
    this.name = name;
    this.historyMaxMessages = name.equals(NO_HISTORY) ? 0 : 1000;
  }

  /** True for the names compare starts as regcast (with or without history). */
  static boolean isRegcast(String name) {
    return name.equals(NAME) || name.equals(NO_HISTORY);
  }

  /** One node JVM, pinned to {@code cpus}. */
  static RegcastTarget start(Path jar, Path tmp, Optional<String> taskset, String cpus, List<String> jvmOpts)
      throws Exception {
    return start(NAME, jar, tmp, taskset, cpus, jvmOpts);
  }

  /** One node JVM, its gateway's history as {@code name} says ({@link #NAME}: 1000 messages, {@link #NO_HISTORY}: 0). */
  static RegcastTarget start(String name, Path jar, Path tmp, Optional<String> taskset, String cpus, List<String> jvmOpts)
      throws Exception {
    String key = newAdminKey();
    // A new directory per start: a node bootstraps its admin key into a fresh journal only.
    Path dir = Files.createTempDirectory(tmp, "regcast-");
    return setUp(RegcastNodes.startNode(jar, dir, key, taskset, cpus, jvmOpts, Duration.ofSeconds(120)), key, name);
  }

  /** A local cluster of {@code n} nodes and PostgreSQL, all pinned to {@code cpus} if taskset is there. */
  static RegcastTarget startCluster(Path jar, int n, Optional<String> taskset, String cpus, List<String> jvmOpts)
      throws Exception {
    String key = newAdminKey();
    return setUp(LocalCluster.start(jar, n, key, jvmOpts, taskset.map(t -> cpus)), key, NAME);
  }

  static String newAdminKey() {
    byte[] secret = new byte[16];
    new SecureRandom().nextBytes(secret);
    return "bench-admin-" + HexFormat.of().formatHex(secret);
  }

  private static RegcastTarget setUp(RegcastNodes nodes, String key, String name) throws Exception {
    RegcastTarget t = new RegcastTarget(nodes, key, name);
    try {
      t.setUp();
    } catch (Exception e) {
      t.close();
      throw e;
    }
    return t;
  }

  /** The repository: long enough that a one-event message is about 600 bytes, like the peers'. */
  static String repository() {
    return "bench/fanout-" + "x".repeat(94);
  }

  private void setUp() throws Exception {
    String cloud = create("/resource-manager/v1/clouds", "{\"name\":\"bench\"}");
    String folder = create("/resource-manager/v1/folders", "{\"cloudId\":\"" + cloud + "\",\"name\":\"bench\"}");
    singleRegistry = create("/container-registry/v1/registries", "{\"folderId\":\"" + folder + "\",\"name\":\"single\"}");
    batchRegistry = create("/container-registry/v1/registries", "{\"folderId\":\"" + folder + "\",\"name\":\"batches\"}");
    gatewayId = create("/apigateways/v1/apigateways", "{\"folderId\":\"" + folder
        + "\",\"name\":\"bench\",\"websocketPaths\":[\"/ws\",\"/bulk\"],\"historySettings\":{\"maxMessages\":"
        + historyMaxMessages + "}}");
    String sa = create("/iam/v1/serviceAccounts", "{\"folderId\":\"" + folder + "\",\"name\":\"broadcaster\"}");
    call("POST", "/resource-manager/v1/folders/" + folder + ":updateAccessBindings",
        "{\"accessBindingDeltas\":[{\"action\":\"ADD\",\"accessBinding\":{\"roleId\":\"api-gateway.websocketBroadcaster\","
            + "\"subject\":{\"id\":\"" + sa + "\",\"type\":\"serviceAccount\"}}}]}");
    // The image exists before the triggers: every event after is one CreateImageTag.
    for (String registry : List.of(singleRegistry, batchRegistry)) {
      HttpResponse<String> seeded = http.send(HttpRequest.newBuilder(URI.create(httpBase() + ingestPath(registry)))
          .header("Authorization", "Bearer " + adminKey).header("Content-Type", DIST)
          .POST(HttpRequest.BodyPublishers.ofString(envelope("seed"))).build(), HttpResponse.BodyHandlers.ofString());
      if (seeded.statusCode() != 202) {
        throw new IllegalStateException("the seed notification got " + seeded.statusCode() + ": " + seeded.body());
      }
    }
    create("/triggers/v1/triggers", "{\"folderId\":\"" + folder + "\",\"name\":\"single\",\"rule\":"
        + rule(singleRegistry, 1, "/ws", sa) + "}");
    create("/triggers/v1/triggers", "{\"folderId\":\"" + folder + "\",\"name\":\"batches\",\"rule\":"
        + rule(batchRegistry, 100, "/bulk", sa) + "}");
    for (Flow flow : Flow.values()) {
      nodes.awaitGatewayOnEveryNode(subscribePath(flow), Duration.ofSeconds(60));
    }
  }

  private String rule(String registry, int size, String path, String sa) {
    return "{\"containerRegistry\":{\"eventType\":[\"CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE_TAG\"],"
        + "\"registryId\":\"" + registry + "\",\"batchSettings\":{\"size\":\"" + size + "\",\"cutoff\":\"1s\"},"
        + "\"gatewayWebsocketBroadcast\":{\"gatewayId\":\"" + gatewayId + "\",\"path\":\"" + path
        + "\",\"serviceAccountId\":\"" + sa + "\"}}}";
  }

  private static String ingestPath(String registry) {
    return "/container-registry/v1/registries/" + registry + "/notifications";
  }

  /**
   * One manifest push in the shape CNCF Distribution sends (as IngestBench's), with a fixed
   * timestamp, so that only the tag differs between messages; the event id carries the tag too.
   */
  private static String envelope(String tag) {
    return "{\"events\":[{\"id\":\"bench-" + tag + "\",\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"action\":\"push\","
        + "\"target\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":499,"
        + "\"digest\":\"" + DIGEST + "\",\"length\":499,\"repository\":\"" + repository() + "\","
        + "\"url\":\"http://127.0.0.1:5000/v2/" + repository() + "/manifests/" + DIGEST + "\",\"tag\":\"" + tag + "\"},"
        + "\"request\":{\"id\":\"bench\",\"addr\":\"127.0.0.1:50048\",\"host\":\"127.0.0.1:5000\","
        + "\"method\":\"PUT\",\"useragent\":\"docker/27.3.1 go/go1.22.7\"},\"actor\":{},"
        + "\"source\":{\"addr\":\"registry:5000\",\"instanceID\":\"bench\"}}]}";
  }

  private String create(String path, String body) throws Exception {
    return call("POST", path, body).get("response").get("id").asText();
  }

  private JsonNode call(String method, String path, String body) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(httpBase() + path))
        .header("Authorization", "Bearer " + adminKey).header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(30)).method(method, HttpRequest.BodyPublishers.ofString(body)).build();
    HttpResponse<String> answer = http.send(request, HttpResponse.BodyHandlers.ofString());
    if (answer.statusCode() != 200) {
      throw new IllegalStateException(method + " " + path + " got " + answer.statusCode() + ": " + answer.body());
    }
    return JSON.readTree(answer.body());
  }

  /** The first node's API: set-up and publishing go there. */
  private String httpBase() {
    return nodes.httpBases().get(0);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String describe() {
    return nodes.describe() + "; gateway historySettings.maxMessages " + historyMaxMessages
        + (historyMaxMessages == 0 ? " (nothing kept; every message still gets its position in the path's log)"
            : " (the default; the node's in-memory tail keeps the newest 1000 per path)");
  }

  /** The first node's {@code GET /metrics} (Prometheus text); empty on failure. */
  String metrics() {
    try {
      HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(httpBase() + "/metrics"))
          .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
      return answer.statusCode() == 200 ? answer.body() : "";
    } catch (Exception e) {
      return "";
    }
  }

  /** The gateway's WebSocket base of the first node ({@code ws://127.0.0.1:PORT}). */
  String gatewayBase() {
    return nodes.gatewayBases().get(0);
  }

  @Override
  public String durableWrites() {
    return "per event: the registry's journal write (" + (nodes instanceof LocalCluster ? "PostgreSQL" : "H2")
        + " commit, shared by the requests queued meanwhile) before the 202, then the trigger's flush event and the"
        + " path log's write (the message with its position) before the broadcast";
  }

  @Override
  public boolean batchesItself() {
    return true;
  }

  @Override
  public int wsPort() {
    return wsPorts().get(0);
  }

  @Override
  public List<Integer> wsPorts() {
    return nodes.gatewayBases().stream().map(b -> URI.create(b).getPort()).toList();
  }

  @Override
  public String subscribePath(Flow flow) {
    return "/gateways/" + gatewayId + (flow == Flow.SINGLE ? "/ws" : "/bulk");
  }

  @Override
  public String publishSpec(Flow flow, int size) {
    URI base = URI.create(httpBase());
    return base.getHost() + " " + base.getPort() + "\nPOST " + ingestPath(flow == Flow.SINGLE ? singleRegistry : batchRegistry)
        + " HTTP/1.1\nHost: " + base.getHost() + ":" + base.getPort() + "\nAuthorization: Bearer " + adminKey
        + "\nContent-Type: " + DIST + "\n\n" + envelope(Tag.PLACEHOLDER);
  }

  @Override
  public Optional<GcLog> gcLog() {
    return Optional.of(nodes.gcLog());
  }

  @Override
  public List<ProcessHandle> processes() {
    return nodes.processes();
  }

  @Override
  public OptionalLong jvmPid() {
    return nodes.jvmPid();
  }

  @Override
  public void close() {
    nodes.stop();
  }
}

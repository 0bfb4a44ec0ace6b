package io.regcast.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * {@code ingest}: registry notifications in, WebSocket messages out, through a real node (the fat
 * jar, as its own JVM, pinned to its own core) or, with {@code --cluster N}, a local cluster of N
 * nodes sharing PostgreSQL ({@link LocalCluster}, all of it pinned to the node core; the senders and
 * clients spread over the nodes round robin). Two figures (the Step 3):
 *
 * <ol>
 *   <li><b>accepted events/s</b> into one registry: C notifications in flight, each answered
 *       {@code 202} once its events are durably stored; envelopes of 1 event (as a registry sends
 *       them) and of 50; the trigger batches 100 events (cutoff 1 s) to one client, so the
 *       WebSocket side is not the bound;
 *   <li><b>ingest-to-socket latency</b> at batch size 1 with 100 clients: one event every 50 ms,
 *       from just before the request is sent to the moment a client holds the message, over every
 *       client (both ends in this JVM: {@code System.nanoTime} is per JVM).
 * </ol>
 */
final class IngestBench {
  static final String USAGE =
      """
      usage: java -jar regcast-bench.jar ingest [options]
        --node-jar PATH          the node's fat jar (engine/target/regcast.jar: looked up from the
                                 working directory, then from this jar's place in the repository)
        --events N               events per measured throughput run, per envelope size (20000)
        --warmup-seconds S       warm-up: runs of --warmup-events with the smallest envelope until S s
                                 have passed (25; with --cluster 90), then one run of every other size
        --warmup-events N        events per warm-up run (5000)
        --envelopes LIST         events per notification in the throughput phase (1,50)
        --senders C              notifications in flight in the throughput phase (8)
        --registries K           registries the throughput phase spreads its notifications over, round
                                 robin, each with its own trigger batching to /bulk (1)
        --clients N              WebSocket clients in the latency phase (100)
        --interval-ms MS         the latency phase sends one event every MS ms (50)
        --seconds S              latency phase length per measured round (30)
        --latency-warmup-seconds S  latency run in the warm-up (5)
        --rounds R               measured rounds after the warm-up round (2)
        --quiet-cpu P            before each measured run, wait until the node uses less than P% of
                                 a core (two 0.5 s windows in a row): nothing left from the last (10)
        --quiet-max-seconds S    ... but at most S s (30)
        --node-cpus LIST         taskset CPU list of the node JVM (0)
        --bench-cpus LIST        taskset CPU list of this benchmark's JVM: senders and clients (1)
        --no-pin                 run without taskset
        --node-jvm-opts "..."    options of the node JVM (-Xms1g -Xmx1g; with --cluster, of each node:
                                 -Xms512m -Xmx512m -XX:+UseSerialGC)
        --bench-jvm-opts "..."   options of the benchmark JVM (-Xms1g -Xmx1g)
        --cluster N              instead of one node (H2), start N nodes sharing PostgreSQL with
                                 cluster-config/local-cluster.sh start N (stopped at the end, always);
                                 nodes and PostgreSQL pinned to --node-cpus; the senders send their
                                 notifications to the nodes' ingest round robin, the clients connect to
                                 the nodes' gateways round robin; node CPU% = every node + PostgreSQL

      The node runs as `taskset -c NODE_CPUS java NODE_JVM_OPTS -jar regcast.jar` on free ports and a
      temporary data directory (deleted at the end); the command re-executes itself under
      `taskset -c BENCH_CPUS` for the senders and the WebSocket clients. Each round: throughput
      with every envelope size, then latency. Quote the figures with the CPU% columns.
      """;

  private static final String ROLE_ENV = "REGCAST_BENCH_INGEST";
  private static final String DIST = "application/vnd.docker.distribution.events.v1+json";
  private static final String REPOSITORY = "bench/app";
  private static final String DIGEST = "sha256:6d3edb806fcfd15ecea8af7adde0a1a8c6992e2ab882e0d3e6804cc5a0d0775c";
  private static final String LATENCY_PATH = "/ws";
  private static final String BULK_PATH = "/bulk";
  /** How a delivered event's tag appears in a message: {@code "tag":"e<seq>[-<micros>]"}. */
  private static final String TAG_KEY = "\"tag\":\"e";
  private static final double BOUND = 80.0;
  private static final ObjectMapper JSON = new ObjectMapper();

  record Options(
      Optional<Path> nodeJar,
      int events,
      int warmupEvents,
      List<Integer> envelopes,
      int senders,
      int registries,
      int clients,
      int intervalMillis,
      int seconds,
      int warmupSeconds,
      int latencyWarmupSeconds,
      int rounds,
      int quietCpu,
      int quietMaxSeconds,
      String nodeCpus,
      String benchCpus,
      boolean pin,
      List<String> nodeJvmOpts,
      List<String> benchJvmOpts,
      int cluster,
      String commandLine) {

    static Options parse(String[] args) {
      Optional<Path> jar = Optional.empty();
      int events = 20000;
      int warmupEvents = 5000;
      List<Integer> envelopes = List.of(1, 50);
      int senders = 8;
      int registries = 1;
      int clients = 100;
      int interval = 50;
      int seconds = 30;
      int warmupSeconds = 25;
      int latencyWarmupSeconds = 5;
      int rounds = 2;
      int quietCpu = 10;
      int quietMax = 30;
      String nodeCpus = "0";
      String benchCpus = "1";
      boolean pin = true;
      List<String> nodeJvm = List.of("-Xms1g", "-Xmx1g");
      List<String> benchJvm = List.of("-Xms1g", "-Xmx1g");
      int cluster = 0;
      boolean nodeJvmGiven = false;
      boolean warmupGiven = false;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--no-pin")) {
          pin = false;
          continue;
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("missing value after " + a);
        }
        String v = args[++i];
        switch (a) {
          case "--node-jar" -> jar = Optional.of(Path.of(v));
          case "--events" -> events = positive(a, v);
          case "--warmup-events" -> warmupEvents = positive(a, v);
          case "--envelopes" -> envelopes = Arrays.stream(v.split(",")).map(s -> positive(a, s.trim())).toList();
          case "--senders" -> senders = positive(a, v);
          case "--registries" -> registries = positive(a, v);
          case "--clients" -> clients = positive(a, v);
          case "--interval-ms" -> interval = positive(a, v);
          case "--seconds" -> seconds = positive(a, v);
          case "--warmup-seconds" -> {
            warmupSeconds = Integer.parseInt(v);
            warmupGiven = true;
          }
          case "--latency-warmup-seconds" -> latencyWarmupSeconds = positive(a, v);
          case "--rounds" -> rounds = positive(a, v);
          case "--quiet-cpu" -> quietCpu = positive(a, v);
          case "--quiet-max-seconds" -> quietMax = Integer.parseInt(v);
          case "--node-cpus" -> nodeCpus = v;
          case "--bench-cpus" -> benchCpus = v;
          case "--node-jvm-opts" -> {
            nodeJvm = words(v);
            nodeJvmGiven = true;
          }
          case "--cluster" -> cluster = positive(a, v);
          case "--bench-jvm-opts" -> benchJvm = words(v);
          default -> throw new IllegalArgumentException("unknown option " + a);
        }
      }
      if (cluster > 0 && !nodeJvmGiven) {
        // Three JVMs share the node core and the machine's memory: a smaller heap each; full JIT
        // (local-cluster.sh's own default stops at C1 for a fast start, not what is measured here).
        nodeJvm = List.of("-Xms512m", "-Xmx512m", "-XX:+UseSerialGC");
      }
      if (cluster > 0 && !warmupGiven) {
        // N JVMs compile on the one node core: 25 s leaves round 1 at about half of round 2's rate
        // (569 → 1263 events/s with 3 nodes); 90 s is the single node's steady-state advice.
        warmupSeconds = 90;
      }
      return new Options(jar, events, warmupEvents, envelopes, senders, registries, clients, interval, seconds, warmupSeconds,
          latencyWarmupSeconds, rounds, quietCpu, quietMax, nodeCpus, benchCpus, pin, nodeJvm, benchJvm, cluster,
          "ingest " + String.join(" ", args));
    }

    private static int positive(String name, String value) {
      int n = Integer.parseInt(value);
      if (n <= 0) {
        throw new IllegalArgumentException(name + " must be positive");
      }
      return n;
    }

    private static List<String> words(String value) {
      return Arrays.stream(value.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
    }
  }

  /** One throughput run's figures. */
  record Throughput(
      String round, int envelope, int events, int requests, double eventsPerSecond, double requestsPerSecond,
      double p50Millis, double p99Millis, double drainSeconds, double nodeCpu, double databaseCpu, double benchCpu, GcLog.Pauses gc, long failed,
      long missing, long duplicates, long unexpected, String failures) {
    long errors() {
      return failed + missing + duplicates;
    }
  }

  /** One latency run's figures (milliseconds). */
  record Latency(
      String round, int events, long samples, double p50, double p90, double p99, double max, double ingestP50,
      double ingestP99, double nodeCpu, double databaseCpu, double benchCpu, GcLog.Pauses gc, long failed, long missing, long duplicates, long unexpected,
      String failures) {
    long errors() {
      return failed + missing + duplicates;
    }
  }

  private final Options options;
  private final AtomicLong nextSeq = new AtomicLong();
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  private final HttpClient wsHttp = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final String instanceId = UUID.randomUUID().toString();
  /** The node or the cluster: set-up through its first node, load over all of them. */
  private RegcastNodes nodes;
  private String adminKey;
  private String registryId;
  /** Every registry; the first is {@link #registryId}, whose trigger the phases reconfigure. */
  private final List<String> registryIds = new ArrayList<>();
  private String gatewayId;
  private String serviceAccountId;
  private String triggerId;
  private String rule = "";
  private Group bulk;
  private Group latency;

  private IngestBench(Options options) {
    this.options = options;
  }

  static int main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println(USAGE);
      return 2;
    }
    String role = System.getenv(ROLE_ENV);
    if (role != null) {
      return new IngestBench(options).run(role.equals("pinned"));
    }
    // This JVM only launches: the benchmark JVM gets its own options, and its core.
    List<String> command = new ArrayList<>();
    Optional<String> taskset = options.pin() ? GatewayBench.onPath("taskset") : Optional.empty();
    if (taskset.isPresent()) {
      command.addAll(List.of(taskset.get(), "-c", options.benchCpus()));
    } else if (options.pin()) {
      System.out.println("taskset not found: running unpinned (node and benchmark share every core)");
    }
    command.add(GatewayBench.javaBin());
    command.addAll(options.benchJvmOpts());
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Bench.class.getName(), "ingest"));
    command.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
    pb.environment().put(ROLE_ENV, taskset.isPresent() ? "pinned" : "unpinned");
    return pb.start().waitFor();
  }

  private int run(boolean pinned) throws Exception {
    Path jar = nodeJar();
    Path tmp = Files.createTempDirectory("regcast-ingest-");
    adminKey = RegcastTarget.newAdminKey();
    Thread cleanup = new Thread(() -> {
      if (nodes != null) {
        nodes.stop();
      }
      deleteTree(tmp);
    }, "cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    boolean ok = false;
    long wall0 = System.nanoTime();
    try {
      Optional<String> taskset = pinned ? GatewayBench.onPath("taskset") : Optional.empty();
      nodes = options.cluster() > 0
          ? LocalCluster.start(jar, options.cluster(), adminKey, options.nodeJvmOpts(), taskset.map(t -> options.nodeCpus()))
          : RegcastNodes.startNode(jar, tmp, adminKey, taskset, options.nodeCpus(), options.nodeJvmOpts(), Duration.ofSeconds(90));
      nodes.gcLog().next();
      printHeader(pinned, jar);
      setUp();
      List<Throughput> throughput = new ArrayList<>();
      List<Latency> latencies = new ArrayList<>();
      // Warm-up: the node has one core, which its JIT compilers share with the work; HotSpot keeps
      // compiling for about 90 s of load (src/bench/README.md). Chunks of the smallest envelope for --warmup-seconds (its
      // rates, printed, show the curve), one chunk of every other size, a short latency run.
      configure(100, BULK_PATH, bulk);
      long warmupEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.warmupSeconds());
      int smallest = options.envelopes().stream().min(Integer::compare).orElseThrow();
      long warmupErrors = 0;
      do {
        warmupErrors += progress(throughput("warm-up", smallest, options.warmupEvents())).errors();
      } while (System.nanoTime() < warmupEnd);
      for (int envelope : options.envelopes()) {
        if (envelope != smallest) {
          warmupErrors += progress(throughput("warm-up", envelope, options.warmupEvents())).errors();
        }
      }
      configure(1, LATENCY_PATH, latency);
      warmupErrors += progress(latency("warm-up", Duration.ofSeconds(options.latencyWarmupSeconds()))).errors();
      for (int r = 1; r <= options.rounds(); r++) {
        String name = Integer.toString(r);
        configure(100, BULK_PATH, bulk);
        for (int envelope : options.envelopes()) {
          quiesce();
          throughput.add(progress(throughput(name, envelope, options.events())));
        }
        configure(1, LATENCY_PATH, latency);
        quiesce();
        latencies.add(progress(latency(name, Duration.ofSeconds(options.seconds()))));
      }
      printTables(throughput, latencies);
      ok = warmupErrors == 0
          && Stream.concat(throughput.stream().map(Throughput::errors), latencies.stream().map(Latency::errors))
              .allMatch(e -> e == 0);
      if (!nodes.alive()) {
        ok = false;
        System.out.println("a node exited during the run; the last lines:\n" + nodes.tail());
      }
    } catch (Exception e) {
      System.out.println("FAILED: " + e);
      e.printStackTrace(System.out);
      if (nodes != null) {
        System.out.println("the last lines of the node(s):\n" + nodes.tail());
      }
    } finally {
      for (Group g : new Group[] {bulk, latency}) {
        if (g != null) {
          g.abort();
        }
      }
      long stopMillis = nodes == null ? 0 : nodes.stop();
      deleteTree(tmp);
      Runtime.getRuntime().removeShutdownHook(cleanup);
      System.out.printf(Locale.ROOT, "node(s) stopped (SIGTERM) in %s; temp dir deleted; total %.0f s; load average at the end %.2f%n",
          stopMillis < 0 ? "more than 30 s: killed" : stopMillis + " ms", (System.nanoTime() - wall0) / 1e9,
          ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
    return ok ? 0 : 1;
  }

  private Path nodeJar() {
    if (options.nodeJar().isPresent()) {
      return requireFile(options.nodeJar().get());
    }
    Path fromHere = Path.of("engine", "target", "regcast.jar");
    if (Files.isRegularFile(fromHere)) {
      return fromHere.toAbsolutePath();
    }
    try {
      // src/bench/target/regcast-bench.jar → the repository root is three levels up.
      Path self = Path.of(IngestBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path root = self.getParent().getParent().getParent().getParent();
      Path candidate = root.resolve(fromHere);
      if (Files.isRegularFile(candidate)) {
        return candidate.toAbsolutePath();
      }
    } catch (Exception e) {
      // not where we expect it
    }
    throw new IllegalStateException("engine/target/regcast.jar not found (build it: mvn -B -q install -pl engine "
        + "-Dmaven.test.skip=true), or pass --node-jar PATH");
  }

  private static Path requireFile(Path p) {
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException(p + " is not a file");
    }
    return p.toAbsolutePath();
  }

  // ---- set-up over the admin API ----

  private void setUp() throws Exception {
    String cloud = create("/resource-manager/v1/clouds", "{\"name\":\"bench\"}");
    String folder = create("/resource-manager/v1/folders", "{\"cloudId\":\"" + cloud + "\",\"name\":\"bench\"}");
    for (int k = 0; k < options.registries(); k++) {
      registryIds.add(create("/container-registry/v1/registries", "{\"folderId\":\"" + folder + "\",\"name\":\"bench" + k + "\"}"));
    }
    registryId = registryIds.get(0);
    gatewayId = create("/apigateways/v1/apigateways", "{\"folderId\":\"" + folder
        + "\",\"name\":\"bench\",\"websocketPaths\":[\"" + LATENCY_PATH + "\",\"" + BULK_PATH + "\"]}");
    serviceAccountId = create("/iam/v1/serviceAccounts", "{\"folderId\":\"" + folder + "\",\"name\":\"broadcaster\"}");
    call("POST", "/resource-manager/v1/folders/" + folder + ":updateAccessBindings",
        "{\"accessBindingDeltas\":[{\"action\":\"ADD\",\"accessBinding\":{\"roleId\":\"api-gateway.websocketBroadcaster\","
            + "\"subject\":{\"id\":\"" + serviceAccountId + "\",\"type\":\"serviceAccount\"}}}]}");
    // The image exists before the trigger does: every event after is a CreateImageTag alone.
    for (String registry : registryIds) {
      HttpResponse<String> seeded = http.send(notification(envelope(List.of(event("seed", null))), registry, 0),
          HttpResponse.BodyHandlers.ofString());
      if (seeded.statusCode() != 202) {
        throw new IllegalStateException("the seed notification got " + seeded.statusCode() + ": " + seeded.body());
      }
    }
    rule = rule(100, BULK_PATH);
    triggerId = create("/triggers/v1/triggers", "{\"folderId\":\"" + folder + "\",\"name\":\"bench\",\"rule\":" + rule + "}");
    for (int k = 1; k < registryIds.size(); k++) {
      create("/triggers/v1/triggers", "{\"folderId\":\"" + folder + "\",\"name\":\"bench" + k + "\",\"rule\":"
          + rule(registryIds.get(k), 100, BULK_PATH) + "}");
    }
    for (String path : List.of(BULK_PATH, LATENCY_PATH)) {
      nodes.awaitGatewayOnEveryNode("/gateways/" + gatewayId + path, Duration.ofSeconds(60));
    }
    bulk = Group.connect(wsHttp, gatewayUris(BULK_PATH), 1);
    latency = Group.connect(wsHttp, gatewayUris(LATENCY_PATH), options.clients());
  }

  /** The path on every node's gateway; clients take them round robin. */
  private List<URI> gatewayUris(String path) {
    return nodes.gatewayBases().stream().map(b -> URI.create(b + "/gateways/" + gatewayId + path)).toList();
  }

  private String rule(int size, String path) {
    return rule(registryId, size, path);
  }

  private String rule(String registryId, int size, String path) {
    return "{\"containerRegistry\":{\"eventType\":[\"CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE_TAG\"],"
        + "\"registryId\":\"" + registryId + "\",\"batchSettings\":{\"size\":\"" + size + "\",\"cutoff\":\"1s\"},"
        + "\"gatewayWebsocketBroadcast\":{\"gatewayId\":\"" + gatewayId + "\",\"path\":\"" + path
        + "\",\"serviceAccountId\":\"" + serviceAccountId + "\"}}}";
  }

  /**
   * Points the trigger at a batch size and a path (unless it already is), then sends one probe
   * event and waits until every client of that path holds it: from then on the setting is in force
   * and nothing sent before is still on its way.
   */
  private void configure(int batchSize, String path, Group target) throws Exception {
    String wanted = rule(batchSize, path);
    if (!wanted.equals(rule)) {
      call("PATCH", "/triggers/v1/triggers/" + triggerId, "{\"updateMask\":\"rule\",\"rule\":" + wanted + "}");
      rule = wanted;
    }
    long seq = nextSeq.getAndIncrement();
    Round probe = new Round(seq, 1, target.size(), false);
    target.current = probe;
    HttpResponse<String> answer = http.send(notification(envelope(List.of(event("e" + seq, null)))),
        HttpResponse.BodyHandlers.ofString());
    if (answer.statusCode() != 202) {
      throw new IllegalStateException("the probe notification got " + answer.statusCode() + ": " + answer.body());
    }
    probe.accept(seq);
    await(probe::complete, Duration.ofSeconds(30), "the probe event to reach every client on " + path);
  }

  /**
   * Waits until the node is quiet (below {@code --quiet-cpu}% of a core over two 0.5 s windows in a
   * row, at most {@code --quiet-max-seconds}), so that a run does not pay for work the previous
   * one left behind (compilations, delivery, acknowledgements, snapshots).
   */
  private void quiesce() {
    long t0 = System.nanoTime();
    long deadline = t0 + TimeUnit.SECONDS.toNanos(options.quietMaxSeconds());
    int quiet = 0;
    double last = Double.NaN;
    while (quiet < 2 && System.nanoTime() < deadline) {
      long c0 = nodes.cpuNanos();
      long w0 = System.nanoTime();
      LockSupport.parkNanos(500_000_000);
      last = percent(nodes.cpuNanos() - c0, System.nanoTime() - w0);
      quiet = last < options.quietCpu() ? quiet + 1 : 0;
    }
    System.out.printf(Locale.ROOT, "  (node %s after %.1f s: %.0f%% CPU)%n", quiet >= 2 ? "quiet" : "NOT quiet",
        (System.nanoTime() - t0) / 1e9, last);
  }

  private String create(String path, String body) throws Exception {
    return call("POST", path, body).get("response").get("id").asText();
  }

  private JsonNode call(String method, String path, String body) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(nodes.httpBases().get(0) + path))
        .header("Authorization", "Bearer " + adminKey)
        .header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(30))
        .method(method, HttpRequest.BodyPublishers.ofString(body))
        .build();
    HttpResponse<String> answer = http.send(request, HttpResponse.BodyHandlers.ofString());
    if (answer.statusCode() != 200) {
      throw new IllegalStateException(method + " " + path + " got " + answer.statusCode() + ": " + answer.body());
    }
    return JSON.readTree(answer.body());
  }

  // ---- notifications ----

  private HttpRequest notification(byte[] body) {
    return notification(body, registryId, 0);
  }

  /** A notification to the registry's ingest on node {@code i} (modulo the nodes: round robin). */
  private HttpRequest notification(byte[] body, String registryId, int i) {
    List<String> bases = nodes.httpBases();
    return HttpRequest.newBuilder(URI.create(bases.get(i % bases.size()) + "/container-registry/v1/registries/" + registryId + "/notifications"))
        .header("Authorization", "Bearer " + adminKey)
        .header("Content-Type", DIST)
        .timeout(Duration.ofSeconds(60))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
  }

  private static byte[] envelope(List<String> events) {
    return ("{\"events\":[" + String.join(",", events) + "]}").getBytes(StandardCharsets.UTF_8);
  }

  /**
   * A manifest push of the same image under a new tag, in the shape CNCF Distribution sends
   * (captured in engine/src/test/resources/distribution-events/push-manifest-v2.json, compact).
   */
  private String event(String tag, Instant at) {
    return "{\"id\":\"" + UUID.randomUUID() + "\",\"timestamp\":\"" + (at == null ? Instant.now() : at)
        + "\",\"action\":\"push\",\"target\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":499,"
        + "\"digest\":\"" + DIGEST + "\",\"length\":499,\"repository\":\"" + REPOSITORY + "\","
        + "\"url\":\"http://127.0.0.1:5000/v2/" + REPOSITORY + "/manifests/" + DIGEST + "\",\"tag\":\"" + tag + "\","
        + "\"references\":[{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":551,"
        + "\"digest\":\"sha256:feac9e8a9bbf6f66078eedd39a77c7f07922af2d27965be5ac4573b050a15a86\"},"
        + "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"size\":148,"
        + "\"digest\":\"sha256:e1c1803637bf46e0e8a5ed822f6e0349469b44f87422a7444f03b0b9af18ed63\"}]},"
        + "\"request\":{\"id\":\"" + UUID.randomUUID() + "\",\"addr\":\"127.0.0.1:50048\",\"host\":\"127.0.0.1:5000\","
        + "\"method\":\"PUT\",\"useragent\":\"docker/27.3.1 go/go1.22.7\"},\"actor\":{},"
        + "\"source\":{\"addr\":\"registry:5000\",\"instanceID\":\"" + instanceId + "\"}}";
  }

  // ---- phase A: accepted events/s ----

  private Throughput throughput(String round, int envelope, int wantedEvents) throws Exception {
    int requests = (wantedEvents + envelope - 1) / envelope;
    int events = requests * envelope;
    long base = nextSeq.getAndAdd(events);
    // Bodies first: building them is not part of what is measured.
    List<HttpRequest> bodies = new ArrayList<>(requests);
    Instant at = Instant.now();
    for (int i = 0; i < requests; i++) {
      List<String> list = new ArrayList<>(envelope);
      for (int j = 0; j < envelope; j++) {
        list.add(event("e" + (base + (long) i * envelope + j), at));
      }
      bodies.add(notification(envelope(list), registryIds.get(i % registryIds.size()), i));
    }
    Round r = new Round(base, events, bulk.size(), false);
    bulk.current = r;
    AtomicInteger next = new AtomicInteger();
    AtomicInteger done = new AtomicInteger();
    AtomicLong failed = new AtomicLong();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    long[] answerNanos = new long[requests];
    CountDownLatch finished = new CountDownLatch(1);
    long[] lastAnswer = new long[1];

    nodes.gcLog().next();
    long node0 = nodes.cpuNanos();
    long database0 = nodes.databaseCpuNanos();
    long bench0 = ProcessCpu.nanosOf(ProcessHandle.current());
    long t0 = System.nanoTime();
    class Sender {
      void sendNext() {
        int i = next.getAndIncrement();
        if (i >= requests) {
          return;
        }
        long sent = System.nanoTime();
        http.sendAsync(bodies.get(i), HttpResponse.BodyHandlers.ofString()).whenComplete((answer, error) -> {
          long now = System.nanoTime();
          answerNanos[i] = now - sent;
          if (error == null && answer.statusCode() == 202) {
            for (int j = 0; j < envelope; j++) {
              r.accept(base + (long) i * envelope + j);
            }
          } else {
            failed.incrementAndGet();
            if (failures.size() < 3) {
              failures.add(error != null ? error.toString() : answer.statusCode() + " " + answer.body());
            }
          }
          if (done.incrementAndGet() == requests) {
            lastAnswer[0] = now;
            finished.countDown();
          } else {
            sendNext();
          }
        });
      }
    }
    Sender sender = new Sender();
    for (int c = 0; c < Math.min(options.senders(), requests); c++) {
      sender.sendNext();
    }
    if (!finished.await(150, TimeUnit.SECONDS)) {
      throw new IllegalStateException("throughput run: " + done.get() + " of " + requests + " answers after 150 s");
    }
    long t1 = System.nanoTime();
    long node1 = nodes.cpuNanos();
    long database1 = nodes.databaseCpuNanos();
    long bench1 = ProcessCpu.nanosOf(ProcessHandle.current());
    GcLog.Pauses pauses = nodes.gcLog().next();
    double seconds = (lastAnswer[0] - t0) / 1e9;
    // Delivery runs behind the 202s: wait until the client has every event (or 30 s).
    await(r::complete, Duration.ofSeconds(30), null);
    long lastArrival = r.lastArrival();
    Arrays.sort(answerNanos);
    return new Throughput(round, envelope, events, requests, events / seconds, requests / seconds,
        percentile(answerNanos, 50) / 1e6, percentile(answerNanos, 99) / 1e6,
        Math.max(0, lastArrival - lastAnswer[0]) / 1e9,
        percent(node1 - node0, t1 - t0), database0 < 0 ? Double.NaN : percent(database1 - database0, t1 - t0),
        percent(bench1 - bench0, t1 - t0), pauses,
        failed.get(), r.missing(), r.duplicates(), r.unexpected(), String.join("; ", failures));
  }

  // ---- phase B: ingest-to-socket latency ----

  private Latency latency(String round, Duration length) throws Exception {
    long interval = TimeUnit.MILLISECONDS.toNanos(options.intervalMillis());
    int events = (int) (length.toNanos() / interval);
    long base = nextSeq.getAndAdd(events);
    Round r = new Round(base, events, latency.size(), true);
    latency.current = r;
    long[] ingestNanos = new long[events];
    AtomicLong failed = new AtomicLong();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    CountDownLatch answered = new CountDownLatch(events);

    nodes.gcLog().next();
    long node0 = nodes.cpuNanos();
    long database0 = nodes.databaseCpuNanos();
    long bench0 = ProcessCpu.nanosOf(ProcessHandle.current());
    long t0 = System.nanoTime();
    for (int i = 0; i < events; i++) {
      long due = t0 + i * interval;
      for (long wait; (wait = due - System.nanoTime()) > 0; ) {
        LockSupport.parkNanos(wait);
      }
      long seq = base + i;
      long sent = System.nanoTime();
      // The tag carries the send time (µs since this JVM's epoch): the client needs nothing else.
      HttpRequest request = notification(envelope(List.of(event("e" + seq + "-" + (sent - EPOCH) / 1000, null))), registryId, i);
      int index = i;
      http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((answer, error) -> {
        ingestNanos[index] = System.nanoTime() - sent;
        if (error == null && answer.statusCode() == 202) {
          r.accept(seq);
        } else {
          failed.incrementAndGet();
          if (failures.size() < 3) {
            failures.add(error != null ? error.toString() : answer.statusCode() + " " + answer.body());
          }
        }
        answered.countDown();
      });
    }
    if (!answered.await(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("latency run: " + (events - answered.getCount()) + " of " + events + " answers");
    }
    long t1 = System.nanoTime();
    long node1 = nodes.cpuNanos();
    long database1 = nodes.databaseCpuNanos();
    long bench1 = ProcessCpu.nanosOf(ProcessHandle.current());
    GcLog.Pauses pauses = nodes.gcLog().next();
    await(r::complete, Duration.ofSeconds(10), null);
    long[] samples = r.latencies();
    Arrays.sort(samples);
    Arrays.sort(ingestNanos);
    return new Latency(round, events, samples.length,
        percentile(samples, 50) / 1e6, percentile(samples, 90) / 1e6, percentile(samples, 99) / 1e6,
        (samples.length == 0 ? 0 : samples[samples.length - 1]) / 1e6,
        percentile(ingestNanos, 50) / 1e6, percentile(ingestNanos, 99) / 1e6,
        percent(node1 - node0, t1 - t0), database0 < 0 ? Double.NaN : percent(database1 - database0, t1 - t0),
        percent(bench1 - bench0, t1 - t0), pauses,
        failed.get(), r.missing(), r.duplicates(), r.unexpected(), String.join("; ", failures));
  }

  // ---- clients ----

  /** The WebSocket clients of one path; their events go to the group's current round. */
  static final class Group {
    final List<WebSocket> sockets = new ArrayList<>();
    final AtomicLong errors = new AtomicLong();
    volatile Round current;

    /** n clients over the URIs (one per node), round robin. */
    static Group connect(HttpClient client, List<URI> uris, int n) {
      Group g = new Group();
      List<CompletableFuture<WebSocket>> opening = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        opening.add(client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
            .buildAsync(uris.get(i % uris.size()), new Receiver(g, i)).toCompletableFuture());
      }
      for (CompletableFuture<WebSocket> f : opening) {
        g.sockets.add(f.join());
      }
      return g;
    }

    int size() {
      return sockets.size();
    }

    void abort() {
      sockets.forEach(WebSocket::abort);
    }
  }

  /** One client: collects a message's fragments, then records each event's tag at its arrival. */
  static final class Receiver implements WebSocket.Listener {
    private final Group group;
    private final int index;
    private final StringBuilder partial = new StringBuilder();

    Receiver(Group group, int index) {
      this.group = group;
      this.index = index;
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      if (!last || partial.length() > 0) {
        partial.append(data);
        if (!last) {
          ws.request(1);
          return null;
        }
        data = partial;
      }
      long now = System.nanoTime();
      String text = data.toString();
      partial.setLength(0);
      Round round = group.current;
      for (int at = text.indexOf(TAG_KEY); at >= 0; at = text.indexOf(TAG_KEY, at + 1)) {
        int i = at + TAG_KEY.length();
        long seq = 0;
        for (char c; i < text.length() && (c = text.charAt(i)) >= '0' && c <= '9'; i++) {
          seq = seq * 10 + (c - '0');
        }
        long micros = -1;
        if (i < text.length() && text.charAt(i) == '-') {
          micros = 0;
          for (char c; ++i < text.length() && (c = text.charAt(i)) >= '0' && c <= '9'; ) {
            micros = micros * 10 + (c - '0');
          }
        }
        if (round != null) {
          round.arrived(index, seq, micros, now);
        }
      }
      ws.request(1);
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      group.errors.incrementAndGet();
    }
  }

  /**
   * The events of one run, {@code [base, base + capacity)}: which were accepted (202), which each
   * client holds, duplicates, events from elsewhere, and (latency runs) each arrival's latency.
   */
  static final class Round {
    private final long base;
    private final int capacity;
    private final boolean latency;
    private final BitSet accepted = new BitSet();
    private final BitSet[] got;
    private final int[] distinct;
    private final long epoch;
    private long duplicates;
    private long unexpected;
    private long lastArrival;
    private long[] latencies = new long[0];
    private int count;

    Round(long base, int capacity, int clients, boolean latency) {
      this.base = base;
      this.capacity = capacity;
      this.latency = latency;
      this.got = new BitSet[clients];
      this.distinct = new int[clients];
      for (int i = 0; i < clients; i++) {
        got[i] = new BitSet(capacity);
      }
      this.epoch = EPOCH;
      if (latency) {
        latencies = new long[capacity * clients];
      }
    }

    synchronized void accept(long seq) {
      accepted.set((int) (seq - base));
    }

    synchronized void arrived(int client, long seq, long sentMicros, long now) {
      long i = seq - base;
      if (i < 0 || i >= capacity) {
        unexpected++;
        return;
      }
      if (got[client].get((int) i)) {
        duplicates++;
        return;
      }
      got[client].set((int) i);
      distinct[client]++;
      lastArrival = Math.max(lastArrival, now);
      if (latency && sentMicros >= 0 && count < latencies.length) {
        latencies[count++] = now - (epoch + sentMicros * 1000);
      }
    }

    /** Every accepted event is with every client (as counts: checked exactly by {@link #missing}). */
    synchronized boolean complete() {
      int n = accepted.cardinality();
      if (n == 0) {
        return false;
      }
      for (int d : distinct) {
        if (d < n) {
          return false;
        }
      }
      return true;
    }

    synchronized long missing() {
      long sum = 0;
      for (BitSet b : got) {
        BitSet lost = (BitSet) accepted.clone();
        lost.andNot(b);
        sum += lost.cardinality();
      }
      return sum;
    }

    synchronized long duplicates() {
      return duplicates;
    }

    synchronized long unexpected() {
      return unexpected;
    }

    synchronized long lastArrival() {
      return lastArrival;
    }

    synchronized long[] latencies() {
      return Arrays.copyOf(latencies, count);
    }
  }

  /** The epoch the tags' send times count from; one per JVM (set at class load). */
  private static final long EPOCH = System.nanoTime();

  // ---- helpers ----

  /** Waits (parked, 5 ms steps) until the condition holds; throws on timeout if {@code what} is set. */
  private static boolean await(BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        if (what != null) {
          throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + what);
        }
        return false;
      }
      LockSupport.parkNanos(5_000_000);
    }
    return true;
  }

  /** The p-th percentile of sorted values (nearest rank). */
  private static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private static double percent(long cpuNanos, long wallNanos) {
    return cpuNanos < 0 || wallNanos <= 0 ? Double.NaN : 100.0 * cpuNanos / wallNanos;
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      System.err.println("could not delete " + root + ": " + e.getMessage());
    }
  }

  // ---- output ----

  private void printHeader(boolean pinned, Path jar) throws IOException {
    System.out.printf(Locale.ROOT, "regcast ingest benchmark: %s (%s, built %s)%n", nodes.describe(), jar,
        Files.getLastModifiedTime(jar));
    System.out.println("command: java -jar src/bench/target/regcast-bench.jar " + options.commandLine());
    System.out.printf(Locale.ROOT, "node JVM%s: %s, %s, %s GC; benchmark JVM: CPUs %s (%d available), %s; %s %s%n",
        options.cluster() > 0 ? "s" : "", pinned ? "pinned to CPUs " + options.nodeCpus() : "not pinned",
        String.join(" ", options.nodeJvmOpts()), nodes.gcLog().collector(),
        GatewayBench.cpusAllowed(), Runtime.getRuntime().availableProcessors(), pinned ? "pinned" : "not pinned",
        System.getProperty("java.vm.name"), System.getProperty("java.version"));
    // machineLine's CPU count is this (pinned) JVM's; "online" is the machine's.
    System.out.printf(Locale.ROOT, "%s; load average %.2f at the start (anything else running shares these cores)%n",
        Compare.machineLine(), ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    System.out.printf(Locale.ROOT, "throughput: %d events/run, envelopes of %s event(s), %d notifications in flight, over %d registr%s;%n",
        options.events(), options.envelopes(), options.senders(), options.registries(), options.registries() == 1 ? "y" : "ies (round robin)");
    if (options.cluster() > 0) {
      System.out.printf(Locale.ROOT, "cluster: %d nodes; notifications to the nodes' ingest round robin, clients on the nodes' "
          + "gateways round robin; node CPU%% = every node JVM + PostgreSQL's processes%n", options.cluster());
    }
    System.out.println("  each event a manifest push of one image under a new tag (one CreateImageTag); the trigger takes");
    System.out.println("  CREATE_IMAGE_TAG only, batches of 100 (cutoff 1s), to 1 client on " + BULK_PATH);
    System.out.printf(Locale.ROOT, "latency: batch size 1, %d clients on %s, one event (one notification) every %d ms for %d s%n",
        options.clients(), LATENCY_PATH, options.intervalMillis(), options.seconds());
    System.out.printf(Locale.ROOT, "warm-up: runs of %d events, envelope %d, for %d s; %d events of every other envelope; latency %d s%n",
        options.warmupEvents(), options.envelopes().stream().min(Integer::compare).orElseThrow(), options.warmupSeconds(),
        options.warmupEvents(), options.latencyWarmupSeconds());
    System.out.println();
    System.out.flush();
  }

  private static Throughput progress(Throughput t) {
    System.out.printf(Locale.ROOT, "  %-7s throughput, envelope %2d, %6d events: %6.0f events/s, node/bench CPU %s, GCs %s, errors %s%n",
        t.round(), t.envelope(), t.events(), t.eventsPerSecond(), cpu(t.nodeCpu(), t.databaseCpu(), t.benchCpu()), pauses(t.gc()),
        errors(t.failed(), t.missing(), t.duplicates(), t.unexpected(), t.failures()));
    System.out.flush();
    return t;
  }

  private static Latency progress(Latency l) {
    System.out.printf(Locale.ROOT, "  %-7s latency, %4d events: p50 %.1f ms, p99 %.1f ms, node/bench CPU %s, GCs %s, errors %s%n",
        l.round(), l.events(), l.p50(), l.p99(), cpu(l.nodeCpu(), l.databaseCpu(), l.benchCpu()), pauses(l.gc()),
        errors(l.failed(), l.missing(), l.duplicates(), l.unexpected(), l.failures()));
    System.out.flush();
    return l;
  }

  private static final String THROUGHPUT_ROW = "%-8s %8s %7s %8s %10s %12s %7s %18s %12s  %s%n";
  private static final String LATENCY_ROW = "%-8s %6s %7s %7s %7s %7s %7s %12s %18s %12s  %s%n";

  private void printTables(List<Throughput> throughput, List<Latency> latencies) {
    System.out.println();
    System.out.println("accepted events/s into one registry (events/s and requests/s up to the last 202):");
    System.out.printf(Locale.ROOT, THROUGHPUT_ROW, "round", "envelope", "events", "events/s", "requests/s",
        "202 p50/p99", "drain s", "node/bench%", "GCs n/max ms", "errors");
    for (Throughput t : throughput) {
      System.out.printf(Locale.ROOT, THROUGHPUT_ROW, t.round(), t.envelope(), t.events(),
          String.format(Locale.ROOT, "%.0f", t.eventsPerSecond()),
          String.format(Locale.ROOT, "%.0f", t.requestsPerSecond()),
          String.format(Locale.ROOT, "%.1f/%.1f", t.p50Millis(), t.p99Millis()),
          String.format(Locale.ROOT, "%.2f", t.drainSeconds()),
          cpu(t.nodeCpu(), t.databaseCpu(), t.benchCpu()), pauses(t.gc()),
          errors(t.failed(), t.missing(), t.duplicates(), t.unexpected(), t.failures()));
    }
    System.out.println();
    System.out.printf(Locale.ROOT, "ingest-to-socket latency at batch size 1, %d clients (ms, over every client's every event):%n",
        options.clients());
    System.out.printf(Locale.ROOT, LATENCY_ROW, "round", "events", "p50", "p90", "p99", "max", "samples", "202 p50/p99",
        "node/bench%", "GCs n/max ms", "errors");
    for (Latency l : latencies) {
      System.out.printf(Locale.ROOT, LATENCY_ROW, l.round(), l.events(),
          String.format(Locale.ROOT, "%.1f", l.p50()), String.format(Locale.ROOT, "%.1f", l.p90()),
          String.format(Locale.ROOT, "%.1f", l.p99()), String.format(Locale.ROOT, "%.1f", l.max()), l.samples(),
          String.format(Locale.ROOT, "%.1f/%.1f", l.ingestP50(), l.ingestP99()),
          cpu(l.nodeCpu(), l.databaseCpu(), l.benchCpu()), pauses(l.gc()),
          errors(l.failed(), l.missing(), l.duplicates(), l.unexpected(), l.failures()));
    }
    System.out.println();
    System.out.println("columns: 202 p50/p99 = time from sending a notification to its 202 (ms); drain s = after the last 202,");
    System.out.println("  until the client held every event (includes up to the 1 s cutoff of the last, partial batch);");
    System.out.println("  latency = a client holds the message - the notification was sent, both in this JVM;");
    System.out.println("  CPU% = process CPU time / wall time while sending, 100% = one core; c = benchmark-bound (its JVM");
    System.out.println("  above 80%), n = node-bound (node above 80%); errors: failed requests, missing and duplicate");
    System.out.println("  events (summed over clients), unexpected = events from outside the run (not errors);");
    System.out.println("  GCs n/max ms = the node's GC pauses while sending: how many, the longest (" + nodes.gcLog().collector() + ")"
        + (options.cluster() > 0 ? ", over every node;" : ";"));
    if (options.cluster() > 0) {
      System.out.println("  node% = every node JVM + PostgreSQL (its server and backends), all on the node core; (PG n) = PostgreSQL's part.");
    }
  }

  private static String pauses(GcLog.Pauses p) {
    return String.format(Locale.ROOT, "%d/%.0f", p.count(), p.maxMillis());
  }

  /** node/bench CPU% and the bound's mark; in a cluster, PostgreSQL's part of the node figure too. */
  private static String cpu(double node, double database, double bench) {
    String mark = bench > BOUND ? " c" : node > BOUND ? " n" : "";
    String ofIt = Double.isNaN(database) ? "" : String.format(Locale.ROOT, " (PG %.0f)", database);
    return String.format(Locale.ROOT, "%.0f/%.0f%s%s", node, bench, mark, ofIt);
  }

  private static String errors(long failed, long missing, long duplicates, long unexpected, String failures) {
    String s = failed + missing + duplicates == 0 ? "none"
        : String.format(Locale.ROOT, "failed %d, missing %d, duplicates %d%s", failed, missing, duplicates,
            failures.isEmpty() ? "" : " (" + failures + ")");
    return unexpected == 0 ? s : s + ", unexpected " + unexpected;
  }
}

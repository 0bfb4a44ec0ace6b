package io.regcast.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One PostgreSQL and {@value #SIZE} regcast nodes, each a JVM of the fat jar running
 * {@code cluster-config/postgres-cluster.conf} (plus short failure-detection timings for tests
 * only), on free loopback ports that stay theirs for the cluster's life: a node that is killed
 * ({@link #kill}), stopped ({@link #stopGracefully}) and {@link #restart}ed comes back on the
 * same ports, data directory and remoting address. PostgreSQL can be stopped and started
 * ({@link #stopPostgres}, {@link #startPostgres}).
 *
 * <p>Shared by every test class that uses {@link ClusterExtension}: started once per test JVM,
 * brought back to health ({@link #awaitHealthy}) before each test, closed when the JVM's tests are
 * done. Node logs: {@code target/node-logs/cluster-node<N>-<launch>.log}.
 */
public final class TestCluster implements AutoCloseable {
  public static final int SIZE = 3;
  /** Child JVMs that start fast and stay small: C1 only, serial GC, a small heap. */
  static final List<String> JVM_OPTIONS =
      List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xms64m", "-Xmx256m", "-Xss512k");
  public static final Duration HEALTHY_DEADLINE = Duration.ofSeconds(90);

  /**
   * Test timings only (never in cluster-config/): a crashed node is unreachable within ~2 s and
   * downed by the Split Brain Resolver 2 s later; the first seed forms the cluster after 2 s
   * without an answer from the others.
   */
  private static final String TEST_OVERLAY =
      """
      # Written by io.regcast.e2e.TestCluster: the cluster overlay under test, with test timings.
      include file("%s")
      pekko.cluster {
        split-brain-resolver.stable-after = 2s
        failure-detector {
          heartbeat-interval = 500ms
          acceptable-heartbeat-pause = 2s
        }
        seed-node-timeout = 2s
        retry-unsuccessful-join-after = 1s
      }
      """;

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).version(HttpClient.Version.HTTP_1_1).build();

  private final Path dir;
  private final LocalPostgres postgres;
  private final NodeProcess[] nodes = new NodeProcess[SIZE];
  private final int[] launches = new int[SIZE];
  private final int[] clusterPorts = new int[SIZE];
  private boolean postgresRunning;
  private long startedMillis;

  private TestCluster(Path dir, LocalPostgres postgres) {
    this.dir = dir;
    this.postgres = postgres;
    this.postgresRunning = true;
  }

  /** Starts PostgreSQL and the nodes, and waits until every node is ready and sees all members Up. */
  public static TestCluster start() throws Exception {
    long t0 = System.nanoTime();
    // The postgres user must reach the database directory inside: rwxr-xr-x.
    Path dir =
        Files.createTempDirectory(
            "regcast-cluster-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    int[] ports = stablePorts(1 + 4 * SIZE);
    LocalPostgres postgres;
    try {
      postgres = LocalPostgres.start(dir, ports[0]);
    } catch (Exception | Error e) {
      deleteTree(dir);
      throw e;
    }
    TestCluster cluster = new TestCluster(dir, postgres);
    try {
      Path overlay = dir.resolve("cluster-test.conf");
      Path clusterConfig = LocalPostgres.script().getParent().resolve("postgres-cluster.conf");
      Files.writeString(overlay, TEST_OVERLAY.formatted(clusterConfig), UTF_8);
      StringJoiner seeds = new StringJoiner(",");
      for (int i = 0; i < SIZE; i++) {
        cluster.clusterPorts[i] = ports[1 + 4 * i + 2];
        seeds.add("127.0.0.1:" + cluster.clusterPorts[i]);
      }
      for (int i = 0; i < SIZE; i++) {
        int base = 1 + 4 * i;
        NodeProcess node =
            new NodeProcess(cluster.nextName(i), dir.resolve("node-" + (i + 1)))
                .withPorts(ports[base], ports[base + 1])
                .withManagementPort(ports[base + 3])
                .withEnv("REGCAST_CLUSTER_PORT", Integer.toString(ports[base + 2]))
                .withEnv("REGCAST_SEED_NODES", seeds.toString())
                .withSystemProperty("config.file", overlay.toString());
        postgres.nodeEnvironment().forEach(node::withEnv);
        // NodeProcess drops the CI machine's REGCAST_* variables; this one is let through on
        // purpose, to run the same tests with the journal's other write parallelism.
        String parallelism = System.getenv("REGCAST_WRITE_PARALLELISM");
        if (parallelism != null && !parallelism.isBlank()) {
          node.withEnv("REGCAST_WRITE_PARALLELISM", parallelism);
        }
        JVM_OPTIONS.forEach(node::withJvmOption);
        cluster.nodes[i] = node;
      }
      // All at once, as an orchestrator would: the first seed forms the cluster, the others join.
      List<CompletableFuture<Void>> starting = new ArrayList<>();
      for (NodeProcess node : cluster.nodes) {
        starting.add(CompletableFuture.runAsync(() -> startNode(node)));
      }
      CompletableFuture.allOf(starting.toArray(CompletableFuture[]::new)).join();
      cluster.awaitHealthy(HEALTHY_DEADLINE);
      cluster.startedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      System.out.printf(
          "[cluster] PostgreSQL on %d and %d nodes up and ready in %d ms (JVM launch to ready line: %s;"
              + " journal write parallelism %s)%n",
          postgres.port(), SIZE, cluster.startedMillis,
          Stream.of(cluster.nodes).map(n -> n.startMillis() + " ms").toList(),
          Optional.ofNullable(System.getenv("REGCAST_WRITE_PARALLELISM")).orElse("as configured"));
      return cluster;
    } catch (Exception | Error e) {
      cluster.close();
      throw e;
    }
  }

  /** Milliseconds from creating the directory to every node ready (PostgreSQL included). */
  public long startedMillis() {
    return startedMillis;
  }

  /** The node in slot {@code i} (0-based), as it was last launched. */
  public NodeProcess node(int i) {
    return nodes[i];
  }

  /** A client of node {@code i}'s admin API. */
  public JsonHttp api(int i) {
    return new JsonHttp(nodes[i].baseUrl());
  }

  /** {@code ws://…/gateways/{gatewayId}{path}} on node {@code i}. */
  public URI wsUrl(int i, String gatewayId, String path) {
    return URI.create(nodes[i].gatewayUrl() + "/gateways/" + gatewayId + path);
  }

  public LocalPostgres postgres() {
    return postgres;
  }

  /** kill -9 of node {@code i}; returns its exit code. */
  public int kill(int i) throws InterruptedException {
    return nodes[i].kill();
  }

  /** SIGTERM to node {@code i} and waits for its JVM to exit; returns its exit code. */
  public int stopGracefully(int i) throws InterruptedException {
    return nodes[i].stopGracefully();
  }

  /** Launches node {@code i} again (same ports, data directory, address) and waits for its ready line. */
  public NodeProcess restart(int i) throws IOException, InterruptedException {
    if (nodes[i].isAlive()) {
      throw new IllegalStateException(nodes[i].name() + " is still running");
    }
    nodes[i] = nodes[i].relaunch(nextName(i));
    startNode(nodes[i]);
    return nodes[i];
  }

  public void stopPostgres() throws IOException, InterruptedException {
    postgresRunning = false;
    postgres.stop();
  }

  public void startPostgres() throws IOException, InterruptedException {
    postgres.start();
    postgresRunning = true;
  }

  /** The HTTP status of node {@code i}'s {@code GET /ready} (-1 when it does not answer). */
  public int readiness(int i) {
    return status(i, "/ready");
  }

  /** The HTTP status of node {@code i}'s {@code GET /alive} (-1 when it does not answer). */
  public int liveness(int i) {
    return status(i, "/alive");
  }

  /** Node {@code i}'s view of the members: address → status, e.g. "127.0.0.1:40123" → "Up". */
  public java.util.Map<String, String> members(int i) {
    JsonNode body = management(i, "/cluster/members");
    java.util.Map<String, String> members = new java.util.TreeMap<>();
    for (JsonNode m : body.path("members")) {
      members.put(m.path("node").asText().replaceFirst("^pekko://[^@]+@", ""), m.path("status").asText());
    }
    for (JsonNode u : body.path("unreachable")) {
      members.put(u.path("node").asText().replaceFirst("^pekko://[^@]+@", ""), "Unreachable");
    }
    return members;
  }

  /** The remoting address ("127.0.0.1:port") of node {@code i}. */
  public String address(int i) {
    return "127.0.0.1:" + clusterPorts[i];
  }

  /**
   * Which node hosts the sharded entity {@code entityId} of type {@code typeName} (e.g. "Trigger"),
   * from each running node's {@code /cluster/shards/{typeName}}; empty if none does (yet).
   * Shard ids are Pekko's default: |hashCode(entityId) mod 1000|.
   */
  public Optional<Integer> hostOf(String typeName, String entityId) {
    String shard = Integer.toString(Math.abs(entityId.hashCode() % 1000));
    for (int i = 0; i < SIZE; i++) {
      if (!nodes[i].isAlive()) {
        continue;
      }
      for (JsonNode region : management(i, "/cluster/shards/" + typeName).path("regions")) {
        if (shard.equals(region.path("shardId").asText()) && region.path("numEntities").asInt() > 0) {
          return Optional.of(i);
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Brings the cluster back to what every test may assume: PostgreSQL running, every node running
   * (relaunched if it is not), answering 200 on /ready and seeing all {@value #SIZE} members Up.
   */
  public void awaitHealthy(Duration deadline) throws Exception {
    long until = System.nanoTime() + deadline.toNanos();
    if (!postgresRunning) {
      startPostgres();
    }
    for (int i = 0; i < SIZE; i++) {
      if (!nodes[i].isAlive()) {
        restart(i);
      }
    }
    for (int i = 0; i < SIZE; i++) {
      while (true) {
        int ready = readiness(i);
        java.util.Map<String, String> members = ready == 200 ? members(i) : java.util.Map.of();
        if (ready == 200 && members.size() == SIZE && members.values().stream().allMatch("Up"::equals)) {
          break;
        }
        if (System.nanoTime() > until) {
          throw new AssertionError(
              nodes[i].name() + " not healthy within " + deadline + ": /ready " + ready + ", members " + members
                  + " (log " + nodes[i].logFile().toAbsolutePath() + ")");
        }
        TimeUnit.MILLISECONDS.sleep(100); // polling interval, not a wait for an outcome
      }
    }
  }

  /** Kills every node, stops PostgreSQL and deletes the cluster's directory. */
  @Override
  public void close() throws Exception {
    for (NodeProcess node : nodes) {
      if (node != null) {
        node.close();
      }
    }
    try {
      postgres.close();
    } finally {
      deleteTree(dir);
      System.out.println("[cluster] stopped and removed " + dir);
    }
  }

  /**
   * {@code count} distinct loopback ports that are free now and lie outside the kernel's ephemeral
   * range ({@code /proc/sys/net/ipv4/ip_local_port_range}), so that no outgoing connection — of
   * this JVM's hundreds of clients, or of another build's load test on the same machine — takes
   * one while its node is down or before it binds it: a node must come back on its ports.
   * ({@link NodeProcess#freePorts} picks from the ephemeral range; with tens of thousands of
   * connections open on the machine, a killed node's port was taken before its restart.)
   */
  static int[] stablePorts(int count) throws IOException {
    int low = 32768;
    try {
      String[] range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
      low = Integer.parseInt(range[0]);
    } catch (IOException | RuntimeException unknown) {
      // not Linux, or unreadable: Linux's default range
    }
    int from = 10_000;
    int to = Math.max(from + 1000, low); // exclusive
    java.util.Set<Integer> chosen = new java.util.LinkedHashSet<>();
    java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
    for (int tries = 0; chosen.size() < count; tries++) {
      if (tries > 10_000) {
        throw new IOException("no " + count + " free ports in [" + from + ", " + to + ")");
      }
      int port = random.nextInt(from, to);
      if (!chosen.contains(port) && bindable(port)) {
        chosen.add(port);
      }
    }
    return chosen.stream().mapToInt(Integer::intValue).toArray();
  }

  private static boolean bindable(int port) {
    try (java.net.ServerSocket socket = new java.net.ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port));
      return true;
    } catch (IOException taken) {
      return false;
    }
  }

  private String nextName(int i) {
    return "cluster-node" + (i + 1) + "-" + (++launches[i]);
  }

  private static void startNode(NodeProcess node) {
    try {
      node.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private int status(int i, String path) {
    try {
      return HTTP.send(request(i, path), BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private JsonNode management(int i, String path) {
    try {
      var response = HTTP.send(request(i, path), BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new AssertionError(nodes[i].name() + " " + path + " answered " + response.statusCode() + ": " + response.body());
      }
      return JsonHttp.JSON.readTree(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(nodes[i].name() + " " + path, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private HttpRequest request(int i, String path) {
    return HttpRequest.newBuilder(nodes[i].managementUrl().resolve(path)).timeout(Duration.ofSeconds(3)).GET().build();
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}

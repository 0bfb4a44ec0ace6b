package io.regcast.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionException;
import java.util.concurrent.locks.LockSupport;

/**
 * The regcast a benchmark runs against: one node JVM (embedded H2, {@link #startNode}) or a local
 * cluster of nodes sharing PostgreSQL ({@link LocalCluster}). Every node serves the admin API,
 * ingest and the gateway; the benchmarks set up through the first node and spread their load over
 * {@link #httpBases} and {@link #gatewayBases}.
 */
interface RegcastNodes extends AutoCloseable {
  /** {@code http://127.0.0.1:PORT} of every node's API (admin and ingest), in node order. */
  List<String> httpBases();

  /** {@code ws://127.0.0.1:PORT} of every node's gateway, in node order. */
  List<String> gatewayBases();

  /** Whose CPU time is the server's: the node JVMs and, in a cluster, PostgreSQL (with descendants). */
  List<ProcessHandle> processes();

  /** The GC pauses of every node JVM. */
  GcLog gcLog();

  /** The JVM whose heap is measured (a single node); empty for a cluster. */
  OptionalLong jvmPid();

  /** From the start command to every node ready, in ms. */
  long readyMillis();

  /** One line: what runs, its JVM options, where it is pinned. */
  String describe();

  boolean alive();

  /** The last lines of every node's log (for failure messages). */
  String tail();

  /** Stops every node (SIGTERM first) and, in a cluster, PostgreSQL; ms it took, -1 if a node was killed. */
  long stop();

  @Override
  default void close() {
    stop();
  }

  /** CPU time of a separate database's processes so far (part of {@link #cpuNanos}), in ns; -1 if it runs inside the node. */
  default long databaseCpuNanos() {
    return -1;
  }

  /** CPU time of {@link #processes} so far, in ns. */
  default long cpuNanos() {
    return ServerUnderTest.cpuNanos(processes());
  }

  /**
   * Waits until every node upgrades a WebSocket on {@code path} (e.g. {@code /gateways/ID/ws}): a
   * gateway created through one node reaches the others a moment later, and a client of a node
   * that does not know it yet would get a 404.
   */
  default void awaitGatewayOnEveryNode(String path, Duration timeout) {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    for (String base : gatewayBases()) {
      URI uri = URI.create(base + path);
      while (true) {
        try {
          client.newWebSocketBuilder().buildAsync(uri, new WebSocket.Listener() {}).join().abort();
          break;
        } catch (CompletionException e) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(uri + " still refuses WebSocket clients after " + timeout.toSeconds() + " s: "
                + e.getCause());
          }
          LockSupport.parkNanos(100_000_000);
        }
      }
    }
  }

  /**
   * One node JVM ({@link NodeJvm}) with its data and logs in {@code dir}, its GC pauses logged
   * (unless the options already do).
   */
  static RegcastNodes startNode(Path jar, Path dir, String adminKey, Optional<String> taskset, String cpus,
      List<String> jvmOptions, Duration deadline) throws IOException, InterruptedException {
    GcLog gc = new GcLog(dir.resolve("gc.log"));
    List<String> options = new ArrayList<>(jvmOptions);
    if (options.stream().noneMatch(o -> o.startsWith("-Xlog:gc"))) {
      options.add(gc.option());
    }
    NodeJvm node = NodeJvm.start(jar, dir.resolve("data"), dir.resolve("node.log"), adminKey, taskset, cpus, options, deadline);
    String pinning = taskset.isPresent() ? "pinned to CPUs " + cpus : "not pinned";
    return new SingleNode(node, gc, "regcast node (" + jar.getFileName() + ", H2 journal, WRITE_DELAY=0), "
        + String.join(" ", jvmOptions) + ", " + pinning + ", ready in " + node.readyMillis() + " ms");
  }

  /** A single node: the default {@code single-node.conf}, state in its own H2 database. */
  record SingleNode(NodeJvm node, GcLog gcLog, String describe) implements RegcastNodes {
    @Override
    public List<String> httpBases() {
      return List.of(node.httpBase());
    }

    @Override
    public List<String> gatewayBases() {
      return List.of(node.gatewayBase());
    }

    @Override
    public List<ProcessHandle> processes() {
      return ProcessHandle.of(node.pid()).stream().toList();
    }

    @Override
    public OptionalLong jvmPid() {
      return OptionalLong.of(node.pid());
    }

    @Override
    public long readyMillis() {
      return node.readyMillis();
    }

    @Override
    public long cpuNanos() {
      return node.cpuNanos();
    }

    @Override
    public boolean alive() {
      return node.alive();
    }

    @Override
    public String tail() {
      return node.tail();
    }

    @Override
    public long stop() {
      return node.stop();
    }
  }
}

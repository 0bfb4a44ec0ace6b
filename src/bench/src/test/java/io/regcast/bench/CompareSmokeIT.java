package io.regcast.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compare harness, run as users run it ({@code java -jar regcast-bench.jar compare --quick}),
 * with tiny sizes against regcast and every peer installed here (a peer that is missing is
 * skipped, and says so): it must finish, lose nothing, and print every scenario's table with
 * regcast's ratios. Then the cluster paths (scenarios 5 and 6 on a 3-node PostgreSQL cluster
 * started by cluster-config/local-cluster.sh): {@code compare --quick --cluster 3} and a tiny
 * {@code ingest --cluster 3}. Figures are not checked: this is not a speed test.
 */
class CompareSmokeIT {
  private static final Path BENCH_JAR = Path.of(System.getProperty("regcast.bench.jar", "target/regcast-bench.jar"));
  private static final Path NODE_JAR = Path.of(System.getProperty("regcast.jar", "../../engine/target/regcast.jar"));
  private static final Path BENCH_DIR = Path.of(System.getProperty("regcast.bench.dir", "."));

  @TempDir
  Path tmp;

  @Test
  void quickCompareRunsEveryScenarioAgainstRegcastAndThePeersWithoutLoss() throws Exception {
    Path out = tmp.resolve("results.md");
    // With a tiny resume storm (200 regcast.v1 connections, 10 messages behind, from the tail and from the log): seconds.
    run(List.of("compare", "--quick", "--resume-clients", "200", "--resume-messages", "10",
        "--node-jar", NODE_JAR.toAbsolutePath().toString(), "--out", out.toString()));
    String report = read(out);
    for (String heading : List.of("## 1. Fan-out", "## 2. Latency at light load", "## 3. Batching", "## 4. Footprint and accepts")) {
      assertTrue(report.contains(heading), "no '" + heading + "' in:\n" + report);
    }
    assertTrue(report.contains("| 200 | burst | regcast | 1 |"), "no regcast burst row in:\n" + report);
    assertTrue(report.contains("| 200 | burst | raw-nio | 1 |"), "no raw-nio burst row in:\n" + report);
    assertTrue(report.contains("Ratios, regcast ÷ peer, frames per server CPU-second"), "no ratios in:\n" + report);
    assertTrue(report.contains("| 200 | 10 | tail | 1 | 2000 |"), "no resume storm from the tail in:\n" + report);
    assertTrue(report.contains("| 200 | 10 | log | 1 | 2000 |"), "no resume storm from the log in:\n" + report);
  }

  @Test
  void quickCompareFansOutOverAThreeNodeClusterWithoutLoss() throws Exception {
    Path out = tmp.resolve("cluster-results.md");
    // No warm-up: the point is the path (cluster start, a client process per node, publish, stop).
    run(List.of("compare", "--quick", "--cluster", "3", "--per-node", "50", "--warmup-seconds", "0",
        "--node-jar", NODE_JAR.toAbsolutePath().toString(), "--out", out.toString()));
    String report = read(out);
    assertTrue(report.contains("fan-out on a 3-node regcast cluster"), "no cluster heading in:\n" + report);
    assertTrue(report.contains("| 150 | burst | regcast | 1 |"), "no burst row over 3 × 50 connections in:\n" + report);
  }

  @Test
  void tinyIngestRunsAgainstAThreeNodeClusterWithoutLoss() throws Exception {
    String output = run(List.of("ingest", "--cluster", "3", "--events", "200", "--warmup-events", "100",
        "--warmup-seconds", "0", "--envelopes", "1,10", "--clients", "6", "--seconds", "1", "--latency-warmup-seconds", "1",
        "--rounds", "1", "--quiet-max-seconds", "2", "--node-jar", NODE_JAR.toAbsolutePath().toString()));
    assertTrue(output.contains("3-node regcast cluster"), output);
    assertTrue(output.contains("accepted events/s into one registry"), output);
  }

  /** Runs the bench jar with the arguments; it must end within 240 s with status 0. Its output. */
  private String run(List<String> args) throws Exception {
    assertTrue(Files.isRegularFile(BENCH_JAR), BENCH_JAR + " is built by package");
    assertTrue(Files.isRegularFile(NODE_JAR), NODE_JAR + " is built by the engine's package");
    Path log = tmp.resolve(args.get(0) + "-" + System.nanoTime() + ".log");
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", BENCH_JAR.toAbsolutePath().toString()));
    command.addAll(args);
    Process p = new ProcessBuilder(command).directory(BENCH_DIR.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    boolean ended = p.waitFor(240, TimeUnit.SECONDS);
    if (!ended) {
      // SIGTERM first: the benchmark's shutdown hooks stop what it started (the cluster's nodes and
      // PostgreSQL are not its descendants: local-cluster.sh detaches them).
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    String output = read(log);
    String what = String.join(" ", args);
    assertTrue(ended, what + " did not end within 240 s:\n" + output);
    assertEquals(0, p.exitValue(), what + " failed:\n" + output);
    return output;
  }

  private static String read(Path p) throws IOException {
    return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "(no " + p + ")";
  }
}

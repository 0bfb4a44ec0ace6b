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
 * regcast's ratios. Figures are not checked: this is not a speed test.
 */
class CompareSmokeIT {
  @TempDir
  Path tmp;

  @Test
  void quickCompareRunsEveryScenarioAgainstRegcastAndThePeersWithoutLoss() throws Exception {
    Path benchJar = Path.of(System.getProperty("regcast.bench.jar", "target/regcast-bench.jar"));
    Path nodeJar = Path.of(System.getProperty("regcast.jar", "../../engine/target/regcast.jar"));
    Path benchDir = Path.of(System.getProperty("regcast.bench.dir", "."));
    assertTrue(Files.isRegularFile(benchJar), benchJar + " is built by package");
    assertTrue(Files.isRegularFile(nodeJar), nodeJar + " is built by the engine's package");
    Path out = tmp.resolve("results.md");
    Path log = tmp.resolve("compare.log");
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", benchJar.toAbsolutePath().toString(),
        "compare", "--quick", "--node-jar", nodeJar.toAbsolutePath().toString(), "--out", out.toString()));
    Process p = new ProcessBuilder(command).directory(benchDir.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    boolean ended = p.waitFor(240, TimeUnit.SECONDS);
    if (!ended) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    String output = read(log);
    assertTrue(ended, "compare --quick did not end within 240 s:\n" + output);
    assertEquals(0, p.exitValue(), "compare --quick failed:\n" + output);
    String report = read(out);
    for (String heading : List.of("## 1. Fan-out", "## 2. Latency at light load", "## 3. Batching", "## 4. Footprint and accepts")) {
      assertTrue(report.contains(heading), "no '" + heading + "' in:\n" + report);
    }
    assertTrue(report.contains("| 200 | burst | regcast | 1 |"), "no regcast burst row in:\n" + report);
    assertTrue(report.contains("| 200 | burst | raw-nio | 1 |"), "no raw-nio burst row in:\n" + report);
    assertTrue(report.contains("Ratios, regcast ÷ peer, frames per server CPU-second"), "no ratios in:\n" + report);
  }

  private static String read(Path p) throws IOException {
    return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "(no " + p + ")";
  }
}

package io.regcast.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A regcast node as its own JVM ({@code [taskset -c CPUS] java OPTS -jar regcast.jar}) on free
 * ports and a given data directory, bootstrapped with a given administrator key. Its output goes
 * to a log file (the last lines are kept for failure messages). {@link #close} stops it with
 * SIGTERM (the node's graceful shutdown), then kills it if it has not ended within 30 s.
 */
final class NodeJvm implements AutoCloseable {
  /**
   * The gateway's per-address connection limit on the benchmark's nodes: the load client opens
   * tens of thousands of connections from a few loopback addresses.
   */
  static final String BENCH_CONNECTIONS_PER_IP = "1000000";

  /**
   * {@code regcast node ready in 1892 ms: http://127.0.0.1:40599, gateway ws://127.0.0.1:40600,
   * management http://127.0.0.1:40601 (data /tmp/x)}.
   */
  private static final Pattern READY =
      Pattern.compile("regcast node ready in (\\d+) ms: (http://[^\\s,]+), gateway (ws://[^\\s,]+)[, ].*\\(data ");
  private static final int TAIL = 40;

  private final Process process;
  private final Deque<String> tail = new ArrayDeque<>();
  private final CompletableFuture<Matcher> ready = new CompletableFuture<>();
  private String httpBase;
  private String gatewayBase;
  private long readyMillis;

  private NodeJvm(Process process, Path logFile) throws IOException {
    this.process = process;
    Writer log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8);
    Thread drainer = new Thread(() -> drain(log), "node-output");
    drainer.setDaemon(true);
    drainer.start();
  }

  static NodeJvm start(Path jar, Path dataDir, Path logFile, String adminKey, Optional<String> taskset, String cpus,
      List<String> jvmOptions, Duration deadline) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    taskset.ifPresent(t -> command.addAll(List.of(t, "-c", cpus)));
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-jar", jar.toString()));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    // Only our settings: a REGCAST_* variable of the shell must not change what is measured.
    builder.environment().keySet().removeIf(k -> k.startsWith("REGCAST_"));
    builder.environment().put("REGCAST_HTTP_PORT", "0");
    builder.environment().put("REGCAST_GATEWAY_PORT", "0");
    builder.environment().put("REGCAST_MANAGEMENT_PORT", "0");
    builder.environment().put("REGCAST_DATA_DIR", dataDir.toString());
    builder.environment().put("REGCAST_ADMIN_KEY", adminKey);
    builder.environment().put("REGCAST_GATEWAY_MAX_CONNECTIONS_PER_IP", BENCH_CONNECTIONS_PER_IP);
    NodeJvm node = new NodeJvm(builder.start(), logFile);
    try {
      Matcher m = node.ready.get(deadline.toMillis(), TimeUnit.MILLISECONDS);
      node.readyMillis = Long.parseLong(m.group(1));
      node.httpBase = m.group(2);
      node.gatewayBase = m.group(3);
      return node;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      String why = e instanceof java.util.concurrent.TimeoutException
          ? "did not log its ready line within " + deadline.toSeconds() + " s"
          : e.getCause().getMessage();
      node.close();
      throw new IllegalStateException("the node " + why + "; its last lines:\n" + node.tail());
    }
  }

  private void drain(Writer log) {
    try (log; BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        log.write(line);
        log.write('\n');
        synchronized (tail) {
          tail.addLast(line);
          if (tail.size() > TAIL) {
            tail.removeFirst();
          }
        }
        if (!ready.isDone()) {
          Matcher m = READY.matcher(line);
          if (m.find()) {
            log.flush();
            ready.complete(m);
          }
        }
      }
    } catch (IOException e) {
      // the node is gone
    }
    ready.completeExceptionally(new IllegalStateException("exited (status " + exitStatus() + ") before it was ready"));
  }

  private String exitStatus() {
    try {
      return process.waitFor(5, TimeUnit.SECONDS) ? Integer.toString(process.exitValue()) : "still running";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "?";
    }
  }

  String tail() {
    synchronized (tail) {
      return String.join("\n", tail);
    }
  }

  String httpBase() {
    return httpBase;
  }

  String gatewayBase() {
    return gatewayBase;
  }

  long readyMillis() {
    return readyMillis;
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  /** The node JVM's CPU time so far (every thread, ended ones included), in nanoseconds. */
  long cpuNanos() {
    return ProcessCpu.nanosOf(process.toHandle());
  }

  /** SIGTERM, then SIGKILL after 30 s; returns how long the node took to end, in ms (-1: killed). */
  long stop() {
    if (!process.isAlive()) {
      return 0;
    }
    long t0 = System.nanoTime();
    process.destroy();
    try {
      if (process.waitFor(30, TimeUnit.SECONDS)) {
        return (System.nanoTime() - t0) / 1_000_000;
      }
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    return -1;
  }

  @Override
  public void close() {
    stop();
  }
}

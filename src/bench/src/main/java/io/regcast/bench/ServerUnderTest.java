package io.regcast.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * A server the compare command measures: regcast (the fat jar, a real node) or one of its peers,
 * each started on loopback pinned to the server core. The same load client talks to all of them:
 * WebSocket subscribers on {@link #subscribePath}, publish requests from {@link #publishSpec}.
 */
interface ServerUnderTest extends AutoCloseable {
  /** What the messages go through: one message per event, or batches of a trigger. */
  enum Flow { SINGLE, BATCHES }

  String name();

  /** One line: version, settings. */
  String describe();

  /** What is durably written per published event (regcast: the journal; peers: nothing). */
  String durableWrites();

  int wsPort();

  /** Every WebSocket port clients may use (a cluster: one per node); the load is spread over them. */
  default List<Integer> wsPorts() {
    return List.of(wsPort());
  }

  String subscribePath(Flow flow);

  /**
   * The publish request for {@code flow} (see {@link Publisher}): for the peers the body is a
   * tagged payload of {@code size} bytes; for regcast an ingest request whose event carries the tag.
   */
  String publishSpec(Flow flow, int size);

  /** The server's processes (CPU time and RSS are summed over them). */
  List<ProcessHandle> processes();

  /** The server JVM's GC log (pauses per phase), if it is a JVM. */
  default Optional<GcLog> gcLog() {
    return Optional.empty();
  }

  /** The JVM whose heap is measured, if the server is one. */
  OptionalLong jvmPid();

  /** True if the server batches events itself (regcast's trigger); else the harness publishes batches. */
  default boolean batchesItself() {
    return false;
  }

  @Override
  void close();

  // ---- helpers shared by the servers ----

  /** CPU time of the processes (and their descendants), in ns. */
  static long cpuNanos(List<ProcessHandle> processes) {
    long sum = 0;
    for (ProcessHandle p : withDescendants(processes)) {
      long n = ProcessCpu.nanosOf(p);
      if (n > 0) {
        sum += n;
      }
    }
    return sum;
  }

  /** Resident set size of the processes (and their descendants), in bytes. */
  static long rssBytes(List<ProcessHandle> processes) {
    long sum = 0;
    for (ProcessHandle p : withDescendants(processes)) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status"))) {
          if (line.startsWith("VmRSS:")) {
            sum += Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
          }
        }
      } catch (IOException | RuntimeException e) {
        // ended meanwhile
      }
    }
    return sum;
  }

  private static List<ProcessHandle> withDescendants(List<ProcessHandle> processes) {
    List<ProcessHandle> all = new ArrayList<>();
    for (ProcessHandle p : processes) {
      all.add(p);
      p.descendants().forEach(all::add);
    }
    return all;
  }

  /** Waits (parked, no spinning) until something accepts TCP connections on the port. */
  static void awaitPort(int port, Duration timeout, Process process, Path log) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 500);
        return;
      } catch (IOException e) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException("the server did not listen on port " + port + " within " + timeout.toSeconds()
              + " s" + (process.isAlive() ? "" : " (it exited " + process.exitValue() + ")") + "; " + tail(log));
        }
        LockSupport.parkNanos(20_000_000);
      }
    }
  }

  /** Reads "listening PORT" from the first lines of a server's log. */
  static int awaitListening(Process process, Path log, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (Files.exists(log)) {
          try (Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
            Optional<String> l = lines.filter(s -> s.startsWith("listening ")).findFirst();
            if (l.isPresent()) {
              return Integer.parseInt(l.get().substring("listening ".length()).trim());
            }
          }
        }
      } catch (IOException | RuntimeException e) {
        // not yet
      }
      if (!process.isAlive()) {
        break;
      }
      LockSupport.parkNanos(20_000_000);
    }
    throw new IllegalStateException("the server did not print 'listening PORT'" + (process.isAlive() ? "" : " (it exited)")
        + "; " + tail(log));
  }

  static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return "its log ends: " + String.join(" | ", lines.subList(Math.max(0, lines.size() - 8), lines.size()));
    } catch (IOException | RuntimeException e) {
      return "no log";
    }
  }

  /** SIGTERM, then SIGKILL after 10 s. */
  static void stop(Process process) {
    if (process == null || !process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}

package io.regcast.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A local cluster of regcast nodes sharing a throwaway PostgreSQL, started and stopped by
 * {@code cluster-config/local-cluster.sh} (what an operator runs, so the benchmark measures that
 * set-up: {@code postgres-cluster.conf}, its pool sizes, its PostgreSQL settings). Its state
 * directory is a fresh one under the temporary directory; the nodes' JVM options, the administrator
 * key and the CPUs (nodes and PostgreSQL alike, {@code REGCAST_CPU_LIST}) are the benchmark's.
 * {@link #stop} runs the script's {@code stop} once, also from a shutdown hook if the benchmark
 * ends otherwise, then deletes the directory.
 */
final class LocalCluster implements RegcastNodes {
  private static final Duration START_DEADLINE = Duration.ofSeconds(240);
  private static final int TAIL = 15;

  private final Path script;
  private final Path dir;
  private final List<String> jvmOptions;
  private final Optional<String> cpus;
  private final List<String> httpBases = new ArrayList<>();
  private final List<String> gatewayBases = new ArrayList<>();
  private final List<ProcessHandle> nodes = new ArrayList<>();
  private final Thread stopOnExit;
  private ProcessHandle postgres;
  private GcLog gcLog;
  private String postgresVersion = "?";
  private long readyMillis;
  private boolean stopped;

  private LocalCluster(Path script, Path dir, List<String> jvmOptions, Optional<String> cpus) {
    this.script = script;
    this.dir = dir;
    this.jvmOptions = jvmOptions;
    this.cpus = cpus;
    this.stopOnExit = new Thread(this::stop, "local-cluster-stop");
  }

  /**
   * {@code local-cluster.sh start N} with {@code REGCAST_JAVA_OPTS} = the options (plus a GC log
   * per node), {@code REGCAST_CPU_LIST} = {@code cpus} if present; waits for the script, which
   * returns once every node is ready and sees N members Up.
   */
  static LocalCluster start(Path jar, int nodes, String adminKey, List<String> jvmOptions, Optional<String> cpus)
      throws IOException, InterruptedException {
    Path script = script(jar);
    // Straight under the temporary directory: PostgreSQL runs as the postgres user, which must
    // reach its data directory (the script makes the state directory world-searchable; a parent
    // created by createTempDirectory would not be).
    Path dir = Files.createTempDirectory("regcast-cluster-");
    Path key = dir.resolve("admin-key");
    Files.writeString(key, adminKey + "\n", StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    LocalCluster cluster = new LocalCluster(script, dir, jvmOptions, cpus);
    Runtime.getRuntime().addShutdownHook(cluster.stopOnExit);
    try {
      List<String> options = new ArrayList<>(jvmOptions);
      // One GC log per node JVM (%p: its PID), read together by GcLog.
      options.add("-Xlog:gc:file=" + dir.resolve("gc-%p.log"));
      long t0 = System.nanoTime();
      String out = cluster.script(Duration.ofSeconds(START_DEADLINE.toSeconds()), jar, String.join(" ", options),
          "start", Integer.toString(nodes));
      cluster.readyMillis = (System.nanoTime() - t0) / 1_000_000;
      cluster.read(nodes);
      out.lines().filter(l -> l.startsWith("PostgreSQL ")).findFirst()
          .ifPresent(l -> cluster.postgresVersion = l.split(" ")[1]);
      return cluster;
    } catch (IOException | InterruptedException | RuntimeException e) {
      String tail = cluster.tail();
      cluster.stop();
      throw new IllegalStateException("the cluster did not start: " + e.getMessage() + "\n" + tail, e);
    }
  }

  /** cluster-config/local-cluster.sh of the repository: from the working directory, else from the jar's place. */
  private static Path script(Path jar) {
    Path relative = Path.of("cluster-config", "local-cluster.sh");
    // engine/target/regcast.jar → the repository root is three levels up.
    Path root = jar.toAbsolutePath().getParent().getParent().getParent();
    for (Path candidate : List.of(relative, root.resolve(relative))) {
      if (Files.isRegularFile(candidate)) {
        return candidate.toAbsolutePath().normalize();
      }
    }
    throw new IllegalStateException("cluster-config/local-cluster.sh not found: run from the repository root");
  }

  /** Runs the script (output to start.log / stop.log in the state directory); its output, or throws. */
  private String script(Duration deadline, Path jar, String javaOptions, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("bash", script.toString()));
    command.addAll(List.of(args));
    Path log = dir.resolveSibling(dir.getFileName() + "-" + args[0] + ".log");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    // Only our settings: a REGCAST_* variable of the shell must not change what is measured.
    builder.environment().keySet().removeIf(k -> k.startsWith("REGCAST_"));
    builder.environment().put("REGCAST_CLUSTER_DIR", dir.toString());
    builder.environment().put("REGCAST_GATEWAY_MAX_CONNECTIONS_PER_IP", NodeJvm.BENCH_CONNECTIONS_PER_IP);
    if (jar != null) {
      builder.environment().put("REGCAST_JAR", jar.toAbsolutePath().toString());
    }
    if (javaOptions != null) {
      builder.environment().put("REGCAST_JAVA_OPTS", javaOptions);
    }
    cpus.ifPresent(c -> builder.environment().put("REGCAST_CPU_LIST", c));
    Process p = builder.start();
    try {
      boolean ended = p.waitFor(deadline.toSeconds(), TimeUnit.SECONDS);
      if (!ended) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      String out = Files.readString(log, StandardCharsets.UTF_8);
      if (!ended || p.exitValue() != 0) {
        throw new IllegalStateException("local-cluster.sh " + String.join(" ", args)
            + (ended ? " exited " + p.exitValue() : " did not end within " + deadline.toSeconds() + " s") + ":\n" + out);
      }
      return out;
    } finally {
      Files.deleteIfExists(log);
    }
  }

  /** The nodes' ports and PIDs and PostgreSQL's PID, from the files the script wrote. */
  private void read(int n) throws IOException {
    List<Path> gcFiles = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      Path node = dir.resolve("node-" + i);
      List<String> ports = Files.readAllLines(node.resolve("ports"));
      httpBases.add("http://127.0.0.1:" + value(ports, "http"));
      gatewayBases.add("ws://127.0.0.1:" + value(ports, "gateway"));
      long pid = Long.parseLong(Files.readString(node.resolve("pid")).trim());
      nodes.add(ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("node " + pid + " is gone")));
      gcFiles.add(dir.resolve("gc-" + pid + ".log"));
    }
    gcLog = new GcLog(gcFiles);
    // The postmaster's PID is the first line of postmaster.pid; its backends are its children.
    long pg = Long.parseLong(Files.readAllLines(dir.resolve("pg/data/postmaster.pid")).get(0).trim());
    postgres = ProcessHandle.of(pg).orElseThrow(() -> new IllegalStateException("PostgreSQL " + pg + " is gone"));
  }

  private static String value(List<String> lines, String key) {
    return lines.stream().filter(l -> l.startsWith(key + "=")).map(l -> l.substring(key.length() + 1)).findFirst()
        .orElseThrow(() -> new IllegalStateException("no " + key + "= in a node's ports file"));
  }

  @Override
  public List<String> httpBases() {
    return httpBases;
  }

  @Override
  public List<String> gatewayBases() {
    return gatewayBases;
  }

  @Override
  public List<ProcessHandle> processes() {
    List<ProcessHandle> all = new ArrayList<>(nodes);
    if (postgres != null) {
      all.add(postgres);
    }
    return all;
  }

  @Override
  public long databaseCpuNanos() {
    return postgres == null ? -1 : ServerUnderTest.cpuNanos(List.of(postgres));
  }

  @Override
  public GcLog gcLog() {
    return gcLog;
  }

  @Override
  public OptionalLong jvmPid() {
    return OptionalLong.empty();
  }

  @Override
  public long readyMillis() {
    return readyMillis;
  }

  @Override
  public String describe() {
    return nodes.size() + "-node regcast cluster (cluster-config/local-cluster.sh start " + nodes.size()
        + ", postgres-cluster.conf, journal in PostgreSQL " + postgresVersion + " with fsync=off), node JVMs "
        + String.join(" ", jvmOptions) + ", " + cpus.map(c -> "nodes and PostgreSQL pinned to CPUs " + c).orElse("not pinned")
        + ", ready in " + readyMillis + " ms";
  }

  @Override
  public boolean alive() {
    return !nodes.isEmpty() && nodes.stream().allMatch(ProcessHandle::isAlive);
  }

  @Override
  public String tail() {
    StringBuilder s = new StringBuilder();
    try (Stream<Path> logs = Files.list(dir)) {
      for (Path node : logs.filter(p -> p.getFileName().toString().startsWith("node-")).sorted().toList()) {
        Path log = node.resolve("node.log");
        if (Files.isReadable(log)) {
          List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
          s.append(node.getFileName()).append(":\n")
              .append(String.join("\n", lines.subList(Math.max(0, lines.size() - TAIL), lines.size()))).append('\n');
        }
      }
    } catch (IOException | RuntimeException e) {
      s.append("(no node logs: ").append(e.getMessage()).append(")");
    }
    return s.toString();
  }

  /** {@code local-cluster.sh stop} (SIGTERM to the nodes, SIGKILL after 30 s, then PostgreSQL), once; deletes the directory. */
  @Override
  public synchronized long stop() {
    if (stopped) {
      return 0;
    }
    stopped = true;
    if (Thread.currentThread() != stopOnExit) {
      try {
        Runtime.getRuntime().removeShutdownHook(stopOnExit);
      } catch (IllegalStateException e) {
        // shutting down already
      }
    }
    long t0 = System.nanoTime();
    long millis;
    try {
      String out = script(Duration.ofSeconds(120), null, null, "stop");
      millis = out.contains("SIGKILL") ? -1 : (System.nanoTime() - t0) / 1_000_000;
    } catch (IOException | RuntimeException e) {
      System.err.println("local-cluster.sh stop failed: " + e.getMessage());
      nodes.forEach(ProcessHandle::destroyForcibly);
      millis = -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      millis = -1;
    }
    deleteTree(dir);
    return millis;
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | RuntimeException e) {
      System.err.println("could not delete " + root + ": " + e.getMessage());
    }
  }
}

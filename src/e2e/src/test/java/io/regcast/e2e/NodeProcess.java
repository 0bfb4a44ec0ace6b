package io.regcast.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One regcast node as a separate JVM ({@code java -jar regcast.jar}) on a given data directory,
 * listening on free ports (or the ones given to {@link #withPorts}). Its output is drained by a
 * background thread into memory (for failure messages) and into {@code target/node-logs/<name>.log}.
 *
 * <p>Use it in try-with-resources: {@link #close} kills the JVM if the test did not stop it, so a
 * failing test never leaks a process.
 */
public final class NodeProcess implements AutoCloseable {
  /** The administrator's key every test node is bootstrapped with (REGCAST_ADMIN_KEY). */
  public static final String ADMIN_KEY = "e2e-admin-key-0123456789abcdef";

  public static final Duration START_DEADLINE = Duration.ofSeconds(60);
  public static final Duration STOP_DEADLINE = Duration.ofSeconds(30);

  /**
   * {@code regcast node ready in 1892 ms: http://127.0.0.1:40599, gateway ws://127.0.0.1:40600,
   * management http://127.0.0.1:40601 (data /tmp/rc1)}; the gateway and management parts are
   * optional (older nodes did not log them).
   */
  private static final Pattern READY =
      Pattern.compile(
          "regcast node ready in (\\d+) ms: (http://[^\\s,]+)(?:, gateway (ws://[^\\s,]+))?"
              + "(?:, management (http://[^\\s,]+))? \\(data ");

  private static final Path LOG_DIR = Path.of("target", "node-logs");
  private static final Duration DRAIN_DEADLINE = Duration.ofSeconds(5);

  private final String name;
  private final Path dataDir;
  private final Path logFile;
  private final StringBuffer output = new StringBuffer();
  private final CompletableFuture<Ready> ready = new CompletableFuture<>();
  private final List<String> jvmOptions = new ArrayList<>();
  private final Map<String, String> environment = new LinkedHashMap<>();
  private final Thread killOnExit = new Thread(this::destroyQuietly);
  private int httpPort;
  private int gatewayPort;
  private int managementPort;
  private Process process;
  private Thread drainer;
  private long launchedAt;
  private Ready readyLine;

  private record Ready(
      long millisSinceLaunch, long reportedMillis, URI baseUrl, URI gatewayUrl, URI managementUrl) {}

  /**
   * @param name names the log file and appears in failure messages (e.g. "graceful-1")
   * @param dataDir the node's REGCAST_DATA_DIR
   */
  public NodeProcess(String name, Path dataDir) {
    this.name = name;
    this.dataDir = dataDir;
    this.logFile = LOG_DIR.resolve(name + ".log");
  }

  /**
   * Sets a system property of the node's JVM ({@code -Dkey=value}), e.g. a configuration key such
   * as {@code regcast.gateway.ping-interval}; call before {@link #start}.
   */
  public NodeProcess withSystemProperty(String key, String value) {
    if (process != null) {
      throw new IllegalStateException(name + " was already started");
    }
    jvmOptions.add("-D" + key + "=" + value);
    return this;
  }

  /** A JVM option of the node, e.g. {@code -Xmx256m}; call before {@link #start}. */
  public NodeProcess withJvmOption(String option) {
    requireNotStarted();
    jvmOptions.add(option);
    return this;
  }

  /**
   * An environment variable of the node (e.g. {@code REGCAST_SEED_NODES}); applied after the
   * defaults this class sets, so it may override them. Call before {@link #start}.
   */
  public NodeProcess withEnv(String key, String value) {
    requireNotStarted();
    environment.put(key, value);
    return this;
  }

  /** Pekko Management (/ready, /alive, /cluster/…) on this port instead of a free one. */
  public NodeProcess withManagementPort(int port) {
    requireNotStarted();
    this.managementPort = port;
    return this;
  }

  /**
   * A new, unstarted process of the same node: same data directory, ports, JVM options and
   * environment — to start it again after {@link #kill} or {@link #stopGracefully} (a
   * NodeProcess starts once).
   */
  public NodeProcess relaunch(String newName) {
    NodeProcess next = new NodeProcess(newName, dataDir);
    next.jvmOptions.addAll(jvmOptions);
    next.environment.putAll(environment);
    next.httpPort = httpPort;
    next.gatewayPort = gatewayPort;
    next.managementPort = managementPort;
    return next;
  }

  /** Whether the JVM was started and has not exited. */
  public boolean isAlive() {
    return process != null && process.isAlive();
  }

  private void requireNotStarted() {
    if (process != null) {
      throw new IllegalStateException(name + " was already started");
    }
  }

  /**
   * Listens on these ports instead of free ones picked by the node (0 = pick one), e.g. to restart
   * a node where its clients can reconnect to the same URLs; see {@link #freePorts}. Call before
   * {@link #start}.
   */
  public NodeProcess withPorts(int httpPort, int gatewayPort) {
    if (process != null) {
      throw new IllegalStateException(name + " was already started");
    }
    this.httpPort = httpPort;
    this.gatewayPort = gatewayPort;
    return this;
  }

  /**
   * {@code count} distinct TCP ports on 127.0.0.1 that were free a moment ago (each bound at once,
   * then released), for {@link #withPorts}.
   */
  public static int[] freePorts(int count) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      int[] ports = new int[count];
      for (int i = 0; i < count; i++) {
        ServerSocket socket = new ServerSocket();
        sockets.add(socket);
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        ports[i] = socket.getLocalPort();
      }
      return ports;
    } finally {
      for (ServerSocket socket : sockets) {
        socket.close();
      }
    }
  }

  /** Launches the JVM and blocks until the node logs its ready line (at most 60 s). */
  public NodeProcess start() throws IOException, InterruptedException {
    if (process != null) {
      throw new IllegalStateException(name + " was already started");
    }
    List<String> command = new ArrayList<>();
    command.add(javaBinary().toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-jar", regcastJar().toString()));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    // Only our settings: a REGCAST_* variable of the CI machine must not change what is tested.
    builder.environment().keySet().removeIf(key -> key.startsWith("REGCAST_"));
    builder.environment().put("REGCAST_HTTP_PORT", Integer.toString(httpPort));
    builder.environment().put("REGCAST_GATEWAY_PORT", Integer.toString(gatewayPort));
    builder.environment().put("REGCAST_DATA_DIR", dataDir.toString());
    builder.environment().put("REGCAST_MANAGEMENT_PORT", Integer.toString(managementPort));
    builder.environment().put("REGCAST_ADMIN_KEY", ADMIN_KEY);
    builder.environment().putAll(environment);
    Files.createDirectories(LOG_DIR);
    Writer log = Files.newBufferedWriter(logFile, UTF_8);

    launchedAt = System.nanoTime();
    try {
      process = builder.start();
    } catch (IOException e) {
      log.close();
      throw e;
    }
    Runtime.getRuntime().addShutdownHook(killOnExit);
    drainer = new Thread(() -> drain(log), "drain-" + name);
    drainer.setDaemon(true);
    drainer.start();

    // Whatever goes wrong from here on, the JVM is gone before start() returns: a caller that
    // writes try (var node = new NodeProcess(...).start()) never gets a reference to close.
    try {
      readyLine = ready.get(START_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      kill();
      throw new AssertionError(
          name + " logged no ready line within " + START_DEADLINE.toSeconds() + " s" + outputForMessage());
    } catch (ExecutionException e) {
      boolean exited = process.waitFor(DRAIN_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
      String exitCode = exited ? " (exit code " + process.exitValue() + ")" : "";
      kill();
      throw new AssertionError(e.getCause().getMessage() + exitCode + outputForMessage(), e.getCause());
    } catch (InterruptedException | RuntimeException e) {
      kill();
      throw e;
    }
    return this;
  }

  /** Reads the node's output until it ends; completes {@link #ready} at the ready line. */
  private void drain(Writer log) {
    try (log;
        BufferedReader lines =
            new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        output.append(line).append('\n');
        log.write(line);
        log.write('\n');
        log.flush();
        Matcher m = READY.matcher(line);
        if (!ready.isDone() && m.find()) {
          long sinceLaunch = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - launchedAt);
          URI gateway = m.group(3) == null ? null : URI.create(m.group(3));
          URI management = m.group(4) == null ? null : URI.create(m.group(4));
          ready.complete(
              new Ready(sinceLaunch, Long.parseLong(m.group(1)), URI.create(m.group(2)), gateway, management));
        }
      }
    } catch (IOException | RuntimeException e) {
      ready.completeExceptionally(new IllegalStateException(name + ": cannot read its output", e));
    } finally {
      ready.completeExceptionally(
          new IllegalStateException(name + " ended its output before logging the ready line"));
    }
  }

  /**
   * SIGTERM, then waits for the JVM to exit; fails if it takes longer than 30 s (it is then
   * killed). Returns the exit code.
   */
  public int stopGracefully() throws InterruptedException {
    return stop(false);
  }

  /** SIGKILL (kill -9), then waits for the JVM to be gone. Returns the exit code. */
  public int kill() throws InterruptedException {
    return stop(true);
  }

  private int stop(boolean forcibly) throws InterruptedException {
    requireStarted();
    if (forcibly) {
      process.destroyForcibly();
    } else {
      process.destroy();
    }
    boolean exited = process.waitFor(STOP_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    if (!exited) {
      process.destroyForcibly().waitFor(STOP_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }
    awaitDrained();
    try {
      Runtime.getRuntime().removeShutdownHook(killOnExit);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or about to: nothing left to undo
    }
    if (!exited) {
      throw new AssertionError(
          name + " did not exit within " + STOP_DEADLINE.toSeconds() + " s of "
              + (forcibly ? "SIGKILL" : "SIGTERM") + " (killed it)" + outputForMessage());
    }
    return process.exitValue();
  }

  /** Kills the JVM if it is still running; a no-op after {@link #stopGracefully} or {@link #kill}. */
  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      kill();
    }
  }

  /** {@code http://host:port} of the admin API, as the ready line announced it. */
  public URI baseUrl() {
    return requireReady().baseUrl();
  }

  /**
   * {@code ws://host:port} of the WebSocket gateway, as the ready line announced it; fails if the
   * line named no gateway.
   */
  public URI gatewayUrl() {
    URI gateway = requireReady().gatewayUrl();
    if (gateway == null) {
      throw new IllegalStateException(name + "'s ready line named no gateway URL" + outputForMessage());
    }
    return gateway;
  }

  /** {@code http://host:port} of Pekko Management (/ready, /alive), as the ready line announced it. */
  public URI managementUrl() {
    URI management = requireReady().managementUrl();
    if (management == null) {
      throw new IllegalStateException(name + "'s ready line named no management URL" + outputForMessage());
    }
    return management;
  }

  /** The OS process id of the node's JVM. */
  public long pid() {
    requireStarted();
    return process.pid();
  }

  /** Milliseconds from launching the JVM to reading its ready line. */
  public long startMillis() {
    return requireReady().millisSinceLaunch();
  }

  /** Milliseconds the node itself reports in its ready line (from Node.start, after JVM boot). */
  public long reportedReadyMillis() {
    return requireReady().reportedMillis();
  }

  public String name() {
    return name;
  }

  /** Everything the node printed so far (stdout and stderr). */
  public String output() {
    return output.toString();
  }

  public Path logFile() {
    return logFile;
  }

  private void awaitDrained() throws InterruptedException {
    if (drainer != null) {
      drainer.join(DRAIN_DEADLINE.toMillis());
    }
  }

  private void destroyQuietly() {
    if (process != null) {
      process.destroyForcibly();
    }
  }

  private String outputForMessage() {
    return "\n--- output of " + name + " (" + logFile.toAbsolutePath() + ") ---\n" + output;
  }

  private void requireStarted() {
    if (process == null) {
      throw new IllegalStateException(name + " was not started");
    }
  }

  private Ready requireReady() {
    if (readyLine == null) {
      throw new IllegalStateException(name + " is not ready (not started, or failed to start)");
    }
    return readyLine;
  }

  private static Path javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java");
  }

  static Path regcastJar() {
    String configured = System.getProperty("regcast.jar");
    if (configured == null || configured.isBlank()) {
      throw new IllegalStateException("system property regcast.jar is not set (see src/e2e/pom.xml)");
    }
    Path jar = Path.of(configured).toAbsolutePath().normalize();
    if (!Files.isRegularFile(jar)) {
      throw new UncheckedIOException(
          new IOException(jar + " does not exist; build it first: mvn -B package -pl engine -DskipTests"));
    }
    return jar;
  }
}

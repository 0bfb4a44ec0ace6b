package io.regcast.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway PostgreSQL for the tests, run by the same commands a developer uses:
 * {@code cluster-config/local-cluster.sh pg-start / pg-stop} with its state in {@code dir} and a
 * port of our choosing (initdb once as the {@code postgres} user, loopback only, the {@code
 * regcast} role and database, the schema from the node's own DDL). {@link #stop} and {@link
 * #start} may be called again and again; the data survives.
 */
public final class LocalPostgres implements AutoCloseable {
  private static final Duration COMMAND_DEADLINE = Duration.ofSeconds(90);

  private final Path dir;
  private final int port;

  private LocalPostgres(Path dir, int port) {
    this.dir = dir;
    this.port = port;
  }

  /** Creates (first time) and starts the database in {@code dir} on {@code port}. */
  public static LocalPostgres start(Path dir, int port) throws IOException, InterruptedException {
    LocalPostgres pg = new LocalPostgres(dir, port);
    pg.start();
    return pg;
  }

  public void start() throws IOException, InterruptedException {
    script("pg-start");
  }

  /** {@code pg_ctl stop -m fast}: open connections are ended. */
  public void stop() throws IOException, InterruptedException {
    script("pg-stop");
  }

  public int port() {
    return port;
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/regcast";
  }

  /** The environment a node needs to use this database (postgres-cluster.conf reads it). */
  public java.util.Map<String, String> nodeEnvironment() {
    return java.util.Map.of(
        "REGCAST_DB", "postgres",
        "REGCAST_JDBC_URL", jdbcUrl(),
        "REGCAST_DB_USER", "regcast",
        "REGCAST_DB_PASSWORD", "regcast");
  }

  @Override
  public void close() throws IOException, InterruptedException {
    stop();
  }

  private void script(String command) throws IOException, InterruptedException {
    Path log = dir.resolve(command + ".out");
    ProcessBuilder builder =
        new ProcessBuilder(List.of("bash", script().toString(), command))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().keySet().removeIf(key -> key.startsWith("REGCAST_"));
    builder.environment().put("REGCAST_CLUSTER_DIR", dir.toString());
    builder.environment().put("REGCAST_PG_PORT", Integer.toString(port));
    builder.environment().put("REGCAST_JAR", NodeProcess.regcastJar().toString());
    Process process = builder.start();
    if (!process.waitFor(COMMAND_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("local-cluster.sh " + command + " did not finish within " + COMMAND_DEADLINE
          + ":\n" + Files.readString(log, UTF_8));
    }
    String output = Files.readString(log, UTF_8);
    if (process.exitValue() != 0) {
      throw new AssertionError("local-cluster.sh " + command + " failed (exit " + process.exitValue() + "):\n" + output);
    }
    System.out.print("[postgres] " + output.replace("\n", "\n[postgres] ").replaceAll("\\[postgres\\] $", ""));
  }

  /** cluster-config/local-cluster.sh of this checkout (system property regcast.cluster-config). */
  static Path script() {
    String configured = System.getProperty("regcast.cluster-config");
    if (configured == null || configured.isBlank()) {
      throw new IllegalStateException("system property regcast.cluster-config is not set (see src/e2e/pom.xml)");
    }
    return Path.of(configured).toAbsolutePath().normalize().resolve("local-cluster.sh");
  }
}

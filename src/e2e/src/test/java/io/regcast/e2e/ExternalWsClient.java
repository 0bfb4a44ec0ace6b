package io.regcast.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A client from {@code src/e2e/clients/} run as a subprocess: every stdout line is one JSON event
 * (see {@link WsClient}); stderr is kept for failure messages. The end of stdout is reported as an
 * {@code {"event":"eof","exitCode":N}} event.
 */
public final class ExternalWsClient implements WsClient {
  private static final Duration EXIT_DEADLINE = Duration.ofSeconds(5);

  private final String kind;
  private final List<String> command;
  private final Process process;
  private final ClientEvents events;
  private final StringBuffer stderr = new StringBuffer();
  private final Thread killOnExit;

  private ExternalWsClient(String kind, List<String> command) throws IOException {
    this.kind = kind;
    this.command = List.copyOf(command);
    this.events = new ClientEvents(kind, this::details);
    this.process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    process.getOutputStream().close();
    killOnExit = new Thread(process::destroyForcibly);
    Runtime.getRuntime().addShutdownHook(killOnExit);
    daemon("stdout-" + kind, this::readEvents).start();
    daemon("stderr-" + kind, () -> copy(process.getErrorStream(), stderr)).start();
  }

  /** The npm {@code ws} client: {@code node clients/node/ws-client.mjs URL}. */
  public static ExternalWsClient node(String url) throws IOException {
    Path dir = clientsDir().resolve("node");
    if (!Files.isDirectory(dir.resolve("node_modules").resolve("ws"))) {
      throw new IllegalStateException(
          dir.resolve("node_modules/ws") + " is missing: run `npm ci --prefix src/e2e/clients/node` (.ci/run does)");
    }
    return new ExternalWsClient("node ws", List.of("node", dir.resolve("ws-client.mjs").toString(), url));
  }

  /**
   * The Python {@code websockets} client on Debian's interpreter (the package python3-websockets
   * is installed for /usr/bin/python3, not for a pyenv python3 that may come first on PATH).
   */
  public static ExternalWsClient python(String url) throws IOException {
    Path script = clientsDir().resolve("python").resolve("ws_client.py");
    return new ExternalWsClient("python websockets", List.of("/usr/bin/python3", "-u", script.toString(), url));
  }

  /** {@code src/e2e/clients}; failsafe runs with the module directory as {@code basedir}. */
  static Path clientsDir() {
    Path dir = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().resolve("clients").normalize();
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException(dir + " does not exist (run the tests from src/e2e or with -Dbasedir)");
    }
    return dir;
  }

  @Override
  public String kind() {
    return kind;
  }

  @Override
  public JsonNode next(Duration deadline) {
    return events.next(deadline);
  }

  @Override
  public void awaitPings(int count, Duration deadline) {
    events.awaitPings(count, deadline);
  }

  /** Waits for the process to exit and returns its exit code (an AssertionError after 5 s). */
  public int exitCode() {
    try {
      if (!process.waitFor(EXIT_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(kind + " did not exit within " + EXIT_DEADLINE + details());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(kind + ": interrupted", e);
    }
    return process.exitValue();
  }

  @Override
  public String details() {
    return "\n--- " + kind + ": " + String.join(" ", command) + (process.isAlive() ? " (running)" : " (exit code "
        + process.exitValue() + ")") + "; stderr ---\n" + stderr;
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(EXIT_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(EXIT_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    try {
      Runtime.getRuntime().removeShutdownHook(killOnExit);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs anyway
    }
  }

  private void readEvents() {
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8))) {
      for (String line; (line = lines.readLine()) != null; ) {
        events.add(parse(line));
      }
    } catch (IOException e) {
      stderr.append("[test] reading stdout failed: ").append(e).append('\n');
    }
    ObjectNode eof = JsonHttp.JSON.createObjectNode().put("event", "eof");
    try {
      eof.put("exitCode", process.waitFor());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    events.add(eof);
  }

  private static JsonNode parse(String line) {
    try {
      JsonNode node = JsonHttp.JSON.readTree(line);
      if (node != null && node.isObject()) {
        return node;
      }
    } catch (IOException notJson) {
      // reported as is, below
    }
    return JsonHttp.JSON.createObjectNode().put("event", "unparsed").put("line", line);
  }

  private static void copy(InputStream from, StringBuffer to) {
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(from, UTF_8))) {
      for (String line; (line = lines.readLine()) != null; ) {
        to.append(line).append('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Thread daemon(String name, Runnable body) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    return thread;
  }
}

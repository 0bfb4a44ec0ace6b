package io.regcast.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A client from {@code src/e2e/clients/} run as a subprocess ({@link ClientProcess}): every stdout
 * line is one JSON event (see {@link WsClient}); stderr is kept for failure messages. The end of
 * stdout is reported as an {@code {"event":"eof","exitCode":N}} event.
 */
public final class ExternalWsClient implements WsClient {
  private final String kind;
  private final ClientEvents events;
  private final ClientProcess process;

  private ExternalWsClient(String kind, List<String> command) throws IOException {
    this.kind = kind;
    this.events = new ClientEvents(kind, this::details);
    this.process =
        new ClientProcess(
            kind,
            new ProcessBuilder(command),
            line -> events.add(parse(line)),
            exitCode -> events.add(JsonHttp.JSON.createObjectNode().put("event", "eof").put("exitCode", exitCode)));
  }

  /** The npm {@code ws} client: {@code node clients/node/ws-client.mjs URL}. */
  public static ExternalWsClient node(String url) throws IOException {
    return node(url, List.of());
  }

  /**
   * The npm {@code ws} client with more arguments after the URL ({@link #v1}: {@code
   * --subprotocol}, {@code --last-event-id}).
   */
  public static ExternalWsClient node(String url, List<String> arguments) throws IOException {
    Path dir = clientsDir().resolve("node");
    if (!Files.isDirectory(dir.resolve("node_modules").resolve("ws"))) {
      throw new IllegalStateException(
          dir.resolve("node_modules/ws") + " is missing: run `npm ci --prefix src/e2e/clients/node` (.ci/run does)");
    }
    List<String> command = new java.util.ArrayList<>(List.of("node", dir.resolve("ws-client.mjs").toString(), url));
    command.addAll(arguments);
    return new ExternalWsClient("node ws", command);
  }

  /**
   * The Python {@code websockets} client on Debian's interpreter (the package python3-websockets
   * is installed for /usr/bin/python3, not for a pyenv python3 that may come first on PATH).
   */
  public static ExternalWsClient python(String url) throws IOException {
    return python(url, List.of());
  }

  /** The Python {@code websockets} client with more arguments after the URL (see {@link #v1}). */
  public static ExternalWsClient python(String url, List<String> arguments) throws IOException {
    Path script = clientsDir().resolve("python").resolve("ws_client.py");
    List<String> command = new java.util.ArrayList<>(List.of("/usr/bin/python3", "-u", script.toString(), url));
    command.addAll(arguments);
    return new ExternalWsClient("python websockets", command);
  }

  /**
   * The arguments that make either client offer the subprotocol regcast.v1 and, if {@code
   * lastEventId} is not null, resume after it (header Last-Event-ID).
   */
  public static List<String> v1(String lastEventId) {
    return lastEventId == null
        ? List.of("--subprotocol", BroadcastClient.V1)
        : List.of("--subprotocol", BroadcastClient.V1, "--last-event-id", lastEventId);
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
    return process.exitCode();
  }

  @Override
  public String details() {
    return process.details();
  }

  @Override
  public void close() {
    process.close();
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
}

package io.regcast.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A real browser as a WebSocket client: headless Chromium (Debian's {@code chromium}) on {@code
 * src/e2e/clients/browser/ws-client.html}, served by this class on a free loopback port. The page
 * opens {@code new WebSocket(url)}, shows each event and POSTs it back here as the JSON of {@link
 * WsClient}, so a test reads exactly what the browser's WebSocket delivered to the page.
 *
 * <p>The browser runs with a User-Agent of its own ({@link #userAgent}: the gateway lists the
 * connection under it) and in a fresh directory that serves as its profile, HOME and TMPDIR, so it
 * leaves nothing behind: {@link #close} ends the browser and its helper processes, stops the
 * server and deletes the directory.
 */
final class BrowserWsClient implements WsClient {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final String PAGE = "/ws-client.html";
  private static final String EVENTS = "/events";

  private final String kind;
  private final String userAgent;
  private final Path home;
  private final ClientEvents events;
  private final HttpServer server;
  private ClientProcess browser;

  private BrowserWsClient(String userAgent, Path home) throws IOException {
    this.kind = "headless chromium";
    this.userAgent = userAgent;
    this.home = home;
    this.events = new ClientEvents(kind, this::details);
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
  }

  /**
   * Serves the page and opens it in headless Chromium, which connects to {@code url}. Read the
   * {@code open} event before relying on the connection.
   */
  static BrowserWsClient open(URI url) throws IOException {
    if (!Files.isExecutable(CHROMIUM)) {
      throw new IllegalStateException(CHROMIUM + " is missing: apt-get install chromium (.ci/run does)");
    }
    Path page = ExternalWsClient.clientsDir().resolve("browser").resolve(PAGE.substring(1));
    byte[] html = Files.readAllBytes(page);
    // Directly in java.io.tmpdir, not in a test's deeper @TempDir: Chromium's singleton socket
    // goes under TMPDIR, and a Unix socket path over 107 bytes makes it abort at start.
    BrowserWsClient client =
        new BrowserWsClient("regcast-browser-" + UUID.randomUUID(), Files.createTempDirectory("regcast-chromium-"));
    try {
      client.serve(html);
      client.launch(url);
      return client;
    } catch (IOException | RuntimeException e) {
      client.close();
      throw e;
    }
  }

  /** The User-Agent the browser sends; the gateway's connection list shows it. */
  String userAgent() {
    return userAgent;
  }

  @Override
  public String kind() {
    return kind;
  }

  @Override
  public JsonNode next(Duration deadline) {
    return events.next(deadline);
  }

  /** A page does not see WebSocket pings: the browser answers them itself. */
  @Override
  public void awaitPings(int count, Duration deadline) {
    throw new UnsupportedOperationException("a browser does not show WebSocket pings to a page");
  }

  @Override
  public String details() {
    return browser == null ? "" : browser.details();
  }

  @Override
  public void close() {
    try {
      if (browser != null) {
        browser.close();
      }
    } finally {
      server.stop(0);
      deleteRecursively(home);
    }
  }

  private void serve(byte[] html) {
    server.createContext(PAGE, exchange -> {
      try (exchange) {
        if (!"GET".equals(exchange.getRequestMethod()) || !PAGE.equals(exchange.getRequestURI().getPath())) {
          exchange.sendResponseHeaders(404, -1);
          return;
        }
        exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(200, html.length);
        exchange.getResponseBody().write(html);
      }
    });
    server.createContext(EVENTS, exchange -> {
      try (exchange) {
        if (!"POST".equals(exchange.getRequestMethod())) {
          exchange.sendResponseHeaders(405, -1);
          return;
        }
        events.add(event(exchange));
        exchange.sendResponseHeaders(204, -1);
      }
    });
    // One thread (the server's own): the page POSTs one event at a time, and they stay in order.
    server.start();
  }

  private void launch(URI url) throws IOException {
    int pagePort = server.getAddress().getPort();
    URI page =
        URI.create("http://127.0.0.1:" + pagePort + PAGE + "?url=" + URLEncoder.encode(url.toString(), UTF_8));
    List<String> command = new ArrayList<>();
    command.add(CHROMIUM.toString());
    command.addAll(
        List.of(
            "--headless",
            "--no-sandbox", // Chromium will not start its sandbox as root, as CI runs
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // Chromium refuses a few "unsafe" ports; free ports are ephemeral ones, but be sure.
            "--explicitly-allowed-ports=" + pagePort + "," + url.getPort(),
            "--user-agent=" + userAgent,
            "--user-data-dir=" + Files.createDirectories(home.resolve("profile"))));
    command.add(page.toString());
    ProcessBuilder builder = new ProcessBuilder(command);
    // Chromium also writes under HOME (~/.config/chromium, ~/.cache) and TMPDIR (its singleton
    // socket, left behind on SIGTERM): both go to the browser's own directory.
    Map<String, String> env = builder.environment();
    env.put("HOME", home.toString());
    env.put("XDG_CONFIG_HOME", home.resolve(".config").toString());
    env.put("XDG_CACHE_HOME", home.resolve(".cache").toString());
    env.put("TMPDIR", Files.createDirectories(home.resolve("tmp")).toString());
    browser =
        new ClientProcess(
            kind,
            builder,
            line -> {}, // Chromium says what it has to say on stderr, kept by ClientProcess
            exitCode -> events.add(JsonHttp.JSON.createObjectNode().put("event", "eof").put("exitCode", exitCode)));
  }

  private JsonNode event(HttpExchange exchange) throws IOException {
    byte[] body = exchange.getRequestBody().readAllBytes();
    try {
      JsonNode event = JsonHttp.JSON.readTree(body);
      if (event != null && event.isObject()) {
        return event;
      }
    } catch (IOException notJson) {
      // reported as is, below
    }
    return JsonHttp.JSON.createObjectNode().put("event", "unparsed").put("line", new String(body, UTF_8));
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete the browser's directory " + dir, e);
    }
  }
}

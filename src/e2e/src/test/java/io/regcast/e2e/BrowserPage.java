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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A page of {@code src/e2e/clients/browser/} in a real browser: headless Chromium (Debian's
 * {@code chromium}), the page served by this class on a free loopback port — its origin, {@code
 * http://127.0.0.1:<port>}, is known before the browser starts ({@link #origin}), e.g. to list it
 * in a gateway's allowed origins. The page gets the URL it is to connect to as {@code ?url=}, and
 * POSTs each event it sees back to {@code /events} here as one JSON object (the events of {@link
 * WsClient}) with the script {@code clients/browser/report.js}, served here too; {@link #events}
 * holds them in order.
 *
 * <p>The browser runs with a User-Agent of the test's choosing and in a fresh directory that
 * serves as its profile, HOME and TMPDIR, so it leaves nothing behind: {@link #close} ends the
 * browser and its helper processes, stops the server and deletes the directory.
 */
final class BrowserPage implements AutoCloseable {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final String EVENTS = "/events";
  /** The script every page loads to report its events ({@code clients/browser/report.js}). */
  private static final String REPORT_SCRIPT = "report.js";

  private final String kind;
  private final String page;
  private final Path home;
  private final ClientEvents events;
  private final HttpServer server;
  private ClientProcess browser;

  private BrowserPage(String kind, String page, Path home) throws IOException {
    this.kind = kind;
    this.page = "/" + page;
    this.home = home;
    this.events = new ClientEvents(kind, this::details);
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
  }

  /**
   * Serves {@code clients/browser/<page>} (e.g. "ws-client.html") and the script it reports with
   * from now on; the browser is started by {@link #open}.
   */
  static BrowserPage serve(String page, String kind) throws IOException {
    if (!Files.isExecutable(CHROMIUM)) {
      throw new IllegalStateException(CHROMIUM + " is missing: apt-get install chromium (.ci/run does)");
    }
    Path pages = ExternalWsClient.clientsDir().resolve("browser");
    byte[] html = Files.readAllBytes(pages.resolve(page));
    byte[] reportScript = Files.readAllBytes(pages.resolve(REPORT_SCRIPT));
    // Directly in java.io.tmpdir, not in a test's deeper @TempDir: Chromium's singleton socket
    // goes under TMPDIR, and a Unix socket path over 107 bytes makes it abort at start.
    BrowserPage served = new BrowserPage(kind, page, Files.createTempDirectory("regcast-chromium-"));
    try {
      served.serve(html, reportScript);
      return served;
    } catch (RuntimeException e) {
      served.close();
      throw e;
    }
  }

  /** {@code http://127.0.0.1:<port>}: the origin of the page, as the browser names it in {@code Origin}. */
  URI origin() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  /** Opens the page in headless Chromium with {@code ?url=target}; the page's first event tells how it went. */
  void open(URI target, String userAgent) throws IOException {
    if (browser != null) {
      throw new IllegalStateException(kind + " is open already");
    }
    int pagePort = server.getAddress().getPort();
    URI url = URI.create(origin() + page + "?url=" + URLEncoder.encode(target.toString(), UTF_8));
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
            "--explicitly-allowed-ports=" + pagePort + "," + target.getPort(),
            "--user-agent=" + userAgent,
            "--user-data-dir=" + Files.createDirectories(home.resolve("profile"))));
    command.add(url.toString());
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

  /** e.g. "headless chromium" — for failure messages. */
  String kind() {
    return kind;
  }

  /** What the page reported, in order. */
  ClientEvents events() {
    return events;
  }

  String details() {
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

  private void serve(byte[] html, byte[] reportScript) {
    serveFile(page, "text/html; charset=utf-8", html);
    serveFile("/" + REPORT_SCRIPT, "text/javascript; charset=utf-8", reportScript);
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

  /** Answers a GET of exactly {@code path} with {@code body}; anything else below it is a 404. */
  private void serveFile(String path, String contentType, byte[] body) {
    server.createContext(path, exchange -> {
      try (exchange) {
        if (!"GET".equals(exchange.getRequestMethod()) || !path.equals(exchange.getRequestURI().getPath())) {
          exchange.sendResponseHeaders(404, -1);
          return;
        }
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
      }
    });
  }

  private static JsonNode event(HttpExchange exchange) throws IOException {
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

package io.regcast.e2e;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.UUID;

/**
 * A real browser as a WebSocket client: headless Chromium on {@code
 * src/e2e/clients/browser/ws-client.html} ({@link BrowserPage}). The page opens {@code new
 * WebSocket(url)}, shows each event and POSTs it back to the test as the JSON of {@link
 * WsClient}, so a test reads exactly what the browser's WebSocket delivered to the page.
 *
 * <p>The browser runs with a User-Agent of its own ({@link #userAgent}: the gateway lists the
 * connection under it).
 */
final class BrowserWsClient extends BrowserClient {
  private final String userAgent;

  private BrowserWsClient(String userAgent, BrowserPage page) {
    super(page);
    this.userAgent = userAgent;
  }

  /**
   * Serves the page and opens it in headless Chromium, which connects to {@code url}. Read the
   * {@code open} event before relying on the connection.
   */
  static BrowserWsClient open(URI url) throws IOException {
    BrowserPage page = BrowserPage.serve("ws-client.html", "headless chromium");
    BrowserWsClient client = new BrowserWsClient("regcast-browser-" + UUID.randomUUID(), page);
    try {
      page.open(url, client.userAgent);
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

  /** A page does not see WebSocket pings: the browser answers them itself. */
  @Override
  public void awaitPings(int count, Duration deadline) {
    throw new UnsupportedOperationException("a browser does not show WebSocket pings to a page");
  }
}

package io.regcast.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.UUID;

/**
 * A browser's own Server-Sent Events client: headless Chromium on {@code
 * src/e2e/clients/browser/event-source.html} ({@link BrowserPage}), which opens {@code new
 * EventSource(url)} and reports what the page sees — {@code open}, {@code message} (with the
 * event's {@code id} and {@code data}), {@code gap}, {@code error} (with the EventSource's {@code
 * readyState}: 0 = it will reconnect by itself, 2 = it gave up). The page is served before the
 * browser starts, so that its {@link #origin} can be listed in (or left out of) a gateway's
 * allowed origins; then {@link #open}.
 */
final class BrowserEventSource extends BrowserClient {
  /** EventSource.readyState after an error when the browser gave up (CLOSED). */
  static final int CLOSED = 2;

  private BrowserEventSource(BrowserPage page) {
    super(page);
  }

  /** Serves the page; nothing connects until {@link #open}. */
  static BrowserEventSource serve() throws IOException {
    return new BrowserEventSource(BrowserPage.serve("event-source.html", "headless chromium EventSource"));
  }

  /** The page's origin ({@code http://127.0.0.1:<port>}), which the browser sends as {@code Origin}. */
  URI origin() {
    return page.origin();
  }

  /** Starts the browser on the page, which opens an EventSource on {@code url} (an {@code http://} URL). */
  BrowserEventSource open(URI url) throws IOException {
    page.open(url, "regcast-browser-" + UUID.randomUUID());
    return this;
  }

  /** The page's next event, or null if none within {@code deadline}. */
  JsonNode poll(Duration deadline) {
    return page.events().poll(deadline);
  }

  /** What the page reported and the test did not read yet, without waiting. */
  java.util.List<JsonNode> takeArrived() {
    return page.events().takeArrived();
  }

  @Override
  public void awaitPings(int count, Duration deadline) {
    throw new UnsupportedOperationException("a page does not see the stream's keep-alive comments");
  }
}

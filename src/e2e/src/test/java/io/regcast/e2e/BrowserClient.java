package io.regcast.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;

/**
 * A client that is a page in headless Chromium ({@link BrowserPage}): what the test reads is what
 * the page reported, and closing it ends the browser. What the page does is the subclass's.
 */
abstract class BrowserClient implements WsClient {
  protected final BrowserPage page;

  protected BrowserClient(BrowserPage page) {
    this.page = page;
  }

  @Override
  public String kind() {
    return page.kind();
  }

  @Override
  public JsonNode next(Duration deadline) {
    return page.events().next(deadline);
  }

  @Override
  public String details() {
    return page.details();
  }

  @Override
  public void close() {
    page.close();
  }
}

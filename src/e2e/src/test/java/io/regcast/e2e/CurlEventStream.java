package io.regcast.e2e;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A Server-Sent Events stream read by Debian's {@code curl -N} (no buffering: each line as it
 * arrives), run as a {@link ClientProcess}: {@code curl -N -sS -i -H 'Accept: text/event-stream'
 * [-H 'Last-Event-ID: …'] [-H 'Origin: …'] URL}. With {@code -i} curl prints the status line and
 * headers first; the body is parsed as the HTML standard's event stream (fields {@code id},
 * {@code event}, {@code data}, {@code retry}; lines starting with {@code :} are comments; a blank
 * line dispatches the event), keeping also what came in which order, so a test can check that
 * {@code retry:} came first.
 */
final class CurlEventStream implements AutoCloseable {
  /**
   * One dispatched event: its type ("message" unless an {@code event:} line said otherwise), its
   * data (lines joined with "\n"), the id of its own {@code id:} line (null if it had none), and
   * when its blank line arrived.
   */
  record Event(String type, String data, String id, long nanos) {}

  /** The status line and headers (names lower-cased). */
  record Head(String statusLine, int status, Map<String, String> headers) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  private final String kind;
  private final ClientProcess curl;
  private final CompletableFuture<Head> head = new CompletableFuture<>();
  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
  /** Body items in order: "retry 1000", "comment", "event <type>", "field <name>" (unknown ones). */
  private final List<String> order = new CopyOnWriteArrayList<>();
  private volatile String retry;
  private volatile int comments;

  // parser state (the stdout thread only)
  private String statusLine;
  private final Map<String, String> headers = new TreeMap<>();
  private boolean inBody;
  private String type;
  private StringBuilder data;
  private String ownId;

  private CurlEventStream(String kind, List<String> command) throws IOException {
    this.kind = kind;
    this.curl =
        new ClientProcess(kind, new ProcessBuilder(command), this::line, exitCode -> {
          head.completeExceptionally(new IllegalStateException("curl exited (" + exitCode + ") before the headers"));
        });
  }

  /**
   * {@code curl -N} on {@code url} (an {@code http://} URL of the gateway's listener) with {@code
   * Accept: text/event-stream} and these extra request headers (e.g. {@code Last-Event-ID}).
   */
  static CurlEventStream open(URI url, Map<String, String> requestHeaders) throws IOException {
    List<String> command =
        new ArrayList<>(List.of("curl", "-N", "-sS", "-i", "--http1.1", "-H", "Accept: text/event-stream"));
    requestHeaders.forEach((name, value) -> command.addAll(List.of("-H", name + ": " + value)));
    command.add(url.toString());
    return new CurlEventStream("curl -N" + (requestHeaders.isEmpty() ? "" : " " + requestHeaders), command);
  }

  /** The status line and headers, once curl printed them (an AssertionError after the deadline). */
  Head head(Duration deadline) {
    try {
      return head.get(deadline.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError(kind + ": no response headers within " + deadline + details());
    } catch (ExecutionException e) {
      throw new AssertionError(kind + ": " + e.getCause().getMessage() + details(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The next dispatched event; an AssertionError naming what came so far if none within the deadline. */
  Event next(Duration deadline) {
    Event event;
    try {
      event = events.poll(deadline.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    if (event == null) {
      throw new AssertionError(kind + ": no event within " + deadline + "; so far " + order + details());
    }
    return event;
  }

  /** The body's items in the order they came: "retry N", "comment", "event TYPE", "field NAME". */
  List<String> order() {
    return List.copyOf(order);
  }

  /** The value of the stream's {@code retry:} field, or null if none came. */
  String retry() {
    return retry;
  }

  int comments() {
    return comments;
  }

  /** Waits until {@code count} comments (keep-alives) have arrived in all. */
  void awaitComments(int count, Duration deadline) throws InterruptedException {
    long until = System.nanoTime() + deadline.toNanos();
    while (comments < count) {
      if (System.nanoTime() > until) {
        throw new AssertionError(kind + ": " + comments + " comments within " + deadline + ", not " + count
            + "; so far " + order + details());
      }
      TimeUnit.MILLISECONDS.sleep(20); // polling interval
    }
  }

  String details() {
    return curl.details();
  }

  @Override
  public void close() {
    curl.close();
  }

  private void line(String raw) {
    if (!inBody) {
      header(raw);
      return;
    }
    if (raw.isEmpty()) {
      dispatch();
      return;
    }
    if (raw.startsWith(":")) {
      comments++;
      order.add("comment");
      return;
    }
    int colon = raw.indexOf(':');
    String field = colon < 0 ? raw : raw.substring(0, colon);
    String value = colon < 0 ? "" : raw.substring(colon + 1);
    if (value.startsWith(" ")) {
      value = value.substring(1);
    }
    switch (field) {
      case "data" -> {
        if (data == null) {
          data = new StringBuilder(value);
        } else {
          data.append('\n').append(value);
        }
      }
      case "event" -> type = value;
      case "id" -> ownId = value;
      case "retry" -> {
        retry = value;
        order.add("retry " + value);
      }
      default -> order.add("field " + field);
    }
  }

  private void header(String raw) {
    String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
    if (statusLine == null) {
      statusLine = line;
      return;
    }
    if (line.isEmpty()) {
      int status;
      try {
        status = Integer.parseInt(statusLine.split(" ")[1]);
      } catch (RuntimeException e) {
        head.completeExceptionally(new IllegalStateException("not an HTTP status line: " + statusLine));
        return;
      }
      if (status == 100) { // an interim answer: the real one follows
        statusLine = null;
        headers.clear();
        return;
      }
      inBody = true;
      head.complete(new Head(statusLine, status, Map.copyOf(headers)));
      return;
    }
    int colon = line.indexOf(':');
    if (colon > 0) {
      headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
    }
  }

  private void dispatch() {
    if (data != null) {
      Event event = new Event(type == null ? "message" : type, data.toString(), ownId, System.nanoTime());
      events.add(event);
      order.add("event " + event.type());
    } else if (ownId != null || type != null) {
      order.add("event without data (id " + ownId + ", type " + type + ")");
    }
    type = null;
    data = null;
    ownId = null;
  }
}

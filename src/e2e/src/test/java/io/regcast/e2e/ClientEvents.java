package io.regcast.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The events one {@link WsClient} reported, in order. {@code ping} events (the client received a
 * ping; its library answers it) are counted and kept out of {@link #next}, so the server's
 * keep-alive pings never get between the events a test expects.
 */
final class ClientEvents {
  private final String kind;
  private final Supplier<String> details;
  private final BlockingQueue<JsonNode> arrived = new LinkedBlockingQueue<>();
  private final Deque<JsonNode> pending = new ArrayDeque<>();
  private final List<JsonNode> seen = new ArrayList<>();
  private int pings;

  ClientEvents(String kind, Supplier<String> details) {
    this.kind = kind;
    this.details = details;
  }

  /** From any thread. */
  void add(JsonNode event) {
    arrived.add(event);
  }

  /** The next event other than a ping. */
  synchronized JsonNode next(Duration deadline) {
    if (!pending.isEmpty()) {
      return record(pending.poll());
    }
    long until = System.nanoTime() + deadline.toNanos();
    while (true) {
      JsonNode event = poll(until, deadline, "event");
      if (!isPing(event)) {
        return record(event);
      }
      pings++;
    }
  }

  /** The next event other than a ping, or null if none arrives within {@code deadline}. */
  synchronized JsonNode poll(Duration deadline) {
    if (!pending.isEmpty()) {
      return record(pending.poll());
    }
    long until = System.nanoTime() + deadline.toNanos();
    while (true) {
      JsonNode event;
      try {
        event = arrived.poll(Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(kind + ": interrupted", e);
      }
      if (event == null) {
        return null;
      }
      if (!isPing(event)) {
        return record(event);
      }
      pings++;
    }
  }

  /** Waits until at least {@code count} pings have arrived in all; other events stay queued. */
  synchronized void awaitPings(int count, Duration deadline) {
    long until = System.nanoTime() + deadline.toNanos();
    while (pings < count) {
      JsonNode event = poll(until, deadline, count + " pings (got " + pings + ")");
      if (isPing(event)) {
        pings++;
      } else {
        pending.add(event);
      }
    }
  }

  /** Every event other than a ping that has arrived and was not read yet, without waiting; they count as read. */
  synchronized List<JsonNode> takeArrived() {
    List<JsonNode> out = new ArrayList<>();
    while (!pending.isEmpty()) {
      out.add(record(pending.poll()));
    }
    for (JsonNode event; (event = arrived.poll()) != null; ) {
      if (isPing(event)) {
        pings++;
      } else {
        out.add(record(event));
      }
    }
    return out;
  }

  synchronized int pings() {
    return pings;
  }

  private JsonNode poll(long untilNanos, Duration deadline, String what) {
    JsonNode event;
    try {
      event = arrived.poll(Math.max(0, untilNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(kind + ": interrupted", e);
    }
    if (event == null) {
      throw new AssertionError(
          kind + ": no " + what + " within " + deadline + "; events so far " + seen + ", pending " + pending
              + ", pings " + pings + details.get());
    }
    return event;
  }

  private JsonNode record(JsonNode event) {
    seen.add(event);
    return event;
  }

  private static boolean isPing(JsonNode event) {
    return "ping".equals(event.path("event").asText());
  }
}

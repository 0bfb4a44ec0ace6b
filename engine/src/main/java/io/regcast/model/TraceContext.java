package io.regcast.model;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The W3C trace context an ingest request carried ({@code traceparent}), rendered into each
 * event's {@code tracing_context}. The span id is derived from the event id, so a redelivered
 * event renders identically.
 */
public record TraceContext(String traceId, String parentSpanId) implements JsonSerializable {
  private static final Pattern TRACEPARENT =
      Pattern.compile("([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})");

  /** Parses a {@code traceparent} header; empty when absent, malformed or all-zero. */
  public static Optional<TraceContext> fromTraceparent(String header) {
    if (header == null) {
      return Optional.empty();
    }
    var m = TRACEPARENT.matcher(header.trim().toLowerCase());
    if (!m.matches() || m.group(1).equals("ff") || m.group(2).matches("0+") || m.group(3).matches("0+")) {
      return Optional.empty();
    }
    return Optional.of(new TraceContext(m.group(2), m.group(3)));
  }
}

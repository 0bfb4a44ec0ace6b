package io.regcast.model;

import java.time.Duration;

/**
 * How much of a gateway path's stream its log keeps for clients that resume: at most {@code
 * maxMessages} messages (0 = none: messages are still ordered and confirmed, but not kept), none
 * older than {@code maxAge}.
 */
public record HistorySettings(int maxMessages, Duration maxAge) implements JsonSerializable {
  public static final int MAX_MESSAGES = 100_000;

  public HistorySettings {
    if (maxMessages < 0 || maxMessages > MAX_MESSAGES || maxAge == null || maxAge.isNegative() || maxAge.isZero()) {
      throw new IllegalArgumentException("history settings out of range: " + maxMessages + ", " + maxAge);
    }
  }

  /** The settings that apply: the gateway's own, or the node's defaults when it has none. */
  public static HistorySettings orDefault(HistorySettings own, HistorySettings defaults) {
    return own == null ? defaults : own;
  }
}

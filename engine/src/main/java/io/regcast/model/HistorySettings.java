package io.regcast.model;

import java.time.Duration;

/**
 * How much of a gateway path's stream its log keeps for clients that resume: at most {@code
 * maxMessages} messages (0 = none: messages are still ordered and confirmed, but not kept), none
 * older than {@code maxAge}.
 */
public record HistorySettings(int maxMessages, Duration maxAge) implements JsonSerializable {
  public static final int MAX_MESSAGES = 100_000;
  /** The longest age a gateway may ask for: a resume after longer is a fresh start anyway. */
  public static final Duration MAX_AGE = Duration.ofDays(30);

  public HistorySettings {
    if (maxMessages < 0 || maxMessages > MAX_MESSAGES || maxAge == null || maxAge.isNegative() || maxAge.isZero()) {
      throw new IllegalArgumentException("history settings out of range: " + maxMessages + ", " + maxAge);
    }
  }

  /** The settings that apply: the gateway's own, or the node's defaults when it has none. */
  public static HistorySettings orDefault(HistorySettings own, HistorySettings defaults) {
    return own == null ? defaults : own;
  }

  /** The rules for a gateway's requested values (null = not given); fields {@code maxMessages}, {@code maxAge}. */
  public static void check(Violations v, Long maxMessages, Duration maxAge) {
    v.check(maxMessages == null || (maxMessages >= 0 && maxMessages <= MAX_MESSAGES),
        "maxMessages", "must be between 0 and 100000 (0 keeps no message)");
    v.check(maxAge == null || (!maxAge.isNegative() && !maxAge.isZero() && maxAge.compareTo(MAX_AGE) <= 0),
        "maxAge", "must be more than 0s and at most 2592000s (30 days)");
  }

  /** Settings from requested values (see {@link #check}); a member not given takes its value from {@code defaults}. */
  public static HistorySettings of(Long maxMessages, Duration maxAge, HistorySettings defaults) {
    Violations v = new Violations();
    check(v, maxMessages, maxAge);
    v.throwIfAny();
    return new HistorySettings(
        maxMessages == null ? defaults.maxMessages() : maxMessages.intValue(),
        maxAge == null ? defaults.maxAge() : maxAge);
  }
}

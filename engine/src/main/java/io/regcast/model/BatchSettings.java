package io.regcast.model;

import java.time.Duration;

/**
 * When a batch is sent: at {@code size} events or {@code cutoff} after its first event, whichever
 * comes first.
 */
public record BatchSettings(int size, Duration cutoff) implements JsonSerializable {
  public static final int MAX_SIZE = 1000;
  public static final Duration MIN_CUTOFF = Duration.ofSeconds(1);
  public static final Duration MAX_CUTOFF = Duration.ofSeconds(60);
  public static final BatchSettings DEFAULT = new BatchSettings(1, MIN_CUTOFF);

  public BatchSettings {
    Violations v = new Violations();
    v.check(size >= 1 && size <= MAX_SIZE, "size", "must be between 0 and 1000 (0 means 1)");
    v.check(
        cutoff != null && cutoff.compareTo(MIN_CUTOFF) >= 0 && cutoff.compareTo(MAX_CUTOFF) <= 0,
        "cutoff",
        "must be between 1s and 60s");
    v.throwIfAny();
  }

  /** Applies the reference's defaults: size 0 means 1, a zero cutoff means 1 s. */
  public static BatchSettings of(long size, Duration cutoff) {
    if (size < 0 || size > MAX_SIZE) {
      throw Problem.invalid("size", "must be between 0 and 1000 (0 means 1)").toException();
    }
    return new BatchSettings(
        size == 0 ? 1 : (int) size, cutoff == null || cutoff.isZero() ? MIN_CUTOFF : cutoff);
  }
}

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
    if (size < 1 || size > MAX_SIZE || cutoff == null
        || cutoff.compareTo(MIN_CUTOFF) < 0 || cutoff.compareTo(MAX_CUTOFF) > 0) {
      throw new IllegalArgumentException("batch settings out of range: " + size + ", " + cutoff);
    }
  }

  /**
   * The rules for requested values, where the reference's defaults apply: size 0 means 1, a zero
   * cutoff means 1 s.
   */
  public static void check(Violations v, long size, Duration cutoff) {
    v.check(size >= 0 && size <= MAX_SIZE, "size", "must be between 0 and 1000 (0 means 1)");
    v.check(
        cutoff == null
            || cutoff.isZero()
            || (cutoff.compareTo(MIN_CUTOFF) >= 0 && cutoff.compareTo(MAX_CUTOFF) <= 0),
        "cutoff",
        "must be between 1s and 60s");
  }

  /** Settings from requested values (see {@link #check}); null arguments mean "not given". */
  public static BatchSettings of(Long size, Duration cutoff) {
    long requested = size == null ? 0 : size;
    Violations v = new Violations();
    check(v, requested, cutoff);
    v.throwIfAny();
    return new BatchSettings(
        requested == 0 ? 1 : (int) requested,
        cutoff == null || cutoff.isZero() ? MIN_CUTOFF : cutoff);
  }
}

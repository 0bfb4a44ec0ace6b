package io.regcast.model;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/**
 * Resource ids in the reference product's shape: a 3-character type prefix and 17 random
 * characters of {@code [a-z0-9]}, 20 in all.
 */
public final class Ids {
  public static final int MAX_LENGTH = 50;
  private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
  private static final SecureRandom RANDOM = new SecureRandom();

  private Ids() {}

  public static String next(String prefix) {
    StringBuilder id = new StringBuilder(20).append(prefix);
    while (id.length() < 20) {
      id.append(ALPHABET[RANDOM.nextInt(ALPHABET.length)]);
    }
    return id.toString();
  }

  /**
   * A deterministic id: {@code prefix} + characters of a SHA-256 of the parts (20 in all), so the
   * same event or image gets the same id however and however often it is derived. On the ingest
   * path: two per event, so no BigInteger and no digest lookup per call.
   */
  public static String derived(String prefix, String... parts) {
    MessageDigest sha = SHA256.get();
    for (String part : parts) {
      sha.update(part.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
    }
    ByteBuffer hash = ByteBuffer.wrap(sha.digest());
    long high = hash.getLong();
    long low = hash.getLong();
    StringBuilder id = new StringBuilder(20).append(prefix);
    while (id.length() < 20) {
      // 12 base-36 digits from the first 64 bits (36^12 < 2^64), the rest from the next 64
      boolean fromHigh = id.length() < prefix.length() + 12;
      long value = fromHigh ? high : low;
      id.append(ALPHABET[(int) Long.remainderUnsigned(value, ALPHABET.length)]);
      if (fromHigh) {
        high = Long.divideUnsigned(high, ALPHABET.length);
      } else {
        low = Long.divideUnsigned(low, ALPHABET.length);
      }
    }
    return id.toString();
  }

  private static final ThreadLocal<MessageDigest> SHA256 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("SHA-256 is missing from this JVM", e);
            }
          });

  /** Checks a reference to another resource: present and at most 50 characters. */
  public static void checkReference(Violations v, String field, String id) {
    if (v.check(id != null && !id.isEmpty(), field, "is required")) {
      v.check(id.length() <= MAX_LENGTH, field, "must be at most " + MAX_LENGTH + " characters");
    }
  }
}

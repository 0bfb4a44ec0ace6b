package io.regcast.model;

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
   * A deterministic id: {@code prefix} + 17 characters of a SHA-256 of the parts, so the same
   * event or image gets the same id however and however often it is derived.
   */
  public static String derived(String prefix, String... parts) {
    try {
      var sha = java.security.MessageDigest.getInstance("SHA-256");
      for (String part : parts) {
        sha.update(part.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        sha.update((byte) 0);
      }
      var number = new java.math.BigInteger(1, sha.digest());
      StringBuilder id = new StringBuilder(20).append(prefix);
      var base = java.math.BigInteger.valueOf(ALPHABET.length);
      while (id.length() < 20) {
        var qr = number.divideAndRemainder(base);
        id.append(ALPHABET[qr[1].intValue()]);
        number = qr[0];
      }
      return id.toString();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Checks a reference to another resource: present and at most 50 characters. */
  public static void checkReference(Violations v, String field, String id) {
    if (v.check(id != null && !id.isEmpty(), field, "is required")) {
      v.check(id.length() <= MAX_LENGTH, field, "must be at most " + MAX_LENGTH + " characters");
    }
  }
}

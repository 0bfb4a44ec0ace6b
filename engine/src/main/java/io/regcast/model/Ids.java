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

  /** Checks a reference to another resource: present and at most 50 characters. */
  public static void checkReference(Violations v, String field, String id) {
    if (v.check(id != null && !id.isEmpty(), field, "is required")) {
      v.check(id.length() <= MAX_LENGTH, field, "must be at most " + MAX_LENGTH + " characters");
    }
  }
}

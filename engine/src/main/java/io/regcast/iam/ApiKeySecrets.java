package io.regcast.iam;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * API key secrets: 256 random bits, shown once; only their SHA-256 is stored (a secret this long
 * needs no salt or slow hash: it cannot be guessed).
 */
public final class ApiKeySecrets {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String PREFIX = "rck_";

  private ApiKeySecrets() {}

  public static String generate() {
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
  }

  /** The key in an {@code Authorization} value: {@code Bearer <key>} or {@code Api-Key <key>}. */
  public static java.util.Optional<String> fromAuthorization(String value) {
    if (value != null) {
      for (String scheme : new String[] {"Bearer ", "Api-Key "}) {
        if (value.regionMatches(true, 0, scheme, 0, scheme.length())) {
          String key = value.substring(scheme.length()).trim();
          return key.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(key);
        }
      }
    }
    return java.util.Optional.empty();
  }

  public static String hash(String secret) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}

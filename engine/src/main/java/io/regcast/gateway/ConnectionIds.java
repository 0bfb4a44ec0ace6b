package io.regcast.gateway;

import java.security.SecureRandom;

/**
 * Connection ids name the node that holds the connection: {@code c} + a 6-character node token +
 * 13 random characters, so any node can route a connections API call to the right one.
 */
public final class ConnectionIds {
  static final int TOKEN_LENGTH = 6;
  private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
  /** One generator per thread: event loops mint ids concurrently. */
  private static final ThreadLocal<SecureRandom> RANDOM = ThreadLocal.withInitial(SecureRandom::new);

  private ConnectionIds() {}

  /** The token of the node at {@code address} (host:port of its cluster address). */
  public static String nodeToken(String address) {
    long hash = 1125899906842597L;
    for (int i = 0; i < address.length(); i++) {
      hash = 31 * hash + address.charAt(i);
    }
    StringBuilder token = new StringBuilder(TOKEN_LENGTH);
    long h = hash & Long.MAX_VALUE;
    for (int i = 0; i < TOKEN_LENGTH; i++) {
      token.append(ALPHABET[(int) (h % ALPHABET.length)]);
      h /= ALPHABET.length;
    }
    return token.toString();
  }

  static String next(String nodeToken) {
    StringBuilder id = new StringBuilder(20).append('c').append(nodeToken);
    while (id.length() < 20) {
      id.append(ALPHABET[RANDOM.get().nextInt(ALPHABET.length)]);
    }
    return id.toString();
  }

  /** The node token inside a connection id, or null when the id is not one of ours. */
  public static String tokenOf(String connectionId) {
    return connectionId.length() == 20 && connectionId.charAt(0) == 'c'
        ? connectionId.substring(1, 1 + TOKEN_LENGTH)
        : null;
  }
}

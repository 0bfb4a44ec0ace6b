package io.regcast.bench;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The tag every benchmark message carries, wherever the server puts it in the payload:
 * {@code "tag":"e<seq>-<micros>"} with the sequence number in 10 digits and the publisher's send
 * time ({@code System.nanoTime() / 1000}) in 15, so a message's length does not depend on them.
 * For the peers the tag opens the payload; for regcast it is the tag of the pushed image, which
 * the trigger renders into the message's {@code details}.
 */
final class Tag {
  static final String PLACEHOLDER = "@TAG@";
  static final int WIDTH = 1 + 10 + 1 + 15;
  private static final byte[] MARKER = "\"tag\":\"e".getBytes(StandardCharsets.US_ASCII);
  /** Where the marker was found last: every message of a run has it at the same place. */
  private static int lastAt = -1;

  private Tag() {}

  static String token(long seq, long micros) {
    return String.format(Locale.ROOT, "e%010d-%015d", seq, micros);
  }

  /** Writes the token into {@code out} at {@code at} (WIDTH bytes), without allocating. */
  static void write(byte[] out, int at, long seq, long micros) {
    out[at] = 'e';
    digits(out, at + 1, 10, seq);
    out[at + 11] = '-';
    digits(out, at + 12, 15, micros);
  }

  private static void digits(byte[] out, int at, int width, long value) {
    for (int i = at + width - 1; i >= at; i--) {
      out[i] = (byte) ('0' + value % 10);
      value /= 10;
    }
  }

  /** A payload of about {@code size} bytes: {@code {"tag":"e…","data":"xxx…"}}, with the placeholder. */
  static String payloadTemplate(int size) {
    String head = "{\"tag\":\"" + PLACEHOLDER + "\",\"data\":\"";
    int pad = Math.max(0, size - (head.length() - PLACEHOLDER.length() + WIDTH) - 2);
    return head + "x".repeat(pad) + "\"}";
  }

  /** The offset just after the marker in {@code b[0, length)}, or -1. */
  static int find(byte[] b, int length) {
    int last = lastAt;
    if (last >= 0 && matches(b, length, last)) {
      return last + MARKER.length;
    }
    outer:
    for (int i = 0; i + MARKER.length <= length; i++) {
      for (int j = 0; j < MARKER.length; j++) {
        if (b[i + j] != MARKER[j]) {
          continue outer;
        }
      }
      lastAt = i;
      return i + MARKER.length;
    }
    return -1;
  }

  private static boolean matches(byte[] b, int length, int at) {
    if (at + MARKER.length > length) {
      return false;
    }
    for (int j = 0; j < MARKER.length; j++) {
      if (b[at + j] != MARKER[j]) {
        return false;
      }
    }
    return true;
  }

  /** The sequence number at {@code at} (after the marker). */
  static long seq(byte[] b, int at) {
    long v = 0;
    for (int i = at; i < b.length; i++) {
      int d = b[i] - '0';
      if (d < 0 || d > 9) {
        break;
      }
      v = v * 10 + d;
    }
    return v;
  }

  /** The send time after the sequence number's '-', or -1 if there is none. */
  static long micros(byte[] b, int at) {
    int i = at;
    while (i < b.length && b[i] >= '0' && b[i] <= '9') {
      i++;
    }
    if (i >= b.length || b[i] != '-') {
      return -1;
    }
    long v = 0;
    for (i++; i < b.length && b[i] >= '0' && b[i] <= '9'; i++) {
      v = v * 10 + (b[i] - '0');
    }
    return v;
  }

  /** Where the tag's value ends (its closing quote), within {@code length}. */
  static int end(byte[] b, int at, int length) {
    int i = at;
    while (i < length && b[i] != '"') {
      i++;
    }
    return i + 1;
  }
}

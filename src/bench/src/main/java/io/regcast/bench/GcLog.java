package io.regcast.bench;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads another JVM's GC log ({@code -Xlog:gc:file=…}, one line a pause, flushed per line) as it
 * grows: {@link #next} sums up the pauses logged since the previous call.
 */
final class GcLog {
  /** {@code [12.345s][info][gc] GC(7) Pause Young (Allocation Failure) 273M->12M(989M) 15.123ms}. */
  private static final Pattern PAUSE = Pattern.compile("GC\\(\\d+\\) Pause .* (\\d+(?:\\.\\d+)?)ms$");
  /** {@code [0.006s][info][gc] Using Serial}. */
  private static final Pattern USING = Pattern.compile("\\[gc\\] Using (.+)$");

  /** Pauses in one interval: how many, their sum and the longest, in ms. */
  record Pauses(int count, double totalMillis, double maxMillis) {}

  private final Path file;
  private long offset;
  private String collector = "?";

  GcLog(Path file) {
    this.file = file;
  }

  /** The JVM option that writes this log. */
  String option() {
    return "-Xlog:gc:file=" + file;
  }

  String collector() {
    return collector;
  }

  /** The pauses logged since the last call (complete lines only). */
  synchronized Pauses next() {
    int count = 0;
    double total = 0;
    double max = 0;
    if (!Files.isReadable(file)) {
      return new Pauses(0, 0, 0);
    }
    try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
      long length = in.length();
      if (length <= offset) {
        return new Pauses(0, 0, 0);
      }
      byte[] bytes = new byte[(int) (length - offset)];
      in.seek(offset);
      in.readFully(bytes);
      int end = lastNewline(bytes);
      if (end < 0) {
        return new Pauses(0, 0, 0);
      }
      offset += end + 1;
      for (String line : new String(bytes, 0, end, StandardCharsets.UTF_8).split("\n")) {
        Matcher m = PAUSE.matcher(line.trim());
        if (m.find()) {
          double ms = Double.parseDouble(m.group(1));
          count++;
          total += ms;
          max = Math.max(max, ms);
          continue;
        }
        Matcher u = USING.matcher(line.trim());
        if (u.find()) {
          collector = u.group(1);
        }
      }
    } catch (IOException | RuntimeException e) {
      // a log we cannot read: no figures
    }
    return new Pauses(count, total, max);
  }

  private static int lastNewline(byte[] bytes) {
    for (int i = bytes.length - 1; i >= 0; i--) {
      if (bytes[i] == '\n') {
        return i;
      }
    }
    return -1;
  }
}

package io.regcast.bench;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads other JVMs' GC logs ({@code -Xlog:gc:file=…}, one line a pause, flushed per line) as they
 * grow: {@link #next} sums up the pauses logged since the previous call, over every log (a cluster:
 * one per node).
 */
final class GcLog {
  /** {@code [12.345s][info][gc] GC(7) Pause Young (Allocation Failure) 273M->12M(989M) 15.123ms}. */
  private static final Pattern PAUSE = Pattern.compile("GC\\(\\d+\\) Pause .* (\\d+(?:\\.\\d+)?)ms$");
  /** {@code [0.006s][info][gc] Using Serial}. */
  private static final Pattern USING = Pattern.compile("\\[gc\\] Using (.+)$");

  /** Pauses in one interval: how many, their sum and the longest, in ms. */
  record Pauses(int count, double totalMillis, double maxMillis) {
    Pauses plus(Pauses other) {
      return new Pauses(count + other.count, totalMillis + other.totalMillis, Math.max(maxMillis, other.maxMillis));
    }
  }

  private static final Pauses NONE = new Pauses(0, 0, 0);

  private final List<Path> files;
  private final long[] offsets;
  private String collector = "?";

  GcLog(Path file) {
    this(List.of(file));
  }

  GcLog(List<Path> files) {
    this.files = List.copyOf(files);
    this.offsets = new long[files.size()];
  }

  /** The JVM option that writes this (single) log. */
  String option() {
    return "-Xlog:gc:file=" + files.get(0);
  }

  String collector() {
    return collector;
  }

  /** The pauses logged since the last call (complete lines only), summed over every log. */
  synchronized Pauses next() {
    Pauses sum = NONE;
    for (int i = 0; i < files.size(); i++) {
      sum = sum.plus(next(i));
    }
    return sum;
  }

  private Pauses next(int index) {
    Path file = files.get(index);
    int count = 0;
    double total = 0;
    double max = 0;
    if (!Files.isReadable(file)) {
      return NONE;
    }
    try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
      long length = in.length();
      if (length <= offsets[index]) {
        return NONE;
      }
      byte[] bytes = new byte[(int) (length - offsets[index])];
      in.seek(offsets[index]);
      in.readFully(bytes);
      int end = lastNewline(bytes);
      if (end < 0) {
        return NONE;
      }
      offsets[index] += end + 1;
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

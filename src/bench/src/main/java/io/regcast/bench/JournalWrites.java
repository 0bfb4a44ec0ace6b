package io.regcast.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The node's {@code regcast_journal_write_duration_seconds} histogram for one entity ({@code
 * registry}, {@code trigger}, {@code path_log}), read from its {@code GET /metrics}: count, sum and
 * the classic buckets. {@link #minus} gives one phase's writes; the percentiles are bucket bounds
 * (the histogram keeps no more).
 */
record JournalWrites(String entity, long count, double sumSeconds, TreeMap<Double, Long> buckets) {
  static final String METRIC = "regcast_journal_write_duration_seconds";

  /** The entity's histogram in a Prometheus text scrape; zeros if it is not there. */
  static JournalWrites parse(String scrape, String entity) {
    long count = 0;
    double sum = 0;
    TreeMap<Double, Long> buckets = new TreeMap<>();
    String label = "entity=\"" + entity + "\"";
    for (String line : scrape.split("\n")) {
      if (!line.startsWith(METRIC) || !line.contains(label)) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      if (space < 0) {
        continue;
      }
      double value;
      try {
        value = Double.parseDouble(line.substring(space + 1).trim());
      } catch (NumberFormatException e) {
        continue;
      }
      if (line.startsWith(METRIC + "_count")) {
        count = (long) value;
      } else if (line.startsWith(METRIC + "_sum")) {
        sum = value;
      } else if (line.startsWith(METRIC + "_bucket")) {
        int le = line.indexOf("le=\"");
        if (le >= 0) {
          String bound = line.substring(le + 4, line.indexOf('"', le + 4));
          buckets.put(bound.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bound), (long) value);
        }
      }
    }
    return new JournalWrites(entity, count, sum, buckets);
  }

  /** The writes between {@code before} and this scrape. */
  JournalWrites minus(JournalWrites before) {
    TreeMap<Double, Long> b = new TreeMap<>();
    for (Map.Entry<Double, Long> e : buckets.entrySet()) {
      b.put(e.getKey(), e.getValue() - before.buckets.getOrDefault(e.getKey(), 0L));
    }
    return new JournalWrites(entity, count - before.count, sumSeconds - before.sumSeconds, b);
  }

  double meanMillis() {
    return count == 0 ? Double.NaN : 1000 * sumSeconds / count;
  }

  /** The bucket bound (ms) at or below which {@code p}% of the writes took; +Inf if beyond the last. */
  double percentileBoundMillis(double p) {
    long target = (long) Math.ceil(count * p / 100.0);
    for (Map.Entry<Double, Long> e : buckets.entrySet()) {
      if (e.getValue() >= target) {
        return e.getKey() * 1000;
      }
    }
    return Double.POSITIVE_INFINITY;
  }

  /** {@code n 600, mean 1.23 ms, p50 ≤ 2.5, p99 ≤ 10 ms}. */
  String summary() {
    if (count == 0) {
      return "none";
    }
    return String.format(Locale.ROOT, "n %d, mean %.2f ms, p50 ≤ %s, p99 ≤ %s ms", count, meanMillis(),
        bound(percentileBoundMillis(50)), bound(percentileBoundMillis(99)));
  }

  private static String bound(double ms) {
    return Double.isInfinite(ms) ? "∞" : ms < 10 ? String.format(Locale.ROOT, "%.1f", ms) : String.format(Locale.ROOT, "%.0f", ms);
  }

  /** The three entities' histograms in one scrape. */
  static List<JournalWrites> all(String scrape) {
    List<JournalWrites> l = new ArrayList<>();
    for (String e : List.of("registry", "trigger", "path_log")) {
      l.add(parse(scrape, e));
    }
    return l;
  }

  /** The value of a counter (its {@code _total} sample, summed over labels) in a scrape; 0 if absent. */
  static double counter(String scrape, String name) {
    double sum = 0;
    for (String line : scrape.split("\n")) {
      if (line.startsWith(name + "_total ") || line.startsWith(name + "_total{")) {
        try {
          sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).trim());
        } catch (NumberFormatException e) {
          // not a sample
        }
      }
    }
    return sum;
  }
}

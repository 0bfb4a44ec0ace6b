package io.regcast.testing;

import java.util.Map;
import java.util.TreeMap;

/**
 * Reads the samples of a Prometheus text exposition (format 0.0.4): each sample keyed by its name
 * and labels in one canonical form, {@code name{a="x",b="y"}} with the labels sorted by name (no
 * braces without labels), so that a test can compare against literal keys.
 */
public final class PrometheusText {
  private PrometheusText() {}

  public static Map<String, Double> parse(String exposition) {
    Map<String, Double> samples = new TreeMap<>();
    for (String line : exposition.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int at = 0;
      while (at < line.length() && line.charAt(at) != '{' && line.charAt(at) != ' ') {
        at++;
      }
      String name = line.substring(0, at);
      Map<String, String> labels = new TreeMap<>();
      if (at < line.length() && line.charAt(at) == '{') {
        at = labels(line, at + 1, labels);
      }
      String[] rest = line.substring(at).trim().split(" ");
      samples.put(key(name, labels), value(rest[0]));
    }
    return samples;
  }

  /** The canonical key of a sample. */
  public static String key(String name, Map<String, String> labels) {
    if (labels.isEmpty()) {
      return name;
    }
    StringBuilder key = new StringBuilder(name).append('{');
    new TreeMap<>(labels).forEach((label, value) -> key.append(label).append("=\"").append(value).append("\","));
    key.setLength(key.length() - 1);
    return key.append('}').toString();
  }

  /** Parses {@code a="x",b="y"}} from {@code at} (after the brace); returns the index after the closing brace. */
  private static int labels(String line, int at, Map<String, String> into) {
    while (line.charAt(at) != '}') {
      int equals = line.indexOf('=', at);
      String label = line.substring(at, equals).trim();
      if (line.charAt(equals + 1) != '"') {
        throw new IllegalArgumentException("label value not quoted: " + line);
      }
      StringBuilder value = new StringBuilder();
      int i = equals + 2;
      for (char c = line.charAt(i); c != '"'; c = line.charAt(++i)) {
        if (c == '\\') {
          char escaped = line.charAt(++i);
          value.append(escaped == 'n' ? '\n' : escaped);
        } else {
          value.append(c);
        }
      }
      into.put(label, value.toString());
      at = i + 1;
      if (line.charAt(at) == ',') {
        at++;
      }
    }
    return at + 1;
  }

  private static double value(String text) {
    return switch (text) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      default -> Double.parseDouble(text);
    };
  }
}

package io.regcast.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import io.regcast.model.Violations;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the fields of one JSON object with proto-JSON conventions (int64 as number or decimal
 * string, durations as {@code "20s"}), recording a violation per wrong field instead of stopping
 * at the first. A null or absent field reads as null. Field names are dotted paths from the root.
 * Durations are also written here, in the one format they are read in.
 */
final class JsonFields {
  private static final Pattern INT64 = Pattern.compile("-?\\d{1,19}");
  private static final Pattern DURATION = Pattern.compile("(-?\\d{1,12})(?:\\.(\\d{1,9}))?s");

  private final JsonNode node;
  private final String path;
  private final Violations violations;

  private JsonFields(JsonNode node, String path, Violations violations) {
    this.node = node;
    this.path = path;
    this.violations = violations;
  }

  /** The root object of a request body; a body that is not an object is refused at once. */
  static JsonFields root(JsonNode body, Violations violations) {
    if (body == null || !body.isObject()) {
      violations.add("", "the request body must be a JSON object").throwIfAny();
    }
    return new JsonFields(body, "", violations);
  }

  String path(String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  boolean has(String field) {
    return node.hasNonNull(field);
  }

  /** Records every field not in {@code known}: a typo must not be silently ignored. */
  JsonFields allowOnly(Set<String> known) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!known.contains(name)) {
        violations.add(path(name), "is not a known field (known: " + String.join(", ", sorted(known)) + ")");
      }
    }
    return this;
  }

  String string(String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isTextual()) {
      return wrongType(field, "a string");
    }
    return value.textValue();
  }

  Boolean bool(String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isBoolean()) {
      return wrongType(field, "true or false");
    }
    return value.booleanValue();
  }

  /** An int64 field: a JSON integer or a decimal string. */
  Long int64(String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (value.isIntegralNumber() && value.canConvertToLong()) {
      return value.longValue();
    }
    if (value.isTextual() && INT64.matcher(value.textValue()).matches()) {
      try {
        return Long.parseLong(value.textValue());
      } catch (NumberFormatException e) {
        return wrongType(field, "an integer (a JSON number or a decimal string)");
      }
    }
    return wrongType(field, "an integer (a JSON number or a decimal string)");
  }

  /** A proto-JSON duration: decimal seconds with an {@code s} suffix, e.g. {@code "20s"}. */
  Duration duration(String field) {
    String text = string(field);
    if (text == null) {
      return null;
    }
    var m = DURATION.matcher(text);
    if (!m.matches()) {
      return wrongType(field, "a duration in seconds such as \"20s\" or \"1.5s\"");
    }
    BigDecimal seconds = new BigDecimal(m.group(1) + (m.group(2) == null ? "" : "." + m.group(2)));
    return Duration.ofSeconds(seconds.longValue(), seconds.remainder(BigDecimal.ONE).movePointRight(9).longValue());
  }

  /** Writes a duration as {@link #duration} reads it: whole seconds as {@code "20s"}, else 3, 6 or 9 fraction digits. */
  static String formatDuration(Duration d) {
    BigDecimal seconds = BigDecimal.valueOf(d.getSeconds()).add(BigDecimal.valueOf(d.getNano(), 9));
    if (d.getNano() == 0) {
      return d.getSeconds() + "s";
    }
    int scale = d.getNano() % 1_000_000 == 0 ? 3 : d.getNano() % 1000 == 0 ? 6 : 9;
    return seconds.setScale(scale, java.math.RoundingMode.UNNECESSARY).toPlainString() + "s";
  }

  List<String> strings(String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isArray()) {
      return wrongType(field, "an array of strings");
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < value.size(); i++) {
      JsonNode item = value.get(i);
      if (!item.isTextual()) {
        violations.add(path(field) + "[" + i + "]", "must be a string");
      } else {
        out.add(item.textValue());
      }
    }
    return out;
  }

  Map<String, String> stringMap(String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isObject()) {
      return wrongType(field, "an object of string values");
    }
    Map<String, String> out = new LinkedHashMap<>();
    value.fields().forEachRemaining(e -> {
      if (e.getValue().isTextual()) {
        out.put(e.getKey(), e.getValue().textValue());
      } else {
        violations.add(path(field) + "." + e.getKey(), "must be a string");
      }
    });
    return out;
  }

  /** A nested object; null when absent (or of the wrong type, which is recorded). */
  JsonFields object(String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (value.getNodeType() != JsonNodeType.OBJECT) {
      return wrongType(field, "an object");
    }
    return new JsonFields(value, path(field), violations);
  }

  /** A required nested object: records "is required" when absent. */
  JsonFields requiredObject(String field) {
    JsonFields nested = object(field);
    if (nested == null && !node.hasNonNull(field)) {
      violations.add(path(field), "is required");
    }
    return nested;
  }

  private <T> T wrongType(String field, String expected) {
    violations.add(path(field), "must be " + expected);
    return null;
  }

  private static List<String> sorted(Set<String> names) {
    return names.stream().sorted().toList();
  }
}

package io.regcast.model;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/** The user-set part of a trigger: name, description, labels and its rule. */
public record TriggerDefinition(
    String name, String description, Map<String, String> labels, ContainerRegistryRule rule)
    implements JsonSerializable {

  public static final int MAX_LABELS = 64;
  private static final Pattern LABEL_KEY = Pattern.compile("[a-z][-_./\\\\@0-9a-z]{0,62}");
  private static final Pattern LABEL_VALUE = Pattern.compile("[-_./\\\\@0-9a-z]{0,63}");

  public TriggerDefinition {
    description = description == null ? "" : description;
    labels = labels == null ? Map.of() : Map.copyOf(new TreeMap<>(labels));
    Violations v = new Violations();
    check(v, name, description, labels);
    v.check(rule != null, "rule", "is required");
    v.throwIfAny();
  }

  /** The rules for name, description and labels (the rule checks itself). */
  public static void check(
      Violations v, String name, String description, Map<String, String> labels) {
    Names.checkName(v, name);
    Names.checkDescription(v, description);
    v.check(labels.size() <= MAX_LABELS, "labels", "must hold at most 64 labels");
    labels.forEach(
        (key, value) -> {
          v.check(
              LABEL_KEY.matcher(key).matches(),
              "labels." + key,
              "key must be 1-63 characters of [-_./\\@0-9a-z] starting with a letter");
          v.check(
              LABEL_VALUE.matcher(value).matches(),
              "labels." + key,
              "value must be at most 63 characters of [-_./\\@0-9a-z]");
        });
  }
}

package io.regcast.model;

import static io.regcast.model.Refusals.assertFields;
import static io.regcast.model.Refusals.assertSingleViolation;
import static io.regcast.model.Refusals.assertViolation;
import static io.regcast.model.Refusals.refusal;
import static io.regcast.model.Refusals.repeat;
import static io.regcast.model.Samples.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TriggerDefinitionTest {

  private static final String NAME_63 = "a" + repeat('b', 61) + "c";

  private static TriggerDefinition named(String name) {
    return new TriggerDefinition(name, "", Map.of(), rule());
  }

  private static TriggerDefinition described(String description) {
    return new TriggerDefinition("my-trigger", description, Map.of(), rule());
  }

  private static TriggerDefinition labelled(Map<String, String> labels) {
    return new TriggerDefinition("my-trigger", "", labels, rule());
  }

  private static Map<String, String> labels(int count) {
    Map<String, String> labels = new HashMap<>();
    IntStream.range(0, count).forEach(i -> labels.put("k" + i, "v" + i));
    return labels;
  }

  static Stream<Arguments> accepted() {
    return Stream.of(
        Arguments.of("name of 3 characters", (Supplier<?>) () -> named("abc")),
        Arguments.of("name of 63 characters", (Supplier<?>) () -> named(NAME_63)),
        Arguments.of("name with digits and inner hyphens", (Supplier<?>) () -> named("a-1--b2")),
        Arguments.of("name ending in a digit", (Supplier<?>) () -> named("ab9")),
        Arguments.of("description of 500 characters",
            (Supplier<?>) () -> described(repeat('x', 500))),
        Arguments.of("absent description", (Supplier<?>) () -> described(null)),
        Arguments.of("absent labels", (Supplier<?>) () -> labelled(null)),
        Arguments.of("64 labels", (Supplier<?>) () -> labelled(labels(64))),
        Arguments.of("label key of 1 letter", (Supplier<?>) () -> labelled(Map.of("a", "v"))),
        Arguments.of("label key of 63 characters",
            (Supplier<?>) () -> labelled(Map.of("k" + repeat('x', 62), "v"))),
        Arguments.of("label key using every allowed sign",
            (Supplier<?>) () -> labelled(Map.of("a-_./\\@09z", "v"))),
        Arguments.of("empty label value", (Supplier<?>) () -> labelled(Map.of("env", ""))),
        Arguments.of("label value of 63 characters",
            (Supplier<?>) () -> labelled(Map.of("env", repeat('v', 63)))),
        Arguments.of("label value using every allowed sign",
            (Supplier<?>) () -> labelled(Map.of("env", "-_./\\@09az"))));
  }

  @ParameterizedTest(name = "accepts {0}")
  @MethodSource("accepted")
  void acceptsValuesAtTheirLimits(String title, Supplier<?> build) {
    assertNotNull(build.get());
  }

  static Stream<Arguments> refused() {
    return Stream.of(
        Arguments.of("absent name", (Supplier<?>) () -> named(null), "name", "is required"),
        Arguments.of("empty name", (Supplier<?>) () -> named(""), "name", "is required"),
        Arguments.of("name of 2 characters", (Supplier<?>) () -> named("ab"), "name", "3-63"),
        Arguments.of("name of 64 characters",
            (Supplier<?>) () -> named(NAME_63 + "d"), "name", "3-63"),
        Arguments.of("name starting with a digit",
            (Supplier<?>) () -> named("1ab"), "name", "start with a letter"),
        Arguments.of("name starting with a hyphen",
            (Supplier<?>) () -> named("-ab"), "name", "start with a letter"),
        Arguments.of("name ending with a hyphen",
            (Supplier<?>) () -> named("ab-"), "name", "not end with '-'"),
        Arguments.of("name with an uppercase letter",
            (Supplier<?>) () -> named("aBc"), "name", "lowercase"),
        Arguments.of("name with an underscore", (Supplier<?>) () -> named("a_c"), "name", "3-63"),
        Arguments.of("description of 501 characters",
            (Supplier<?>) () -> described(repeat('x', 501)), "description", "at most 500"),
        Arguments.of("65 labels",
            (Supplier<?>) () -> labelled(labels(65)), "labels", "at most 64 labels"),
        Arguments.of("label key of 64 characters",
            (Supplier<?>) () -> labelled(Map.of("k" + repeat('x', 63), "v")),
            "labels.k" + repeat('x', 63), "key must be 1-63"),
        Arguments.of("empty label key",
            (Supplier<?>) () -> labelled(Map.of("", "v")), "labels.", "key must be"),
        Arguments.of("label key starting with a digit",
            (Supplier<?>) () -> labelled(Map.of("1env", "v")), "labels.1env", "starting with a letter"),
        Arguments.of("label key with an uppercase letter",
            (Supplier<?>) () -> labelled(Map.of("Env", "v")), "labels.Env", "key must be"),
        Arguments.of("label key with a space",
            (Supplier<?>) () -> labelled(Map.of("e nv", "v")), "labels.e nv", "key must be"),
        Arguments.of("label value of 64 characters",
            (Supplier<?>) () -> labelled(Map.of("env", repeat('v', 64))),
            "labels.env", "value must be at most 63"),
        Arguments.of("label value with an uppercase letter",
            (Supplier<?>) () -> labelled(Map.of("env", "Prod")), "labels.env", "value must be"),
        Arguments.of("label value with a colon",
            (Supplier<?>) () -> labelled(Map.of("env", "a:b")), "labels.env", "value must be"),
        Arguments.of("absent rule",
            (Supplier<?>) () -> new TriggerDefinition("my-trigger", "", Map.of(), null),
            "rule", "is required"));
  }

  @ParameterizedTest(name = "refuses {0}")
  @MethodSource("refused")
  void refusesValuesJustPastTheirLimitsNamingTheField(
      String title, Supplier<?> build, String field, String reason) {
    assertSingleViolation(refusal(build), field, reason);
  }

  @Test
  void absentDescriptionAndLabelsBecomeEmpty() {
    TriggerDefinition d = new TriggerDefinition("my-trigger", null, null, rule());
    assertEquals("", d.description());
    assertEquals(Map.of(), d.labels());
  }

  @Test
  void reportsEveryInvalidPartInOneRefusal() {
    Problem problem =
        refusal(
            () ->
                new TriggerDefinition(
                    "X", repeat('d', 501), Map.of("Bad", "ok", "good", "BAD"), null));
    assertFields(problem, "name", "description", "labels.Bad", "labels.good", "rule");
    assertViolation(problem, "labels.Bad", "key must be");
    assertViolation(problem, "labels.good", "value must be");
    assertEquals("the request has 5 invalid fields", problem.message());
  }

  @Test
  void aLabelWithBadKeyAndValueIsReportedOnceForItsKey() {
    assertSingleViolation(refusal(() -> labelled(Map.of("Key", "Value"))), "labels.Key", "key must be");
  }
}

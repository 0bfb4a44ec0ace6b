package io.regcast.model;

import static io.regcast.model.Refusals.assertFields;
import static io.regcast.model.Refusals.assertSingleViolation;
import static io.regcast.model.Refusals.refusal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BatchSettingsTest {

  private static final Duration TWENTY_S = Duration.ofSeconds(20);
  private static final Duration ONE_S = Duration.ofSeconds(1);

  // ---- requested values: BatchSettings.check and BatchSettings.of ----

  static Stream<Arguments> requestedAndResulting() {
    return Stream.of(
        Arguments.of(null, null, 1, ONE_S),
        Arguments.of(0L, null, 1, ONE_S),
        Arguments.of(0L, Duration.ZERO, 1, ONE_S),
        Arguments.of(1L, ONE_S, 1, ONE_S),
        Arguments.of(1000L, Duration.ofSeconds(60), 1000, Duration.ofSeconds(60)),
        Arguments.of(3L, TWENTY_S, 3, TWENTY_S),
        Arguments.of(3L, Duration.ofMillis(1500), 3, Duration.ofMillis(1500)));
  }

  @ParameterizedTest(name = "size {0} and cutoff {1} give size {2} and cutoff {3}")
  @MethodSource("requestedAndResulting")
  void requestedValuesWithinBoundsAreAcceptedWithZeroOrAbsentMeaningTheDefault(
      Long size, Duration cutoff, int expectedSize, Duration expectedCutoff) {
    Violations v = new Violations();
    BatchSettings.check(v, size == null ? 0 : size, cutoff);
    assertTrue(v.isEmpty());
    assertEquals(new BatchSettings(expectedSize, expectedCutoff), BatchSettings.of(size, cutoff));
  }

  static Stream<Arguments> refusedRequests() {
    return Stream.of(
        Arguments.of(-1L, TWENTY_S, "size", "between 0 and 1000"),
        Arguments.of(1001L, TWENTY_S, "size", "between 0 and 1000"),
        Arguments.of((long) Integer.MAX_VALUE + 2, TWENTY_S, "size", "between 0 and 1000"),
        Arguments.of(3L, Duration.ofMillis(999), "cutoff", "between 1s and 60s"),
        Arguments.of(3L, Duration.ofSeconds(60).plusNanos(1), "cutoff", "between 1s and 60s"),
        Arguments.of(3L, Duration.ofSeconds(-1), "cutoff", "between 1s and 60s"),
        Arguments.of(3L, Duration.ofNanos(1), "cutoff", "between 1s and 60s"));
  }

  @ParameterizedTest(name = "size {0} and cutoff {1} are refused naming {2}")
  @MethodSource("refusedRequests")
  void requestedValuesJustOutsideTheirBoundsAreRefusedNamingTheField(
      long size, Duration cutoff, String field, String reason) {
    Violations v = new Violations();
    BatchSettings.check(v, size, cutoff);
    assertSingleViolation(refusal(() -> { v.throwIfAny(); return "nothing"; }), field, reason);
    assertSingleViolation(refusal(() -> BatchSettings.of(size, cutoff)), field, reason);
  }

  @Test
  void aBadSizeAndABadCutoffAreReportedTogether() {
    assertFields(
        refusal(() -> BatchSettings.of(1001L, Duration.ofSeconds(61))), "size", "cutoff");
  }

  @Test
  void checkNamesTheFieldsUnderTheViewsPrefix() {
    Violations v = new Violations();
    BatchSettings.check(v.under("rule.containerRegistry.batchSettings"), 2000, Duration.ofMillis(1));
    Problem problem = refusal(() -> { v.throwIfAny(); return "nothing"; });
    assertFields(
        problem,
        "rule.containerRegistry.batchSettings.size",
        "rule.containerRegistry.batchSettings.cutoff");
  }

  // ---- the constructor: an invariant, not request validation ----

  static Stream<Arguments> validSettings() {
    return Stream.of(
        Arguments.of(1, TWENTY_S),
        Arguments.of(1000, TWENTY_S),
        Arguments.of(3, ONE_S),
        Arguments.of(3, Duration.ofSeconds(60)));
  }

  @ParameterizedTest(name = "size {0}, cutoff {1}")
  @MethodSource("validSettings")
  void theConstructorHoldsSettingsAtTheirBounds(int size, Duration cutoff) {
    BatchSettings settings = new BatchSettings(size, cutoff);
    assertEquals(size, settings.size());
    assertEquals(cutoff, settings.cutoff());
  }

  static Stream<Arguments> invalidSettings() {
    return Stream.of(
        Arguments.of(0, TWENTY_S),
        Arguments.of(1001, TWENTY_S),
        Arguments.of(3, Duration.ofMillis(999)),
        Arguments.of(3, Duration.ofSeconds(60).plusNanos(1)),
        Arguments.of(3, null));
  }

  @ParameterizedTest(name = "size {0}, cutoff {1}")
  @MethodSource("invalidSettings")
  void theConstructorRefusesSettingsPastTheirBounds(int size, Duration cutoff) {
    assertThrows(IllegalArgumentException.class, () -> new BatchSettings(size, cutoff));
  }

  @Test
  void theDefaultIsOneEventAndOneSecond() {
    assertEquals(new BatchSettings(1, ONE_S), BatchSettings.DEFAULT);
  }
}

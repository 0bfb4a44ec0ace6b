package io.regcast.model;

import static io.regcast.model.Refusals.assertFields;
import static io.regcast.model.Refusals.assertSingleViolation;
import static io.regcast.model.Refusals.refusal;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class HistorySettingsTest {
  private static final HistorySettings DEFAULTS = new HistorySettings(1000, Duration.ofHours(24));

  static Stream<Arguments> requestedAndResulting() {
    return Stream.of(
        Arguments.of(null, null, 1000, Duration.ofHours(24)),
        Arguments.of(0L, null, 0, Duration.ofHours(24)),
        Arguments.of(null, Duration.ofMillis(1), 1000, Duration.ofMillis(1)),
        Arguments.of(100_000L, Duration.ofDays(30), 100_000, Duration.ofDays(30)));
  }

  @ParameterizedTest(name = "maxMessages {0} and maxAge {1} give {2} and {3}")
  @MethodSource("requestedAndResulting")
  void aMemberNotGivenTakesItsDefault(Long maxMessages, Duration maxAge, int expectedMessages, Duration expectedAge) {
    assertEquals(new HistorySettings(expectedMessages, expectedAge), HistorySettings.of(maxMessages, maxAge, DEFAULTS));
  }

  static Stream<Arguments> refused() {
    return Stream.of(
        Arguments.of(-1L, null, "maxMessages", "between 0 and 100000"),
        Arguments.of(100_001L, null, "maxMessages", "between 0 and 100000"),
        Arguments.of(null, Duration.ZERO, "maxAge", "more than 0s"),
        Arguments.of(null, Duration.ofSeconds(-1), "maxAge", "more than 0s"),
        Arguments.of(null, Duration.ofDays(30).plusNanos(1), "maxAge", "at most 2592000s (30 days)"));
  }

  @ParameterizedTest(name = "refuses maxMessages {0}, maxAge {1}")
  @MethodSource("refused")
  void valuesOutOfRangeAreRefusedNamingTheMember(Long maxMessages, Duration maxAge, String field, String reason) {
    assertSingleViolation(refusal(() -> HistorySettings.of(maxMessages, maxAge, DEFAULTS)), field, reason);
  }

  @Test
  void bothMembersOutOfRangeAreReportedTogether() {
    assertFields(refusal(() -> HistorySettings.of(-5L, Duration.ZERO, DEFAULTS)), "maxMessages", "maxAge");
  }

  @Test
  void aGatewayWithoutItsOwnSettingsFollowsTheDefaults() {
    HistorySettings own = new HistorySettings(3, Duration.ofSeconds(5));
    assertEquals(DEFAULTS, HistorySettings.orDefault(null, DEFAULTS));
    assertEquals(own, HistorySettings.orDefault(own, DEFAULTS));
  }
}

package io.regcast.model;

import static io.regcast.model.Refusals.assertFields;
import static io.regcast.model.Refusals.assertSingleViolation;
import static io.regcast.model.Refusals.refusal;
import static io.regcast.model.Refusals.repeat;
import static io.regcast.model.Samples.target;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ContainerRegistryRuleTest {

  private static final String REGISTRY = "crt00000000000000001";
  private static final List<EventType> ONE_TYPE = List.of(EventType.CREATE_IMAGE);

  private static ContainerRegistryRule withTypes(List<EventType> types) {
    return new ContainerRegistryRule(types, REGISTRY, "", "", null, target());
  }

  private static ContainerRegistryRule withRegistry(String registryId) {
    return new ContainerRegistryRule(ONE_TYPE, registryId, "", "", null, target());
  }

  private static ContainerRegistryRule withImage(String imageName) {
    return new ContainerRegistryRule(ONE_TYPE, REGISTRY, imageName, "", null, target());
  }

  private static ContainerRegistryRule withTag(String tag) {
    return new ContainerRegistryRule(ONE_TYPE, REGISTRY, "", tag, null, target());
  }

  static Stream<Arguments> accepted() {
    return Stream.of(
        Arguments.of("one event type", (Supplier<?>) () -> withTypes(ONE_TYPE)),
        Arguments.of("all four event types",
            (Supplier<?>) () -> withTypes(Arrays.asList(EventType.values()))),
        Arguments.of("registry id of 50 characters",
            (Supplier<?>) () -> withRegistry(repeat('r', 50))),
        Arguments.of("absent image name and tag",
            (Supplier<?>) () ->
                new ContainerRegistryRule(ONE_TYPE, REGISTRY, null, null, null, target())),
        Arguments.of("image name ubuntu", (Supplier<?>) () -> withImage("ubuntu")),
        Arguments.of("image name with path components", (Supplier<?>) () -> withImage("team/app")),
        Arguments.of("image name with every separator",
            (Supplier<?>) () -> withImage("a.b_c__d-e---f/g0")),
        Arguments.of("image name of 255 characters",
            (Supplier<?>) () -> withImage(repeat('a', 255))),
        Arguments.of("tag latest", (Supplier<?>) () -> withTag("latest")),
        Arguments.of("tag starting with an underscore",
            (Supplier<?>) () -> withTag("_v1.2-RC")),
        Arguments.of("tag of 128 characters", (Supplier<?>) () -> withTag(repeat('t', 128))));
  }

  @ParameterizedTest(name = "accepts {0}")
  @MethodSource("accepted")
  void acceptsValuesAtTheirLimits(String title, Supplier<?> build) {
    assertNotNull(build.get());
  }

  static Stream<Arguments> refused() {
    return Stream.of(
        Arguments.of("no event type", (Supplier<?>) () -> withTypes(List.of()),
            "eventType", "at least one event type"),
        Arguments.of("absent event types", (Supplier<?>) () -> withTypes(null),
            "eventType", "at least one event type"),
        Arguments.of("absent registry id", (Supplier<?>) () -> withRegistry(null),
            "registryId", "is required"),
        Arguments.of("empty registry id", (Supplier<?>) () -> withRegistry(""),
            "registryId", "is required"),
        Arguments.of("registry id of 51 characters",
            (Supplier<?>) () -> withRegistry(repeat('r', 51)), "registryId", "at most 50"),
        Arguments.of("image name of 256 characters",
            (Supplier<?>) () -> withImage(repeat('a', 256)), "imageName", "at most 255"),
        Arguments.of("image name with an uppercase letter",
            (Supplier<?>) () -> withImage("Ubuntu"), "imageName", "lowercase"),
        Arguments.of("image name with a leading slash",
            (Supplier<?>) () -> withImage("/app"), "imageName", "repository name"),
        Arguments.of("image name with a trailing slash",
            (Supplier<?>) () -> withImage("app/"), "imageName", "repository name"),
        Arguments.of("image name with two dots",
            (Supplier<?>) () -> withImage("a..b"), "imageName", "repository name"),
        Arguments.of("image name ending with a separator",
            (Supplier<?>) () -> withImage("app-"), "imageName", "repository name"),
        Arguments.of("image name with a tag in it",
            (Supplier<?>) () -> withImage("ubuntu:latest"), "imageName", "repository name"),
        Arguments.of("tag of 129 characters",
            (Supplier<?>) () -> withTag(repeat('t', 129)), "tag", "at most 128"),
        Arguments.of("tag starting with a dot",
            (Supplier<?>) () -> withTag(".latest"), "tag", "must be a tag"),
        Arguments.of("tag starting with a hyphen",
            (Supplier<?>) () -> withTag("-latest"), "tag", "must be a tag"),
        Arguments.of("tag with a colon",
            (Supplier<?>) () -> withTag("a:b"), "tag", "must be a tag"),
        Arguments.of("absent broadcast target",
            (Supplier<?>) () ->
                new ContainerRegistryRule(ONE_TYPE, REGISTRY, "", "", null, null),
            "gatewayWebsocketBroadcast", "is required"));
  }

  @ParameterizedTest(name = "refuses {0}")
  @MethodSource("refused")
  void refusesValuesJustPastTheirLimitsNamingTheField(
      String title, Supplier<?> build, String field, String reason) {
    assertSingleViolation(refusal(build), field, reason);
  }

  @Test
  void repeatedEventTypesAreKeptOnceInTheirFirstOrder() {
    ContainerRegistryRule rule =
        withTypes(
            List.of(
                EventType.DELETE_IMAGE,
                EventType.CREATE_IMAGE,
                EventType.DELETE_IMAGE,
                EventType.CREATE_IMAGE));
    assertEquals(List.of(EventType.DELETE_IMAGE, EventType.CREATE_IMAGE), rule.eventTypes());
  }

  @Test
  void absentFiltersAndBatchSettingsTakeTheirDefaults() {
    ContainerRegistryRule rule =
        new ContainerRegistryRule(ONE_TYPE, REGISTRY, null, null, null, target());
    assertEquals("", rule.imageName());
    assertEquals("", rule.tag());
    assertEquals(BatchSettings.DEFAULT, rule.batchSettings());
    assertEquals(new BatchSettings(1, Duration.ofSeconds(1)), rule.batchSettings());
  }

  @Test
  void reportsEveryInvalidPartInOneRefusal() {
    Problem problem =
        refusal(() -> new ContainerRegistryRule(List.of(), "", "Bad", ".bad", null, null));
    assertFields(problem, "eventType", "registryId", "imageName", "tag", "gatewayWebsocketBroadcast");
  }
}

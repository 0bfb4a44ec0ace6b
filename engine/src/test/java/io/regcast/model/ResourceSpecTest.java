package io.regcast.model;

import static io.regcast.model.Refusals.assertFields;
import static io.regcast.model.Refusals.assertSingleViolation;
import static io.regcast.model.Refusals.refusal;
import static io.regcast.model.Refusals.repeat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.regcast.model.ResourceSpec.CloudSpec;
import io.regcast.model.ResourceSpec.FolderSpec;
import io.regcast.model.ResourceSpec.GatewaySpec;
import io.regcast.model.ResourceSpec.RegistrySpec;
import io.regcast.model.ResourceSpec.ServiceAccountSpec;
import io.regcast.model.ResourceSpec.TriggerSpec;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The name, description and parent rules every simple resource shares. */
class ResourceSpecTest {

  private static final String PARENT = "b1x00000000000000001";
  private static final String NAME_63 = "a" + repeat('b', 61) + "c";

  /** Builds a spec of one kind from (parentId, name, description). */
  interface Factory {
    ResourceSpec build(String parentId, String name, String description);
  }

  enum Kind {
    CLOUD((p, n, d) -> new CloudSpec(n, d), null),
    FOLDER((p, n, d) -> new FolderSpec(p, n, d), "cloudId"),
    REGISTRY((p, n, d) -> new RegistrySpec(p, n, d), "folderId"),
    GATEWAY((p, n, d) -> new GatewaySpec(p, n, d, List.of("/ws")), "folderId"),
    SERVICE_ACCOUNT((p, n, d) -> new ServiceAccountSpec(p, n, d), "folderId");

    final Factory factory;
    final String parentField;

    Kind(Factory factory, String parentField) {
      this.factory = factory;
      this.parentField = parentField;
    }

    ResourceSpec build(String parentId, String name, String description) {
      return factory.build(parentId, name, description);
    }
  }

  static Stream<Arguments> acceptedNames() {
    return Stream.of(Kind.values())
        .flatMap(
            k -> Stream.of("abc", NAME_63, "a-1", "x9-y").map(name -> Arguments.of(k, name)));
  }

  @ParameterizedTest(name = "{0} accepts name {1}")
  @MethodSource("acceptedNames")
  void everyKindAcceptsNamesAtTheLimits(Kind kind, String name) {
    ResourceSpec spec = kind.build(PARENT, name, null);
    assertEquals(name, spec.name());
    Resource resource = spec.toResource("id1", Samples.T0);
    assertEquals(name, resource.name());
    assertEquals(spec.kind(), resource.kind());
  }

  static Stream<Arguments> refusedNames() {
    return Stream.of(Kind.values())
        .flatMap(
            k ->
                Stream.of(
                    Arguments.of(k, null, "is required"),
                    Arguments.of(k, "", "is required"),
                    Arguments.of(k, "ab", "3-63 characters"),
                    Arguments.of(k, NAME_63 + "d", "3-63 characters"),
                    Arguments.of(k, "9ab", "start with a letter"),
                    Arguments.of(k, "abc-", "not end with '-'"),
                    Arguments.of(k, "ABC", "lowercase")));
  }

  @ParameterizedTest(name = "{0} refuses name {1}")
  @MethodSource("refusedNames")
  void everyKindRefusesNamesJustPastTheLimits(Kind kind, String name, String reason) {
    assertSingleViolation(refusal(() -> kind.build(PARENT, name, null)), "name", reason);
  }

  static Stream<Kind> kinds() {
    return Stream.of(Kind.values());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void everyKindAcceptsA500CharacterDescriptionAndRefuses501(Kind kind) {
    Resource resource = kind.build(PARENT, "abc", repeat('d', 500)).toResource("i", Samples.T0);
    assertEquals(500, description(resource).length());
    assertSingleViolation(
        refusal(() -> kind.build(PARENT, "abc", repeat('d', 501))), "description", "at most 500");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void everyKindTurnsAnAbsentDescriptionIntoAnEmptyOne(Kind kind) {
    assertEquals("", description(kind.build(PARENT, "abc", null).toResource("i", Samples.T0)));
  }

  static Stream<Arguments> parentIds() {
    return Stream.of(Kind.values())
        .filter(k -> k.parentField != null)
        .flatMap(
            k ->
                Stream.of(
                    Arguments.of(k, null, "is required"),
                    Arguments.of(k, "", "is required"),
                    Arguments.of(k, repeat('p', 51), "at most 50")));
  }

  @ParameterizedTest(name = "{0} refuses parent id {1}")
  @MethodSource("parentIds")
  void everyKindWithAParentRefusesAnAbsentOrOverlongParentIdNamingItsField(
      Kind kind, String parentId, String reason) {
    assertSingleViolation(
        refusal(() -> kind.build(parentId, "abc", null)), kind.parentField, reason);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void everyKindWithAParentAcceptsA50CharacterParentId(Kind kind) {
    String parent = repeat('p', 50);
    ResourceSpec spec = kind.build(parent, "abc", null);
    assertEquals(kind.parentField == null ? null : parent, spec.parentId());
    assertEquals(kind.parentField == null ? null : parent,
        spec.toResource("i", Samples.T0).parentId());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void everyKindReportsParentNameAndDescriptionTogether(Kind kind) {
    Problem problem = refusal(() -> kind.build(null, "A", repeat('d', 501)));
    if (kind.parentField == null) {
      assertFields(problem, "name", "description");
    } else {
      assertFields(problem, kind.parentField, "name", "description");
    }
  }

  @Test
  void aCloudHasNoParent() {
    CloudSpec spec = new CloudSpec("abc", null);
    assertNull(spec.parentId());
    assertNull(spec.toResource("b1c1", Samples.T0).parentId());
  }

  @Test
  void aTriggerSpecRefusesAnAbsentOrOverlongFolderId() {
    TriggerDefinition definition = Samples.definition("my-trigger");
    assertSingleViolation(refusal(() -> new TriggerSpec(null, definition)), "folderId", "is required");
    assertSingleViolation(
        refusal(() -> new TriggerSpec(repeat('f', 51), definition)), "folderId", "at most 50");
  }

  @Test
  void aNewTriggerStartsActiveAtRevisionOne() {
    TriggerSpec spec = new TriggerSpec("b1g1", Samples.definition("my-trigger"));
    Trigger trigger = (Trigger) spec.toResource("a1s1", Samples.T0);
    assertEquals(TriggerStatus.ACTIVE, trigger.status());
    assertEquals(1, trigger.revision());
    assertEquals("my-trigger", trigger.name());
    assertEquals("b1g1", trigger.parentId());
  }

  @Test
  void aGatewaySpecReportsABadNameAndBadPathsTogether() {
    assertFields(
        refusal(() -> new GatewaySpec("b1g1", "A", null, List.of())), "name", "websocketPaths");
  }

  private static String description(Resource resource) {
    if (resource instanceof Cloud c) {
      return c.description();
    } else if (resource instanceof Folder f) {
      return f.description();
    } else if (resource instanceof Registry r) {
      return r.description();
    } else if (resource instanceof Gateway g) {
      return g.description();
    } else if (resource instanceof ServiceAccount s) {
      return s.description();
    }
    return ((Trigger) resource).definition().description();
  }
}

package io.regcast.catalog;

import static io.regcast.model.Refusals.assertMessageContains;
import static io.regcast.model.Refusals.assertSingleViolation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.regcast.catalog.CatalogFixture.World;
import io.regcast.model.FieldViolation;
import io.regcast.model.Problem;
import io.regcast.model.ResourceSpec;
import io.regcast.model.ResourceSpec.CloudSpec;
import io.regcast.model.ResourceSpec.FolderSpec;
import io.regcast.model.ResourceSpec.GatewaySpec;
import io.regcast.model.ResourceSpec.RegistrySpec;
import io.regcast.model.ResourceSpec.ServiceAccountSpec;
import io.regcast.model.ResourceSpec.TriggerSpec;
import io.regcast.model.Trigger;
import io.regcast.model.TriggerDefinition;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CatalogStateCreateTest {

  private final World w = new World();

  private static final String TARGET = "rule.containerRegistry.gatewayWebsocketBroadcast.";

  private static void assertProblem(
      Problem problem, Problem.Kind kind, String field, String reason) {
    assertEquals(kind, problem.kind(), () -> String.valueOf(problem));
    assertEquals(1, problem.details().size(), problem::toString);
    FieldViolation d = problem.details().get(0);
    assertEquals(field, d.field());
    assertTrue(d.reason().contains(reason), () -> "reason: " + d.reason());
  }

  // ---- parents ----

  /** (parentId, name) → spec of each kind that has a parent. */
  static Stream<Arguments> childKinds() {
    return Stream.of(
        Arguments.of("folder", "cloudId", "cloud",
            (BiFunction<String, String, ResourceSpec>) (p, n) -> new FolderSpec(p, n, null)),
        Arguments.of("registry", "folderId", "folder",
            (BiFunction<String, String, ResourceSpec>) (p, n) -> new RegistrySpec(p, n, null)),
        Arguments.of("gateway", "folderId", "folder",
            (BiFunction<String, String, ResourceSpec>)
                (p, n) -> new GatewaySpec(p, n, null, List.of("/ws"))),
        Arguments.of("service account", "folderId", "folder",
            (BiFunction<String, String, ResourceSpec>)
                (p, n) -> new ServiceAccountSpec(p, n, null)));
  }

  @ParameterizedTest(name = "a {0} in a missing parent is NOT_FOUND naming {1}")
  @MethodSource("childKinds")
  void aResourceInAMissingParentIsNotFoundNamingTheParentField(
      String kind, String field, String parentKind,
      BiFunction<String, String, ResourceSpec> spec) {
    Problem problem = w.state().checkCreate(spec.apply("nope-1", "child"));
    assertProblem(problem, Problem.Kind.NOT_FOUND, field, parentKind + " nope-1 does not exist");
    assertMessageContains(problem, parentKind + " nope-1 not found");
  }

  @Test
  void aFolderIdThatNamesAResourceOfAnotherKindIsNotFound() {
    Problem problem = w.state().checkCreate(new RegistrySpec(w.c1.id(), "child", null));
    assertProblem(problem, Problem.Kind.NOT_FOUND, "folderId", "folder " + w.c1.id());
  }

  @Test
  void aTriggerInAMissingFolderIsNotFoundNamingFolderId() {
    Problem problem =
        w.state().checkCreate(new TriggerSpec("b1g-none", w.definition("my-trigger")));
    assertProblem(problem, Problem.Kind.NOT_FOUND, "folderId", "folder b1g-none does not exist");
  }

  @ParameterizedTest(name = "a new {0} in an existing parent may go ahead")
  @MethodSource("childKinds")
  void aResourceInAnExistingParentMayGoAhead(
      String kind, String field, String parentKind,
      BiFunction<String, String, ResourceSpec> spec) {
    String parent = field.equals("cloudId") ? w.c1.id() : w.f1.id();
    assertNull(w.state().checkCreate(spec.apply(parent, "brand-new")));
  }

  // ---- names ----

  @ParameterizedTest(name = "a second {0} of the same name in the same parent is ALREADY_EXISTS")
  @MethodSource("childKinds")
  void aDuplicateNameInTheSameParentIsAlreadyExists(
      String kind, String field, String parentKind,
      BiFunction<String, String, ResourceSpec> spec) {
    String parent = field.equals("cloudId") ? w.c1.id() : w.f1.id();
    CatalogFixture fx = w.fx;
    fx.add(spec.apply(parent, "taken").toResource("x-1", CatalogFixture.T0));

    Problem problem = fx.state.checkCreate(spec.apply(parent, "taken"));
    assertProblem(problem, Problem.Kind.ALREADY_EXISTS, "name", "is already used in " + parentKind);
    assertMessageContains(problem, "named taken already exists in " + parentKind + " " + parent);
  }

  @ParameterizedTest(name = "a {0} may reuse a name taken in another parent")
  @MethodSource("childKinds")
  void theSameNameInAnotherParentMayGoAhead(
      String kind, String field, String parentKind,
      BiFunction<String, String, ResourceSpec> spec) {
    boolean inCloud = field.equals("cloudId");
    w.fx.add(spec.apply(inCloud ? w.c1.id() : w.f1.id(), "taken").toResource("x-1", CatalogFixture.T0));
    assertNull(w.state().checkCreate(spec.apply(inCloud ? w.c2.id() : w.f2.id(), "taken")));
  }

  @Test
  void resourcesOfDifferentKindsMayShareANameInOneFolder() {
    // registry "registry" exists in f1; a gateway, account and trigger may be called the same
    assertNull(w.state().checkCreate(new GatewaySpec(w.f1.id(), "registry", null, List.of("/a"))));
    assertNull(w.state().checkCreate(new ServiceAccountSpec(w.f1.id(), "registry", null)));
    assertNull(w.state().checkCreate(new TriggerSpec(w.f1.id(), w.definition("registry"))));
  }

  @Test
  void cloudNamesAreUniqueAcrossTheDeployment() {
    Problem problem = w.state().checkCreate(new CloudSpec("cloud-one", null));
    assertProblem(problem, Problem.Kind.ALREADY_EXISTS, "name", "is already used");
    assertNull(w.state().checkCreate(new CloudSpec("cloud-three", null)));
  }

  @Test
  void aDuplicateTriggerNameInTheFolderIsAlreadyExistsButAnotherFolderIsFine() {
    w.fx.trigger("a1s-1", w.f1, w.definition("my-trigger"));
    assertProblem(
        w.state().checkCreate(new TriggerSpec(w.f1.id(), w.definition("my-trigger"))),
        Problem.Kind.ALREADY_EXISTS, "name", "is already used in folder " + w.f1.id());
    assertNull(w.state().checkCreate(new TriggerSpec(w.f2.id(), w.definition("my-trigger"))));
  }

  // ---- a trigger's references ----

  @Test
  void aValidTriggerMayGoAhead() {
    assertNull(w.state().checkCreate(new TriggerSpec(w.f1.id(), w.definition("my-trigger"))));
  }

  static Stream<Arguments> missingReferences() {
    return Stream.of(
        Arguments.of("registry", "rule.containerRegistry.registryId",
            CatalogFixture.definition("t-one", "crt-none", "d4e-1", "/ws", "aje-1"), "crt-none"),
        Arguments.of("gateway", TARGET + "gatewayId",
            CatalogFixture.definition("t-one", "crt-1", "d4e-none", "/ws", "aje-1"), "d4e-none"),
        Arguments.of("service account", TARGET + "serviceAccountId",
            CatalogFixture.definition("t-one", "crt-1", "d4e-1", "/ws", "aje-none"), "aje-none"),
        // ids of existing resources of the wrong kind do not count
        Arguments.of("registry", "rule.containerRegistry.registryId",
            CatalogFixture.definition("t-one", "d4e-1", "d4e-1", "/ws", "aje-1"), "d4e-1"),
        Arguments.of("gateway", TARGET + "gatewayId",
            CatalogFixture.definition("t-one", "crt-1", "aje-1", "/ws", "aje-1"), "aje-1"),
        Arguments.of("service account", TARGET + "serviceAccountId",
            CatalogFixture.definition("t-one", "crt-1", "d4e-1", "/ws", "crt-1"), "crt-1"));
  }

  @ParameterizedTest(name = "a trigger naming missing {0} {3} is NOT_FOUND at {1}")
  @MethodSource("missingReferences")
  void aTriggerReferencingAMissingResourceIsNotFoundNamingTheField(
      String kind, String field, TriggerDefinition definition, String id) {
    Problem problem = w.state().checkCreate(new TriggerSpec(w.f1.id(), definition));
    assertProblem(problem, Problem.Kind.NOT_FOUND, field, kind + " " + id + " does not exist");
    assertMessageContains(problem, kind + " " + id + " not found");

    Trigger existing = w.fx.trigger("a1s-1", w.f1, w.definition("t-one"));
    assertProblem(
        w.state().checkTriggerUpdate(existing, definition), Problem.Kind.NOT_FOUND, field, id);
  }

  @Test
  void aTriggerOnARegistryInAnotherCloudIsInvalid() {
    TriggerDefinition definition =
        CatalogFixture.definition("my-trigger", w.foreignRegistry, w.gateway, "/ws", w.account);
    Problem problem = w.state().checkCreate(new TriggerSpec(w.f1.id(), definition));
    assertSingleViolation(
        problem, "rule.containerRegistry.registryId", "is in cloud " + w.c2.id());
    assertMessageContains(problem, "same cloud");
  }

  @Test
  void aTriggerOnARegistryInAnotherFolderOfTheSameCloudMayGoAhead() {
    var otherRegistry = w.fx.registry("crt-2", w.f2, "other");
    TriggerDefinition definition =
        CatalogFixture.definition("my-trigger", otherRegistry, w.gateway, "/ws", w.account);
    assertNull(w.state().checkCreate(new TriggerSpec(w.f1.id(), definition)));
  }

  @Test
  void aTriggerInAnotherCloudThanItsRegistryIsInvalidEvenIfTheFolderHoldsTheOtherParts() {
    // trigger in f3 (cloud 2) on the registry of f1 (cloud 1)
    Problem problem = w.state().checkCreate(new TriggerSpec(w.f3.id(), w.definition("my-trigger")));
    assertSingleViolation(problem, "rule.containerRegistry.registryId", "is in cloud " + w.c1.id());
  }

  @Test
  void aTriggerOnAPathTheGatewayDoesNotServeIsInvalidListingThePaths() {
    TriggerDefinition definition =
        CatalogFixture.definition("my-trigger", w.registry, w.gateway, "/other", w.account);
    Problem problem = w.state().checkCreate(new TriggerSpec(w.f1.id(), definition));
    assertSingleViolation(problem, TARGET + "path", "has no WebSocket path /other");
    assertSingleViolation(problem, TARGET + "path", "/ws, /events");
  }

  @Test
  void aTriggerOnAnyOfTheGatewaysPathsMayGoAhead() {
    TriggerDefinition definition =
        CatalogFixture.definition("my-trigger", w.registry, w.gateway, "/events", w.account);
    assertNull(w.state().checkCreate(new TriggerSpec(w.f1.id(), definition)));
  }

  // ---- updating a trigger ----

  @Test
  void anUpdateMayKeepTheTriggersOwnName() {
    Trigger t = w.fx.trigger("a1s-1", w.f1, w.definition("my-trigger"));
    assertNull(w.state().checkTriggerUpdate(t, w.definition("my-trigger")));
  }

  @Test
  void anUpdateMayNotTakeTheNameOfAnotherTriggerInTheFolder() {
    Trigger t = w.fx.trigger("a1s-1", w.f1, w.definition("first"));
    w.fx.trigger("a1s-2", w.f1, w.definition("second"));
    assertProblem(
        w.state().checkTriggerUpdate(t, w.definition("second")),
        Problem.Kind.ALREADY_EXISTS, "name", "is already used");
  }

  @Test
  void anUpdateIsCheckedAgainstTheTriggersFolderCloud() {
    Trigger t = w.fx.trigger("a1s-1", w.f1, w.definition("my-trigger"));
    TriggerDefinition moved =
        CatalogFixture.definition("my-trigger", w.foreignRegistry, w.gateway, "/ws", w.account);
    assertSingleViolation(
        w.state().checkTriggerUpdate(t, moved), "rule.containerRegistry.registryId", "is in cloud");
  }
}

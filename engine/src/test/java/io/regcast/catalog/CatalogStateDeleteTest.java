package io.regcast.catalog;

import static io.regcast.model.Refusals.assertMessageContains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.regcast.catalog.CatalogFixture.World;
import io.regcast.model.Cloud;
import io.regcast.model.Folder;
import io.regcast.model.Gateway;
import io.regcast.model.Problem;
import io.regcast.model.Registry;
import io.regcast.model.Resource;
import io.regcast.model.ServiceAccount;
import io.regcast.model.Trigger;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CatalogStateDeleteTest {

  private final World w = new World();

  private static void assertStillUsed(Problem problem, Resource resource, String dependent) {
    assertEquals(Problem.Kind.FAILED_PRECONDITION, problem.kind(), () -> String.valueOf(problem));
    assertMessageContains(problem, resource.kind().displayName() + " " + resource.id());
    assertMessageContains(problem, "is still used by");
    assertMessageContains(problem, dependent);
  }

  @Test
  void aCloudWithAFolderCannotBeDeleted() {
    Problem problem = w.state().checkDelete(w.c2);
    assertStillUsed(problem, w.c2, "folder " + w.f3.id());
  }

  @Test
  void anEmptyCloudMayBeDeleted() {
    Cloud empty = w.fx.cloud("b1c-9", "empty");
    assertNull(w.state().checkDelete(empty));
  }

  static Stream<Arguments> folderContents() {
    return Stream.of(
        Arguments.of("registry",
            (BiFunction<CatalogFixture, Folder, Resource>) (fx, f) -> fx.registry("crt-9", f, "r")),
        Arguments.of("gateway",
            (BiFunction<CatalogFixture, Folder, Resource>)
                (fx, f) -> fx.gateway("d4e-9", f, "g", "/ws")),
        Arguments.of("service account",
            (BiFunction<CatalogFixture, Folder, Resource>) (fx, f) -> fx.account("aje-9", f, "s")));
  }

  @ParameterizedTest(name = "a folder holding a {0} cannot be deleted")
  @MethodSource("folderContents")
  void aFolderHoldingAnyResourceCannotBeDeleted(
      String kind, BiFunction<CatalogFixture, Folder, Resource> create) {
    Folder folder = w.fx.folder("b1g-9", w.c1, "holder");
    assertNull(w.state().checkDelete(folder));
    Resource held = create.apply(w.fx, folder);
    assertStillUsed(w.state().checkDelete(folder), folder, kind + " " + held.id());
  }

  @Test
  void aFolderHoldingOnlyATriggerCannotBeDeleted() {
    Trigger t = w.fx.trigger("a1s-1", w.f2, w.definition("my-trigger"));
    assertStillUsed(w.state().checkDelete(w.f2), w.f2, "trigger " + t.id());
  }

  @Test
  void aFolderNamesAtMostFiveDependentsAndCountsTheRest() {
    Folder folder = w.fx.folder("b1g-9", w.c1, "holder");
    for (int i = 1; i <= 7; i++) {
      w.fx.registry("crt-9" + i, folder, "r" + i);
    }
    Problem problem = w.state().checkDelete(folder);
    assertStillUsed(problem, folder, "registry crt-91, registry crt-92");
    assertMessageContains(problem, "registry crt-95 and 2 more");
    assertFalse(problem.message().contains("crt-96"), problem.message());
  }

  @Test
  void aRegistryUsedByATriggerCannotBeDeletedAndTheTriggerIsNamed() {
    Trigger t = w.fx.trigger("a1s-1", w.f2, w.definition("my-trigger"));
    assertStillUsed(w.state().checkDelete(w.registry), w.registry, "trigger " + t.id());
  }

  @Test
  void aGatewayUsedByATriggerCannotBeDeletedAndTheTriggerIsNamed() {
    Trigger t = w.fx.trigger("a1s-1", w.f2, w.definition("my-trigger"));
    assertStillUsed(w.state().checkDelete(w.gateway), w.gateway, "trigger " + t.id());
  }

  @Test
  void aServiceAccountUsedByATriggerCannotBeDeletedAndTheTriggerIsNamed() {
    Trigger t = w.fx.trigger("a1s-1", w.f2, w.definition("my-trigger"));
    assertStillUsed(w.state().checkDelete(w.account), w.account, "trigger " + t.id());
  }

  @Test
  void everyTriggerUsingAResourceIsNamedInIdOrder() {
    w.fx.trigger("a1s-2", w.f1, w.definition("second"));
    w.fx.trigger("a1s-1", w.f2, w.definition("first"));
    assertStillUsed(w.state().checkDelete(w.registry), w.registry, "trigger a1s-1, trigger a1s-2");
  }

  @Test
  void unreferencedRegistryGatewayAndServiceAccountMayBeDeleted() {
    Registry registry = w.fx.registry("crt-2", w.f1, "unused");
    Gateway gateway = w.fx.gateway("d4e-2", w.f1, "unused", "/ws");
    ServiceAccount account = w.fx.account("aje-2", w.f1, "unused");
    w.fx.trigger("a1s-1", w.f1, w.definition("uses-the-others"));
    assertNull(w.state().checkDelete(registry));
    assertNull(w.state().checkDelete(gateway));
    assertNull(w.state().checkDelete(account));
  }

  @Test
  void resourcesBecomeDeletableOnceTheirTriggerIsGone() {
    Trigger t = w.fx.trigger("a1s-1", w.f1, w.definition("my-trigger"));
    assertNull(w.state().checkDelete(t));
    w.fx.remove(t);
    assertNull(w.state().checkDelete(w.registry));
    assertNull(w.state().checkDelete(w.gateway));
    assertNull(w.state().checkDelete(w.account));
  }

  @Test
  void aTriggerIsAlwaysDeletable() {
    Trigger t = w.fx.trigger("a1s-1", w.f1, w.definition("my-trigger"));
    assertNull(w.state().checkDelete(t));
  }

  @Test
  void deletingLeavesTheResourceOutButKeepsItsOperations() {
    Registry registry = w.fx.registry("crt-2", w.f1, "unused");
    w.fx.remove(registry);
    CatalogState state = w.state();
    assertTrue(state.find(registry.kind(), registry.id()).isEmpty());
    assertEquals(
        List.of("Create registry", "Delete registry"),
        state.operationsOf(registry.id()).stream().map(o -> o.description()).toList());
    assertNull(state.operationsOf(registry.id()).get(1).response());
    assertTrue(state.removedTriggers().isEmpty());
  }
}

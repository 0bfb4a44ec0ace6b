package io.regcast.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.regcast.catalog.CatalogFixture.World;
import io.regcast.model.Cloud;
import io.regcast.model.Operation;
import io.regcast.model.Registry;
import io.regcast.model.Resource;
import io.regcast.model.ResourceKind;
import io.regcast.model.Trigger;
import io.regcast.model.TriggerStatus;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Lists, lookups, the operations log and trigger tombstones. */
class CatalogStateQueriesTest {

  private final World w = new World();

  private static List<String> ids(List<? extends Resource> resources) {
    return resources.stream().map(Resource::id).toList();
  }

  @Test
  void listsAreOrderedByIdWhateverTheOrderOfCreation() {
    CatalogFixture fx = new CatalogFixture();
    Cloud c = fx.cloud("b1c-1", "cloud");
    var f = fx.folder("b1g-1", c, "folder");
    fx.registry("crt-c", f, "gamma");
    fx.registry("crt-a", f, "beta");
    fx.registry("crt-b", f, "alpha");
    assertEquals(
        List.of("crt-a", "crt-b", "crt-c"),
        ids(fx.state.list(ResourceKind.REGISTRY, f.id(), r -> true)));
  }

  @Test
  void aListHoldsOnlyTheKindAndParentAskedFor() {
    w.fx.registry("crt-2", w.f2, "in-f2");
    assertEquals(List.of("crt-1"), ids(w.state().list(ResourceKind.REGISTRY, w.f1.id(), r -> true)));
    assertEquals(List.of("crt-2"), ids(w.state().list(ResourceKind.REGISTRY, w.f2.id(), r -> true)));
    assertEquals(List.of("d4e-1"), ids(w.state().list(ResourceKind.GATEWAY, w.f1.id(), r -> true)));
    assertEquals(
        List.of("b1g-1", "b1g-2"), ids(w.state().list(ResourceKind.FOLDER, w.c1.id(), r -> true)));
    assertEquals(List.of(), ids(w.state().list(ResourceKind.TRIGGER, w.f1.id(), r -> true)));
    assertEquals(List.of(), ids(w.state().list(ResourceKind.REGISTRY, "b1g-none", r -> true)));
  }

  @Test
  void cloudsAreListedWhateverParentIsGiven() {
    assertEquals(List.of("b1c-1", "b1c-2"), ids(w.state().list(ResourceKind.CLOUD, null, r -> true)));
    assertEquals(
        List.of("b1c-1", "b1c-2"), ids(w.state().list(ResourceKind.CLOUD, "anything", r -> true)));
  }

  @Test
  void aListAppliesTheFilter() {
    w.fx.trigger("a1s-2", w.f1, w.definition("second"));
    w.fx.trigger("a1s-1", w.f1, w.definition("first"));
    assertEquals(
        List.of("a1s-2"),
        ids(w.state().list(ResourceKind.TRIGGER, w.f1.id(), r -> r.name().equals("second"))));
    assertEquals(
        List.of("a1s-1", "a1s-2"), ids(w.state().list(ResourceKind.TRIGGER, w.f1.id(), r -> true)));
  }

  @Test
  void findChecksTheKind() {
    assertEquals(w.registry, w.state().find(ResourceKind.REGISTRY, "crt-1").orElseThrow());
    assertTrue(w.state().find(ResourceKind.GATEWAY, "crt-1").isEmpty());
    assertTrue(w.state().find(ResourceKind.REGISTRY, "crt-none").isEmpty());
  }

  @Test
  void triggersStreamsOnlyTriggers() {
    Trigger t = w.fx.trigger("a1s-1", w.f1, w.definition("my-trigger"));
    assertEquals(List.of(t), w.state().triggers().toList());
  }

  @Test
  void aChangeReturnsANewStateAndLeavesTheOldOneAlone() {
    CatalogState before = w.state();
    Registry extra = w.fx.registry("crt-2", w.f1, "extra");
    assertNotSame(before, w.state());
    assertTrue(before.find(ResourceKind.REGISTRY, extra.id()).isEmpty());
    assertTrue(w.state().find(ResourceKind.REGISTRY, extra.id()).isPresent());
    assertThrows(UnsupportedOperationException.class, () -> w.state().resources().clear());
  }

  @Test
  void anUpdateReplacesTheResourceUnderItsId() {
    Trigger t = w.fx.trigger("a1s-1", w.f1, w.definition("my-trigger"));
    Trigger paused = t.withStatus(TriggerStatus.PAUSED);
    w.fx.state = w.state().withResource(paused, CatalogFixture.operation("Pause trigger", paused, paused));
    assertEquals(paused, w.state().find(ResourceKind.TRIGGER, t.id()).orElseThrow());
    assertEquals(2, ((Trigger) w.state().find(ResourceKind.TRIGGER, t.id()).orElseThrow()).revision());
    assertEquals(1, w.state().list(ResourceKind.TRIGGER, w.f1.id(), r -> true).size());
  }

  // ---- operations ----

  @Test
  void operationsOfAResourceAreKeptInOrderAndFoundById() {
    Trigger t = w.fx.trigger("a1s-1", w.f1, w.definition("my-trigger"));
    Operation pause = CatalogFixture.operation("Pause trigger", t, t);
    w.fx.state = w.state().withResource(t, pause);
    List<Operation> ops = w.state().operationsOf(t.id());
    assertEquals(List.of("Create trigger", "Pause trigger"),
        ops.stream().map(Operation::description).toList());
    assertEquals(pause, w.state().operations().get(pause.id()));
    assertEquals(Map.of("triggerId", t.id()), pause.metadata());
    assertEquals(List.of(), w.state().operationsOf("unknown"));
  }

  @Test
  void onlyTheNewestOperationsOfAResourceAreKept() {
    int cap = CatalogState.OPERATIONS_PER_RESOURCE;
    Registry registry = w.registry;
    List<Operation> written =
        IntStream.range(0, cap + 5)
            .mapToObj(i -> CatalogFixture.operation("Write " + i, registry, registry))
            .toList();
    Operation gatewayCreate = w.state().operationsOf(w.gateway.id()).get(0);
    for (Operation op : written) {
      w.fx.state = w.state().withResource(registry, op);
    }

    List<Operation> kept = w.state().operationsOf(registry.id());
    assertEquals(cap, kept.size());
    assertEquals(written.subList(5, cap + 5), kept);
    // the creation and the first four writes are forgotten, by id too
    assertFalse(w.state().operations().containsKey(written.get(4).id()));
    assertTrue(w.state().operations().containsKey(written.get(5).id()));
    // other resources keep theirs
    assertEquals(List.of(gatewayCreate), w.state().operationsOf(w.gateway.id()));
    assertEquals(gatewayCreate, w.state().operations().get(gatewayCreate.id()));
  }

  @Test
  void aResourceAtTheCapKeepsExactlyTheCap() {
    int cap = CatalogState.OPERATIONS_PER_RESOURCE;
    for (int i = 1; i < cap; i++) { // plus the creation = cap
      w.fx.state = w.state().withResource(w.registry, CatalogFixture.operation("W", w.registry, w.registry));
    }
    assertEquals(cap, w.state().operationsOf(w.registry.id()).size());
    assertEquals("Create registry", w.state().operationsOf(w.registry.id()).get(0).description());
  }

  // ---- tombstones ----

  @Test
  void deletingATriggerLeavesATombstoneOneRevisionPastItsLast() {
    Trigger t = w.fx.trigger("a1s-1", w.f1, w.definition("my-trigger"));
    Trigger updated = t.withDefinition(w.definition("renamed")).withStatus(TriggerStatus.PAUSED);
    w.fx.state = w.state().withResource(updated, CatalogFixture.operation("U", updated, updated));
    assertEquals(3, updated.revision());

    w.fx.remove(updated);
    assertEquals(Map.of(t.id(), 4L), w.state().removedTriggers());
    assertTrue(w.state().find(ResourceKind.TRIGGER, t.id()).isEmpty());
    assertEquals(List.of(), w.state().triggers().toList());
    assertEquals(3, w.state().operationsOf(t.id()).size());
  }

  @Test
  void deletingOtherResourcesLeavesNoTombstone() {
    Registry registry = w.fx.registry("crt-2", w.f1, "unused");
    w.fx.remove(registry);
    assertEquals(Map.of(), w.state().removedTriggers());
  }

  @Test
  void tombstonesOfSeveralTriggersAreKeptApart() {
    Trigger a = w.fx.trigger("a1s-1", w.f1, w.definition("first"));
    Trigger b = w.fx.trigger("a1s-2", w.f1, w.definition("second"));
    w.fx.remove(a);
    Trigger b2 = b.withStatus(TriggerStatus.PAUSED);
    w.fx.state = w.state().withResource(b2, CatalogFixture.operation("Pause trigger", b2, b2));
    w.fx.remove(b2);
    assertEquals(Map.of("a1s-1", 2L, "a1s-2", 3L), w.state().removedTriggers());
  }
}

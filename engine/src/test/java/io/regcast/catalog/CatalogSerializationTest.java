package io.regcast.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.typesafe.config.ConfigFactory;
import io.regcast.catalog.CatalogFixture.World;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.model.FieldViolation;
import io.regcast.model.Gateway;
import io.regcast.model.HistorySettings;
import io.regcast.model.Operation;
import io.regcast.model.Problem;
import io.regcast.model.Resource;
import io.regcast.model.ResourceKind;
import io.regcast.model.ResourceSpec;
import io.regcast.model.Trigger;
import io.regcast.model.TriggerStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;
import org.apache.pekko.serialization.jackson.JacksonJsonSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every catalog event, reply and command, and a snapshot of its state, survive Pekko's configured
 * serializer (Jackson JSON, bound in serialization.conf) unchanged. Cases holding a resource with
 * its own {@code name} field are separate: they are disabled while {@link #NAME_BUG} stands.
 */
class CatalogSerializationTest {

  static final String NAME_BUG =
      "bug: @JsonIgnore on Resource.name() / ResourceSpec.name() is inherited by the `name` record"
          + " component of Cloud, Folder, Registry, Gateway, ServiceAccount and their specs, so"
          + " Jackson drops the name: journal events and snapshots recover with name=null, and"
          + " Create commands of those specs cannot be deserialized (\"name: is required\")";

  private static ActorTestKit testKit;
  private static SerializationTestKit serialization;
  private static ActorRef<CatalogEntity.Reply> replyTo;

  @BeforeAll
  static void start() {
    // Serialization needs neither a cluster nor a journal: a local actor system will do.
    testKit =
        ActorTestKit.create(
            "CatalogSerializationTest",
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.load()));
    serialization = new SerializationTestKit(testKit.system());
    replyTo = testKit.<CatalogEntity.Reply>createTestProbe().getRef();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static <T> T roundTrip(T value) {
    return serialization.verifySerialization(value, true);
  }

  /**
   * A state holding every kind of resource, an update, a delete and a trigger tombstone: clouds
   * b1c-1/2, folders b1g-1/2/3, registries crt-1/3, gateway d4e-1, account aje-1, trigger a1s-1
   * (paused, revision 2) and the tombstone of a1s-2.
   */
  private static World world() {
    World w = new World();
    Trigger kept = w.fx.trigger("a1s-1", w.f1, w.definition("kept"));
    Trigger paused = kept.withStatus(TriggerStatus.PAUSED);
    w.fx.state = w.state().withResource(paused, CatalogFixture.operation("Pause", paused, paused));
    Trigger gone = w.fx.trigger("a1s-2", w.f1, w.definition("gone"));
    w.fx.remove(gone);
    return w;
  }

  private static Trigger trigger(World w) {
    return (Trigger) w.state().find(ResourceKind.TRIGGER, "a1s-1").orElseThrow();
  }

  @Test
  void theConfiguredSerializerIsJacksonJson() {
    assertInstanceOf(
        JacksonJsonSerializer.class,
        SerializationExtension.get(testKit.system().classicSystem())
            .findSerializerFor(world().state()));
  }

  // ---- snapshots ----

  @Test
  void aSnapshotOfTriggersOperationsAndTombstonesSurvivesSerialization() {
    World w = world();
    Trigger kept = trigger(w);
    Trigger gone = new Trigger("a1s-2", "b1g-1", CatalogFixture.T0, w.definition("gone"),
        TriggerStatus.ACTIVE, 1);
    CatalogState state =
        CatalogState.EMPTY
            .withResource(kept, CatalogFixture.created(kept))
            .withResource(gone, CatalogFixture.created(gone))
            .without(gone, CatalogFixture.operation("Delete trigger", gone, null));
    assertEquals(1, state.resources().size());
    assertEquals(3, state.operations().size());
    assertEquals(1, state.removedTriggers().size());
    CatalogState back = roundTrip(state);
    assertEquals(state.removedTriggers(), back.removedTriggers());
    assertEquals(state.operationIdsByResource(), back.operationIdsByResource());
  }

  @Test
  void theEmptyStateSurvivesSerialization() {
    roundTrip(CatalogState.EMPTY);
  }

  @Test
  void aFullCatalogSnapshotSurvivesSerialization() {
    CatalogState state = world().state();
    assertEquals(10, state.resources().size());
    CatalogState back = roundTrip(state);
    assertEquals(state.resources(), back.resources());
  }

  @Test
  void everyResourceKindSurvivesSerializationWithItsName() {
    for (Resource resource : world().state().resources().values()) {
      Resource back = roundTrip(resource);
      assertEquals(resource.name(), back.name(), resource::toString);
    }
  }

  // ---- events ----

  static Stream<CatalogEntity.Event> triggerEvents() {
    World w = world();
    Trigger t = trigger(w);
    var subject = new io.regcast.model.Subject(w.account.id(), io.regcast.model.Subject.Type.SERVICE_ACCOUNT);
    var key = new io.regcast.model.ApiKey("ajk-1", subject, "ci", "ab12", java.time.Instant.parse("2026-11-28T10:00:00Z"));
    var binding = new io.regcast.model.AccessBinding(io.regcast.model.Role.WEBSOCKET_BROADCASTER, subject);
    return Stream.of(
        new CatalogEntity.Created(t, CatalogFixture.created(t)),
        new CatalogEntity.Updated(t, CatalogFixture.operation("Pause trigger", t, t)),
        new CatalogEntity.Deleted(t, CatalogFixture.operation("Delete trigger", t, null)),
        new CatalogEntity.ApiKeyCreated(key),
        new CatalogEntity.ApiKeyDeleted("ajk-1"),
        new CatalogEntity.AccessBindingsSet(w.f1.id(), List.of(binding), CatalogFixture.operation("Set access bindings", w.f1, null)),
        new CatalogEntity.AccessBindingsSet("root", List.of(binding), null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("triggerEvents")
  void everyEventTypeSurvivesSerialization(CatalogEntity.Event event) {
    roundTrip(event);
  }

  static Stream<CatalogEntity.Event> namedResourceEvents() {
    World w = world();
    return Stream.of(
        new CatalogEntity.Created(w.c1, CatalogFixture.created(w.c1)),
        new CatalogEntity.Created(w.f1, CatalogFixture.created(w.f1)),
        new CatalogEntity.Created(w.registry, CatalogFixture.created(w.registry)),
        new CatalogEntity.Created(w.gateway, CatalogFixture.created(w.gateway)),
        new CatalogEntity.Created(w.account, CatalogFixture.created(w.account)),
        new CatalogEntity.Deleted(w.gateway, CatalogFixture.operation("Delete gw", w.gateway, null)));
  }

  @Test
  void eventsOfEveryResourceKindSurviveSerialization() {
    namedResourceEvents().forEach(CatalogSerializationTest::roundTrip);
  }

  private static Gateway gatewayWithOwnSettings() {
    return new Gateway("d4e-9", "b1g-1", "gw-9", "d", List.of("/ws"), Instant.parse("2026-11-28T10:00:00Z"), true,
        new HistorySettings(5, Duration.ofMillis(1500)), List.of("https://app.example", "http://localhost:8080"));
  }

  @Test
  void aGatewaysHistorySettingsAndAllowedOriginsSurviveSerialization() {
    Gateway gateway = gatewayWithOwnSettings();
    CatalogEntity.Updated back =
        roundTrip(new CatalogEntity.Updated(gateway, CatalogFixture.operation("Update gateway", gateway, gateway)));
    assertEquals(gateway, back.resource());
    assertEquals(gateway, roundTrip(new CatalogEntity.UpdateGateway(gateway,
        new ResourceSpec.GatewaySpec("b1g-1", "gw-9", "d", List.of("/ws"), true, gateway.history(),
            gateway.allowedOrigins()), "u", replyTo)).expected());
  }

  @Test
  void aGatewayFromAJournalWrittenBeforeTheFieldsExistedLoadsWithTheDefaults() throws Exception {
    ObjectMapper mapper = JacksonObjectMapperProvider.get(testKit.system()).getOrCreate("jackson-json", Optional.empty());
    Gateway gateway = gatewayWithOwnSettings();
    ObjectNode event = mapper.valueToTree(new CatalogEntity.Created(gateway, CatalogFixture.created(gateway)));
    for (String written : List.of("/resource", "/operation/response")) {
      ((ObjectNode) event.at(written)).remove(List.of("history", "allowedOrigins"));
    }
    assertEquals(false, event.toString().contains("allowedOrigins"), event::toString);

    CatalogEntity.Created back = mapper.treeToValue(event, CatalogEntity.Created.class);
    Gateway old = (Gateway) back.resource();

    assertEquals(old, back.operation().response());
    assertNull(old.history());
    assertEquals(Gateway.ANY_ORIGIN, old.allowedOrigins());
    assertEquals(gateway.websocketPaths(), old.websocketPaths());
    assertEquals(gateway.requireApiKey(), old.requireApiKey());
  }

  // ---- replies ----

  static Stream<CatalogEntity.Reply> replies() {
    World w = world();
    Trigger t = trigger(w);
    Operation op = CatalogFixture.created(t);
    Operation deleted = CatalogFixture.operation("Delete registry", w.registry, null);
    return Stream.of(
        new CatalogEntity.Completed(op),
        new CatalogEntity.Completed(deleted),
        new CatalogEntity.Found(t),
        new CatalogEntity.FoundOperation(op),
        new CatalogEntity.Listed(List.of(t), "a1s-1"),
        new CatalogEntity.Listed(List.of(), null),
        new CatalogEntity.ListedOperations(List.of(op, deleted), null),
        new CatalogEntity.ListedOperations(List.of(op), op.id()),
        new CatalogEntity.AllGateways(List.of(w.gateway)),
        new CatalogEntity.Access(w.state().accessSnapshot()),
        new CatalogEntity.KeyCreated(new io.regcast.model.ApiKey("ajk-2",
            new io.regcast.model.Subject("usr-1", io.regcast.model.Subject.Type.USER_ACCOUNT), "", "cd34",
            java.time.Instant.parse("2026-11-28T10:00:00Z"))),
        new CatalogEntity.KeyFound(new io.regcast.model.ApiKey("ajk-3",
            new io.regcast.model.Subject("usr-1", io.regcast.model.Subject.Type.USER_ACCOUNT), "d", "ef56",
            java.time.Instant.parse("2026-11-28T10:00:00Z"))),
        new CatalogEntity.KeysListed(List.of()),
        new CatalogEntity.BindingsListed(List.of(new io.regcast.model.AccessBinding(io.regcast.model.Role.VIEWER,
            new io.regcast.model.Subject("usr-1", io.regcast.model.Subject.Type.USER_ACCOUNT)))),
        new CatalogEntity.Bootstrapped(true, "usr-1"),
        new CatalogEntity.Rejected(Problem.notFound(ResourceKind.TRIGGER, "a1s-9")),
        new CatalogEntity.Rejected(
            Problem.invalid(
                List.of(
                    new FieldViolation("name", "is required"),
                    new FieldViolation("rule.containerRegistry.registryId", "is in cloud x")))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("replies")
  void everyReplyTypeSurvivesSerialization(CatalogEntity.Reply reply) {
    roundTrip(reply);
  }

  @Test
  void repliesHoldingResourcesOfEveryKindSurviveSerialization() {
    World w = world();
    roundTrip(new CatalogEntity.Found(w.gateway));
    roundTrip(new CatalogEntity.Listed(List.of(w.registry, w.foreignRegistry), "crt-3"));
    roundTrip(new CatalogEntity.Completed(CatalogFixture.created(w.c1)));
  }

  // ---- commands ----

  static Stream<CatalogEntity.Command> commands() {
    World w = world();
    PageRequest page = new PageRequest(10, "crt-0");
    return Stream.of(
        new CatalogEntity.Create(
            new ResourceSpec.TriggerSpec("b1g-1", w.definition("my-trigger")), "u", replyTo),
        new CatalogEntity.Get(ResourceKind.SERVICE_ACCOUNT, "aje-1", replyTo),
        new CatalogEntity.ListResources(ResourceKind.TRIGGER, "b1g-1", "my-trigger", page, replyTo),
        new CatalogEntity.ListResources(ResourceKind.CLOUD, null, null, page, replyTo),
        new CatalogEntity.Delete(ResourceKind.GATEWAY, "d4e-1", "u", replyTo),
        new CatalogEntity.UpdateTrigger("a1s-1", 3, w.definition("renamed"), "u", replyTo),
        new CatalogEntity.SetTriggerStatus("a1s-1", TriggerStatus.PAUSED, "u", replyTo),
        new CatalogEntity.ListOperations(ResourceKind.TRIGGER, "a1s-1", page, replyTo),
        new CatalogEntity.GetOperation("op1xyz", replyTo));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("commands")
  void everyPublicCommandSurvivesSerialization(CatalogEntity.Command command) {
    roundTrip(command);
  }

  @Test
  void createCommandsOfEveryKindSurviveSerialization() {
    Stream.of(
            new ResourceSpec.CloudSpec("my-cloud", "d"),
            new ResourceSpec.FolderSpec("b1c-1", "my-folder", null),
            new ResourceSpec.RegistrySpec("b1g-1", "my-reg", null),
            new ResourceSpec.GatewaySpec("b1g-1", "my-gw", null, List.of("/ws", "/b")),
            new ResourceSpec.ServiceAccountSpec("b1g-1", "my-sa", null))
        .forEach(spec -> roundTrip(new CatalogEntity.Create(spec, "u", replyTo)));
  }

  // ---- coverage of the protocol ----

  @Test
  void theCasesAboveCoverEveryEventAndReplyType() {
    assertCovers(CatalogEntity.Event.class, triggerEvents().map(Object::getClass));
    assertCovers(CatalogEntity.Reply.class, replies().map(Object::getClass));
  }

  private static void assertCovers(Class<?> sealed, Stream<Class<?>> tested) {
    Set<Class<?>> all = new HashSet<>(Arrays.asList(sealed.getPermittedSubclasses()));
    all.removeAll(tested.toList());
    assertEquals(Set.of(), all, "untested " + sealed.getSimpleName() + " types");
  }

  @Test
  void anOperationOfADeleteKeepsItsNullResponse() {
    Operation deleted = CatalogFixture.operation("Delete trigger", trigger(world()), null);
    assertNull(roundTrip(deleted).response());
  }
}

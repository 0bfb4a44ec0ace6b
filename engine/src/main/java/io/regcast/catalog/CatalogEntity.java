package io.regcast.catalog;

import io.regcast.model.AccessBinding;
import io.regcast.model.ApiKey;
import io.regcast.model.Gateway;
import io.regcast.model.Ids;
import io.regcast.model.JsonSerializable;
import io.regcast.model.Operation;
import io.regcast.model.Problem;
import io.regcast.model.Registry;
import io.regcast.model.RegistryEndpoint;
import io.regcast.model.Resource;
import io.regcast.model.ResourceKind;
import io.regcast.model.ResourceSpec;
import io.regcast.model.Role;
import io.regcast.model.Subject;
import io.regcast.model.User;
import io.regcast.model.Trigger;
import io.regcast.model.TriggerDefinition;
import io.regcast.model.TriggerStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.Optional;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The catalog of every resource definition, one sharded entity for the whole deployment (so name
 * uniqueness and references between resources are checked atomically; admin writes are rare).
 *
 * <p>Commands are validated against {@link CatalogState}; a refused command persists nothing and
 * answers {@link Rejected}. Each accepted write persists one event that carries the resource and
 * its {@link Operation}. Trigger writes are then handed to the trigger's entity ({@link TriggerSync}); a
 * revision the entity has not acknowledged is re-sent on a timer and after recovery, so a crash
 * between the catalog's write and the entity's leaves the entity one revision behind for at most
 * one sync interval.
 */
public final class CatalogEntity
    extends EventSourcedBehaviorWithEnforcedReplies<
        CatalogEntity.Command, CatalogEntity.Event, CatalogState> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "Catalog");
  /** The catalog is one entity; sharding keeps it alive on some node. */
  public static final String ENTITY_ID = "catalog";

  public static void init(ActorSystem<?> system, Settings settings, TriggerSync triggers) {
    ClusterSharding.get(system)
        .init(Entity.of(ENTITY_KEY, ctx -> create(settings, triggers, Clock.systemUTC())));
  }

  /**
   * How the catalog hands a trigger's definition to the trigger's runtime (the node wires it to
   * the trigger's entity). Each completes with the revision the runtime then holds.
   */
  public interface TriggerSync {
    CompletionStage<Long> configure(Trigger trigger);

    CompletionStage<Long> remove(String triggerId, long revision);
  }

  public static EntityRef<Command> ref(ActorSystem<?> system) {
    return ClusterSharding.get(system).entityRefFor(ENTITY_KEY, ENTITY_ID);
  }

  public static Behavior<Command> create(Settings settings, TriggerSync triggers, Clock clock) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  timers.startTimerWithFixedDelay(ResyncTick.INSTANCE, settings.syncInterval());
                  return new CatalogEntity(ctx, settings, triggers, clock);
                }));
  }

  /** Tuning read from {@code regcast.catalog}. */
  public record Settings(int snapshotEvery, Duration syncInterval, Duration syncTimeout) {}

  // ---- protocol ----

  public sealed interface Command extends JsonSerializable {}

  public record Create(ResourceSpec spec, String actor, ActorRef<Reply> replyTo)
      implements Command {}

  public record Get(ResourceKind kind, String id, ActorRef<Reply> replyTo) implements Command {}

  /** Resources of a kind under a parent (ignored for clouds), optionally of one exact name. */
  public record ListResources(
      ResourceKind kind, String parentId, String name, PageRequest page, ActorRef<Reply> replyTo)
      implements Command {}

  public record Delete(ResourceKind kind, String id, String actor, ActorRef<Reply> replyTo)
      implements Command {}

  /**
   * Replaces a trigger's definition if it is still at {@code expectedRevision} (the caller merged
   * its update into that revision); otherwise {@link Rejected} with {@code ABORTED}, and the caller
   * merges again.
   */
  public record UpdateTrigger(
      String id,
      long expectedRevision,
      TriggerDefinition definition,
      String actor,
      ActorRef<Reply> replyTo)
      implements Command {}

  /**
   * Replaces a gateway's settings with {@code spec} (same folder) if it is still {@code expected}
   * (the caller merged its update into that value); otherwise {@link Rejected} with {@code
   * ABORTED}, and the caller merges again.
   */
  public record UpdateGateway(
      Gateway expected, ResourceSpec.GatewaySpec spec, String actor, ActorRef<Reply> replyTo)
      implements Command {}

  /** Sets (or, with null, removes) the address {@code :reconcile} reads a registry at. */
  public record SetRegistryEndpoint(String id, RegistryEndpoint endpoint, String actor, ActorRef<Reply> replyTo)
      implements Command {}

  public record SetTriggerStatus(
      String id, TriggerStatus status, String actor, ActorRef<Reply> replyTo) implements Command {}

  public record ListOperations(
      ResourceKind kind, String resourceId, PageRequest page, ActorRef<Reply> replyTo)
      implements Command {}

  public record GetOperation(String id, ActorRef<Reply> replyTo) implements Command {}

  /** Every gateway, whatever its folder: what the nodes' WebSocket listeners route by. */
  public record ListAllGateways(ActorRef<Reply> replyTo) implements Command {}

  /** Keys, bindings and parents, as every node keeps them (see {@link #ACCESS_TOPIC}). */
  public record GetAccess(ActorRef<Reply> replyTo) implements Command {}

  /** A new API key for a user or service account; only the secret's hash is given and kept. */
  public record CreateApiKey(Subject subject, String description, String secretHash, ActorRef<Reply> replyTo)
      implements Command {}

  public record GetApiKey(String id, ActorRef<Reply> replyTo) implements Command {}

  /** The keys of one subject (id of a user or service account). */
  public record ListApiKeys(String subjectId, ActorRef<Reply> replyTo) implements Command {}

  public record DeleteApiKey(String id, ActorRef<Reply> replyTo) implements Command {}

  public record ListAccessBindings(ResourceKind kind, String id, ActorRef<Reply> replyTo) implements Command {}

  /** Replaces every binding on a resource. */
  public record SetAccessBindings(
      ResourceKind kind, String id, List<AccessBinding> bindings, String actor, ActorRef<Reply> replyTo)
      implements Command {}

  /** Adds and removes bindings on a resource. */
  public record UpdateAccessBindings(
      ResourceKind kind, String id, List<BindingDelta> deltas, String actor, ActorRef<Reply> replyTo)
      implements Command {}

  public record BindingDelta(boolean add, AccessBinding binding) implements JsonSerializable {}

  /**
   * On a store with no user yet: creates the administrator (admin on everything) with one key.
   * Answers {@link Bootstrapped} either way.
   */
  public record Bootstrap(String adminName, String secretHash, ActorRef<Reply> replyTo) implements Command {}

  private record SyncAcknowledged(String triggerId, long revision) implements Command {}

  private enum ResyncTick implements Command {
    INSTANCE
  }

  public sealed interface Reply extends JsonSerializable {}

  public record Completed(Operation operation) implements Reply {}

  public record Found(Resource resource) implements Reply {}

  public record FoundOperation(Operation operation) implements Reply {}

  /** One page; {@code nextAfterId} is null on the last page. */
  public record Listed(List<Resource> items, String nextAfterId) implements Reply {}

  public record ListedOperations(List<Operation> operations, String nextAfterId)
      implements Reply {}

  public record Rejected(Problem problem) implements Reply {}

  /** All gateways; also what the catalog publishes on {@link #GATEWAYS_TOPIC} after each change. */
  public record AllGateways(List<Gateway> gateways) implements Reply {}

  /** The pub-sub topic on which every gateway change is announced (the whole list, idempotent). */
  public static final String GATEWAYS_TOPIC = "regcast-gateways";

  /** The pub-sub topic on which every change of keys, bindings or resources is announced. */
  public static final String ACCESS_TOPIC = "regcast-access";

  public record Access(AccessSnapshot snapshot) implements Reply {}

  public record KeyCreated(ApiKey key) implements Reply {}

  public record KeyFound(ApiKey key) implements Reply {}

  public record KeysListed(List<ApiKey> keys) implements Reply {}

  public record BindingsListed(List<AccessBinding> bindings) implements Reply {}

  /** {@code created}: whether this start created the administrator (false: users existed). */
  public record Bootstrapped(boolean created, String userId) implements Reply {}

  public sealed interface Event extends JsonSerializable {}

  public record Created(Resource resource, Operation operation) implements Event {}

  public record Updated(Resource resource, Operation operation) implements Event {}

  public record Deleted(Resource resource, Operation operation) implements Event {}

  public record ApiKeyCreated(ApiKey key) implements Event {}

  public record ApiKeyDeleted(String keyId) implements Event {}

  /** The bindings of a scope (a resource id, or {@link CatalogState#ROOT}) are now {@code bindings}. */
  public record AccessBindingsSet(String scope, List<AccessBinding> bindings, Operation operation)
      implements Event {}

  // ---- behaviour ----

  private final ActorContext<Command> context;
  private final Settings settings;
  private final Clock clock;
  private final TriggerSync triggers;
  /** Trigger id → the revision its entity has not acknowledged yet (not persisted: rebuilt at recovery). */
  private final Map<String, Long> unsynced = new HashMap<>();
  private final ActorRef<Topic.Command<AllGateways>> gatewaysTopic;
  private final ActorRef<Topic.Command<Access>> accessTopic;

  private CatalogEntity(ActorContext<Command> context, Settings settings, TriggerSync triggers, Clock clock) {
    super(PersistenceId.of(ENTITY_KEY.name(), ENTITY_ID));
    this.context = context;
    this.gatewaysTopic = context.spawn(Topic.create(AllGateways.class, GATEWAYS_TOPIC), "gateways-topic");
    this.accessTopic = context.spawn(Topic.create(Access.class, ACCESS_TOPIC), "access-topic");
    this.settings = settings;
    this.clock = clock;
    this.triggers = triggers;
  }

  @Override
  public CatalogState emptyState() {
    return CatalogState.EMPTY;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
  }

  @Override
  public SignalHandler<CatalogState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              state.triggers().forEach(t -> unsynced.put(t.id(), t.revision()));
              unsynced.putAll(state.removedTriggers());
              context.getLog().info(
                  "Catalog recovered: {} resources, {} triggers to hand to their entities",
                  state.resources().size(), unsynced.size());
              unsynced.keySet().forEach(id -> sync(state, id));
            })
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, CatalogState> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Create.class, this::onCreate)
        .onCommand(Get.class, this::onGet)
        .onCommand(ListResources.class, this::onList)
        .onCommand(Delete.class, this::onDelete)
        .onCommand(UpdateTrigger.class, this::onUpdateTrigger)
        .onCommand(UpdateGateway.class, this::onUpdateGateway)
        .onCommand(SetTriggerStatus.class, this::onSetTriggerStatus)
        .onCommand(SetRegistryEndpoint.class, this::onSetRegistryEndpoint)
        .onCommand(ListOperations.class, this::onListOperations)
        .onCommand(GetOperation.class, this::onGetOperation)
        .onCommand(
            ListAllGateways.class, (state, cmd) -> Effect().reply(cmd.replyTo(), allGateways(state)))
        .onCommand(GetAccess.class, (state, cmd) -> Effect().reply(cmd.replyTo(), new Access(state.accessSnapshot())))
        .onCommand(CreateApiKey.class, this::onCreateApiKey)
        .onCommand(GetApiKey.class, (state, cmd) -> Optional.ofNullable(state.apiKeys().get(cmd.id()))
            .map(k -> Effect().reply(cmd.replyTo(), (Reply) new KeyFound(k)))
            .orElseGet(() -> reject(cmd.replyTo(), Problem.of(Problem.Kind.NOT_FOUND, "API key " + cmd.id() + " not found"))))
        .onCommand(ListApiKeys.class, (state, cmd) -> Effect().reply(cmd.replyTo(), new KeysListed(
            state.apiKeys().values().stream()
                .filter(k -> k.subject().id().equals(cmd.subjectId()))
                .sorted(java.util.Comparator.comparing(ApiKey::id))
                .toList())))
        .onCommand(DeleteApiKey.class, this::onDeleteApiKey)
        .onCommand(ListAccessBindings.class, this::onListAccessBindings)
        .onCommand(SetAccessBindings.class, this::onSetAccessBindings)
        .onCommand(UpdateAccessBindings.class, this::onUpdateAccessBindings)
        .onCommand(Bootstrap.class, this::onBootstrap)
        .onCommand(SyncAcknowledged.class, this::onSyncAcknowledged)
        .onCommand(ResyncTick.class, this::onResyncTick)
        .build();
  }

  private ReplyEffect<Event, CatalogState> onCreate(CatalogState state, Create cmd) {
    Problem problem = state.checkCreate(cmd.spec());
    if (problem != null) {
      return reject(cmd.replyTo(), problem);
    }
    Instant now = clock.instant();
    ResourceKind kind = cmd.spec().kind();
    Resource resource = cmd.spec().toResource(kind.newId(), now);
    Operation op = operation("Create " + kind.displayName(), cmd.actor(), now, resource, resource);
    return Effect()
        .persist(new Created(resource, op))
        .thenRun(s -> announce(s, resource))
        .thenReply(cmd.replyTo(), s -> new Completed(op));
  }

  private ReplyEffect<Event, CatalogState> onGet(CatalogState state, Get cmd) {
    return state
        .find(cmd.kind(), cmd.id())
        .map(r -> Effect().reply(cmd.replyTo(), (Reply) new Found(r)))
        .orElseGet(() -> reject(cmd.replyTo(), Problem.notFound(cmd.kind(), cmd.id())));
  }

  private ReplyEffect<Event, CatalogState> onList(CatalogState state, ListResources cmd) {
    ResourceKind parentKind = cmd.kind().parent();
    if (parentKind != null && state.find(parentKind, cmd.parentId()).isEmpty()) {
      return reject(cmd.replyTo(), Problem.notFound(parentKind, cmd.parentId()));
    }
    Predicate<Resource> filter = cmd.name() == null ? r -> true : r -> r.name().equals(cmd.name());
    List<Resource> all = state.list(cmd.kind(), cmd.parentId(), filter);
    List<Resource> after =
        all.stream().filter(r -> r.id().compareTo(cmd.page().afterId()) > 0).toList();
    List<Resource> page = after.subList(0, Math.min(cmd.page().size(), after.size()));
    String next = after.size() > page.size() ? page.get(page.size() - 1).id() : null;
    return Effect().reply(cmd.replyTo(), new Listed(page, next));
  }

  private ReplyEffect<Event, CatalogState> onDelete(CatalogState state, Delete cmd) {
    var found = state.find(cmd.kind(), cmd.id());
    if (found.isEmpty()) {
      return reject(cmd.replyTo(), Problem.notFound(cmd.kind(), cmd.id()));
    }
    Resource resource = found.get();
    Problem problem = state.checkDelete(resource);
    if (problem != null) {
      return reject(cmd.replyTo(), problem);
    }
    Operation op =
        operation(
            "Delete " + cmd.kind().displayName(), cmd.actor(), clock.instant(), resource, null);
    return Effect()
        .persist(new Deleted(resource, op))
        .thenRun(s -> announce(s, resource))
        .thenReply(cmd.replyTo(), s -> new Completed(op));
  }

  private ReplyEffect<Event, CatalogState> onUpdateTrigger(CatalogState state, UpdateTrigger cmd) {
    var found = state.find(ResourceKind.TRIGGER, cmd.id());
    if (found.isEmpty()) {
      return reject(cmd.replyTo(), Problem.notFound(ResourceKind.TRIGGER, cmd.id()));
    }
    Trigger current = (Trigger) found.get();
    if (current.revision() != cmd.expectedRevision()) {
      return reject(
          cmd.replyTo(),
          Problem.of(Problem.Kind.ABORTED, "trigger " + cmd.id() + " changed meanwhile"));
    }
    Problem problem = state.checkTriggerUpdate(current, cmd.definition());
    if (problem != null) {
      return reject(cmd.replyTo(), problem);
    }
    return persistTrigger(current.withDefinition(cmd.definition()), "Update trigger", cmd.actor(),
        cmd.replyTo());
  }

  private ReplyEffect<Event, CatalogState> onUpdateGateway(CatalogState state, UpdateGateway cmd) {
    String id = cmd.expected().id();
    var found = state.find(ResourceKind.GATEWAY, id);
    if (found.isEmpty()) {
      return reject(cmd.replyTo(), Problem.notFound(ResourceKind.GATEWAY, id));
    }
    Gateway current = (Gateway) found.get();
    if (!current.equals(cmd.expected())) {
      return reject(cmd.replyTo(), Problem.of(Problem.Kind.ABORTED, "gateway " + id + " changed meanwhile"));
    }
    Problem problem = state.checkGatewayUpdate(current, cmd.spec());
    if (problem != null) {
      return reject(cmd.replyTo(), problem);
    }
    Resource updated = cmd.spec().toResource(id, current.createdAt());
    Operation op = operation("Update " + ResourceKind.GATEWAY.displayName(), cmd.actor(), clock.instant(), updated, updated);
    return Effect()
        .persist(new Updated(updated, op))
        .thenRun(s -> announce(s, updated))
        .thenReply(cmd.replyTo(), s -> new Completed(op));
  }

  private ReplyEffect<Event, CatalogState> onSetTriggerStatus(
      CatalogState state, SetTriggerStatus cmd) {
    var found = state.find(ResourceKind.TRIGGER, cmd.id());
    if (found.isEmpty()) {
      return reject(cmd.replyTo(), Problem.notFound(ResourceKind.TRIGGER, cmd.id()));
    }
    Trigger current = (Trigger) found.get();
    Trigger next = current.status() == cmd.status() ? current : current.withStatus(cmd.status());
    String verb = cmd.status() == TriggerStatus.PAUSED ? "Pause trigger" : "Resume trigger";
    return persistTrigger(next, verb, cmd.actor(), cmd.replyTo());
  }

  private ReplyEffect<Event, CatalogState> onSetRegistryEndpoint(CatalogState state, SetRegistryEndpoint cmd) {
    var found = state.find(ResourceKind.REGISTRY, cmd.id());
    if (found.isEmpty()) {
      return reject(cmd.replyTo(), Problem.notFound(ResourceKind.REGISTRY, cmd.id()));
    }
    Registry registry = ((Registry) found.get()).withEndpoint(cmd.endpoint());
    Operation op = operation("Update registry", cmd.actor(), clock.instant(), registry, registry);
    return Effect().persist(new Updated(registry, op)).thenReply(cmd.replyTo(), s -> new Completed(op));
  }

  private ReplyEffect<Event, CatalogState> persistTrigger(
      Trigger trigger, String description, String actor, ActorRef<Reply> replyTo) {
    Operation op = operation(description, actor, clock.instant(), trigger, trigger);
    return Effect()
        .persist(new Updated(trigger, op))
        .thenRun(s -> syncIfTrigger(s, trigger))
        .thenReply(replyTo, s -> new Completed(op));
  }

  private ReplyEffect<Event, CatalogState> onListOperations(
      CatalogState state, ListOperations cmd) {
    if (state.find(cmd.kind(), cmd.resourceId()).isEmpty()) {
      return reject(cmd.replyTo(), Problem.notFound(cmd.kind(), cmd.resourceId()));
    }
    List<Operation> all = state.operationsOf(cmd.resourceId());
    int start = 0;
    if (!cmd.page().afterId().isEmpty()) {
      start = all.stream().map(Operation::id).toList().indexOf(cmd.page().afterId()) + 1;
    }
    List<Operation> page = all.subList(start, Math.min(all.size(), start + cmd.page().size()));
    String next = start + page.size() < all.size() ? page.get(page.size() - 1).id() : null;
    return Effect().reply(cmd.replyTo(), new ListedOperations(page, next));
  }

  private ReplyEffect<Event, CatalogState> onGetOperation(CatalogState state, GetOperation cmd) {
    Operation op = state.operations().get(cmd.id());
    return op != null
        ? Effect().reply(cmd.replyTo(), new FoundOperation(op))
        : reject(
            cmd.replyTo(),
            Problem.of(Problem.Kind.NOT_FOUND, "operation " + cmd.id() + " not found"));
  }

  private ReplyEffect<Event, CatalogState> onSyncAcknowledged(
      CatalogState state, SyncAcknowledged ack) {
    Long wanted = unsynced.get(ack.triggerId());
    if (wanted != null && ack.revision() >= wanted) {
      unsynced.remove(ack.triggerId());
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, CatalogState> onResyncTick(CatalogState state, ResyncTick tick) {
    if (!unsynced.isEmpty()) {
      context.getLog().info("Re-sending {} trigger definitions to their entities", unsynced.size());
      List.copyOf(unsynced.keySet()).forEach(id -> sync(state, id));
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, CatalogState> onCreateApiKey(CatalogState state, CreateApiKey cmd) {
    Subject subject = cmd.subject();
    if (state.find(subject.type().kind(), subject.id()).isEmpty()) {
      String field = subject.type() == Subject.Type.USER_ACCOUNT ? "userId" : "serviceAccountId";
      return reject(cmd.replyTo(), new Problem(Problem.Kind.NOT_FOUND,
          subject.type().kind().displayName() + " " + subject.id() + " not found",
          List.of(new io.regcast.model.FieldViolation(field, "does not exist"))));
    }
    ApiKey key = new ApiKey(Ids.next(ApiKey.ID_PREFIX), subject, cmd.description(), cmd.secretHash(), clock.instant());
    return Effect()
        .persist(new ApiKeyCreated(key))
        .thenRun(this::announceAccess)
        .thenReply(cmd.replyTo(), s -> new KeyCreated(key));
  }

  private ReplyEffect<Event, CatalogState> onDeleteApiKey(CatalogState state, DeleteApiKey cmd) {
    ApiKey key = state.apiKeys().get(cmd.id());
    if (key == null) {
      return reject(cmd.replyTo(), Problem.of(Problem.Kind.NOT_FOUND, "API key " + cmd.id() + " not found"));
    }
    return Effect()
        .persist(new ApiKeyDeleted(cmd.id()))
        .thenRun(this::announceAccess)
        .thenReply(cmd.replyTo(), s -> new KeyFound(key));
  }

  private ReplyEffect<Event, CatalogState> onListAccessBindings(CatalogState state, ListAccessBindings cmd) {
    if (state.find(cmd.kind(), cmd.id()).isEmpty()) {
      return reject(cmd.replyTo(), Problem.notFound(cmd.kind(), cmd.id()));
    }
    return Effect().reply(cmd.replyTo(), new BindingsListed(state.bindings().getOrDefault(cmd.id(), List.of())));
  }

  private ReplyEffect<Event, CatalogState> onSetAccessBindings(CatalogState state, SetAccessBindings cmd) {
    return setBindings(state, cmd.kind(), cmd.id(), cmd.bindings(), "accessBindings", "Set access bindings",
        cmd.actor(), cmd.replyTo());
  }

  private ReplyEffect<Event, CatalogState> onUpdateAccessBindings(CatalogState state, UpdateAccessBindings cmd) {
    List<AccessBinding> next = new ArrayList<>(state.bindings().getOrDefault(cmd.id(), List.of()));
    for (BindingDelta delta : cmd.deltas()) {
      next.remove(delta.binding());
      if (delta.add()) {
        next.add(delta.binding());
      }
    }
    List<AccessBinding> added = cmd.deltas().stream().filter(BindingDelta::add).map(BindingDelta::binding).toList();
    Problem problem = state.checkSubjects(added, "accessBindingDeltas");
    if (problem != null) {
      return reject(cmd.replyTo(), problem);
    }
    return setBindings(state, cmd.kind(), cmd.id(), next, null, "Update access bindings", cmd.actor(), cmd.replyTo());
  }

  private ReplyEffect<Event, CatalogState> setBindings(
      CatalogState state, ResourceKind kind, String id, List<AccessBinding> bindings, String field,
      String description, String actor, ActorRef<Reply> replyTo) {
    var resource = state.find(kind, id);
    if (resource.isEmpty()) {
      return reject(replyTo, Problem.notFound(kind, id));
    }
    Problem problem = field == null ? null : state.checkSubjects(bindings, field);
    if (problem != null) {
      return reject(replyTo, problem);
    }
    List<AccessBinding> distinct = List.copyOf(new java.util.LinkedHashSet<>(bindings));
    Operation op = operation(description, actor, clock.instant(), resource.get(), null);
    return Effect()
        .persist(new AccessBindingsSet(id, distinct, op))
        .thenRun(this::announceAccess)
        .thenReply(replyTo, s -> new Completed(op));
  }

  private ReplyEffect<Event, CatalogState> onBootstrap(CatalogState state, Bootstrap cmd) {
    var existing = state.resources().values().stream().filter(User.class::isInstance).findFirst();
    if (existing.isPresent()) {
      return Effect().reply(cmd.replyTo(), new Bootstrapped(false, existing.get().id()));
    }
    Instant now = clock.instant();
    User admin = (User) new ResourceSpec.UserSpec(cmd.adminName(), "created at first start")
        .toResource(ResourceKind.USER.newId(), now);
    Subject subject = new Subject(admin.id(), Subject.Type.USER_ACCOUNT);
    ApiKey key = new ApiKey(Ids.next(ApiKey.ID_PREFIX), subject, "bootstrap key", cmd.secretHash(), now);
    return Effect()
        .persist(List.of(
            new Created(admin, operation("Create user", "", now, admin, admin)),
            new ApiKeyCreated(key),
            new AccessBindingsSet(CatalogState.ROOT, List.of(new AccessBinding(Role.ADMIN, subject)), null)))
        .thenRun(this::announceAccess)
        .thenReply(cmd.replyTo(), s -> new Bootstrapped(true, admin.id()));
  }

  // ---- helpers ----

  private void announceAccess(CatalogState state) {
    accessTopic.tell(Topic.publish(new Access(state.accessSnapshot())));
  }

  /** After a write: hand a trigger to its entity, announce a gateway change to every node. */
  private void announce(CatalogState state, Resource resource) {
    if (resource instanceof Gateway) {
      gatewaysTopic.tell(Topic.publish(allGateways(state)));
    }
    announceAccess(state);
    syncIfTrigger(state, resource);
  }

  private static AllGateways allGateways(CatalogState state) {
    return new AllGateways(
        state.resources().values().stream()
            .filter(Gateway.class::isInstance)
            .map(Gateway.class::cast)
            .toList());
  }

  private void syncIfTrigger(CatalogState state, Resource resource) {
    if (resource instanceof Trigger t) {
      unsynced.put(t.id(), state.find(ResourceKind.TRIGGER, t.id())
          .map(r -> ((Trigger) r).revision())
          .orElseGet(() -> state.removedTriggers().get(t.id())));
      sync(state, t.id());
    }
  }

  /** Hands the trigger's current revision (or its removal) to its entity. */
  private void sync(CatalogState state, String triggerId) {
    var trigger = state.find(ResourceKind.TRIGGER, triggerId);
    CompletionStage<Long> applied = trigger.isPresent()
        ? triggers.configure((Trigger) trigger.get())
        : triggers.remove(triggerId, state.removedTriggers().get(triggerId));
    context.pipeToSelf(applied, (revision, failure) -> new SyncAcknowledged(triggerId, revision == null ? -1 : revision));
  }

  private static Operation operation(
      String description, String actor, Instant at, Resource subject, Resource response) {
    return Operation.completed(description, actor, at, subject.kind(), subject.id(), response);
  }

  private ReplyEffect<Event, CatalogState> reject(ActorRef<Reply> replyTo, Problem problem) {
    return Effect().reply(replyTo, new Rejected(problem));
  }

  @Override
  public EventHandler<CatalogState, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(Created.class, (state, e) -> state.withResource(e.resource(), e.operation()))
        .onEvent(Updated.class, (state, e) -> state.withResource(e.resource(), e.operation()))
        .onEvent(Deleted.class, (state, e) -> state.without(e.resource(), e.operation()))
        .onEvent(ApiKeyCreated.class, (state, e) -> state.withApiKey(e.key()))
        .onEvent(ApiKeyDeleted.class, (state, e) -> state.withoutApiKey(e.keyId()))
        .onEvent(AccessBindingsSet.class, (state, e) -> state.withBindings(e.scope(), e.bindings(), e.operation()))
        .build();
  }
}

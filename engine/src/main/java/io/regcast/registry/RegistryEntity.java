package io.regcast.registry;

import io.regcast.delivery.Delivery;
import io.regcast.metrics.Metrics;
import io.regcast.model.JsonSerializable;
import io.regcast.model.Problem;
import io.regcast.model.ProblemException;
import io.regcast.model.RegistryEndpoint;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One registry. {@link Ingest} hands it raw operations; operations whose source id is in the
 * dedupe window are dropped, the rest are persisted — every request that queued up while the
 * previous write was in flight in one write (group commit) — and only then acknowledged. Applying
 * them (the event handler) runs the {@link ImageIndex}, which derives the CR events; each gets the
 * next sequence number and waits in the state until every subscribed trigger has acknowledged it.
 *
 * <p>Delivery is at least once: after each write, on a timer and after recovery, each subscriber
 * is sent what it has not acknowledged; acknowledgements are recorded in the journal every
 * {@code ackInterval} (a crash re-sends a little; the trigger drops what is at or below its
 * watermark).
 */
public final class RegistryEntity
    extends EventSourcedBehaviorWithEnforcedReplies<
        RegistryEntity.Command, RegistryEntity.Event, RegistryState> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "Registry");

  /** Tuning read from {@code regcast.registry}. */
  public record Settings(
      int dedupeWindow, int snapshotEvery, Duration redeliverInterval, int maxEventsPerDelivery) {}

  public static void init(
      ActorSystem<?> system, Settings settings, Delivery.ToTrigger triggers, RegistryReader reader, Metrics metrics) {
    ClusterSharding.get(system)
        .init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), settings, triggers, reader, metrics)));
  }

  public static EntityRef<Command> ref(ActorSystem<?> system, String registryId) {
    return ClusterSharding.get(system).entityRefFor(ENTITY_KEY, registryId);
  }

  /** The port triggers use to (un)subscribe, for the node to wire. */
  public static Delivery.ToRegistry subscriptions(ActorSystem<?> system, Duration timeout) {
    return new Delivery.ToRegistry() {
      @Override
      public java.util.concurrent.CompletionStage<Done> subscribe(String registryId, String triggerId) {
        return ref(system, registryId).ask(r -> new Subscribe(triggerId, r), timeout);
      }

      @Override
      public java.util.concurrent.CompletionStage<Done> unsubscribe(String registryId, String triggerId) {
        return ref(system, registryId).ask(r -> new Unsubscribe(triggerId, r), timeout);
      }
    };
  }

  public static Behavior<Command> create(
      String registryId, Settings settings, Delivery.ToTrigger triggers, RegistryReader reader, Metrics metrics) {
    return Behaviors.setup(
        ctx -> Behaviors.withTimers(
            timers -> new RegistryEntity(registryId, settings, triggers, reader, metrics, ctx, timers)));
  }

  // ---- protocol ----

  public sealed interface Command extends JsonSerializable {}

  /** Raw operations from one ingest request, taken at {@code ingestedAt}; answered once they are durable. */
  public record Ingest(RegistryInfo info, List<RegistryOp> ops, Instant ingestedAt, ActorRef<Accepted> replyTo)
      implements Command {}

  public record Subscribe(String triggerId, ActorRef<Done> replyTo) implements Command {}

  public record Unsubscribe(String triggerId, ActorRef<Done> replyTo) implements Command {}

  /**
   * Reads the registry at {@code endpoint} and derives the events its webhooks did not bring (see
   * {@link #onReconcile}); answered once they are durable.
   */
  public record Reconcile(RegistryInfo info, RegistryEndpoint endpoint, ActorRef<ReconcileOutcome> replyTo)
      implements Command {}

  /** For tests and diagnostics: the image index and the delivery state. */
  public record Inspect(ActorRef<View> replyTo) implements Command {}

  private record Acknowledged(Delivery.Ack ack) implements Command {}

  private record Observed(Reconcile request, long baseSeq, RegistryObservation observation, Throwable failure)
      implements Command {}

  private record ReconcileWritten(Accepted accepted) implements Command {}

  private enum Drain implements Command {
    INSTANCE
  }

  private enum Tick implements Command {
    INSTANCE
  }

  /** How many operations of a request were new, and how many were seen before. */
  public record Accepted(int accepted, int duplicates) implements JsonSerializable {}

  public sealed interface ReconcileOutcome extends JsonSerializable {}

  /**
   * A reconcile's result: each change it found (in the order applied), and the repositories it
   * left alone because events for them arrived while the registry was being read (reconcile again).
   */
  public record Reconciled(List<String> changes, List<String> skippedRepositories) implements ReconcileOutcome {}

  public record ReconcileFailed(Problem problem) implements ReconcileOutcome {}

  public record View(
      Map<String, Map<String, List<String>>> index, long lastSeq, Map<String, Long> subscribers, int unacknowledged)
      implements JsonSerializable {}

  public sealed interface Event extends JsonSerializable {}

  /** {@code ingestedAt} is null in journals written before it was recorded. */
  public record OpsAccepted(RegistryInfo info, List<RegistryOp> ops, Instant ingestedAt) implements Event {}

  public record TriggerSubscribed(String triggerId) implements Event {}

  public record TriggerUnsubscribed(String triggerId) implements Event {}

  public record AcksRecorded(Map<String, Long> acks) implements Event {}

  // ---- behaviour ----

  private final String registryId;
  private final Settings settings;
  private final Delivery.ToTrigger triggers;
  private final Metrics metrics;
  private final ActorContext<Command> context;
  private final ActorRef<Delivery.Ack> ackAdapter;
  /** Requests that arrived while a write was in flight (group commit; not persisted). */
  private final List<Ingest> queued = new ArrayList<>();
  private boolean writing;
  /** Acknowledgements received and not yet recorded (trigger → seq). */
  private final Map<String, Long> acks = new HashMap<>();
  /** The last sequence number sent to each trigger, so a write sends only what is new. */
  private final Map<String, Long> sent = new HashMap<>();
  private final RegistryReader reader;
  /** The reconcile running (one at a time), from its start until its changes are durable. */
  private Reconcile reconciling;
  /** Its result, once its changes are queued for writing. */
  private Reconciled reconciled;
  private final ActorRef<Accepted> reconcileWrites;

  private RegistryEntity(
      String registryId,
      Settings settings,
      Delivery.ToTrigger triggers,
      RegistryReader reader,
      Metrics metrics,
      ActorContext<Command> context,
      TimerScheduler<Command> timers) {
    super(PersistenceId.of(ENTITY_KEY.name(), registryId));
    this.registryId = registryId;
    this.settings = settings;
    this.triggers = triggers;
    this.reader = reader;
    this.metrics = metrics;
    this.context = context;
    this.reconcileWrites = context.messageAdapter(Accepted.class, ReconcileWritten::new);
    this.ackAdapter = context.messageAdapter(Delivery.Ack.class, Acknowledged::new);
    timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.redeliverInterval());
  }

  @Override
  public RegistryState emptyState() {
    return new RegistryState(settings.dedupeWindow());
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
  }

  @Override
  public SnapshotAdapter<RegistryState> snapshotAdapter() {
    return new SnapshotAdapter<>() {
      @Override
      public Object toJournal(RegistryState state) {
        return state.snapshot();
      }

      @Override
      public RegistryState fromJournal(Object from) {
        return RegistryState.restore(settings.dedupeWindow(), (RegistryState.Snapshot) from);
      }
    };
  }

  @Override
  public SignalHandler<RegistryState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> state.subscribers.keySet().forEach(t -> deliver(state, t)))
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, RegistryState> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Ingest.class, this::onIngest)
        .onCommand(Drain.class, (state, d) -> drain(state))
        .onCommand(Subscribe.class, this::onSubscribe)
        .onCommand(Unsubscribe.class, this::onUnsubscribe)
        .onCommand(Acknowledged.class, this::onAcknowledged)
        .onCommand(Tick.class, this::onTick)
        .onCommand(Reconcile.class, this::onReconcile)
        .onCommand(Observed.class, this::onObserved)
        .onCommand(ReconcileWritten.class, (state, cmd) -> reconcileDone(reconciled))
        .onCommand(
            Inspect.class,
            (state, cmd) ->
                Effect().reply(cmd.replyTo(),
                    new View(state.index.copy(), state.lastSeq, Map.copyOf(state.subscribers), state.unacknowledged.size())))
        .build();
  }

  private ReplyEffect<Event, RegistryState> onIngest(RegistryState state, Ingest cmd) {
    queued.add(cmd);
    if (writing) {
      return Effect().noReply();
    }
    return drain(state);
  }

  /**
   * Persists every queued request in one write, then answers them all. The operations are counted
   * (received, duplicate, derived) once the write is confirmed: once per operation, never on replay.
   */
  private ReplyEffect<Event, RegistryState> drain(RegistryState state) {
    if (queued.isEmpty()) {
      writing = false;
      return Effect().noReply();
    }
    List<Ingest> batch = List.copyOf(queued);
    queued.clear();
    Set<String> fresh = new HashSet<>();
    List<Event> events = new ArrayList<>();
    List<Accepted> answers = new ArrayList<>();
    for (Ingest ingest : batch) {
      List<RegistryOp> accepted = new ArrayList<>();
      for (RegistryOp op : ingest.ops()) {
        if (!state.seen(op.sourceId()) && fresh.add(op.sourceId())) {
          accepted.add(op);
        }
      }
      if (!accepted.isEmpty()) {
        events.add(new OpsAccepted(ingest.info(), accepted, ingest.ingestedAt()));
      }
      answers.add(new Accepted(accepted.size(), ingest.ops().size() - accepted.size()));
    }
    if (events.isEmpty()) {
      countStored(answers);
      for (int i = 0; i < batch.size(); i++) {
        batch.get(i).replyTo().tell(answers.get(i));
      }
      writing = false;
      return Effect().noReply();
    }
    writing = true;
    long lastSeqBefore = state.lastSeq;
    long writeStarted = System.nanoTime();
    return Effect()
        .persist(events)
        .thenRun(
            s -> {
              metrics.journalWritten(Metrics.Journal.REGISTRY, writeStarted);
              countStored(answers);
              metrics.eventsDerived(s.lastSeq - lastSeqBefore);
              for (int i = 0; i < batch.size(); i++) {
                batch.get(i).replyTo().tell(answers.get(i));
              }
              s.subscribers.keySet().forEach(t -> deliver(s, t));
              context.getSelf().tell(Drain.INSTANCE);
            })
        .thenNoReply();
  }

  /**
   * Starts reading the registry (without blocking: the reader's answer comes back as {@link
   * Observed}); ingest goes on meanwhile. Remembers the sequence number it started at, so that
   * repositories changed by events applied since are left alone: the registry may have been read
   * before those changes.
   */
  private ReplyEffect<Event, RegistryState> onReconcile(RegistryState state, Reconcile cmd) {
    if (reconciling != null) {
      return Effect().reply(cmd.replyTo(), new ReconcileFailed(Problem.of(Problem.Kind.ABORTED,
          "a reconcile of registry " + registryId + " is already running; try again when it has finished")));
    }
    reconciling = cmd;
    long baseSeq = state.lastSeq;
    context.getLog().info("Reconciling registry {} with {}", registryId, cmd.endpoint().url());
    context.pipeToSelf(
        reader.observe(cmd.endpoint(), state.index.digests()),
        (observation, failure) -> new Observed(cmd, baseSeq, observation, failure));
    return Effect().noReply();
  }

  /** Derives the differences and queues them as one ingest request of their own (group commit). */
  private ReplyEffect<Event, RegistryState> onObserved(RegistryState state, Observed cmd) {
    if (cmd.failure() != null) {
      Throwable cause = cmd.failure() instanceof java.util.concurrent.CompletionException c && c.getCause() != null
          ? c.getCause() : cmd.failure();
      Problem problem = cause instanceof ProblemException p ? p.problem()
          : Problem.of(Problem.Kind.UPSTREAM_FAILED, "reading registry " + registryId + " failed: " + cause);
      context.getLog().warn("Reconcile of registry {} failed: {}", registryId, problem.message());
      reconciling = null;
      return Effect().reply(cmd.request().replyTo(), new ReconcileFailed(problem));
    }
    Set<String> skip = state.changedAfter(cmd.baseSeq());
    queued.forEach(ingest -> ingest.ops().forEach(op -> skip.add(op.repository())));
    List<ImageIndex.Difference> differences = state.index.differences(cmd.observation(), skip);
    Reconciled result = new Reconciled(
        differences.stream().map(RegistryEntity::describe).toList(), skip.stream().sorted().toList());
    context.getLog().info("Reconcile of registry {}: {} change(s), {} repositor(ies) skipped",
        registryId, differences.size(), skip.size());
    if (differences.isEmpty()) {
      return reconcileDone(result);
    }
    java.time.Instant now = java.time.Instant.now();
    List<RegistryOp> ops = new ArrayList<>();
    for (int i = 0; i < differences.size(); i++) {
      // deterministic per reconcile: the same change found again from the same state is a duplicate
      ops.add(differences.get(i).toOp("reconcile:" + cmd.baseSeq() + ":" + i, now));
    }
    reconciled = result;
    return onIngest(state, new Ingest(cmd.request().info(), ops, now, reconcileWrites)); // "ingested" now, for the latency metrics
  }

  private ReplyEffect<Event, RegistryState> reconcileDone(Reconciled result) {
    Reconcile request = reconciling;
    reconciling = null;
    reconciled = null;
    return Effect().reply(request.replyTo(), result);
  }

  private static String describe(ImageIndex.Difference d) {
    return switch (d.kind()) {
      case IMAGE_GONE -> "deleted " + d.repository() + "@" + d.digest();
      case TAG_GONE -> "deleted tag " + d.repository() + ":" + d.tag();
      case TAG_SET -> "tagged " + d.repository() + ":" + d.tag() + " → " + d.digest();
    };
  }

  private void countStored(List<Accepted> answers) {
    metrics.eventsStored(
        answers.stream().mapToLong(Accepted::accepted).sum(), answers.stream().mapToLong(Accepted::duplicates).sum());
  }

  private ReplyEffect<Event, RegistryState> onSubscribe(RegistryState state, Subscribe cmd) {
    if (state.subscribers.containsKey(cmd.triggerId())) {
      return Effect().reply(cmd.replyTo(), Done.getInstance());
    }
    context.getLog().info("Trigger {} subscribed to registry {} after event {}", cmd.triggerId(), registryId, state.lastSeq);
    return Effect().persist(new TriggerSubscribed(cmd.triggerId())).thenReply(cmd.replyTo(), s -> Done.getInstance());
  }

  private ReplyEffect<Event, RegistryState> onUnsubscribe(RegistryState state, Unsubscribe cmd) {
    acks.remove(cmd.triggerId());
    sent.remove(cmd.triggerId());
    if (!state.subscribers.containsKey(cmd.triggerId())) {
      return Effect().reply(cmd.replyTo(), Done.getInstance());
    }
    context.getLog().info("Trigger {} unsubscribed from registry {}", cmd.triggerId(), registryId);
    return Effect().persist(new TriggerUnsubscribed(cmd.triggerId())).thenReply(cmd.replyTo(), s -> Done.getInstance());
  }

  private ReplyEffect<Event, RegistryState> onAcknowledged(RegistryState state, Acknowledged cmd) {
    Delivery.Ack ack = cmd.ack();
    Long recorded = state.subscribers.get(ack.triggerId());
    if (recorded != null && ack.upToSeq() > recorded) {
      acks.merge(ack.triggerId(), ack.upToSeq(), Math::max);
      if (ack.upToSeq() < state.lastSeq) {
        deliver(state, ack.triggerId()); // more is waiting: send the next part now
      }
    }
    return Effect().noReply();
  }

  /** Records the acknowledgements received (freeing what everyone has) and re-sends what is missing. */
  private ReplyEffect<Event, RegistryState> onTick(RegistryState state, Tick tick) {
    state.subscribers.keySet().forEach(t -> {
      if (acked(state, t) < state.lastSeq) {
        sent.remove(t); // whatever was sent and not acknowledged goes again
        deliver(state, t);
      }
    });
    if (acks.isEmpty() || writing) {
      return Effect().noReply();
    }
    Map<String, Long> recorded = Map.copyOf(acks);
    acks.clear();
    return Effect().persist(new AcksRecorded(recorded)).thenNoReply();
  }

  private long acked(RegistryState state, String triggerId) {
    return Math.max(state.subscribers.getOrDefault(triggerId, 0L), acks.getOrDefault(triggerId, 0L));
  }

  private void deliver(RegistryState state, String triggerId) {
    long acked = acked(state, triggerId);
    long from = Math.max(acked, sent.getOrDefault(triggerId, 0L));
    List<Delivery.Sequenced> pending = state.after(from, settings.maxEventsPerDelivery());
    if (!pending.isEmpty()) {
      sent.put(triggerId, pending.get(pending.size() - 1).seq());
      // With what is acknowledged, so that the trigger can tell when an earlier delivery of the
      // same stream never reached it (dropped in a hand-over) instead of storing past the gap.
      triggers.deliver(triggerId, registryId, acked, pending, ackAdapter);
    }
  }

  @Override
  public EventHandler<RegistryState, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(OpsAccepted.class, (state, e) -> {
          state.accept(e.info(), e.ops(), e.ingestedAt());
          return state;
        })
        .onEvent(TriggerSubscribed.class, (state, e) -> {
          state.subscribe(e.triggerId());
          return state;
        })
        .onEvent(TriggerUnsubscribed.class, (state, e) -> {
          state.unsubscribe(e.triggerId());
          return state;
        })
        .onEvent(AcksRecorded.class, (state, e) -> {
          state.acknowledged(e.acks());
          return state;
        })
        .build();
  }
}

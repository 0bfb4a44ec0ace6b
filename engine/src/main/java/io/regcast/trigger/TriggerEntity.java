package io.regcast.trigger;

import io.regcast.broadcast.Broadcaster;
import io.regcast.delivery.Delivery;
import io.regcast.metrics.Metrics;
import io.regcast.model.ContainerRegistryRule;
import io.regcast.model.CrEvent;
import io.regcast.model.JsonSerializable;
import io.regcast.model.Trigger;
import io.regcast.model.TriggerStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
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
 * One trigger's runtime: its definition (from the catalog, newest revision wins), its subscription
 * to its registry, and its {@link Outbox} of events not yet confirmed sent.
 *
 * <p>Events arrive with {@link Deliver}; those at or below the trigger's watermark for that
 * registry are dropped, the rest pass the filter (or are dropped while paused) and join the open
 * batch — persisted, with the time the batch opened, then acknowledged. A batch is due when it
 * holds {@code size} events or {@code cutoff} after it opened (re-armed from the stored opening
 * time on recovery). Pausing, deleting and changing the registry, target or batching close the open
 * batch in the same event, to go to the old target in batches of the old size. Every send — due
 * batch or closed one — takes one path: appended to the path's log, one at a time, and recorded as
 * sent ({@link Sent}) only once the log confirms it; a send not confirmed goes again.
 */
public final class TriggerEntity
    extends EventSourcedBehaviorWithEnforcedReplies<
        TriggerEntity.Command, TriggerEntity.Event, TriggerState> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Trigger");

  /** Tuning read from {@code regcast.trigger}. */
  public record Settings(int maxMessageBytes, Duration subscribeRetry, int snapshotEvery) {}

  /**
   * Whether a service account may broadcast to a gateway right now (it needs the role {@code
   * api-gateway.websocketBroadcaster} on the gateway, checked again for every batch); the node
   * answers it from its access data.
   */
  @FunctionalInterface
  public interface BroadcastPermission {
    BroadcastPermission ALWAYS = (serviceAccountId, gatewayId) -> true;

    boolean allows(String serviceAccountId, String gatewayId);

    /** False until the node has its access data (at start): batches wait rather than drop. */
    default boolean ready() {
      return true;
    }
  }

  private static final Duration NOT_READY_RETRY = Duration.ofMillis(200);

  public static void init(ActorSystem<?> system, Settings settings, Delivery.ToRegistry registries,
      Broadcaster broadcaster, BroadcastPermission permission, Metrics metrics) {
    ClusterSharding.get(system).init(
        Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), ctx.getShard(), settings, registries,
                broadcaster, permission, metrics, Clock.systemUTC()))
            .withSettings(ClusterShardingSettings.create(system).withRememberEntities(true)));
  }

  /** The port registries deliver through, for the node to wire. */
  public static Delivery.ToTrigger deliveries(ActorSystem<?> system) {
    return (triggerId, registryId, held, events, ackTo) ->
        ClusterSharding.get(system).entityRefFor(ENTITY_KEY, triggerId).tell(new Deliver(registryId, held, events, ackTo));
  }

  public static Behavior<Command> create(String triggerId, ActorRef<ClusterSharding.ShardCommand> shard,
      Settings settings, Delivery.ToRegistry registries, Broadcaster broadcaster, BroadcastPermission permission,
      Metrics metrics, Clock clock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new TriggerEntity(
        triggerId, ctx, timers, shard, settings, registries, broadcaster, permission, metrics, clock)));
  }

  // ---- protocol ----

  public sealed interface Command extends JsonSerializable {}

  /** Apply this revision of the trigger if it is newer than the one held. */
  public record Configure(Trigger trigger, ActorRef<Applied> replyTo) implements Command {}

  /** The trigger was deleted at {@code revision}. */
  public record Remove(String triggerId, long revision, ActorRef<Applied> replyTo) implements Command {}

  public record GetRuntime(ActorRef<Runtime> replyTo) implements Command {}

  /**
   * Events of a registry, in sequence order, following what the registry counts as {@code held}
   * here (see {@link Delivery.ToTrigger#deliver}); acknowledged to {@code ackTo} once stored.
   */
  public record Deliver(String registryId, long held, List<Delivery.Sequenced> events, ActorRef<Delivery.Ack> ackTo)
      implements Command {}

  /** The open batch has waited its cutoff: it goes whatever its size. */
  private enum CutoffReached implements Command {
    INSTANCE
  }

  /** Try the next send again: the last was not confirmed, or access data was not there yet. */
  private enum SendNext implements Command {
    INSTANCE
  }

  /**
   * The path's log holds this trigger's events up to {@code upTo} after an append that ended at
   * {@code lastOrdinal}, of the events due up to {@code dueUpTo} (a batch dropped for lack of
   * access counts as confirmed).
   */
  private record Confirmed(long lastOrdinal, long dueUpTo, long upTo) implements Command {}

  private record NotConfirmed(String reason) implements Command {}

  enum Resubscribe implements Command {
    INSTANCE
  }

  record SubscriptionChanged(String registryId, boolean subscribed, String failure) implements Command {}

  public record Applied(String triggerId, long revision) implements JsonSerializable {}

  /**
   * What the entity holds: the trigger (null before the first configure or after removal); {@code
   * openBatch} counts every event not yet confirmed sent, the open batch's and the closed ones'.
   */
  public record Runtime(
      String triggerId, Trigger trigger, long revision, boolean removed, int openBatch, Map<String, Long> watermarks)
      implements JsonSerializable {}

  public sealed interface Event extends JsonSerializable {}

  /**
   * A new revision; {@code closesOpenBatch}: the open batch is closed to go out as it was meant to
   * (a pause or a change never loses what was batched).
   */
  public record Configured(Trigger trigger, boolean closesOpenBatch) implements Event {}

  /** Deleted: the open batch is closed to go where it was meant to, then the entity lets go. */
  public record Removed(String triggerId, long revision) implements Event {}

  /** Events up to {@code upToSeq} of a registry were received; {@code matched} joined the batch. */
  public record EventsReceived(String registryId, long upToSeq, List<CrEvent> matched, Instant at)
      implements Event {}

  /** The path's log holds the trigger's events up to ordinal {@code upTo}: they leave the outbox. */
  public record Sent(long upTo, Instant at) implements Event {}

  /**
   * The first {@code count} pending events were sent: written before sends were confirmed by
   * ordinal, read from older journals only.
   */
  public record BatchFlushed(int count, Instant at) implements Event {}

  // ---- behaviour ----

  private final String triggerId;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final Settings settings;
  private final Delivery.ToRegistry registries;
  private final BatchAppender appender;
  private final BroadcastPermission permission;
  private final Metrics metrics;
  private final Clock clock;
  /** An append is on its way: the next starts once its confirmation is stored. */
  private boolean inFlight;
  /** The open batch's cutoff timer fired: it is due whatever its size (until it is partly sent). */
  private boolean cutoffReached;
  private final RegistrySubscription subscription;
  /** The watermark a gap was last logged at: once per gap, not for every delivery until it is filled. */
  private long gapLoggedAt = -1;

  private TriggerEntity(String triggerId, ActorContext<Command> context, TimerScheduler<Command> timers,
      ActorRef<ClusterSharding.ShardCommand> shard, Settings settings, Delivery.ToRegistry registries,
      Broadcaster broadcaster, BroadcastPermission permission, Metrics metrics, Clock clock) {
    super(PersistenceId.of(ENTITY_KEY.name(), triggerId));
    this.permission = permission;
    this.metrics = metrics;
    this.triggerId = triggerId;
    this.context = context;
    this.timers = timers;
    this.shard = shard;
    this.settings = settings;
    this.registries = registries;
    this.appender = new BatchAppender(triggerId, broadcaster, permission, metrics, settings.maxMessageBytes(),
        context.getLog());
    this.clock = clock;
    this.subscription = new RegistrySubscription(triggerId, registries, context, timers, settings.subscribeRetry());
  }

  @Override
  public TriggerState emptyState() {
    return TriggerState.EMPTY;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
  }

  @Override
  public SignalHandler<TriggerState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          subscribe(state);
          carryOn(state);
        })
        .build();
  }

  /**
   * Per state, first match wins: a removed trigger only drains its outbox; an unconfigured one
   * takes its first definition or a tombstone; an active one batches what matches, a paused one
   * drops it. What follows applies to every state.
   */
  @Override
  public CommandHandlerWithReply<Command, Event, TriggerState> commandHandler() {
    var handlers = newCommandHandlerWithReplyBuilder();
    handlers.forState(TriggerState::removed)
        .onCommand(Configure.class, (state, cmd) -> Effect().reply(cmd.replyTo(), applied(state)))
        .onCommand(Remove.class, this::onRemoveAgain)
        .onCommand(Deliver.class, this::refuseDelivery);
    handlers.forState(TriggerState::unconfigured)
        .onCommand(Configure.class, (state, cmd) -> configure(state, cmd, false))
        .onCommand(Deliver.class, (state, cmd) -> {
          cmd.ackTo().tell(new Delivery.Ack(triggerId, lastSeq(cmd)));
          return Effect().noReply();
        });
    handlers.forState(TriggerState::active)
        .onCommand(Deliver.class, (state, cmd) -> onDeliver(state, cmd, true));
    handlers.forState(TriggerState::paused)
        .onCommand(Deliver.class, (state, cmd) -> onDeliver(state, cmd, false));
    handlers.forAnyState()
        .onCommand(Configure.class, (state, cmd) -> configure(state, cmd, closesOpenBatch(state, cmd.trigger())))
        .onCommand(Remove.class, this::onRemove)
        .onCommand(CutoffReached.class, (state, c) -> {
          cutoffReached = true;
          return Effect().none().thenRun(this::sendNext).thenNoReply();
        })
        .onCommand(SendNext.class, (state, c) -> Effect().none().thenRun(this::sendNext).thenNoReply())
        .onCommand(Confirmed.class, this::onConfirmed)
        .onCommand(NotConfirmed.class, this::onNotConfirmed)
        .onCommand(SubscriptionChanged.class, (state, changed) -> {
          subscription.changed(changed, state.trigger() == null ? null : state.rule().registryId(), state.revision());
          return Effect().noReply();
        })
        .onCommand(Resubscribe.class, (state, r) -> Effect().none().thenRun(this::subscribe).thenNoReply())
        .onCommand(GetRuntime.class, (state, cmd) -> Effect().reply(cmd.replyTo(),
            new Runtime(triggerId, state.trigger(), state.revision(), state.removed(), state.outbox().pending(),
                state.watermarks())));
    return handlers.build();
  }

  private Applied applied(TriggerState state) {
    return new Applied(triggerId, state.revision());
  }

  private ReplyEffect<Event, TriggerState> configure(TriggerState state, Configure cmd, boolean closesOpenBatch) {
    Trigger next = cmd.trigger();
    if (next.revision() <= state.revision()) {
      return Effect().reply(cmd.replyTo(), applied(state));
    }
    var persisted = Effect().persist(new Configured(next, closesOpenBatch));
    if (subscription.confirmed(next.definition().rule().registryId())) {
      return persisted.thenRun(this::sendNext).thenReply(cmd.replyTo(), this::applied);
    }
    return persisted
        .thenRun(s -> {
          subscription.subscribe(s.rule().registryId(), cmd.replyTo());
          sendNext(s);
        })
        .thenNoReply();
  }

  /** Pausing, or changing where or how batches go, closes the open batch as it is: it goes out as it was meant to. */
  private static boolean closesOpenBatch(TriggerState state, Trigger next) {
    if (state.outbox().open().isEmpty()) {
      return false;
    }
    var now = state.rule();
    var then = next.definition().rule();
    return next.status() == TriggerStatus.PAUSED
        || !now.target().equals(then.target())
        || !now.batchSettings().equals(then.batchSettings())
        || !now.registryId().equals(then.registryId());
  }

  private ReplyEffect<Event, TriggerState> onRemove(TriggerState state, Remove cmd) {
    if (cmd.revision() <= state.revision()) {
      return Effect().reply(cmd.replyTo(), applied(state));
    }
    return Effect()
        .persist(new Removed(triggerId, cmd.revision()))
        .thenRun(s -> {
          subscription.release(s.revision());
          carryOn(s);
        })
        .thenReply(cmd.replyTo(), this::applied);
  }

  /** A resent removal woke a removed trigger up: let it go again once drained, or it stays remembered. */
  private ReplyEffect<Event, TriggerState> onRemoveAgain(TriggerState state, Remove cmd) {
    return Effect().none().thenRun(this::carryOn).thenReply(cmd.replyTo(), this::applied);
  }

  /** Deleted, or moved to another registry: acknowledged, and that registry is told to stop sending. */
  private ReplyEffect<Event, TriggerState> refuseDelivery(TriggerState state, Deliver cmd) {
    cmd.ackTo().tell(new Delivery.Ack(triggerId, lastSeq(cmd)));
    registries.unsubscribe(cmd.registryId(), triggerId);
    return Effect().noReply();
  }

  private static long lastSeq(Deliver cmd) {
    return cmd.events().isEmpty() ? 0 : cmd.events().get(cmd.events().size() - 1).seq();
  }

  private ReplyEffect<Event, TriggerState> onDeliver(TriggerState state, Deliver cmd, boolean batching) {
    if (!state.rule().registryId().equals(cmd.registryId())) {
      return refuseDelivery(state, cmd);
    }
    long upTo = lastSeq(cmd);
    long watermark = state.watermark(cmd.registryId());
    if (upTo <= watermark) {
      cmd.ackTo().tell(new Delivery.Ack(triggerId, watermark));
      return Effect().noReply();
    }
    long first = cmd.events().get(0).seq();
    if (first > Math.max(watermark, cmd.held()) + 1) {
      // An earlier delivery never arrived: the previous incarnation of this entity dropped it while
      // stopping for a hand-over (a stopping entity discards what comes in while its last write is
      // in flight), or it went to the node that was leaving. Storing these would move the
      // watermark past the missing events for good — they would be acknowledged and never sent
      // again. Nothing is stored or acknowledged: the registry sends everything after what was
      // acknowledged again on its next redelivery tick, and that fills the gap.
      if (gapLoggedAt != watermark) {
        gapLoggedAt = watermark;
        context.getLog().info(
            "Trigger {}: events {}..{} of registry {} never arrived (got {}..{}, holding up to {}); waiting for them to be sent again",
            triggerId, Math.max(watermark, cmd.held()) + 1, first - 1, cmd.registryId(), first, upTo, watermark);
      }
      return Effect().noReply();
    }
    List<CrEvent> matched = new ArrayList<>();
    long fresh = cmd.events().stream().filter(s -> s.seq() > watermark).count();
    if (batching) {
      for (Delivery.Sequenced s : cmd.events()) {
        if (s.seq() > watermark && TriggerFilter.matches(state.rule(), s.event())) {
          matched.add(s.event());
        }
      }
    }
    long writeStarted = System.nanoTime();
    return Effect()
        .persist(new EventsReceived(cmd.registryId(), upTo, matched, clock.instant()))
        .thenRun(s -> {
          // Counted once stored: a redelivery of the same events is below the watermark then.
          metrics.journalWritten(Metrics.Journal.TRIGGER, writeStarted);
          metrics.eventsFiltered(matched.size(), batching ? fresh - matched.size() : 0, batching ? 0 : fresh);
          cmd.ackTo().tell(new Delivery.Ack(triggerId, upTo));
          sendNext(s);
        })
        .thenNoReply();
  }

  /** A removed trigger lets go once nothing is left to send; any other goes on sending. */
  private void carryOn(TriggerState state) {
    if (state.removed() && state.outbox().drained()) {
      passivate();
    } else {
      sendNext(state);
    }
  }

  /**
   * The one way out: appends the next due batch unless one is on its way. Nothing is recorded
   * before the log confirms it (so a crash or a lost send sends it again, and the log keeps no
   * duplicate), and only then does the next one start.
   */
  private void sendNext(TriggerState state) {
    armCutoff(state);
    if (inFlight) {
      return; // its confirmation sends what is due then
    }
    Optional<Outbox.Batch> due = state.nextBatch(cutoffReached);
    if (due.isEmpty()) {
      return;
    }
    if (!permission.ready()) {
      timers.startSingleTimer(SendNext.INSTANCE, NOT_READY_RETRY);
      return;
    }
    inFlight = true;
    Outbox.Batch batch = due.get();
    context.pipeToSelf(appender.append(batch), (answer, failure) -> failure == null
        ? new Confirmed(answer.lastOrdinal(), batch.lastOrdinal(), answer.upTo())
        : new NotConfirmed(failure.toString()));
  }

  /**
   * The log holds the trigger's events up to {@code upTo}: normally the whole batch; after a crash
   * it may have held a part already, and the rest goes again as a new batch.
   */
  private ReplyEffect<Event, TriggerState> onConfirmed(TriggerState state, Confirmed confirmed) {
    inFlight = false;
    if (confirmed.upTo() <= state.outbox().sentUpTo()) {
      // The log holds nothing of what is pending: nothing to record, send again (not in a tight loop).
      timers.startSingleTimer(SendNext.INSTANCE, NOT_READY_RETRY);
      return Effect().noReply();
    }
    boolean reopens = state.outbox().popsOpen(confirmed.upTo());
    long writeStarted = System.nanoTime();
    return Effect()
        .persist(new Sent(confirmed.upTo(), clock.instant()))
        .thenRun(s -> {
          metrics.journalWritten(Metrics.Journal.TRIGGER, writeStarted);
          if (reopens) {
            // What is left of the open batch opened now: its cutoff starts over — unless it is the
            // rest of what was due (the log held a part, or it did not fit one append), which goes
            // again at once.
            timers.cancel(CutoffReached.INSTANCE);
            cutoffReached = confirmed.upTo() < confirmed.dueUpTo();
          }
          carryOn(s);
        })
        .thenNoReply();
  }

  private ReplyEffect<Event, TriggerState> onNotConfirmed(TriggerState state, NotConfirmed failed) {
    inFlight = false;
    context.getLog().warn("Trigger {}: a batch was not confirmed sent ({}); sending it again", triggerId, failed.reason());
    timers.startSingleTimer(SendNext.INSTANCE, NOT_READY_RETRY);
    return Effect().noReply();
  }

  /** Starts the open batch's cutoff timer (at once if overdue); cancels it when none is open. */
  private void armCutoff(TriggerState state) {
    if (state.outbox().open().isEmpty()) {
      timers.cancel(CutoffReached.INSTANCE);
      cutoffReached = false;
      return;
    }
    if (cutoffReached || timers.isTimerActive(CutoffReached.INSTANCE)) {
      return;
    }
    Duration cutoff = state.rule().batchSettings().cutoff();
    Duration left = Duration.between(clock.instant(), state.outbox().openedAt().plus(cutoff));
    timers.startSingleTimer(CutoffReached.INSTANCE, left.isNegative() ? Duration.ZERO : left);
  }

  /** Makes sure the registry of the current definition sends its events here. */
  private void subscribe(TriggerState state) {
    if (state.trigger() != null) {
      subscription.subscribe(state.rule().registryId());
    }
  }

  private void passivate() {
    shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
  }

  @Override
  public EventHandler<TriggerState, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(Configured.class, TriggerState::configured)
        .onEvent(Removed.class, TriggerState::afterRemoval)
        .onEvent(EventsReceived.class, TriggerState::received)
        .onEvent(Sent.class, (state, e) -> state.sent(e.upTo(), e.at()))
        .onEvent(BatchFlushed.class, (state, e) -> state.sent(state.outbox().sentUpTo() + e.count(), e.at()))
        .build();
  }
}

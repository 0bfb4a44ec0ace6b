package io.regcast.trigger;

import io.regcast.broadcast.Broadcaster;
import io.regcast.delivery.Delivery;
import io.regcast.gateway.PathKey;
import io.regcast.metrics.Metrics;
import io.regcast.model.BroadcastTarget;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
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
 * to its registry, and its open batch.
 *
 * <p>Events arrive with {@link Deliver}; those at or below the trigger's watermark for that
 * registry are dropped, the rest pass the filter (or are dropped while paused) and join the open
 * batch — persisted, with the time the batch opened, then acknowledged. A batch is sent when it
 * holds {@code size} events or {@code cutoff} after it opened: rendered once, published to the
 * gateway path, and recorded as sent only once this node's connections have it queued and it has
 * left for the other nodes (at least once: a crash before the record sends it again).
 * On recovery the cutoff timer is re-armed from the stored opening time. Pausing, deleting and
 * changing the target or the batching flush the open batch first (to the old target).
 */
public final class TriggerEntity
    extends EventSourcedBehaviorWithEnforcedReplies<
        TriggerEntity.Command, TriggerEntity.Event, TriggerEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "Trigger");

  /** Tuning read from {@code regcast.trigger}. */
  public record Settings(int maxMessageBytes, Duration subscribeRetry, int snapshotEvery) {}

  /**
   * Whether a service account may broadcast to a gateway right now (PRODUCT.md §6, checked again
   * at delivery); the node answers it from its access mirror.
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

  public static void init(
      ActorSystem<?> system,
      Settings settings,
      Delivery.ToRegistry registries,
      Broadcaster broadcaster,
      BroadcastPermission permission,
      Metrics metrics) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                    ENTITY_KEY,
                    ctx -> create(ctx.getEntityId(), ctx.getShard(), settings, registries,
                        broadcaster, permission, metrics, Clock.systemUTC()))
                .withSettings(ClusterShardingSettings.create(system).withRememberEntities(true)));
  }

  /** The port registries deliver through, for the node to wire. */
  public static Delivery.ToTrigger deliveries(ActorSystem<?> system) {
    return (triggerId, registryId, held, events, ackTo) ->
        ClusterSharding.get(system).entityRefFor(ENTITY_KEY, triggerId).tell(new Deliver(registryId, held, events, ackTo));
  }

  public static Behavior<Command> create(
      String triggerId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Settings settings,
      Delivery.ToRegistry registries,
      Broadcaster broadcaster,
      Metrics metrics,
      Clock clock) {
    return create(triggerId, shard, settings, registries, broadcaster, BroadcastPermission.ALWAYS, metrics, clock);
  }

  public static Behavior<Command> create(
      String triggerId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Settings settings,
      Delivery.ToRegistry registries,
      Broadcaster broadcaster,
      BroadcastPermission permission,
      Metrics metrics,
      Clock clock) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> new TriggerEntity(
                    triggerId, ctx, timers, shard, settings, registries, broadcaster, permission, metrics, clock)));
  }

  // ---- protocol ----

  public sealed interface Command extends JsonSerializable {}

  /** Apply this revision of the trigger if it is newer than the one held. */
  public record Configure(Trigger trigger, ActorRef<Applied> replyTo) implements Command {}

  /** The trigger was deleted at {@code revision}. */
  public record Remove(String triggerId, long revision, ActorRef<Applied> replyTo)
      implements Command {}

  public record GetRuntime(ActorRef<Runtime> replyTo) implements Command {}

  /**
   * Events of a registry, in sequence order, following what the registry counts as {@code held}
   * here (see {@link Delivery.ToTrigger#deliver}); acknowledged to {@code ackTo} once stored.
   */
  public record Deliver(String registryId, long held, List<Delivery.Sequenced> events, ActorRef<Delivery.Ack> ackTo)
      implements Command {}

  private enum CutoffReached implements Command {
    INSTANCE
  }

  private enum FlushFull implements Command {
    INSTANCE
  }

  private record BatchSent(String firstEventId, int count, Throwable failure) implements Command {}

  private enum Resubscribe implements Command {
    INSTANCE
  }

  private record SubscriptionChanged(String registryId, boolean subscribed, Throwable failure) implements Command {}

  public record Applied(String triggerId, long revision) implements JsonSerializable {}

  /** What the entity holds: the trigger (null before the first configure or after removal). */
  public record Runtime(
      String triggerId, Trigger trigger, long revision, boolean removed, int openBatch, Map<String, Long> watermarks)
      implements JsonSerializable {}

  public sealed interface Event extends JsonSerializable {}

  public record Configured(Trigger trigger) implements Event {}

  public record Removed(String triggerId, long revision) implements Event {}

  /** Events up to {@code upToSeq} of a registry were received; {@code matched} joined the batch. */
  public record EventsReceived(String registryId, long upToSeq, List<CrEvent> matched, Instant at)
      implements Event {}

  /** The first {@code count} events of the batch were sent. */
  public record BatchFlushed(int count, Instant at) implements Event {}

  /**
   * The trigger, its watermark per registry, and the open batch with the time it opened (null
   * when empty).
   */
  public record State(
      Trigger trigger,
      long revision,
      boolean removed,
      Map<String, Long> watermarks,
      List<CrEvent> batch,
      Instant batchOpenedAt)
      implements JsonSerializable {
    static final State EMPTY = new State(null, 0, false, Map.of(), List.of(), null);

    public State {
      watermarks = Map.copyOf(watermarks);
      batch = List.copyOf(batch);
    }

    long watermark(String registryId) {
      return watermarks.getOrDefault(registryId, 0L);
    }

    State configured(Trigger t) {
      return new State(t, t.revision(), false, watermarks, batch, batchOpenedAt);
    }

    State received(EventsReceived e) {
      Map<String, Long> marks = new HashMap<>(watermarks);
      marks.merge(e.registryId(), e.upToSeq(), Math::max);
      List<CrEvent> joined = new ArrayList<>(batch);
      joined.addAll(e.matched());
      Instant opened = batch.isEmpty() && !e.matched().isEmpty() ? e.at() : batchOpenedAt;
      return new State(trigger, revision, removed, marks, joined, opened);
    }

    State flushed(BatchFlushed e) {
      List<CrEvent> rest = batch.subList(Math.min(e.count(), batch.size()), batch.size());
      return new State(trigger, revision, removed, watermarks, rest, rest.isEmpty() ? null : e.at());
    }
  }

  // ---- behaviour ----

  private final String triggerId;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final Settings settings;
  private final Delivery.ToRegistry registries;
  private final Broadcaster broadcaster;
  private final BroadcastPermission permission;
  private final Metrics metrics;
  private final Clock clock;
  /** A batch is being sent and not yet recorded: no second one starts meanwhile. */
  private boolean sending;
  /** The last delivery found the service account unable to broadcast (logged once per change). */
  private boolean accessDenied;
  /** The registry this entity has a confirmed subscription with (not persisted: re-made at start). */
  private String subscribedTo;
  /** Configure requests answered once the new registry confirms the subscription. */
  private final List<ActorRef<Applied>> awaitingSubscription = new ArrayList<>();
  /** The watermark a gap was last logged at: once per gap, not for every delivery until it is filled. */
  private long gapLoggedAt = -1;

  private TriggerEntity(
      String triggerId,
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Settings settings,
      Delivery.ToRegistry registries,
      Broadcaster broadcaster,
      BroadcastPermission permission,
      Metrics metrics,
      Clock clock) {
    super(PersistenceId.of(ENTITY_KEY.name(), triggerId));
    this.permission = permission;
    this.metrics = metrics;
    this.triggerId = triggerId;
    this.context = context;
    this.timers = timers;
    this.shard = shard;
    this.settings = settings;
    this.registries = registries;
    this.broadcaster = broadcaster;
    this.clock = clock;
  }

  @Override
  public State emptyState() {
    return State.EMPTY;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              if (state.removed()) {
                passivate();
                return;
              }
              subscribe(state);
              flushIfFull(state);
            })
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Configure.class, this::onConfigure)
        .onCommand(Remove.class, this::onRemove)
        .onCommand(Deliver.class, this::onDeliver)
        .onCommand(CutoffReached.class, (state, c) -> flush(state))
        .onCommand(FlushFull.class, (state, c) -> state.trigger() != null
            && state.batch().size() >= state.trigger().definition().rule().batchSettings().size()
            ? flush(state) : Effect().noReply())
        .onCommand(SubscriptionChanged.class, this::onSubscriptionChanged)
        .onCommand(BatchSent.class, this::onBatchSent)
        .onCommand(Resubscribe.class, (state, r) -> {
          subscribe(state);
          return Effect().noReply();
        })
        .onCommand(
            GetRuntime.class,
            (state, cmd) ->
                Effect()
                    .reply(
                        cmd.replyTo(),
                        new Runtime(triggerId, state.trigger(), state.revision(), state.removed(),
                            state.batch().size(), state.watermarks())))
        .build();
  }

  private ReplyEffect<Event, State> onConfigure(State state, Configure cmd) {
    Trigger next = cmd.trigger();
    if (next.revision() <= state.revision()) {
      return Effect().reply(cmd.replyTo(), new Applied(triggerId, state.revision()));
    }
    List<Event> events = new ArrayList<>();
    if (!state.batch().isEmpty() && mustFlushBefore(state.trigger(), next)) {
      events.add(sendAll(state));
    }
    events.add(new Configured(next));
    String registry = next.definition().rule().registryId();
    if (registry.equals(subscribedTo)) {
      return Effect()
          .persist(events)
          .thenRun(this::armCutoff)
          .thenReply(cmd.replyTo(), s -> new Applied(triggerId, s.revision()));
    }
    // Answered once the registry has the subscription: events ingested after the answer reach us.
    return Effect()
        .persist(events)
        .thenRun(s -> {
          awaitingSubscription.add(cmd.replyTo());
          subscribe(s);
          armCutoff(s);
        })
        .thenNoReply();
  }

  /** Pausing, or changing where or how batches go, sends the open batch first (PRODUCT.md §9). */
  private static boolean mustFlushBefore(Trigger current, Trigger next) {
    if (current == null) {
      return false;
    }
    var now = current.definition().rule();
    var then = next.definition().rule();
    return next.status() == TriggerStatus.PAUSED
        || !now.target().equals(then.target())
        || !now.batchSettings().equals(then.batchSettings())
        || !now.registryId().equals(then.registryId());
  }

  private ReplyEffect<Event, State> onRemove(State state, Remove cmd) {
    if (cmd.revision() <= state.revision()) {
      // A resent removal woke a removed trigger up: let it go again, or it stays remembered.
      return Effect()
          .none()
          .thenRun(s -> {
            if (s.removed()) {
              passivate();
            }
          })
          .thenReply(cmd.replyTo(), s -> new Applied(triggerId, s.revision()));
    }
    List<Event> events = new ArrayList<>();
    if (!state.batch().isEmpty()) {
      events.add(sendAll(state));
    }
    events.add(new Removed(triggerId, cmd.revision()));
    String registry = state.trigger() == null ? null : state.trigger().definition().rule().registryId();
    return Effect()
        .persist(events)
        .thenRun(s -> {
          timers.cancelAll();
          if (registry != null) {
            registries.unsubscribe(registry, triggerId);
          }
          passivate();
        })
        .thenReply(cmd.replyTo(), s -> new Applied(triggerId, s.revision()));
  }

  private ReplyEffect<Event, State> onDeliver(State state, Deliver cmd) {
    long upTo = cmd.events().isEmpty() ? 0 : cmd.events().get(cmd.events().size() - 1).seq();
    Trigger trigger = state.trigger();
    boolean forUs = trigger != null && !state.removed() && trigger.definition().rule().registryId().equals(cmd.registryId());
    if (!forUs) {
      // Deleted, not configured yet, or moved to another registry: stop that registry sending.
      cmd.ackTo().tell(new Delivery.Ack(triggerId, upTo));
      if (trigger != null || state.removed()) {
        registries.unsubscribe(cmd.registryId(), triggerId);
      }
      return Effect().noReply();
    }
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
    boolean active = trigger.status() == TriggerStatus.ACTIVE;
    if (active) {
      for (Delivery.Sequenced s : cmd.events()) {
        if (s.seq() > watermark && TriggerFilter.matches(trigger.definition().rule(), s.event())) {
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
          metrics.eventsFiltered(matched.size(), active ? fresh - matched.size() : 0, active ? 0 : fresh);
          cmd.ackTo().tell(new Delivery.Ack(triggerId, upTo));
          flushIfFull(s);
        })
        .thenNoReply();
  }

  /** Sends the first batch (at most {@code size} events) now, then records it as sent. */
  private ReplyEffect<Event, State> flush(State state) {
    if (state.batch().isEmpty() || state.trigger() == null) {
      return Effect().noReply();
    }
    if (!permission.ready()) {
      timers.startSingleTimer(CutoffReached.INSTANCE, NOT_READY_RETRY);
      return Effect().noReply();
    }
    if (sending) {
      return Effect().noReply(); // the batch in flight is recorded first; what follows then goes
    }
    int size = state.trigger().definition().rule().batchSettings().size();
    List<CrEvent> batch = List.copyOf(state.batch().subList(0, Math.min(size, state.batch().size())));
    CompletableFuture<Done> sent = publishConfirmed(state.trigger(), batch).toCompletableFuture();
    if (sent.isDone() && !sent.isCompletedExceptionally()) {
      return recordSent(batch.size()); // confirmed already (e.g. dropped for lack of access)
    }
    sending = true;
    context.pipeToSelf(sent, (done, failure) -> new BatchSent(batch.get(0).eventId(), batch.size(), failure));
    return Effect().noReply();
  }

  /**
   * The batch reached this node's connections and left for the others: only now is it recorded as
   * sent, so a crash before that sends it again (at least once).
   */
  private ReplyEffect<Event, State> onBatchSent(State state, BatchSent sent) {
    sending = false;
    boolean stillOpen = !state.removed() && state.batch().size() >= sent.count()
        && state.batch().get(0).eventId().equals(sent.firstEventId());
    if (!stillOpen) {
      return Effect().noReply(); // a pause, update or delete sent it meanwhile
    }
    if (sent.failure() != null) {
      context.getLog().warn("Trigger {}: a batch was not confirmed sent ({}); sending it again", triggerId,
          sent.failure().toString());
      timers.startSingleTimer(CutoffReached.INSTANCE, NOT_READY_RETRY);
      return Effect().noReply();
    }
    return recordSent(sent.count());
  }

  private ReplyEffect<Event, State> recordSent(int count) {
    long writeStarted = System.nanoTime();
    return Effect()
        .persist(new BatchFlushed(count, clock.instant()))
        .thenRun(s -> {
          metrics.journalWritten(Metrics.Journal.TRIGGER, writeStarted);
          // What is left is a new batch, opened now: its cutoff starts over.
          timers.cancel(CutoffReached.INSTANCE);
          flushIfFull(s);
        })
        .thenNoReply();
  }

  /** A full batch goes now; an open one gets its cutoff timer. */
  private void flushIfFull(State state) {
    if (state.trigger() != null
        && !state.batch().isEmpty()
        && state.batch().size() >= state.trigger().definition().rule().batchSettings().size()) {
      context.getSelf().tell(FlushFull.INSTANCE);
    } else {
      armCutoff(state);
    }
  }

  /** Sends the whole open batch with the current definition, in batches of at most {@code size}. */
  private BatchFlushed sendAll(State state) {
    int size = state.trigger().definition().rule().batchSettings().size();
    List<CrEvent> all = state.batch();
    for (int from = 0; from < all.size(); from += size) {
      publish(state.trigger(), all.subList(from, Math.min(all.size(), from + size)));
    }
    return new BatchFlushed(all.size(), clock.instant());
  }

  private CompletionStage<Done> publishConfirmed(Trigger trigger, List<CrEvent> events) {
    List<CompletableFuture<Done>> sent = new ArrayList<>();
    publish(trigger, events, (path, message, ingestedAt) ->
        sent.add(broadcaster.append(path, triggerId, System.nanoTime(), System.nanoTime(), List.of(message), ingestedAt).thenApply(x -> Done.getInstance()).toCompletableFuture()));
    return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).thenApply(v -> Done.getInstance());
  }

  private void publish(Trigger trigger, List<CrEvent> events) {
    publish(trigger, events, (path, message, ingestedAt) -> broadcaster.append(path, triggerId, System.nanoTime(), System.nanoTime(), List.of(message), ingestedAt));
  }

  /** Where {@link #publish(Trigger, List, Send)} hands each rendered message. */
  @FunctionalInterface
  private interface Send {
    void send(PathKey path, byte[] message, long ingestedAtMillis);
  }

  /**
   * Renders a batch and hands each message to {@code send}, unless the service account lost the
   * right to broadcast: then the batch is dropped (the one documented loss), counted, and logged
   * once until access returns. A batch sent again (not confirmed, or after a crash) counts again.
   */
  private void publish(Trigger trigger, List<CrEvent> events, Send send) {
    BroadcastTarget target = trigger.definition().rule().target();
    if (!permission.allows(target.serviceAccountId(), target.gatewayId())) {
      metrics.batchRefused();
      if (!accessDenied) {
        accessDenied = true;
        context.getLog().warn(
            "Trigger {}: service account {} may not broadcast to gateway {} (api-gateway.websocketBroadcaster);"
                + " its batches are dropped until the role is granted again",
            triggerId, target.serviceAccountId(), target.gatewayId());
      }
      return;
    }
    if (accessDenied) {
      accessDenied = false;
      context.getLog().info("Trigger {}: service account {} may broadcast again", triggerId, target.serviceAccountId());
    }
    PathKey path = new PathKey(target.gatewayId(), target.path());
    List<byte[]> messages = MessageRenderer.render(events, settings.maxMessageBytes());
    long ingestedAt = oldestIngest(events);
    for (byte[] message : messages) {
      send.send(path, message, ingestedAt);
    }
    metrics.batchSent(events.size(), messages.size());
  }

  /** When the ingest request of the batch's oldest event was taken (epoch ms; 0 when none is known). */
  private static long oldestIngest(List<CrEvent> events) {
    return events.stream()
        .map(CrEvent::ingestedAt)
        .filter(java.util.Objects::nonNull)
        .mapToLong(Instant::toEpochMilli)
        .min()
        .orElse(0);
  }

  /** Starts the cutoff timer for an open batch (at once if overdue); cancels it when none is open. */
  private void armCutoff(State state) {
    if (state.batch().isEmpty() || state.trigger() == null) {
      timers.cancel(CutoffReached.INSTANCE);
      return;
    }
    if (timers.isTimerActive(CutoffReached.INSTANCE)) {
      return;
    }
    Duration cutoff = state.trigger().definition().rule().batchSettings().cutoff();
    Duration left = Duration.between(clock.instant(), state.batchOpenedAt().plus(cutoff));
    timers.startSingleTimer(CutoffReached.INSTANCE, left.isNegative() ? Duration.ZERO : left);
  }

  /** Makes sure the registry of the current definition sends its events here. */
  private void subscribe(State state) {
    if (state.trigger() == null || state.removed()) {
      return;
    }
    String registry = state.trigger().definition().rule().registryId();
    if (registry.equals(subscribedTo)) {
      return;
    }
    context.pipeToSelf(
        registries.subscribe(registry, triggerId),
        (done, failure) -> new SubscriptionChanged(registry, failure == null, failure));
  }

  private ReplyEffect<Event, State> onSubscriptionChanged(State state, SubscriptionChanged changed) {
    String current = state.trigger() == null || state.removed() ? null : state.trigger().definition().rule().registryId();
    if (!changed.registryId().equals(current)) {
      // A late answer for a registry the trigger has moved away from.
      if (changed.subscribed()) {
        registries.unsubscribe(changed.registryId(), triggerId);
      }
      return Effect().noReply();
    }
    // Answer waiting configures either way: the definition is stored, and subscribing goes on.
    awaitingSubscription.forEach(r -> r.tell(new Applied(triggerId, state.revision())));
    awaitingSubscription.clear();
    if (changed.subscribed()) {
      String previous = subscribedTo;
      subscribedTo = current;
      if (previous != null && !previous.equals(current)) {
        registries.unsubscribe(previous, triggerId);
      }
    } else {
      context.getLog().warn("Trigger {} could not subscribe to registry {} ({}); retrying in {}",
          triggerId, changed.registryId(), String.valueOf(changed.failure()), settings.subscribeRetry());
      timers.startSingleTimer(Resubscribe.INSTANCE, settings.subscribeRetry());
    }
    return Effect().noReply();
  }

  private void passivate() {
    shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(Configured.class, (state, e) -> state.configured(e.trigger()))
        .onEvent(Removed.class, (state, e) -> new State(null, e.revision(), true, Map.of(), List.of(), null))
        .onEvent(EventsReceived.class, State::received)
        .onEvent(BatchFlushed.class, State::flushed)
        .build();
  }
}

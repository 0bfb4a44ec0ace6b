package io.regcast.broadcast;

import io.regcast.gateway.PathKey;
import io.regcast.gateway.StreamEntry;
import io.regcast.metrics.Metrics;
import io.regcast.model.HistorySettings;
import io.regcast.model.JsonSerializable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
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
 * The owner of one gateway path's stream (sharded, event-sourced, one per path): every message
 * broadcast to the path gets the path's next position here and is stored before it goes out, so
 * positions are contiguous and every node sees the path's messages in one order.
 *
 * <p>{@link Append} is what a trigger's send waits for: once it is answered the batch is in the
 * log. A batch carries the trigger's ordinals (its running count of batched events); the log keeps
 * the highest it holds per trigger and stores nothing it holds already, so a trigger that sends
 * again after a crash makes no duplicate. Stored messages go to the node's hub ({@link Publisher}),
 * which hands them to its connections and to every other node.
 *
 * <p>The log keeps the path's newest messages by the gateway's {@link HistorySettings} (the
 * retention travels with each append, so a change applies from the next message on) and answers
 * {@link Read} for resuming clients and for nodes that missed a position. Storage stays bounded: a
 * snapshot every {@code snapshotEvery} appends holds what is retained, and the journal entries
 * before the one before it are deleted. A second after storing, and after recovery, it announces
 * its head, so a node that never got the last messages (lost on the way, or the log's node died
 * between storing and sending them) reads them.
 */
public final class PathLog
    extends EventSourcedBehaviorWithEnforcedReplies<PathLog.Command, PathLog.Event, PathLog.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "PathLog");

  /**
   * {@code snapshotEvery}: appends between snapshots (and journal deletions); {@code idleAfter}:
   * a log that stored nothing for this long stops (and is no longer remembered).
   */
  public record Settings(int snapshotEvery, Duration idleAfter) {}

  /**
   * After storing, the log announces its head once more: a node that did not get the last
   * messages (they were lost on the way) reads them then, not only when the path's next message
   * shows the hole.
   */
  static final Duration ANNOUNCE_AFTER = Duration.ofSeconds(1);

  /** Where stored messages go: the node's hub (to its connections and the other nodes). */
  @FunctionalInterface
  public interface Publisher {
    /** {@code entries} are consecutive; {@code head} alone (no entries) announces the log's last position. */
    void publish(PathKey path, List<StreamEntry> entries, long head, long ingestedAtMillis);
  }

  public static void init(ActorSystem<?> system, Settings settings, Publisher publisher, Metrics metrics) {
    // Remembered while active: a log whose node died is started again on another node at once, and
    // its announcement after recovery reaches nodes that never got its last messages. An idle log
    // passivates itself, which also ends its being remembered.
    ClusterSharding.get(system)
        .init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), ctx.getShard(), settings, publisher, metrics, Clock.systemUTC()))
            .withSettings(ClusterShardingSettings.create(system).withRememberEntities(true)));
  }

  public static EntityRef<Command> ref(ActorSystem<?> system, PathKey path) {
    return ClusterSharding.get(system).entityRefFor(ENTITY_KEY, entityId(path));
  }

  /** {@code gatewayId + path}: a path starts with "/" and a gateway id has none. */
  public static String entityId(PathKey path) {
    return path.gatewayId() + path.path();
  }

  static PathKey pathOf(String entityId) {
    int slash = entityId.indexOf('/');
    return new PathKey(entityId.substring(0, slash), entityId.substring(slash));
  }

  public static Behavior<Command> create(
      String entityId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Settings settings,
      Publisher publisher,
      Metrics metrics,
      Clock clock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(
        timers -> new PathLog(entityId, ctx, timers, shard, settings, publisher, metrics, clock)));
  }

  // ---- protocol ----

  public sealed interface Command extends JsonSerializable {}

  /**
   * Store a trigger's batch, rendered as {@code messages}, holding its events {@code
   * firstOrdinal..lastOrdinal}; {@code retention} is the gateway's at the time of sending.
   */
  public record Append(
      String triggerId,
      long firstOrdinal,
      long lastOrdinal,
      List<byte[]> messages,
      long ingestedAtMillis,
      HistorySettings retention,
      ActorRef<Appended> replyTo)
      implements Command {}

  /** The retained messages after {@code after}, at most {@code maxBytes} of payload (at least one message). */
  public record Read(long after, int maxBytes, ActorRef<Entries> replyTo) implements Command {}

  private enum AnnounceHead implements Command {
    INSTANCE
  }

  private enum Idle implements Command {
    INSTANCE
  }

  /** The log holds the trigger's events up to {@code upToOrdinal} (0: none). */
  public record Appended(long upToOrdinal) implements JsonSerializable {}

  /**
   * A page of the log: the retained messages after the requested position, in order; {@code head}
   * is the last position given out, {@code firstRetained} the oldest still kept ({@code head + 1}
   * when none is). More follow when the last entry is before {@code head}.
   */
  public record Entries(long head, long firstRetained, List<Entry> entries) implements JsonSerializable {}

  /** A stored message: its position, the reference message bytes, when it was stored (epoch ms). */
  public record Entry(long position, byte[] payload, long appendedAtMillis) implements JsonSerializable {
    StreamEntry toStream() {
      return new StreamEntry(position, payload, appendedAtMillis);
    }
  }

  public sealed interface Event extends JsonSerializable {}

  /**
   * Messages stored from position {@code firstPosition} on, for a trigger's events up to {@code
   * lastOrdinal}, with the retention that applied.
   */
  public record MessagesAppended(
      String triggerId,
      long lastOrdinal,
      long firstPosition,
      List<byte[]> messages,
      long appendedAtMillis,
      long ingestedAtMillis,
      HistorySettings retention)
      implements Event {}

  /**
   * The last position given out, the highest ordinal held per trigger, and the retained messages
   * (oldest first; a copy per append — at most {@code maxMessages}, 100 000 at the very most).
   */
  public record State(long head, Map<String, Long> ordinals, List<Entry> retained, HistorySettings retention)
      implements JsonSerializable {
    static final State EMPTY = new State(0, Map.of(), List.of(), null);

    public State {
      ordinals = Map.copyOf(ordinals);
      retained = List.copyOf(retained);
    }

    long ordinal(String triggerId) {
      return ordinals.getOrDefault(triggerId, 0L);
    }

    State appended(MessagesAppended e) {
      Map<String, Long> held = new HashMap<>(ordinals);
      held.put(e.triggerId(), e.lastOrdinal());
      List<Entry> kept = new ArrayList<>(retained.size() + e.messages().size());
      long position = e.firstPosition();
      kept.addAll(retained);
      for (byte[] message : e.messages()) {
        kept.add(new Entry(position++, message, e.appendedAtMillis()));
      }
      int from = Math.max(0, kept.size() - e.retention().maxMessages());
      long oldest = e.appendedAtMillis() - e.retention().maxAge().toMillis();
      while (from < kept.size() && kept.get(from).appendedAtMillis() < oldest) {
        from++;
      }
      return new State(position - 1, held, kept.subList(from, kept.size()), e.retention());
    }

    /** The retained messages that are not too old at {@code nowMillis}. */
    List<Entry> current(long nowMillis) {
      if (retention == null || retained.isEmpty()) {
        return retained;
      }
      long oldest = nowMillis - retention.maxAge().toMillis();
      int from = 0;
      while (from < retained.size() && retained.get(from).appendedAtMillis() < oldest) {
        from++;
      }
      return retained.subList(from, retained.size());
    }
  }

  // ---- behaviour ----

  private final PathKey path;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final Settings settings;
  private final Publisher publisher;
  private final Metrics metrics;
  private final Clock clock;

  private PathLog(
      String entityId,
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Settings settings,
      Publisher publisher,
      Metrics metrics,
      Clock clock) {
    super(PersistenceId.of(ENTITY_KEY.name(), entityId));
    this.metrics = metrics;
    this.path = pathOf(entityId);
    this.context = context;
    this.timers = timers;
    this.shard = shard;
    this.settings = settings;
    this.publisher = publisher;
    this.clock = clock;
  }

  @Override
  public State emptyState() {
    return State.EMPTY;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2).withDeleteEventsOnSnapshot();
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          announce(state);
          timers.startSingleTimer(Idle.INSTANCE, settings.idleAfter());
        })
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Append.class, this::onAppend)
        .onCommand(Read.class, this::onRead)
        .onCommand(AnnounceHead.class, (state, c) -> {
          announce(state);
          return Effect().noReply();
        })
        .onCommand(Idle.class, (state, c) -> {
          shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
          return Effect().noReply();
        })
        .build();
  }

  private void announce(State state) {
    if (state.head() > 0) {
      publisher.publish(path, List.of(), state.head(), 0);
    }
  }

  private ReplyEffect<Event, State> onAppend(State state, Append append) {
    long held = state.ordinal(append.triggerId());
    if (append.firstOrdinal() <= held) {
      // Sent before (a re-send after a crash or a lost answer), or a part of it was: the trigger
      // learns what is held and sends only what follows.
      return Effect().reply(append.replyTo(), new Appended(held));
    }
    MessagesAppended stored = new MessagesAppended(
        append.triggerId(), append.lastOrdinal(), state.head() + 1, append.messages(), clock.millis(),
        append.ingestedAtMillis(), append.retention());
    long writeStarted = System.nanoTime();
    return Effect()
        .persist(stored)
        .thenRun(s -> {
          metrics.journalWritten(Metrics.Journal.PATH_LOG, writeStarted);
          List<StreamEntry> entries = new ArrayList<>(stored.messages().size());
          long position = stored.firstPosition();
          for (byte[] message : stored.messages()) {
            entries.add(new StreamEntry(position++, message, stored.appendedAtMillis()));
          }
          publisher.publish(path, entries, s.head(), stored.ingestedAtMillis());
          if (!timers.isTimerActive(AnnounceHead.INSTANCE)) {
            timers.startSingleTimer(AnnounceHead.INSTANCE, ANNOUNCE_AFTER);
          }
          timers.startSingleTimer(Idle.INSTANCE, settings.idleAfter());
        })
        .thenReply(append.replyTo(), s -> new Appended(append.lastOrdinal()));
  }

  private ReplyEffect<Event, State> onRead(State state, Read read) {
    List<Entry> current = state.current(clock.millis());
    long firstRetained = current.isEmpty() ? state.head() + 1 : current.get(0).position();
    List<Entry> page = new ArrayList<>();
    int bytes = 0;
    int from = (int) Math.max(0, Math.min(current.size(), read.after() + 1 - firstRetained));
    for (int i = from; i < current.size() && (page.isEmpty() || bytes + current.get(i).payload().length <= read.maxBytes()); i++) {
      page.add(current.get(i));
      bytes += current.get(i).payload().length;
    }
    return Effect().reply(read.replyTo(), new Entries(state.head(), firstRetained, page));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(MessagesAppended.class, State::appended)
        .build();
  }
}

package io.regcast.trigger;

import io.regcast.model.JsonSerializable;
import io.regcast.model.Trigger;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * One trigger's runtime. The catalog owns the definition and sends every revision with {@link
 * Configure} (again after its own recovery, so a crash between the two writes heals); this entity
 * applies a revision only if it is newer than the one it holds and acknowledges either way. {@link
 * Remove} ends the trigger: the entity records it, passivates and is no longer remembered.
 */
public final class TriggerEntity
    extends EventSourcedBehaviorWithEnforcedReplies<
        TriggerEntity.Command, TriggerEntity.Event, TriggerEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "Trigger");

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system)
        .init(
            Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), ctx.getShard()))
                .withSettings(ClusterShardingSettings.create(system).withRememberEntities(true)));
  }

  public static Behavior<Command> create(
      String triggerId, ActorRef<ClusterSharding.ShardCommand> shard) {
    return Behaviors.setup(ctx -> new TriggerEntity(triggerId, ctx, shard));
  }

  // ---- protocol ----

  public sealed interface Command extends JsonSerializable {}

  /** Apply this revision of the trigger if it is newer than the one held. */
  public record Configure(Trigger trigger, ActorRef<Applied> replyTo) implements Command {}

  /** The trigger was deleted at {@code revision}. */
  public record Remove(String triggerId, long revision, ActorRef<Applied> replyTo)
      implements Command {}

  public record GetRuntime(ActorRef<Runtime> replyTo) implements Command {}

  public record Applied(String triggerId, long revision) implements JsonSerializable {}

  /** What the entity holds: the trigger (null before the first configure or after removal). */
  public record Runtime(String triggerId, Trigger trigger, long revision, boolean removed)
      implements JsonSerializable {}

  public sealed interface Event extends JsonSerializable {}

  public record Configured(Trigger trigger) implements Event {}

  public record Removed(String triggerId, long revision) implements Event {}

  public record State(Trigger trigger, long revision, boolean removed) implements JsonSerializable {
    static final State EMPTY = new State(null, 0, false);
  }

  // ---- behaviour ----

  private final String triggerId;
  private final ActorContext<Command> context;
  private final ActorRef<ClusterSharding.ShardCommand> shard;

  private TriggerEntity(
      String triggerId, ActorContext<Command> context, ActorRef<ClusterSharding.ShardCommand> shard) {
    super(PersistenceId.of(ENTITY_KEY.name(), triggerId));
    this.triggerId = triggerId;
    this.context = context;
    this.shard = shard;
  }

  @Override
  public State emptyState() {
    return State.EMPTY;
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Configure.class, this::onConfigure)
        .onCommand(Remove.class, this::onRemove)
        .onCommand(
            GetRuntime.class,
            (state, cmd) ->
                Effect()
                    .reply(
                        cmd.replyTo(),
                        new Runtime(triggerId, state.trigger(), state.revision(), state.removed())))
        .build();
  }

  private ReplyEffect<Event, State> onConfigure(State state, Configure cmd) {
    long revision = cmd.trigger().revision();
    if (revision <= state.revision()) {
      return Effect().reply(cmd.replyTo(), new Applied(triggerId, state.revision()));
    }
    return Effect()
        .persist(new Configured(cmd.trigger()))
        .thenReply(cmd.replyTo(), s -> new Applied(triggerId, s.revision()));
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
    return Effect()
        .persist(new Removed(triggerId, cmd.revision()))
        .thenRun(s -> passivate())
        .thenReply(cmd.replyTo(), s -> new Applied(triggerId, s.revision()));
  }

  private void passivate() {
    shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(Configured.class, (state, e) -> new State(e.trigger(), e.trigger().revision(), false))
        .onEvent(Removed.class, (state, e) -> new State(null, e.revision(), true))
        .build();
  }
}

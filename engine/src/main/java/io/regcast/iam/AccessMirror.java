package io.regcast.iam;

import io.regcast.catalog.CatalogEntity;
import java.time.Duration;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's copy of the catalog's access data: replaced whole on every announcement of the
 * catalog's access topic, re-read at start, every {@code resyncInterval}, and on {@link Refresh}
 * (after a write through this node, so the writer sees its own change at once).
 */
public final class AccessMirror {
  private static final Logger log = LoggerFactory.getLogger(AccessMirror.class);
  private volatile AccessView view = AccessView.EMPTY;
  private volatile boolean loaded;

  public AccessView view() {
    return view;
  }

  /** Whether the catalog's data has arrived at least once. */
  public boolean loaded() {
    return loaded;
  }

  public sealed interface Command {}

  /** Re-read from the catalog now; answered when the copy is up to date. */
  public record Refresh(ActorRef<Done> replyTo) implements Command {}

  private record Loaded(CatalogEntity.Access access, Throwable failure, ActorRef<Done> replyTo) implements Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  public Behavior<Command> behavior(EntityRef<CatalogEntity.Command> catalog, Duration askTimeout, Duration resyncInterval) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  var topic = ctx.spawn(Topic.create(CatalogEntity.Access.class, CatalogEntity.ACCESS_TOPIC), "access-topic");
                  topic.tell(Topic.subscribe(ctx.messageAdapter(CatalogEntity.Access.class, a -> new Loaded(a, null, null))));
                  timers.startTimerWithFixedDelay(Tick.INSTANCE, resyncInterval);
                  return Behaviors.receive(Command.class)
                      .onMessage(Refresh.class, r -> load(ctx, catalog, askTimeout, r.replyTo()))
                      .onMessageEquals(Tick.INSTANCE, () -> load(ctx, catalog, askTimeout, null))
                      .onMessage(
                          Loaded.class,
                          loaded -> {
                            if (loaded.access() != null) {
                              view = new AccessView(loaded.access().snapshot());
                              this.loaded = true;
                            } else {
                              log.warn("Could not read access data from the catalog: {}", String.valueOf(loaded.failure()));
                            }
                            if (loaded.replyTo() != null) {
                              loaded.replyTo().tell(Done.getInstance());
                            }
                            return Behaviors.same();
                          })
                      .build();
                }));
  }

  private static Behavior<Command> load(
      org.apache.pekko.actor.typed.javadsl.ActorContext<Command> ctx,
      EntityRef<CatalogEntity.Command> catalog,
      Duration askTimeout,
      ActorRef<Done> replyTo) {
    ctx.pipeToSelf(
        catalog.<CatalogEntity.Reply>ask(CatalogEntity.GetAccess::new, askTimeout),
        (reply, failure) -> new Loaded(reply instanceof CatalogEntity.Access a ? a : null, failure, replyTo));
    return Behaviors.same();
  }
}

package io.regcast.catalog;

import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one kind of the catalog's data current on this node and hands every new copy to a
 * consumer: each announcement on the catalog's topic, a full re-read at start, every {@code
 * resyncInterval} and on {@link Refresh}, and one more re-read once the node's subscription to the
 * topic has reached every Up member — an announcement made while it was still spreading (about a
 * second after the node starts) did not reach this node.
 */
public final class CatalogFeed {
  private static final Logger log = LoggerFactory.getLogger(CatalogFeed.class);
  private static final Duration TOPIC_CHECK = Duration.ofMillis(500);

  private CatalogFeed() {}

  /** What a feed follows: the catalog's topic for it, and the query that reads it whole. */
  public record Source<T extends CatalogEntity.Reply>(
      String topic, Class<T> type, Function<ActorRef<CatalogEntity.Reply>, CatalogEntity.Command> query) {}

  public static final Source<CatalogEntity.AllGateways> GATEWAYS = new Source<>(
      CatalogEntity.GATEWAYS_TOPIC, CatalogEntity.AllGateways.class, CatalogEntity.ListAllGateways::new);

  public static final Source<CatalogEntity.Access> ACCESS = new Source<>(
      CatalogEntity.ACCESS_TOPIC, CatalogEntity.Access.class, CatalogEntity.GetAccess::new);

  public sealed interface Command {}

  /**
   * Re-read now; answered once the consumer has the new copy — or once the read failed (logged),
   * so a caller never waits longer than the ask timeout.
   */
  public record Refresh(ActorRef<Done> replyTo) implements Command {}

  private record Received(CatalogEntity.Reply data, Throwable failure, ActorRef<Done> replyTo) implements Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  private enum CheckTopic implements Command {
    INSTANCE
  }

  private record TopicReach(int instances) implements Command {}

  public static <T extends CatalogEntity.Reply> Behavior<Command> create(
      EntityRef<CatalogEntity.Command> catalog,
      Source<T> source,
      Consumer<T> consumer,
      Duration askTimeout,
      Duration resyncInterval) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      var topic = ctx.spawn(Topic.create(source.type(), source.topic()), "topic");
      topic.tell(Topic.subscribe(ctx.messageAdapter(source.type(), data -> new Received(data, null, null))));
      timers.startTimerWithFixedDelay(Tick.INSTANCE, resyncInterval);
      timers.startTimerWithFixedDelay(CheckTopic.INSTANCE, TOPIC_CHECK);
      return new Feed<>(ctx, timers, catalog, source, consumer, askTimeout, topic).behavior();
    }));
  }

  private record Feed<T extends CatalogEntity.Reply>(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      EntityRef<CatalogEntity.Command> catalog,
      Source<T> source,
      Consumer<T> consumer,
      Duration askTimeout,
      ActorRef<Topic.Command<T>> topic) {

    Behavior<Command> behavior() {
      return Behaviors.receive(Command.class)
          .onMessage(Refresh.class, r -> read(r.replyTo()))
          .onMessageEquals(Tick.INSTANCE, () -> read(null))
          .onMessage(Received.class, this::onReceived)
          .onMessageEquals(CheckTopic.INSTANCE, () -> {
            ctx.ask(Topic.TopicStats.class, topic, askTimeout, Topic::getTopicStats,
                (stats, failure) -> new TopicReach(stats == null ? 0 : stats.topicInstanceCount()));
            return Behaviors.same();
          })
          .onMessage(TopicReach.class, this::onTopicReach)
          .build();
    }

    private Behavior<Command> read(ActorRef<Done> replyTo) {
      ctx.pipeToSelf(
          catalog.<CatalogEntity.Reply>ask(source.query()::apply, askTimeout),
          (reply, failure) -> new Received(reply, failure, replyTo));
      return Behaviors.same();
    }

    private Behavior<Command> onReceived(Received received) {
      if (source.type().isInstance(received.data())) {
        consumer.accept(source.type().cast(received.data()));
      } else {
        log.warn("Could not read {} from the catalog: {}", source.type().getSimpleName(),
            received.failure() != null ? received.failure().toString() : String.valueOf(received.data()));
      }
      if (received.replyTo() != null) {
        received.replyTo().tell(Done.getInstance());
      }
      return Behaviors.same();
    }

    private Behavior<Command> onTopicReach(TopicReach reach) {
      long up = 0;
      for (var member : Cluster.get(ctx.getSystem()).state().getMembers()) {
        if (member.status() == MemberStatus.up()) {
          up++;
        }
      }
      if (timers.isTimerActive(CheckTopic.INSTANCE) && reach.instances() >= up) {
        timers.cancel(CheckTopic.INSTANCE);
        return read(null);
      }
      return Behaviors.same();
    }
  }
}

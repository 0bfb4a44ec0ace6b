package io.regcast.node;

import io.regcast.broadcast.PathHub;
import io.regcast.trigger.TriggerEntity;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.apache.pekko.cluster.sharding.ClusterSharding;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.persistence.jdbc.db.SlickExtension;
import org.apache.pekko.persistence.jdbc.db.SlickExtensionImpl;

/**
 * The node's readiness checks, served by Pekko Management on {@code /ready} (with Pekko's own
 * {@code cluster-membership} check: the member is Up). Registered by class name in
 * {@code management.conf}; Pekko Management instantiates each with the classic actor system and
 * calls it per request, bounded by {@code pekko.management.health-checks.check-timeout}.
 */
public final class Health {
  /**
   * How long a check waits before it answers "not ready" (below check-timeout: a check that
   * times out there makes /ready answer 500, not 503).
   */
  static final Duration ANSWER_WITHIN = Duration.ofMillis(1000);

  private Health() {}

  /**
   * Per actor system: whether {@link Node#start} has finished (regions initialised, HTTP bound),
   * and its broadcast hub.
   */
  public static final class Started extends AbstractExtensionId<Started.Flag> {
    public static final Started ID = new Started();

    public static final class Flag implements Extension {
      private final AtomicBoolean started = new AtomicBoolean();
      private final AtomicReference<org.apache.pekko.actor.typed.ActorRef<PathHub.Command>> hub = new AtomicReference<>();

      public void set(org.apache.pekko.actor.typed.ActorRef<PathHub.Command> hub) {
        this.hub.set(hub);
        started.set(true);
      }

      public boolean get() {
        return started.get();
      }

      org.apache.pekko.actor.typed.ActorRef<PathHub.Command> hub() {
        return hub.get();
      }
    }

    @Override
    public Flag createExtension(ExtendedActorSystem system) {
      return new Flag();
    }
  }

  /**
   * Sharding started: the node has initialised its entity regions (its start-up finished) and the
   * shard coordinator answers this node's trigger region.
   */
  public static final class ShardingCheck implements Supplier<CompletionStage<Boolean>> {
    private final ActorSystem system;

    public ShardingCheck(ActorSystem system) {
      this.system = system;
    }

    @Override
    public CompletionStage<Boolean> get() {
      if (!Started.ID.get(system).get()) {
        return CompletableFuture.completedFuture(false);
      }
      var region = ClusterSharding.get(system).shardRegion(TriggerEntity.ENTITY_KEY.name());
      return Patterns.ask(region, ShardRegion.getCurrentRegionsInstance(), ANSWER_WITHIN)
          .thenApply(reply -> reply instanceof ShardRegion.CurrentRegions)
          .exceptionally(noAnswer -> false);
    }
  }

  /**
   * Broadcast reaches the cluster: this node's broadcast topic knows the topic of every other Up
   * member (topics spread through the receptionist; until then a message published elsewhere
   * would miss this node's clients, and this node's would miss theirs).
   */
  public static final class BroadcastCheck implements Supplier<CompletionStage<Boolean>> {
    private final ActorSystem system;

    public BroadcastCheck(ActorSystem system) {
      this.system = system;
    }

    @Override
    public CompletionStage<Boolean> get() {
      var hub = Started.ID.get(system).hub();
      if (hub == null) {
        return CompletableFuture.completedFuture(false);
      }
      var typed = org.apache.pekko.actor.typed.javadsl.Adapter.toTyped(system);
      long others = 0;
      for (var member : org.apache.pekko.cluster.Cluster.get(system).state().getMembers()) {
        if (member.status() == org.apache.pekko.cluster.MemberStatus.up()
            && !member.uniqueAddress().equals(org.apache.pekko.cluster.Cluster.get(system).selfUniqueAddress())) {
          others++;
        }
      }
      long expected = others;
      return org.apache.pekko.actor.typed.javadsl.AskPattern
          .<PathHub.Command, org.apache.pekko.actor.typed.pubsub.Topic.TopicStats>ask(
              hub, PathHub.GetTopicStats::new, ANSWER_WITHIN, typed.scheduler())
          // the count includes this node's own instance
          .thenApply(stats -> stats.topicInstanceCount() >= expected + 1)
          .exceptionally(noAnswer -> false);
    }
  }

  /**
   * The journal is reachable: {@code SELECT 1} on a connection of the node's one shared pool (the
   * journal's). Runs on its own thread (JDBC blocks: a pool that cannot connect waits up to its
   * connection timeout); a probe that arrives while one is running shares its answer, so a
   * database that is down ties up one thread, not one per probe.
   */
  public static final class JournalCheck implements Supplier<CompletionStage<Boolean>> {
    private static final int QUERY_TIMEOUT_SECONDS = 2;
    // One per actor system: Pekko Management creates each check once.
    private final ExecutorService probes =
        Executors.newSingleThreadExecutor(r -> {
          Thread t = new Thread(r, "regcast-journal-probe");
          t.setDaemon(true);
          return t;
        });
    private final AtomicReference<CompletableFuture<Boolean>> inFlight = new AtomicReference<>();
    private final ActorSystem system;

    public JournalCheck(ActorSystem system) {
      this.system = system;
    }

    @Override
    public CompletionStage<Boolean> get() {
      CompletableFuture<Boolean> probe = inFlight.get();
      if (probe == null || probe.isDone()) {
        probe = CompletableFuture.supplyAsync(this::selectOne, probes);
        inFlight.set(probe);
      }
      // A probe still waiting for a connection answers "not ready" (and goes on for the next one).
      return probe.copy().completeOnTimeout(false, ANSWER_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
    }

    private boolean selectOne() {
      var db =
          ((SlickExtensionImpl) SlickExtension.get(system))
              .database(system.settings().config().getConfig("jdbc-journal"))
              .database();
      try (Connection connection = db.source().createConnection();
          Statement statement = connection.createStatement()) {
        statement.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
        try (ResultSet rs = statement.executeQuery("SELECT 1")) {
          return rs.next();
        }
      } catch (Exception unreachable) {
        return false;
      }
    }
  }
}

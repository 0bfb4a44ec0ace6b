package io.regcast.broadcast;

import io.regcast.catalog.CatalogEntity;
import io.regcast.gateway.GatewayDirectory;
import io.regcast.gateway.GatewayServer;
import io.regcast.gateway.PathKey;
import io.regcast.model.Gateway;
import io.regcast.model.JsonSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * The node's end of broadcast. It keeps the node's {@link GatewayDirectory} in step with the
 * catalog (the catalog's gateway topic, a full re-read at start and every {@code resyncInterval}),
 * publishes {@link Publish} requests to the cluster's one broadcast {@link Topic} and hands what
 * the topic delivers to the local connections of the message's path.
 *
 * <p>One topic for every path, not one per path: a topic's members spread through the cluster's
 * receptionist in about a second, so a per-path topic created with its gateway would miss the
 * nodes it had not reached yet. The one topic is subscribed when the node starts, and the node is
 * not ready until it knows every other member's ({@link GetTopicStats}). The price: every node
 * receives every message, also for paths without local connections (dropped after one lookup).
 */
public final class PathHub extends AbstractBehavior<PathHub.Command> {

  public sealed interface Command {}

  /**
   * Broadcast one message to every connection on a path, on every node; {@code replyTo} (may be
   * null) hears once this node's connections have it queued and every other node the broadcast
   * topic reaches has handed it to its connections (no answer within the ask timeout: not
   * confirmed, and the trigger sends it again). {@code ingestedAtMillis} (epoch; 0 = none): when
   * the ingest request of its oldest event was taken.
   */
  public record Publish(PathKey path, boolean text, byte[] payload, long ingestedAtMillis, ActorRef<Done> replyTo)
      implements Command {}

  /** Re-read the gateways from the catalog now; answers when the directory is up to date. */
  public record Resync(ActorRef<Done> replyTo) implements Command {}

  /** Answers the broadcast topic's stats (readiness: how many other nodes it reaches). */
  public record GetTopicStats(ActorRef<Topic.TopicStats> replyTo) implements Command {}

  /** The cluster-wide topic every node's hub subscribes to. */
  public static final String BROADCAST_TOPIC = "regcast-broadcast";

  /**
   * What travels on the broadcast topic; {@code origin} is the publishing node, which has delivered
   * it already. With an {@code ackTo}, each receiving node answers {@link Received} with {@code id}.
   */
  public record BroadcastMessage(
      PathKey path, boolean text, byte[] payload, long ingestedAtMillis, String origin, long id, ActorRef<Command> ackTo)
      implements JsonSerializable {}

  /** A node ({@code node}: its unique address) has handed confirmed message {@code id} to its connections. */
  public record Received(long id, String node) implements Command, JsonSerializable {}

  private record Delivered(BroadcastMessage message) implements Command {}

  /** How many topic instances (this node's included) confirmed message {@code id} was published to. */
  private record Reach(long id, int instances) implements Command {}

  private record ConfirmationExpired(long id) implements Command {}

  /** A member that stopped being reachable (or left) will not answer: it is not waited for. */
  private record MemberGone(String node) implements Command {}

  /** A confirmed publish waiting for the other nodes; {@code reach} is -1 until known. */
  private static final class Pending {
    final ActorRef<Done> replyTo;
    final Set<String> received = new HashSet<>();
    final Set<String> gone = new HashSet<>();
    int reach = -1;

    Pending(ActorRef<Done> replyTo) {
      this.replyTo = replyTo;
    }

    boolean complete() {
      return reach >= 0 && received.size() >= reach - gone.size();
    }
  }

  private record GatewaysChanged(List<Gateway> gateways, ActorRef<Done> replyTo) implements Command {}

  private record ResyncFailed(Throwable cause, ActorRef<Done> replyTo) implements Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  /** Until the gateway topic knows every Up member's: is it there yet? */
  private enum CheckGatewayTopic implements Command {
    INSTANCE
  }

  private record GatewayTopicReach(int instances) implements Command {}

  private static final Duration GATEWAY_TOPIC_CHECK = Duration.ofMillis(500);

  public static Behavior<Command> create(
      GatewayServer server,
      GatewayDirectory directory,
      EntityRef<CatalogEntity.Command> catalog,
      Duration askTimeout,
      Duration resyncInterval) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> new PathHub(ctx, timers, server, directory, catalog, askTimeout, resyncInterval)));
  }

  private final GatewayServer server;
  private final GatewayDirectory directory;
  private final EntityRef<CatalogEntity.Command> catalog;
  private final Duration askTimeout;
  private final ActorRef<BroadcastMessage> deliveries;
  private final ActorRef<Topic.Command<BroadcastMessage>> broadcastTopic;
  private final ActorRef<Topic.Command<CatalogEntity.AllGateways>> gatewayTopic;
  private final TimerScheduler<Command> timers;
  private final Map<Long, Pending> pending = new HashMap<>();
  private long lastId;
  private Set<String> knownGateways = Set.of();
  /** This node's cluster address: the origin of what it publishes. */
  private final String self;

  private PathHub(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      GatewayServer server,
      GatewayDirectory directory,
      EntityRef<CatalogEntity.Command> catalog,
      Duration askTimeout,
      Duration resyncInterval) {
    super(context);
    this.timers = timers;
    this.server = server;
    this.directory = directory;
    this.catalog = catalog;
    this.askTimeout = askTimeout;
    this.deliveries = context.messageAdapter(BroadcastMessage.class, Delivered::new);
    this.self = org.apache.pekko.cluster.typed.Cluster.get(context.getSystem()).selfMember().uniqueAddress().toString();
    gatewayTopic =
        context.spawn(Topic.create(CatalogEntity.AllGateways.class, CatalogEntity.GATEWAYS_TOPIC), "gateways-topic");
    gatewayTopic.tell(
        Topic.subscribe(context.messageAdapter(CatalogEntity.AllGateways.class, g -> new GatewaysChanged(g.gateways(), null))));
    broadcastTopic = context.spawn(Topic.create(BroadcastMessage.class, BROADCAST_TOPIC), "broadcast-topic");
    broadcastTopic.tell(Topic.subscribe(deliveries));
    var cluster = org.apache.pekko.cluster.typed.Cluster.get(context.getSystem());
    cluster.subscriptions().tell(org.apache.pekko.cluster.typed.Subscribe.create(
        context.messageAdapter(ClusterEvent.UnreachableMember.class, e -> new MemberGone(e.member().uniqueAddress().toString())),
        ClusterEvent.UnreachableMember.class));
    cluster.subscriptions().tell(org.apache.pekko.cluster.typed.Subscribe.create(
        context.messageAdapter(ClusterEvent.MemberRemoved.class, e -> new MemberGone(e.member().uniqueAddress().toString())),
        ClusterEvent.MemberRemoved.class));
    timers.startTimerWithFixedDelay(Tick.INSTANCE, resyncInterval);
    timers.startTimerWithFixedDelay(CheckGatewayTopic.INSTANCE, GATEWAY_TOPIC_CHECK);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Publish.class, this::onPublish)
        .onMessage(Delivered.class, this::onDelivered)
        .onMessage(Resync.class, r -> resync(r.replyTo()))
        .onMessageEquals(Tick.INSTANCE, () -> resync(null))
        .onMessage(GatewaysChanged.class, this::onGatewaysChanged)
        .onMessage(ResyncFailed.class, this::onResyncFailed)
        .onMessageEquals(CheckGatewayTopic.INSTANCE, this::checkGatewayTopic)
        .onMessage(GatewayTopicReach.class, this::onGatewayTopicReach)
        .onMessage(Reach.class, this::onReach)
        .onMessage(Received.class, this::onReceived)
        .onMessage(MemberGone.class, this::onMemberGone)
        .onMessage(ConfirmationExpired.class, expired -> {
          pending.remove(expired.id()); // the publisher's ask has failed by now: it sends again
          return this;
        })
        .onMessage(GetTopicStats.class, get -> {
          broadcastTopic.tell(Topic.getTopicStats(get.replyTo()));
          return this;
        })
        .build();
  }

  /**
   * This node's connections get the message at once (not through the topic, so the publisher
   * learns when they have it); the topic carries it to the other nodes. A confirmed publish asks
   * the topic how many instances it knows (this node's among them), then publishes: the topic
   * handles both in that order, so the count is of the nodes the message goes to; it is confirmed
   * once as many have answered (less those that became unreachable or left meanwhile).
   */
  private Behavior<Command> onPublish(Publish publish) {
    server.broadcast(publish.path(), publish.text(), publish.payload(), publish.ingestedAtMillis());
    long id = 0;
    if (publish.replyTo() != null && aloneInTheCluster()) {
      publish.replyTo().tell(Done.getInstance()); // no other node to wait for: confirmed now
    } else if (publish.replyTo() != null) {
      id = ++lastId;
      long confirmed = id;
      pending.put(id, new Pending(publish.replyTo()));
      timers.startSingleTimer(new ConfirmationExpired(id), new ConfirmationExpired(id), askTimeout);
      getContext().ask(Topic.TopicStats.class, broadcastTopic, askTimeout, Topic::getTopicStats,
          (stats, failure) -> new Reach(confirmed, stats == null ? Integer.MAX_VALUE : stats.topicInstanceCount()));
    }
    broadcastTopic.tell(Topic.publish(new BroadcastMessage(
        publish.path(), publish.text(), publish.payload(), publish.ingestedAtMillis(), self, id,
        id == 0 ? null : getContext().getSelf())));
    return this;
  }

  /**
   * A gateway created while this node's subscription to the catalog's gateway topic was still
   * spreading is not announced to it: once the topic knows every Up member (this node's own
   * instance counted), one more re-read catches what was missed, instead of the next periodic one.
   */
  private Behavior<Command> checkGatewayTopic() {
    getContext().ask(Topic.TopicStats.class, gatewayTopic, askTimeout, Topic::getTopicStats,
        (stats, failure) -> new GatewayTopicReach(stats == null ? 0 : stats.topicInstanceCount()));
    return this;
  }

  private Behavior<Command> onGatewayTopicReach(GatewayTopicReach reach) {
    long up = 0;
    for (var member : org.apache.pekko.cluster.typed.Cluster.get(getContext().getSystem()).state().getMembers()) {
      if (member.status() == org.apache.pekko.cluster.MemberStatus.up()) {
        up++;
      }
    }
    if (timers.isTimerActive(CheckGatewayTopic.INSTANCE) && reach.instances() >= up) {
      timers.cancel(CheckGatewayTopic.INSTANCE);
      return resync(null);
    }
    return this;
  }

  private boolean aloneInTheCluster() {
    for (var member : org.apache.pekko.cluster.typed.Cluster.get(getContext().getSystem()).state().getMembers()) {
      if (!member.uniqueAddress().toString().equals(self)) {
        return false;
      }
    }
    return true;
  }

  private Behavior<Command> onReach(Reach reach) {
    Pending p = pending.get(reach.id());
    if (p != null) {
      p.reach = reach.instances();
      confirmIfComplete(reach.id(), p);
    }
    return this;
  }

  private Behavior<Command> onReceived(Received received) {
    Pending p = pending.get(received.id());
    if (p != null) {
      p.received.add(received.node());
      confirmIfComplete(received.id(), p);
    }
    return this;
  }

  private Behavior<Command> onMemberGone(MemberGone gone) {
    for (var entry : new ArrayList<>(pending.entrySet())) {
      Pending p = entry.getValue();
      if (!p.received.contains(gone.node())) {
        p.gone.add(gone.node());
        confirmIfComplete(entry.getKey(), p);
      }
    }
    return this;
  }

  private void confirmIfComplete(long id, Pending p) {
    if (p.complete()) {
      pending.remove(id);
      timers.cancel(new ConfirmationExpired(id));
      p.replyTo.tell(Done.getInstance());
    }
  }

  private Behavior<Command> onDelivered(Delivered delivered) {
    BroadcastMessage m = delivered.message();
    if (!self.equals(m.origin())) {
      server.broadcast(m.path(), m.text(), m.payload(), m.ingestedAtMillis());
    }
    if (m.ackTo() != null) {
      // the publishing node too: the topic's count of the instances it reaches includes its own
      m.ackTo().tell(new Received(m.id(), self));
    }
    return this;
  }

  private Behavior<Command> resync(ActorRef<Done> replyTo) {
    getContext().pipeToSelf(
        catalog.<CatalogEntity.Reply>ask(CatalogEntity.ListAllGateways::new, askTimeout),
        (reply, failure) ->
            reply instanceof CatalogEntity.AllGateways all
                ? new GatewaysChanged(all.gateways(), replyTo)
                : new ResyncFailed(failure, replyTo));
    return this;
  }

  private Behavior<Command> onResyncFailed(ResyncFailed failed) {
    getContext().getLog().warn("Could not read the gateways from the catalog: {}", String.valueOf(failed.cause()));
    return this;
  }

  private Behavior<Command> onGatewaysChanged(GatewaysChanged changed) {
    directory.replaceAll(changed.gateways());
    Set<String> gateways = changed.gateways().stream().map(Gateway::id).collect(Collectors.toSet());
    for (String gone : knownGateways) {
      if (!gateways.contains(gone)) {
        server.disconnectGateway(gone, "gateway deleted");
      }
    }
    knownGateways = gateways;
    if (changed.replyTo() != null) {
      changed.replyTo().tell(Done.getInstance());
    }
    return this;
  }}

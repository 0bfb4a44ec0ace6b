package io.regcast.broadcast;

import io.regcast.catalog.CatalogEntity;
import io.regcast.gateway.GatewayDirectory;
import io.regcast.gateway.GatewayServer;
import io.regcast.gateway.PathKey;
import io.regcast.gateway.ResumeGap;
import io.regcast.gateway.StreamEntry;
import io.regcast.gateway.StreamHistory;
import io.regcast.model.JsonSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * The node's end of broadcast. It sends what the path logs on this node store ({@link Publish}) to the cluster's one broadcast
 * {@link Topic}, and hands every path's messages to the local connections in position order: a
 * message that comes early waits until the missing positions have been read from the path's log
 * ({@link PathSequence}). It also answers resuming connections from the logs ({@link
 * StreamHistory}).
 *
 * <p>One topic for every path, not one per path: a topic's members spread through the cluster's
 * receptionist in about a second, so a per-path topic created with its gateway would miss the
 * nodes it had not reached yet. The one topic is subscribed when the node starts, and the node is
 * not ready until it knows every other member's ({@link GetTopicStats}). The price: every node
 * receives every message, also for paths without local connections (one lookup, and the position
 * kept, so that a later client's stream has no hole).
 */
public final class PathHub extends AbstractBehavior<PathHub.Command> {

  public sealed interface Command {}

  /**
   * Messages a path's log on this node has stored ({@code entries}, consecutive), or its
   * announcement of its last position ({@code head}, no entries) after it recovered. {@code
   * ingestedAtMillis} (epoch; 0 = none): when the ingest request of the oldest event was taken.
   */
  public record Publish(PathKey path, List<StreamEntry> entries, long head, long ingestedAtMillis) implements Command {}

  /** A connection resumes on {@code path} after {@code lastEventId}: read what it missed from the log. */
  public record Resume(PathKey path, String lastEventId, StreamHistory.Target target) implements Command {}

  /** These gateways were deleted: their paths' streams are forgotten. */
  public record GatewaysRemoved(Set<String> gatewayIds) implements Command {}

  /** Answers the broadcast topic's stats (readiness: how many other nodes it reaches). */
  public record GetTopicStats(ActorRef<Topic.TopicStats> replyTo) implements Command {}

  /** The cluster-wide topic every node's hub subscribes to. */
  public static final String BROADCAST_TOPIC = "regcast-broadcast";

  /**
   * What travels on the broadcast topic: one stored message of a path ({@code position} > 0), or
   * the log's announcement of its {@code head} ({@code payload} null). {@code origin} is the
   * publishing node, which has handed it to its connections already.
   */
  public record BroadcastMessage(
      PathKey path, long position, byte[] payload, long appendedAtMillis, long head, long ingestedAtMillis, String origin)
      implements JsonSerializable {}

  private record Delivered(BroadcastMessage message) implements Command {}

  private record Fetched(PathKey path, PathLog.Entries entries, Throwable failure) implements Command {}

  private record RetryFetch(PathKey path) implements Command {}

  private record ResumePage(ResumeRead read, PathLog.Entries entries, Throwable failure) implements Command {}

  private static final Duration FETCH_RETRY = Duration.ofSeconds(1);
  /**
   * Payload bytes per read of a log: a page crosses nodes as one remoting message (whose frame is
   * 256 KiB at most), and a message is at most 128 KiB.
   */
  static final int READ_BYTES = 96 * 1024;

  public static Behavior<Command> create(
      GatewayServer server,
      GatewayDirectory directory,
      Function<PathKey, EntityRef<PathLog.Command>> logs,
      Duration askTimeout) {
    return Behaviors.setup(
        ctx -> Behaviors.withTimers(timers -> new PathHub(ctx, timers, server, directory, logs, askTimeout)));
  }

  /**
   * What the node's gateway feed does with every copy of the gateways: the directory takes it at
   * once (a client may connect as soon as a create is answered); the connections of deleted
   * gateways are closed and their streams forgotten.
   */
  public static Consumer<CatalogEntity.AllGateways> gatewayUpdates(
      GatewayDirectory directory, GatewayServer server, ActorRef<Command> hub) {
    return all -> {
      Set<String> gone = directory.replaceAll(all.gateways());
      if (!gone.isEmpty()) {
        gone.forEach(id -> server.disconnectGateway(id, "gateway deleted"));
        hub.tell(new GatewaysRemoved(gone));
      }
    };
  }

  private final GatewayServer server;
  private final GatewayDirectory directory;
  private final Function<PathKey, EntityRef<PathLog.Command>> logs;
  private final Duration askTimeout;
  private final ActorRef<Topic.Command<BroadcastMessage>> broadcastTopic;
  private final TimerScheduler<Command> timers;
  private final Map<PathKey, PathSequence> streams = new HashMap<>();
  /** Paths with a read of the log in flight (one per path at a time). */
  private final Set<PathKey> fetching = new HashSet<>();
  /** This node's cluster address: the origin of what it publishes. */
  private final String self;

  private PathHub(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      GatewayServer server,
      GatewayDirectory directory,
      Function<PathKey, EntityRef<PathLog.Command>> logs,
      Duration askTimeout) {
    super(context);
    this.timers = timers;
    this.server = server;
    this.directory = directory;
    this.logs = logs;
    this.askTimeout = askTimeout;
    this.self = org.apache.pekko.cluster.typed.Cluster.get(context.getSystem()).selfMember().uniqueAddress().toString();
    broadcastTopic = context.spawn(Topic.create(BroadcastMessage.class, BROADCAST_TOPIC), "broadcast-topic");
    broadcastTopic.tell(Topic.subscribe(context.messageAdapter(BroadcastMessage.class, Delivered::new)));
  }

  /** The hub as the gateway's history: resumes become {@link Resume} messages. */
  public static StreamHistory history(ActorRef<Command> hub) {
    return (path, lastEventId, target) -> hub.tell(new Resume(path, lastEventId, target));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Publish.class, this::onPublish)
        .onMessage(Delivered.class, this::onDelivered)
        .onMessage(Fetched.class, this::onFetched)
        .onMessage(RetryFetch.class, retry -> {
          fetchIfMissing(retry.path());
          return this;
        })
        .onMessage(Resume.class, this::onResume)
        .onMessage(ResumePage.class, this::onResumePage)
        .onMessage(GatewaysRemoved.class, removed -> {
          streams.keySet().removeIf(path -> removed.gatewayIds().contains(path.gatewayId()));
          return this;
        })
        .onMessage(GetTopicStats.class, get -> {
          broadcastTopic.tell(Topic.getTopicStats(get.replyTo()));
          return this;
        })
        .build();
  }

  /**
   * This node's connections get what the log stored at once (not through the topic); the topic
   * carries it to the other nodes, one message per position (a batch's messages together could
   * exceed a remoting frame).
   */
  private Behavior<Command> onPublish(Publish publish) {
    if (publish.entries().isEmpty()) {
      broadcastTopic.tell(Topic.publish(
          new BroadcastMessage(publish.path(), 0, null, 0, publish.head(), 0, self)));
      announced(publish.path(), publish.head());
      return this;
    }
    for (StreamEntry e : publish.entries()) {
      broadcastTopic.tell(Topic.publish(new BroadcastMessage(
          publish.path(), e.position(), e.payload(), e.appendedAtMillis(), publish.head(), publish.ingestedAtMillis(), self)));
    }
    deliver(publish.path(), publish.entries(), publish.ingestedAtMillis());
    return this;
  }

  private Behavior<Command> onDelivered(Delivered delivered) {
    BroadcastMessage m = delivered.message();
    if (self.equals(m.origin())) {
      return this;
    }
    if (m.payload() == null) {
      announced(m.path(), m.head());
    } else {
      deliver(m.path(), List.of(new StreamEntry(m.position(), m.payload(), m.appendedAtMillis())), m.ingestedAtMillis());
    }
    return this;
  }

  private void announced(PathKey path, long head) {
    PathSequence stream = streams.get(path);
    if (stream != null) {
      stream.announced(head);
      fetchIfMissing(path);
    }
  }

  private void deliver(PathKey path, List<StreamEntry> entries, long ingestedAtMillis) {
    if (!directory.contains(path)) {
      return; // a deleted gateway's, or one this node does not know yet (its clients cannot be here)
    }
    PathSequence stream = streams.computeIfAbsent(path, p -> new PathSequence());
    broadcast(path, stream.accept(entries), ingestedAtMillis);
    fetchIfMissing(path);
  }

  private void broadcast(PathKey path, List<StreamEntry> ready, long ingestedAtMillis) {
    for (StreamEntry e : ready) {
      server.broadcast(path, e.position(), e.payload(), e.appendedAtMillis(), ingestedAtMillis);
    }
  }

  /** Reads the positions this node missed from the path's log (one read in flight per path). */
  private void fetchIfMissing(PathKey path) {
    PathSequence stream = streams.get(path);
    if (stream == null || stream.missingAfter() < 0 || fetching.contains(path)) {
      return;
    }
    fetching.add(path);
    long after = stream.missingAfter();
    getContext().pipeToSelf(
        logs.apply(path).<PathLog.Entries>ask(r -> new PathLog.Read(after, READ_BYTES, r), askTimeout),
        (entries, failure) -> new Fetched(path, entries, failure));
  }

  private Behavior<Command> onFetched(Fetched fetched) {
    fetching.remove(fetched.path());
    PathSequence stream = streams.get(fetched.path());
    if (stream == null) {
      return this;
    }
    if (fetched.failure() != null) {
      getContext().getLog().warn("Could not read the log of {}{} after position {} ({}); retrying in {}",
          fetched.path().gatewayId(), fetched.path().path(), stream.missingAfter(), fetched.failure().toString(), FETCH_RETRY);
      timers.startSingleTimer(new RetryFetch(fetched.path()), FETCH_RETRY);
      return this;
    }
    PathLog.Entries page = fetched.entries();
    long before = stream.last();
    if (page.firstRetained() > before + 1) {
      getContext().getLog().warn("The log of {}{} no longer keeps positions {}..{}: this node's connections miss them",
          fetched.path().gatewayId(), fetched.path().path(), before + 1, page.firstRetained() - 1);
    }
    broadcast(fetched.path(), stream.filled(page.firstRetained(), page.head(), streamEntries(page)), 0);
    fetchIfMissing(fetched.path());
    return this;
  }

  private static List<StreamEntry> streamEntries(PathLog.Entries page) {
    return page.entries().stream().map(PathLog.Entry::toStream).toList();
  }

  /** A resume being read from the log, page by page. */
  private static final class ResumeRead {
    final Resume request;
    /** The client's id as a position; -1 when it is not one. */
    final long after;
    final List<StreamEntry> entries = new ArrayList<>();
    ResumeGap gap;
    boolean firstPage = true;

    ResumeRead(Resume request) {
      this.request = request;
      this.after = parsePosition(request.lastEventId());
    }

    long next() {
      return entries.isEmpty() ? (gap == null ? Math.max(after, 0) : Long.parseLong(gap.resumedAfter()))
          : entries.get(entries.size() - 1).position();
    }
  }

  private static long parsePosition(String id) {
    try {
      long p = Long.parseLong(id);
      return p >= 0 ? p : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private Behavior<Command> onResume(Resume resume) {
    readResume(new ResumeRead(resume));
    return this;
  }

  private void readResume(ResumeRead read) {
    long after = read.next();
    getContext().pipeToSelf(
        logs.apply(read.request.path()).<PathLog.Entries>ask(r -> new PathLog.Read(after, READ_BYTES, r), askTimeout),
        (entries, failure) -> new ResumePage(read, entries, failure));
  }

  /**
   * The client gets every retained message after its id; when its id is before what the log keeps,
   * after the log's head, or not a position at all, it is told of the gap first and gets every
   * retained message.
   */
  private Behavior<Command> onResumePage(ResumePage page) {
    ResumeRead read = page.read();
    if (page.failure() != null) {
      read.request.target().unavailable("the path's history could not be read: " + page.failure().getMessage());
      return this;
    }
    PathLog.Entries entries = page.entries();
    if (read.firstPage) {
      read.firstPage = false;
      boolean within = read.after >= entries.firstRetained() - 1 && read.after <= entries.head();
      if (!within) {
        read.gap = new ResumeGap(read.request.lastEventId(), Long.toString(entries.firstRetained() - 1));
        if (read.after != entries.firstRetained() - 1) {
          readResume(read); // read again from the oldest kept message
          return this;
        }
      }
    }
    read.entries.addAll(streamEntries(entries));
    long reached = read.entries.isEmpty() ? read.next() : read.entries.get(read.entries.size() - 1).position();
    if (!entries.entries().isEmpty() && reached < entries.head()) {
      readResume(read);
    } else {
      read.request.target().replay(read.gap, List.copyOf(read.entries));
    }
    return this;
  }
}

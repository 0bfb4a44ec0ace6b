package io.regcast.gateway;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.regcast.metrics.Metrics;
import io.regcast.model.HistorySettings;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The node's open connections: by id (for the connections API) and by path, split per event loop
 * (for fan-out, see {@link LoopShard}), with each path's in-memory {@link PathTail}. A path's
 * state lives while it has connections, and {@code tailLinger} after its last one left (the tail
 * keeps up with the stream meanwhile): clients that come back together — after a network blip, a
 * restart of their proxy, the hourly lifetime close — resume from memory, not from the path's log.
 */
final class LocalConnections {
  /**
   * One path's shards and tail. Its lock orders a resuming connection's join (and its look at the
   * tail) against the broadcasts: every message is either in the tail the connection saw or
   * offered to its shard after it joined, which is what makes the replay seamless.
   */
  private static final class PathStream {
    final Map<EventLoop, LoopShard> shards = new HashMap<>();
    final PathTail tail = new PathTail();
    /** When its last connection left ({@link System#nanoTime}); -1 while it has connections. */
    long desertedAt = -1;
    /** It lingered out: it is out of the map, and a late broadcast or join must not touch it. */
    boolean closed;
  }

  private final Map<String, ConnectionHandler> byId = new ConcurrentHashMap<>();
  private final Map<PathKey, PathStream> byPath = new ConcurrentHashMap<>();
  private final Metrics metrics;
  private final GatewayDirectory directory;
  private final int memoryTail;
  private final long tailLingerNanos;

  /**
   * {@code memoryTail}: at most this many messages kept per path (fewer when the gateway keeps
   * fewer); {@code tailLinger}: how long a path's tail is kept after its last connection left.
   */
  LocalConnections(Metrics metrics, GatewayDirectory directory, int memoryTail, java.time.Duration tailLinger) {
    this.metrics = metrics;
    this.directory = directory;
    this.memoryTail = memoryTail;
    this.tailLingerNanos = tailLinger.toNanos();
    metrics.openConnections(this::forEachPath);
  }

  /** The open connections per path, counted when a scrape asks (nothing is kept per connection for it). */
  private void forEachPath(Metrics.OpenConnections.PathCount each) {
    Map<PathKey, Integer> open = new HashMap<>();
    for (ConnectionHandler h : byId.values()) {
      open.merge(new PathKey(h.connection.gatewayId, h.connection.path), 1, Integer::sum);
    }
    open.forEach((key, count) -> each.accept(key.gatewayId(), key.path(), count));
  }

  /**
   * On the connection's event loop, before its response head is written: from now on the
   * connections API finds it (a client that has read its id can at once look itself up).
   */
  void register(ConnectionHandler handler) {
    byId.put(handler.connection.id, handler);
  }

  /**
   * On the connection's event loop, with {@link #register}: it receives its path's messages from
   * now on. For a connection resuming after {@code position} (-1: it is not, or its id names no
   * position) returns what it missed from the tail (retained, in order), or null when the tail
   * cannot prove it has all of it.
   */
  List<ByteBuf> join(ConnectionHandler handler, long position) {
    Connection c = handler.connection;
    PathKey key = new PathKey(c.gatewayId, c.path);
    while (true) {
      PathStream stream = byPath.computeIfAbsent(key, k -> new PathStream());
      synchronized (stream) {
        if (stream.closed) {
          continue;
        }
        stream.shards.computeIfAbsent(c.channel.eventLoop(), loop -> new LoopShard(loop, metrics)).add(handler);
        stream.desertedAt = -1;
        if (position < 0) {
          return null;
        }
        HistorySettings history = directory.history(c.gatewayId);
        return stream.tail.after(position, handler.encoding, tailLimit(history), history.maxAge().toMillis());
      }
    }
  }

  /** On the connection's event loop; idempotent. */
  void remove(ConnectionHandler handler) {
    Connection c = handler.connection;
    byId.remove(c.id, handler);
    PathKey key = new PathKey(c.gatewayId, c.path);
    PathStream stream = byPath.get(key);
    if (stream == null) {
      return;
    }
    synchronized (stream) {
      LoopShard shard = stream.shards.get(c.channel.eventLoop());
      if (shard != null && shard.remove(handler)) {
        stream.shards.remove(c.channel.eventLoop());
      }
      if (stream.shards.isEmpty() && !stream.closed) {
        stream.desertedAt = System.nanoTime();
      }
    }
  }

  /**
   * Frees the paths deserted for longer than the linger, and at once those of deleted gateways:
   * they leave nothing behind. Called now and then from the listener's thread.
   */
  void sweep() {
    long now = System.nanoTime();
    for (var entry : byPath.entrySet()) {
      PathStream stream = entry.getValue();
      synchronized (stream) {
        if (stream.desertedAt >= 0 && !stream.closed
            && (now - stream.desertedAt > tailLingerNanos || !directory.contains(entry.getKey()))) {
          stream.closed = true;
          stream.tail.clear();
          byPath.remove(entry.getKey(), stream);
        }
      }
    }
  }

  ConnectionHandler get(String id) {
    return byId.get(id);
  }

  Collection<ConnectionHandler> all() {
    return byId.values();
  }

  List<ConnectionHandler> ofGateway(String gatewayId) {
    List<ConnectionHandler> out = new ArrayList<>();
    for (ConnectionHandler h : byId.values()) {
      if (h.connection.gatewayId.equals(gatewayId)) {
        out.add(h);
      }
    }
    return out;
  }

  /** The messages the tail of {@code key} holds (0 when the path has no state here). */
  int tailSize(PathKey key) {
    PathStream stream = byPath.get(key);
    if (stream == null) {
      return 0;
    }
    synchronized (stream) {
      return stream.tail.size();
    }
  }

  /**
   * Sends one encoded frame, outside the path's stream (no position), to the plain WebSockets of
   * {@code key}; takes ownership of {@code frame}. Returns at once: the writes happen on the
   * event loops.
   */
  void broadcast(PathKey key, ByteBuf frame, long ingestedAtMillis) {
    deliver(key, new LoopShard.Message(frame, null, null, -1, ingestedAtMillis), 0, null);
  }

  /**
   * Sends message {@code position} of the stream of {@code key} to its connections, each in its
   * encoding (encoded here, once), and keeps it in the path's tail.
   */
  void broadcast(PathKey key, long position, byte[] payload, long appendedAtMillis, long ingestedAtMillis) {
    if (!byPath.containsKey(key)) {
      metrics.gatewayBroadcast();
      return;
    }
    var allocator = PooledByteBufAllocator.DEFAULT;
    deliver(key, new LoopShard.Message(
            Encoding.PLAIN.message(allocator, position, payload),
            Encoding.V1.message(allocator, position, payload),
            Encoding.SSE.message(allocator, position, payload),
            position,
            ingestedAtMillis),
        appendedAtMillis, directory.history(key.gatewayId()));
  }

  /** Offers {@code message} (owned) to every shard of the path and, when {@code history} is set, to its tail. */
  private void deliver(PathKey key, LoopShard.Message message, long appendedAtMillis, HistorySettings history) {
    metrics.gatewayBroadcast();
    PathStream stream = byPath.get(key);
    try {
      if (stream == null) {
        return;
      }
      synchronized (stream) {
        if (stream.closed) {
          return;
        }
        if (history != null) {
          stream.tail.append(message.position(), appendedAtMillis, message.v1(), message.sse(),
              tailLimit(history), history.maxAge().toMillis());
        }
        for (LoopShard shard : stream.shards.values()) {
          shard.offer(message.retainedDuplicate());
        }
      }
    } finally {
      message.release();
    }
  }

  private int tailLimit(HistorySettings history) {
    return Math.min(memoryTail, history.maxMessages());
  }
}

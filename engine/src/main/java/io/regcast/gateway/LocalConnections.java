package io.regcast.gateway;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.regcast.metrics.Metrics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The node's open connections: by id (for the connections API) and by path, split per event loop
 * (for fan-out). A path's connections on one event loop form a {@link LoopShard}, touched only on
 * that loop; a broadcast hands the one encoded frame to each shard, which merges the frames queued
 * during one loop turn and gives every connection one write and one flush.
 */
final class LocalConnections {
  private final Map<String, ConnectionHandler> byId = new ConcurrentHashMap<>();
  private final Map<PathKey, Map<EventLoop, LoopShard>> byPath = new ConcurrentHashMap<>();
  private final Metrics metrics;

  LocalConnections(Metrics metrics) {
    this.metrics = metrics;
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
   * On the connection's event loop, as its 101 is written: from now on the connections API finds
   * it (a client that has read its id can at once look itself up).
   */
  void register(ConnectionHandler handler) {
    byId.put(handler.connection.id, handler);
  }

  /** On the connection's event loop, with {@link #register}: it receives its path's messages. */
  void join(ConnectionHandler handler) {
    Connection c = handler.connection;
    EventLoop loop = c.channel.eventLoop();
    // compute: atomic per path against a concurrent removal of the path's last shard
    byPath.compute(
        new PathKey(c.gatewayId, c.path),
        (key, shards) -> {
          Map<EventLoop, LoopShard> present = shards == null ? new ConcurrentHashMap<>() : shards;
          present.computeIfAbsent(loop, LoopShard::new).add(handler);
          return present;
        });
  }

  /** On the connection's event loop; idempotent. */
  void remove(ConnectionHandler handler) {
    Connection c = handler.connection;
    byId.remove(c.id, handler);
    EventLoop loop = c.channel.eventLoop();
    // A path's last connection takes its entries along (deleted gateways leave nothing behind).
    byPath.computeIfPresent(
        new PathKey(c.gatewayId, c.path),
        (key, shards) -> {
          LoopShard shard = shards.get(loop);
          if (shard != null && shard.remove(handler)) {
            shards.remove(loop);
          }
          return shards.isEmpty() ? null : shards;
        });
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

  /**
   * Sends one encoded frame to every local connection of {@code key}; takes ownership of {@code
   * frame}. {@code ingestedAtMillis} (epoch; 0 = none) is when the ingest request of the message's
   * oldest event was taken. Returns at once: the writes happen on the event loops.
   */
  void broadcast(PathKey key, ByteBuf frame, long ingestedAtMillis) {
    metrics.gatewayBroadcast();
    Map<EventLoop, LoopShard> shards = byPath.get(key);
    try {
      if (shards != null) {
        for (LoopShard shard : shards.values()) {
          shard.offer(new Pending(frame.retainedDuplicate(), ingestedAtMillis));
        }
      }
    } finally {
      frame.release();
    }
  }

  /** A frame waiting for an event loop, with the ingest time of its message's oldest event (0 = none). */
  private record Pending(ByteBuf frame, long ingestedAtMillis) {}

  /** The connections of one path on one event loop, and the frames waiting for that loop. */
  private final class LoopShard implements Runnable {
    private final EventLoop loop;
    /**
     * Copied on change (rare) so that a delivery can iterate without allocating, and a member that
     * leaves during a delivery (a slow consumer cut) does not disturb the iteration.
     */
    private ConnectionHandler[] members = new ConnectionHandler[0];
    private final Queue<Pending> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** The ingest times of the frames of the current turn (loop only; reused, grows as needed). */
    private long[] ingestTimes = new long[16];
    private int frameCount;

    LoopShard(EventLoop loop) {
      this.loop = loop;
    }

    void add(ConnectionHandler handler) {
      ConnectionHandler[] grown = Arrays.copyOf(members, members.length + 1);
      grown[members.length] = handler;
      members = grown;
    }

    /** Removes a member; true when none is left. */
    boolean remove(ConnectionHandler handler) {
      int at = Arrays.asList(members).indexOf(handler);
      if (at >= 0) {
        ConnectionHandler[] shrunk = new ConnectionHandler[members.length - 1];
        System.arraycopy(members, 0, shrunk, 0, at);
        System.arraycopy(members, at + 1, shrunk, at, members.length - at - 1);
        members = shrunk;
      }
      return members.length == 0;
    }

    void offer(Pending frame) {
      pending.add(frame);
      if (scheduled.compareAndSet(false, true)) {
        loop.execute(this);
      }
    }

    /**
     * On the loop: one merged buffer for what was queued, one write + flush per connection; the
     * counts of the whole turn go to the metrics at once.
     */
    @Override
    public void run() {
      scheduled.set(false);
      ByteBuf merged = drain();
      if (merged == null) {
        return;
      }
      ConnectionHandler[] recipients = members;
      long writes = 0;
      try {
        for (ConnectionHandler member : recipients) {
          if (member.deliver(merged.retainedDuplicate(), frameCount)) {
            writes++;
          }
        }
        for (ConnectionHandler member : recipients) {
          member.flush();
        }
      } finally {
        merged.release();
      }
      metrics.messagesWritten(writes * frameCount, writes);
      if (recipients.length > 0) {
        long now = System.currentTimeMillis();
        for (int i = 0; i < frameCount; i++) {
          if (ingestTimes[i] > 0) {
            metrics.ingestToSocket(ingestTimes[i], now);
          }
        }
      }
    }

    /** Everything queued, merged into one buffer (null when nothing is); sets the turn's frame count and ingest times. */
    private ByteBuf drain() {
      Pending first = pending.poll();
      if (first == null) {
        return null;
      }
      frameCount = 0;
      note(first);
      Pending next = pending.poll();
      if (next == null) {
        return first.frame();
      }
      List<ByteBuf> frames = new ArrayList<>();
      frames.add(first.frame());
      int total = first.frame().readableBytes();
      for (; next != null; next = pending.poll()) {
        note(next);
        frames.add(next.frame());
        total += next.frame().readableBytes();
      }
      ByteBuf merged = first.frame().alloc().directBuffer(total);
      for (ByteBuf frame : frames) {
        merged.writeBytes(frame);
        frame.release();
      }
      return merged;
    }

    private void note(Pending frame) {
      if (frameCount == ingestTimes.length) {
        ingestTimes = Arrays.copyOf(ingestTimes, frameCount * 2);
      }
      ingestTimes[frameCount++] = frame.ingestedAtMillis();
    }
  }
}

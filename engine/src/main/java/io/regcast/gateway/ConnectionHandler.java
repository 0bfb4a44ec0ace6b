package io.regcast.gateway;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.util.concurrent.ScheduledFuture;
import io.regcast.metrics.Metrics;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection after its handshake, on its event loop, whatever its protocol: the outbound
 * queue with the slow-consumer policy, keep-alives every ping interval, the maximum lifetime (then
 * closed with 1001), and the resume (replay, then live messages without duplicate or hole). {@link
 * WebSocketHandler} and {@link EventStreamHandler} add what their protocols need.
 */
abstract class ConnectionHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ConnectionHandler.class);
  /** What fits a WebSocket close reason (125 bytes of payload with the code) whatever the text. */
  private static final int MAX_REASON_CHARS = 40;

  final Connection connection;
  final Encoding encoding;
  final GatewaySettings settings;
  final Metrics metrics;
  private final LocalConnections connections;
  private final StreamHistory history;
  /** The id the client resumes after; null when it does not resume. */
  private final String lastEventId;
  private ScheduledFuture<?> keepAliveTimer;
  private ScheduledFuture<?> lifetimeTimer;
  private boolean registered;
  /** The response head is out: messages may be written (before that they wait in the overflow queue). */
  private boolean open;
  /**
   * Until the replay is out, live messages are held in the overflow queue with their positions
   * (the shards give them one by one); those the replay covers are then dropped.
   */
  private boolean resuming;
  /** What the resume writes before live messages (gap, missed messages), once known. */
  private List<ByteBuf> replay;
  /**
   * The newest position the replay covers (-1: none, or nothing more to drop): messages up to it
   * that reach the connection live are dropped, held ones at the seam, and those the shard had
   * queued before the join (in the loop task after the seam) as they come.
   */
  private long replayedThrough = -1;

  ConnectionHandler(Connection connection, Encoding encoding, String lastEventId, ServerContext context) {
    this.connection = connection;
    this.encoding = encoding;
    this.lastEventId = lastEventId;
    this.settings = context.settings();
    this.metrics = context.metrics();
    this.connections = context.connections();
    this.history = context.history();
  }

  /**
   * On the event loop, before the response head is written: the connections API finds it, and its
   * path's messages reach it from now on (they wait in its queue until the head is out). A
   * resuming connection takes what it missed from the path's tail or asks the path's history.
   */
  final void registered() {
    registered = true;
    resuming = lastEventId != null;
    connections.register(this);
    long after = Encoding.positionOf(lastEventId);
    List<ByteBuf> fromTail = connections.join(this, resuming ? after : -1);
    if (!resuming) {
      return;
    }
    if (fromTail != null) {
      replay = fromTail;
      replayedThrough = after + fromTail.size(); // the tail's entries are contiguous
    } else {
      history.resume(new PathKey(connection.gatewayId, connection.path), lastEventId, new HistoryAnswer());
    }
  }

  /** On the event loop, once the response head is written: send what waited, start the timers. */
  final void opened() {
    if (!connection.channel.isActive()) {
      return;
    }
    open = true;
    metrics.connectionOpened();
    var loop = connection.channel.eventLoop();
    long keepAlive = settings.pingInterval().toMillis();
    keepAliveTimer = loop.scheduleAtFixedRate(this::keepAlive, keepAlive, keepAlive, TimeUnit.MILLISECONDS);
    lifetimeTimer =
        loop.schedule(
            () -> close(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE.code(), "connection lifetime reached"),
            settings.maxLifetime().toMillis(),
            TimeUnit.MILLISECONDS);
    started();
    if (!resuming) {
      drainOverflow();
    } else if (replay != null) {
      endReplay();
    }
  }

  /** Once open: what the protocol adds to the timers. */
  void started() {}

  /** Every ping interval while open: keeps the connection (and the proxies on its way) from looking idle. */
  abstract void keepAlive();

  /**
   * Ends the connection, {@code code} being a WebSocket close code (the event stream just ends);
   * any thread. The connection leaves its path at once; the rest is the protocol's ({@link #end}).
   */
  final void close(int code, String reason) {
    if (!connection.channel.eventLoop().inEventLoop()) {
      connection.channel.eventLoop().execute(() -> close(code, reason));
      return;
    }
    if (connection.closing) {
      return;
    }
    connection.closing = true;
    leave();
    end(code, reason);
  }

  /** On the event loop, once: how the protocol says goodbye (a close frame, the stream's last chunk). */
  abstract void end(int code, String reason);

  /** Whether messages must reach it one by one with their positions (the shards ask). */
  final boolean wantsPositions() {
    return resuming || replayedThrough >= 0;
  }

  /** Whether nothing waits: keep-alives go out only then (they would only add to a backlog). */
  final boolean idleAndWritable() {
    return open && !resuming && connection.overflow.isEmpty() && connection.channel.isWritable();
  }

  // ---- the resume (event loop) ----

  /** The path's history answers from any thread: the answer hops to the connection's event loop. */
  private final class HistoryAnswer implements StreamHistory.Target {
    private final AtomicBoolean answered = new AtomicBoolean();

    @Override
    public void replay(ResumeGap gap, List<StreamEntry> entries) {
      if (answered.compareAndSet(false, true)) {
        connection.channel.eventLoop().execute(() -> replayed(gap, entries));
      }
    }

    @Override
    public void unavailable(String reason) {
      if (answered.compareAndSet(false, true)) {
        log.info("Connection {} on {}{} cannot resume after {}: {}",
            connection.id, connection.gatewayId, connection.path, lastEventId, reason);
        String shown = "cannot resume: " + reason;
        close(WebSocketCloseStatus.INTERNAL_SERVER_ERROR.code(),
            shown.length() > MAX_REASON_CHARS ? shown.substring(0, MAX_REASON_CHARS) : shown);
      }
    }
  }

  /** The history's entries (and gap), encoded for this connection alone: a replay is its own. */
  private void replayed(ResumeGap gap, List<StreamEntry> entries) {
    if (connection.closing) {
      return;
    }
    var allocator = connection.channel.alloc();
    List<ByteBuf> bytes = new ArrayList<>(entries.size() + 1);
    long through = Encoding.positionOf(gap == null ? lastEventId : gap.resumedAfter());
    if (gap != null) {
      bytes.add(encoding.gap(allocator, gap));
    }
    for (StreamEntry entry : entries) {
      if (entry.position() > through) {
        bytes.add(encoding.message(allocator, entry.position(), entry.payload()));
        through = entry.position();
      }
    }
    replay = bytes;
    replayedThrough = through;
    if (open) {
      endReplay();
    }
  }

  /**
   * The seam: the replay, then the held messages after it, then live delivery. Every position
   * broadcast before the join is in the replay (the tail or the log had it: the node broadcasts a
   * position once its log holds it), every later one is held, so dropping the held ones the replay
   * covers leaves neither a duplicate nor a hole.
   */
  private void endReplay() {
    Channel channel = connection.channel;
    // In memory already: written at once, without waiting for the socket to drain; the
    // slow-consumer limit bounds what keeps arriving, not what the client asked for.
    for (ByteBuf bytes : replay) {
      channel.write(bytes, channel.voidPromise());
    }
    metrics.messagesWritten(replay.size(), replay.size());
    replay = null;
    long through = replayedThrough;
    connection.overflow.removeIf(
        queued -> {
          boolean covered = queued.position() >= 0 && queued.position() <= through;
          if (covered) {
            connection.overflowBytes -= queued.frames().readableBytes();
            queued.frames().release();
          }
          return covered;
        });
    resuming = false;
    drainOverflow();
  }

  // ---- outbound (event loop) ----

  /**
   * Writes {@code frames} (holding {@code messages} messages, the newest at {@code position};
   * taking ownership) or queues them; the caller flushes. True when written now: the caller counts
   * the writes of a whole delivery at once, queued frames are counted when they drain.
   */
  final boolean deliver(ByteBuf frames, int messages, long position) {
    if (connection.closing || (position >= 0 && position <= replayedThrough)) {
      frames.release();
      return false;
    }
    if (!resuming && position > replayedThrough) {
      replayedThrough = -1; // the shard delivers in position order: nothing older follows
    }
    if (open && !resuming && connection.overflow.isEmpty() && connection.channel.isWritable()) {
      connection.channel.write(frames, connection.channel.voidPromise());
      return true;
    }
    long size = frames.readableBytes();
    if (settings.slowConsumerPolicy() == GatewaySettings.SlowConsumerPolicy.DROP_OLDEST) {
      long dropped = 0;
      while (!connection.overflow.isEmpty() && connection.overflowBytes + size > settings.maxQueuedBytes()) {
        Connection.Queued oldest = connection.overflow.poll();
        connection.overflowBytes -= oldest.frames().readableBytes();
        oldest.frames().release();
        dropped += oldest.messages();
      }
      if (dropped > 0) {
        metrics.messagesDropped(dropped);
      }
    } else if (connection.overflowBytes + size > settings.maxQueuedBytes()) {
      frames.release();
      metrics.slowConsumerDisconnected();
      log.info("Closing slow connection {} on {}{}: over {} queued bytes",
          connection.id, connection.gatewayId, connection.path, settings.maxQueuedBytes());
      close(WebSocketCloseStatus.POLICY_VIOLATION.code(), "slow consumer");
      return false;
    }
    connection.overflow.add(new Connection.Queued(frames, messages, position));
    connection.overflowBytes += size;
    return false;
  }

  final void flush() {
    connection.channel.flush();
  }

  /** Sends one message outside the path's stream to this connection only (the connections API); any thread. */
  final void send(boolean text, byte[] payload) {
    ByteBuf bytes = encoding.unpositioned(PooledByteBufAllocator.DEFAULT, text, payload);
    connection.channel.eventLoop().execute(() -> {
      if (deliver(bytes, 1, -1)) {
        metrics.messagesWritten(1, 1);
      }
      flush();
    });
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    drainOverflow();
    ctx.fireChannelWritabilityChanged();
  }

  /** Writes what waited (for the head, the replay, or the socket to drain) while it can. */
  private void drainOverflow() {
    var channel = connection.channel;
    long messages = 0;
    long writes = 0;
    while (open && !resuming && !connection.overflow.isEmpty() && channel.isWritable()) {
      Connection.Queued queued = connection.overflow.poll();
      connection.overflowBytes -= queued.frames().readableBytes();
      channel.write(queued.frames(), channel.voidPromise());
      messages += queued.messages();
      writes++;
    }
    if (writes > 0) {
      metrics.messagesWritten(messages, writes);
    }
    channel.flush();
  }

  // ---- closing ----

  /** Leaves the path and the registry, stops the timers and frees what waits (idempotent). */
  void leave() {
    if (registered) {
      connections.remove(this);
    }
    cancel(keepAliveTimer);
    cancel(lifetimeTimer);
    for (Connection.Queued queued : connection.overflow) {
      queued.frames().release();
    }
    connection.overflow.clear();
    connection.overflowBytes = 0;
    if (replay != null) {
      replay.forEach(ByteBuf::release);
      replay = null;
    }
  }

  static void cancel(ScheduledFuture<?> timer) {
    if (timer != null) {
      timer.cancel(false);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    connection.closing = true;
    leave();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException) {
      log.debug("Connection {}: {}", connection.id, cause.toString());
    } else {
      log.warn("Connection {} failed", connection.id, cause);
    }
    ctx.close();
  }
}

package io.regcast.gateway;

import io.regcast.metrics.Metrics;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection after its handshake, on its event loop: frames from the client (ignored but for
 * pings, size limits and closes), keep-alive pings, idle timeout and lifetime (PRODUCT.md §9), the
 * outbound queue with the slow-consumer policy, and the closing handshake.
 */
final class ConnectionHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ConnectionHandler.class);

  final Connection connection;
  private final GatewaySettings settings;
  private final LocalConnections connections;
  private final Metrics metrics;
  private ScheduledFuture<?> pingTimer;
  private ScheduledFuture<?> lifetimeTimer;
  private ScheduledFuture<?> idleTimer;
  private ScheduledFuture<?> hardClose;
  private long lastClientFrameMillis = System.currentTimeMillis();
  private boolean registered;
  /** The handshake is done: frames may be written (before that they wait in the overflow queue). */
  private boolean open;

  ConnectionHandler(
      Connection connection, GatewaySettings settings, LocalConnections connections, Metrics metrics) {
    this.connection = connection;
    this.settings = settings;
    this.connections = connections;
    this.metrics = metrics;
  }

  /**
   * On the event loop, as the 101 response is written: the connections API finds it, and its
   * path's messages reach it from now on (they wait in its queue until the 101 is out).
   */
  void registered() {
    registered = true;
    connections.register(this);
    connections.join(this);
  }

  /** On the event loop, once the 101 response is written: send what waited, start the timers. */
  void opened() {
    if (!connection.channel.isActive()) {
      return;
    }
    open = true;
    drainOverflow();
    metrics.connectionOpened();
    var loop = connection.channel.eventLoop();
    long ping = settings.pingInterval().toMillis();
    pingTimer = loop.scheduleAtFixedRate(this::ping, ping, ping, TimeUnit.MILLISECONDS);
    lifetimeTimer =
        loop.schedule(
            () -> close(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE.code(), "connection lifetime reached"),
            settings.maxLifetime().toMillis(),
            TimeUnit.MILLISECONDS);
    scheduleIdleCheck(settings.idleTimeout().toMillis());
  }

  private void ping() {
    if (!connection.closing) {
      connection.channel.writeAndFlush(new PingWebSocketFrame(), connection.channel.voidPromise());
    }
  }

  private void scheduleIdleCheck(long delayMillis) {
    idleTimer =
        connection.channel.eventLoop().schedule(this::checkIdle, delayMillis, TimeUnit.MILLISECONDS);
  }

  private void checkIdle() {
    long idleFor = System.currentTimeMillis() - lastClientFrameMillis;
    long limit = settings.idleTimeout().toMillis();
    if (idleFor >= limit) {
      close(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE.code(), "idle timeout");
    } else {
      scheduleIdleCheck(limit - idleFor);
    }
  }

  // ---- outbound (event loop) ----

  /**
   * Writes {@code frames} (holding {@code messages} messages; taking ownership) or queues them;
   * the caller flushes. True when written now: the caller counts the writes of a whole delivery
   * at once, queued frames are counted when they drain.
   */
  boolean deliver(ByteBuf frames, int messages) {
    if (connection.closing) {
      frames.release();
      return false;
    }
    if (open && connection.overflow.isEmpty() && connection.channel.isWritable()) {
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
    connection.overflow.add(new Connection.Queued(frames, messages));
    connection.overflowBytes += size;
    return false;
  }

  void flush() {
    connection.channel.flush();
  }

  /** Sends one message to this connection only (the connections API); any thread. */
  void send(ByteBuf frame) {
    connection.channel.eventLoop().execute(() -> {
      if (deliver(frame, 1)) {
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

  /** Writes what waited (for the handshake, or for the socket to drain) while it can. */
  private void drainOverflow() {
    var channel = connection.channel;
    long messages = 0;
    long writes = 0;
    while (open && !connection.overflow.isEmpty() && channel.isWritable()) {
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

  /**
   * Starts the closing handshake with {@code code}; any thread. The connection leaves its path at
   * once; the TCP connection is cut when the client answers, or after the close grace.
   */
  void close(int code, String reason) {
    if (!connection.channel.eventLoop().inEventLoop()) {
      connection.channel.eventLoop().execute(() -> close(code, reason));
      return;
    }
    if (connection.closing) {
      return;
    }
    connection.closing = true;
    leave();
    connection.channel
        .writeAndFlush(new CloseWebSocketFrame(code, reason))
        .addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    hardClose =
        connection.channel
            .eventLoop()
            .schedule(() -> connection.channel.close(), settings.closeGrace().toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Leaves the path and the registry, stops the timers and frees what is queued (idempotent). */
  private void leave() {
    if (registered) {
      connections.remove(this);
    }
    cancel(pingTimer);
    cancel(lifetimeTimer);
    cancel(idleTimer);
    for (Connection.Queued queued : connection.overflow) {
      queued.frames().release();
    }
    connection.overflow.clear();
    connection.overflowBytes = 0;
  }

  private static void cancel(ScheduledFuture<?> timer) {
    if (timer != null) {
      timer.cancel(false);
    }
  }

  // ---- inbound (event loop) ----

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof WebSocketFrame frame) {
        onFrame(ctx, frame);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onFrame(ChannelHandlerContext ctx, WebSocketFrame frame) {
    if (frame instanceof CloseWebSocketFrame close) {
      if (connection.closing) {
        ctx.close();
      } else {
        connection.closing = true;
        leave();
        int code = close.statusCode() == -1 ? WebSocketCloseStatus.NORMAL_CLOSURE.code() : close.statusCode();
        ctx.writeAndFlush(new CloseWebSocketFrame(code, "")).addListener(ChannelFutureListener.CLOSE);
      }
      return;
    }
    if (frame instanceof PongWebSocketFrame) {
      return; // answers to our keep-alive pings do not count as client activity (PRODUCT.md §9)
    }
    lastClientFrameMillis = System.currentTimeMillis();
    connection.touch();
    if (frame instanceof PingWebSocketFrame ping) {
      if (!connection.closing) {
        ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()), ctx.voidPromise());
      }
      return;
    }
    long size = frame.content().readableBytes();
    if (frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame) {
      connection.incomingMessageBytes = size;
    } else if (frame instanceof ContinuationWebSocketFrame) {
      connection.incomingMessageBytes += size;
    }
    if (connection.incomingMessageBytes > settings.maxMessageSize()) {
      close(WebSocketCloseStatus.MESSAGE_TOO_BIG.code(), "message larger than " + settings.maxMessageSize() + " bytes");
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    connection.closing = true;
    leave();
    cancel(hardClose);
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof CorruptedWebSocketFrameException) {
      // The decoder has already answered with its close code (1002, 1007 or 1009) and closes.
      connection.closing = true;
      leave();
      log.debug("Connection {}: {}", connection.id, cause.getMessage());
    } else if (cause instanceof IOException) {
      log.debug("Connection {}: {}", connection.id, cause.toString());
    } else {
      log.warn("Connection {} failed", connection.id, cause);
    }
    ctx.close();
  }
}

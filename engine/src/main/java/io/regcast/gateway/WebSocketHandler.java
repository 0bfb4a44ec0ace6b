package io.regcast.gateway;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
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
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A WebSocket after its handshake: frames from the client (ignored but for pings, size limits and
 * closes), keep-alive pings, the idle timeout, and the closing handshake.
 */
final class WebSocketHandler extends ConnectionHandler {
  private static final Logger log = LoggerFactory.getLogger(WebSocketHandler.class);

  private ScheduledFuture<?> idleTimer;
  private ScheduledFuture<?> hardClose;
  private long lastClientFrameMillis = System.currentTimeMillis();

  WebSocketHandler(Connection connection, Encoding encoding, String lastEventId, ServerContext context) {
    super(connection, encoding, lastEventId, context);
  }

  @Override
  void started() {
    scheduleIdleCheck(settings.idleTimeout().toMillis());
  }

  @Override
  void keepAlive() {
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

  /**
   * The closing handshake with {@code code}: the TCP connection is cut when the client answers, or
   * after the close grace.
   */
  @Override
  void end(int code, String reason) {
    connection.channel
        .writeAndFlush(new CloseWebSocketFrame(code, reason))
        .addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    hardClose =
        connection.channel
            .eventLoop()
            .schedule(() -> connection.channel.close(), settings.closeGrace().toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  void leave() {
    super.leave();
    cancel(idleTimer);
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
      return; // answers to our keep-alive pings do not count as client activity for the idle timeout
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
    super.channelInactive(ctx);
    cancel(hardClose);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof CorruptedWebSocketFrameException) {
      // The decoder has already answered with its close code (1002, 1007 or 1009) and closes.
      connection.closing = true;
      leave();
      log.debug("Connection {}: {}", connection.id, cause.getMessage());
      ctx.close();
    } else {
      super.exceptionCaught(ctx, cause);
    }
  }
}

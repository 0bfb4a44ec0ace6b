package io.regcast.gateway;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;

/**
 * A Server-Sent Events stream after its response head: the HTTP codec is gone, every write is one
 * whole pre-encoded chunk. The client never sends anything, so there is no idle timeout (nothing
 * could show it is alive); keep-alive comments and the lifetime still apply, and the stream is
 * ended with the last chunk (the client's {@code EventSource} reconnects with its last id).
 */
final class EventStreamHandler extends ConnectionHandler {
  EventStreamHandler(Connection connection, String lastEventId, ServerContext context) {
    super(connection, Encoding.SSE, lastEventId, context);
  }

  @Override
  void keepAlive() {
    if (idleAndWritable()) {
      connection.channel.writeAndFlush(
          EventChunks.comment(connection.channel.alloc(), "keep-alive"), connection.channel.voidPromise());
    }
  }

  /** The stream's last chunk ({@code code} has no meaning here). */
  @Override
  void end(int code, String reason) {
    connection.channel.writeAndFlush(EventChunks.end()).addListener(ChannelFutureListener.CLOSE);
  }

  /** Whatever the client sends after its request means nothing to an event stream. */
  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ReferenceCountUtil.release(msg);
  }
}

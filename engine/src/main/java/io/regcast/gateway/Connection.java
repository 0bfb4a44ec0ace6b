package io.regcast.gateway;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.time.Instant;
import java.util.ArrayDeque;

/**
 * One open connection (a WebSocket or an event stream). Its identity is immutable; {@code
 * lastActiveAt} is written by the channel's event loop and read by the control plane; the overflow
 * queue is touched only on the event loop.
 */
final class Connection {
  final String id;
  final String gatewayId;
  final String path;
  final String sourceIp;
  final String userAgent;
  final Instant connectedAt;
  final Channel channel;

  private volatile long lastActiveMillis;
  /** Frames waiting while the channel is not writable (event loop only). */
  final ArrayDeque<Queued> overflow = new ArrayDeque<>();
  long overflowBytes;
  /** Payload bytes of the client's message being received in fragments (event loop only). */
  long incomingMessageBytes;
  /** A close frame was sent or received: nothing more is written but the close itself. */
  boolean closing;

  Connection(
      String id, String gatewayId, String path, String sourceIp, String userAgent, Channel channel) {
    this.id = id;
    this.gatewayId = gatewayId;
    this.path = path;
    this.sourceIp = sourceIp;
    this.userAgent = userAgent;
    this.channel = channel;
    this.connectedAt = Instant.now();
    this.lastActiveMillis = connectedAt.toEpochMilli();
  }

  void touch() {
    lastActiveMillis = System.currentTimeMillis();
  }

  long lastActiveMillis() {
    return lastActiveMillis;
  }

  /**
   * Bytes waiting for the socket, how many messages they hold (merged frames hold several) and
   * the newest position among them (-1: none, e.g. a message from the connections API): allocated
   * only when a connection falls behind or resumes, never on the direct write path.
   */
  record Queued(ByteBuf frames, int messages, long position) {}

  /** What the connections API shows. */
  ConnectionInfo info() {
    return new ConnectionInfo(
        id, gatewayId, path, sourceIp, userAgent, connectedAt, Instant.ofEpochMilli(lastActiveMillis));
  }
}

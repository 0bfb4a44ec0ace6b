package io.regcast.gateway;

import java.time.Duration;

/**
 * The {@code regcast.gateway} block: the listener, the WebSocket limits (frame and message size,
 * ping interval, idle timeout, maximum lifetime), and the slow-consumer policy.
 *
 * @param domain Host-based routing: a request for host {@code {gatewayId}.{domain}} is routed by
 *     its path alone; empty = only {@code /gateways/{gatewayId}{path}} URLs
 * @param closeGrace after a close frame is sent, how long the client has to answer before the TCP
 *     connection is cut
 * @param maxQueuedBytes per connection, the bytes queued beyond Netty's write buffer before the
 *     slow-consumer policy applies
 * @param eventLoopThreads Netty worker threads; 0 = one per core
 */
public record GatewaySettings(
    String host,
    int port,
    String domain,
    int maxFrameSize,
    int maxMessageSize,
    Duration pingInterval,
    Duration idleTimeout,
    Duration maxLifetime,
    Duration closeGrace,
    SlowConsumerPolicy slowConsumerPolicy,
    long maxQueuedBytes,
    int eventLoopThreads) {

  /** What happens to a connection whose queue overflows {@code maxQueuedBytes}. */
  public enum SlowConsumerPolicy {
    /** Close it with 1008 (policy violation). */
    DISCONNECT,
    /** Drop its oldest queued messages to make room. */
    DROP_OLDEST
  }
}

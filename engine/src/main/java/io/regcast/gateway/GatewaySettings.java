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
 * @param limits what one client, and all of them, may hold of the node before a connection is a
 *     WebSocket or an event stream
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
    int eventLoopThreads,
    Limits limits) {

  /**
   * @param handshakeTimeout from the TCP accept to a complete request: a client that sends part of
   *     one, or nothing, is cut then (it would hold a file descriptor forever)
   * @param maxConnections TCP connections the listener holds at once; more are answered 503
   * @param maxConnectionsPerIp TCP connections one address holds at once; more are answered 429
   */
  public record Limits(Duration handshakeTimeout, int maxConnections, int maxConnectionsPerIp) {
    /** The defaults of {@code regcast.gateway}. */
    public static final Limits DEFAULT = new Limits(Duration.ofSeconds(10), 100_000, 1_000);
  }

  /** What happens to a connection whose queue overflows {@code maxQueuedBytes}. */
  public enum SlowConsumerPolicy {
    /** Close it with 1008 (policy violation). */
    DISCONNECT,
    /** Drop its oldest queued messages to make room. */
    DROP_OLDEST
  }
}

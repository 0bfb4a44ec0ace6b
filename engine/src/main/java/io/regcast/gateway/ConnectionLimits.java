package io.regcast.gateway;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The listener's TCP connections, in all and per client address, counted from the accept to the
 * close — before a request is read, so that connections that never send one count too.
 */
final class ConnectionLimits {
  enum Verdict {
    ALLOWED,
    /** The node holds {@code max-connections}: 503. */
    NODE_FULL,
    /** The address holds {@code max-connections-per-ip}: 429. */
    ADDRESS_FULL
  }

  private final GatewaySettings.Limits limits;
  private final AtomicInteger open = new AtomicInteger();
  private final ConcurrentHashMap<InetAddress, AtomicInteger> perAddress = new ConcurrentHashMap<>();

  ConnectionLimits(GatewaySettings.Limits limits) {
    this.limits = limits;
  }

  /** A connection from {@code address} was accepted: counted if it may stay (then {@link #closed} must follow). */
  Verdict accepted(InetAddress address) {
    if (open.incrementAndGet() > limits.maxConnections()) {
      open.decrementAndGet();
      return Verdict.NODE_FULL;
    }
    int fromAddress = perAddress.computeIfAbsent(address, a -> new AtomicInteger()).incrementAndGet();
    if (fromAddress > limits.maxConnectionsPerIp()) {
      closed(address);
      return Verdict.ADDRESS_FULL;
    }
    return Verdict.ALLOWED;
  }

  /** A counted connection from {@code address} closed. */
  void closed(InetAddress address) {
    open.decrementAndGet();
    perAddress.computeIfPresent(address, (a, count) -> count.decrementAndGet() == 0 ? null : count);
  }
}

package io.regcast.gateway;

import io.regcast.model.Gateway;
import io.regcast.model.HistorySettings;
import java.util.List;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The gateways this node knows and their WebSocket paths, as one immutable snapshot swapped whole:
 * the handshake reads it on Netty's threads without locking.
 */
public final class GatewayDirectory {
  private static final String PREFIX = "/gateways/";
  private volatile Map<String, Set<String>> paths = Map.of();
  private volatile Set<String> keyRequired = Set.of();
  private volatile Map<String, Gateway> gateways = Map.of();
  private final String domainSuffix;
  private final HistorySettings defaultHistory;

  /** {@code defaultHistory}: the retention of gateways that do not set their own. */
  public GatewayDirectory(String domain, HistorySettings defaultHistory) {
    this.domainSuffix = domain == null || domain.isEmpty() ? null : "." + domain.toLowerCase();
    this.defaultHistory = defaultHistory;
  }

  /** Takes this list as the gateways there are; returns the ids of those it knew and no longer does. */
  public Set<String> replaceAll(Collection<Gateway> gateways) {
    Set<String> gone = new java.util.HashSet<>(this.gateways.keySet());
    gateways.forEach(g -> gone.remove(g.id()));
    paths = gateways.stream()
        .collect(Collectors.toUnmodifiableMap(Gateway::id, g -> Set.copyOf(g.websocketPaths())));
    keyRequired = gateways.stream().filter(Gateway::requireApiKey).map(Gateway::id).collect(Collectors.toUnmodifiableSet());
    this.gateways = gateways.stream().collect(Collectors.toUnmodifiableMap(Gateway::id, g -> g));
    return gone;
  }

  /** The retention that applies to a gateway's paths (the defaults for one this node does not know). */
  public HistorySettings history(String gatewayId) {
    Gateway g = gateways.get(gatewayId);
    return HistorySettings.orDefault(g == null ? null : g.history(), defaultHistory);
  }

  /** The origins whose pages may read a gateway's paths ({@code "*"}: any). */
  public List<String> allowedOrigins(String gatewayId) {
    Gateway g = gateways.get(gatewayId);
    return g == null ? Gateway.ANY_ORIGIN : g.allowedOrigins();
  }

  /** Whether connecting to the gateway needs an API key. */
  boolean requiresKey(String gatewayId) {
    return keyRequired.contains(gatewayId);
  }

  public Set<PathKey> keys() {
    return paths.entrySet().stream()
        .flatMap(e -> e.getValue().stream().map(p -> new PathKey(e.getKey(), p)))
        .collect(Collectors.toUnmodifiableSet());
  }

  public boolean contains(PathKey key) {
    Set<String> known = paths.get(key.gatewayId());
    return known != null && known.contains(key.path());
  }

  /**
   * The gateway path a request is for: {@code /gateways/{gatewayId}{path}}, or {@code {path}} on
   * host {@code {gatewayId}.{domain}}; empty when it names no known gateway path.
   */
  Optional<PathKey> resolve(String host, String requestPath) {
    if (requestPath.startsWith(PREFIX)) {
      int slash = requestPath.indexOf('/', PREFIX.length());
      if (slash > PREFIX.length()) {
        PathKey key = new PathKey(requestPath.substring(PREFIX.length(), slash), requestPath.substring(slash));
        if (contains(key)) {
          return Optional.of(key);
        }
      }
    }
    if (domainSuffix != null && host != null) {
      String name = host.toLowerCase();
      int colon = name.lastIndexOf(':');
      if (colon > 0 && name.indexOf(']') < colon) {
        name = name.substring(0, colon);
      }
      if (name.endsWith(domainSuffix)) {
        PathKey key = new PathKey(name.substring(0, name.length() - domainSuffix.length()), requestPath);
        if (contains(key)) {
          return Optional.of(key);
        }
      }
    }
    return Optional.empty();
  }
}

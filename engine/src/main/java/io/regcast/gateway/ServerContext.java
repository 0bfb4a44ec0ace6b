package io.regcast.gateway;

import io.regcast.metrics.Metrics;

/** What every connection of one {@link GatewayServer} shares. */
record ServerContext(
    GatewaySettings settings,
    GatewayDirectory directory,
    LocalConnections connections,
    StreamHistory history,
    Metrics metrics,
    String nodeToken,
    ConnectAuthorizer authorizer,
    ConnectionLimits limits) {}

/**
 * The WebSocket gateway. Its data plane is Netty's RFC 6455 server (handshake on declared paths,
 * the contract's limits and close codes, fan-out of one pre-encoded frame per message to every
 * local connection of a path); its control plane is the {@link io.regcast.gateway.ConnectionManager}
 * actor (the node's connection registry, send, disconnect), reachable from any node.
 */
package io.regcast.gateway;

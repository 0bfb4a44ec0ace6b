/**
 * The gateway's data plane and connection registry. Netty serves each declared gateway path as a
 * WebSocket (RFC 6455: the contract's limits and close codes; plain, or {@code regcast.v1} with
 * each message's position as its id) and as a Server-Sent Events stream (same URL, {@code Accept:
 * text/event-stream}, CORS by the gateway's allowed origins). A message is encoded once per node
 * for each {@link io.regcast.gateway.Encoding} and fanned out to every local connection of its
 * path; each path keeps an in-memory {@link io.regcast.gateway.PathTail} so that a connection
 * resuming after an id gets what it missed (from the tail, else from the path's {@link
 * io.regcast.gateway.StreamHistory}) and then live messages, without duplicate or hole. The
 * control plane is the {@link io.regcast.gateway.ConnectionManager} actor (the node's connection
 * registry, send, disconnect), reachable from any node.
 */
package io.regcast.gateway;

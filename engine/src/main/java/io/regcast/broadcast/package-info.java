/**
 * Broadcast across the cluster: one pub-sub topic for every gateway path, subscribed by every
 * node when it starts, and on every node a {@link io.regcast.broadcast.PathHub} that hands each
 * message to the local WebSocket connections of its path (encoded once per node).
 */
package io.regcast.broadcast;

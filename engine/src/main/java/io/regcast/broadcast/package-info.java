/**
 * Broadcast across the cluster: one pub-sub topic per gateway path, and on every node a {@link
 * io.regcast.broadcast.PathHub} that subscribes to every known path eagerly and hands each message
 * to the local WebSocket connections of its path (encoded once per node).
 */
package io.regcast.broadcast;

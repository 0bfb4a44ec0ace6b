package io.regcast.model;

import java.time.Instant;
import java.util.List;

/**
 * An API gateway: clients open WebSocket connections on its {@code websocketPaths}; public unless
 * {@code requireApiKey}, when a client must present a key whose owner may view the gateway. {@code
 * history} (null = the node's defaults) is how much of each path's stream is kept for resuming
 * clients; {@code allowedOrigins} (browsers' Server-Sent Events) lists the origins that may read
 * the paths, {@code "*"} for any.
 */
public record Gateway(
    String id,
    String folderId,
    String name,
    String description,
    List<String> websocketPaths,
    Instant createdAt,
    boolean requireApiKey,
    HistorySettings history,
    List<String> allowedOrigins)
    implements Resource {

  public static final List<String> ANY_ORIGIN = List.of("*");

  public Gateway {
    websocketPaths = List.copyOf(websocketPaths);
    allowedOrigins = allowedOrigins == null || allowedOrigins.isEmpty() ? ANY_ORIGIN : List.copyOf(allowedOrigins);
  }

  /** Default history and any origin. */
  public Gateway(
      String id, String folderId, String name, String description, List<String> websocketPaths, Instant createdAt,
      boolean requireApiKey) {
    this(id, folderId, name, description, websocketPaths, createdAt, requireApiKey, null, ANY_ORIGIN);
  }

  /** A public gateway. */
  public Gateway(
      String id, String folderId, String name, String description, List<String> websocketPaths, Instant createdAt) {
    this(id, folderId, name, description, websocketPaths, createdAt, false, null, ANY_ORIGIN);
  }

  @Override
  public String parentId() {
    return folderId;
  }

  @Override
  public ResourceKind kind() {
    return ResourceKind.GATEWAY;
  }
}

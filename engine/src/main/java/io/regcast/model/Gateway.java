package io.regcast.model;

import java.time.Instant;
import java.util.List;

/**
 * An API gateway: clients open WebSocket connections on its {@code websocketPaths}; public unless
 * {@code requireApiKey}, when a client must present a key whose owner may view the gateway.
 */
public record Gateway(
    String id,
    String folderId,
    String name,
    String description,
    List<String> websocketPaths,
    Instant createdAt,
    boolean requireApiKey)
    implements Resource {

  public Gateway {
    websocketPaths = List.copyOf(websocketPaths);
  }

  /** A public gateway. */
  public Gateway(
      String id, String folderId, String name, String description, List<String> websocketPaths, Instant createdAt) {
    this(id, folderId, name, description, websocketPaths, createdAt, false);
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

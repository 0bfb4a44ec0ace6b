package io.regcast.model;

import java.time.Instant;
import java.util.List;

/** An API gateway: clients open WebSocket connections on its {@code websocketPaths}. */
public record Gateway(
    String id,
    String folderId,
    String name,
    String description,
    List<String> websocketPaths,
    Instant createdAt)
    implements Resource {

  public Gateway {
    websocketPaths = List.copyOf(websocketPaths);
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

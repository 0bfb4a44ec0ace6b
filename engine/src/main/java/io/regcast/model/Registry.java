package io.regcast.model;

import java.time.Instant;

/** A container registry; {@code endpoint} (may be null) is where {@code :reconcile} reads it. */
public record Registry(
    String id, String folderId, String name, String description, Instant createdAt, RegistryEndpoint endpoint)
    implements Resource {

  /** A registry known only through its webhooks. */
  public Registry(String id, String folderId, String name, String description, Instant createdAt) {
    this(id, folderId, name, description, createdAt, null);
  }

  public Registry withEndpoint(RegistryEndpoint endpoint) {
    return new Registry(id, folderId, name, description, createdAt, endpoint);
  }

  @Override
  public String parentId() {
    return folderId;
  }

  @Override
  public ResourceKind kind() {
    return ResourceKind.REGISTRY;
  }
}

package io.regcast.model;

import java.time.Instant;

public record ServiceAccount(
    String id, String folderId, String name, String description, Instant createdAt)
    implements Resource {

  @Override
  public String parentId() {
    return folderId;
  }

  @Override
  public ResourceKind kind() {
    return ResourceKind.SERVICE_ACCOUNT;
  }
}

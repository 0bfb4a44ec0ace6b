package io.regcast.model;

import java.time.Instant;

public record Cloud(String id, String name, String description, Instant createdAt)
    implements Resource {

  @Override
  public String parentId() {
    return null;
  }

  @Override
  public ResourceKind kind() {
    return ResourceKind.CLOUD;
  }
}

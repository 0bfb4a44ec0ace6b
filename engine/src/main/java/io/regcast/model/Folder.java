package io.regcast.model;

import java.time.Instant;

public record Folder(String id, String cloudId, String name, String description, Instant createdAt)
    implements Resource {

  @Override
  public String parentId() {
    return cloudId;
  }

  @Override
  public ResourceKind kind() {
    return ResourceKind.FOLDER;
  }
}

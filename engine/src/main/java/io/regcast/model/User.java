package io.regcast.model;

import java.time.Instant;

/** A person's account; administrators create them, and their API keys. */
public record User(String id, String name, String description, Instant createdAt) implements Resource {

  @Override
  public String parentId() {
    return null;
  }

  @Override
  public ResourceKind kind() {
    return ResourceKind.USER;
  }
}

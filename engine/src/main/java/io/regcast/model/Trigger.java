package io.regcast.model;

import java.time.Instant;

/**
 * A stored trigger. {@code revision} grows with every change so that the trigger's entity can
 * tell a newer definition from a resent older one.
 */
public record Trigger(
    String id,
    String folderId,
    Instant createdAt,
    TriggerDefinition definition,
    TriggerStatus status,
    long revision)
    implements Resource {

  @Override
  public String parentId() {
    return folderId;
  }

  @Override
  public String name() {
    return definition.name();
  }

  @Override
  public String description() {
    return definition.description();
  }

  @Override
  public ResourceKind kind() {
    return ResourceKind.TRIGGER;
  }

  public Trigger withDefinition(TriggerDefinition newDefinition) {
    return new Trigger(id, folderId, createdAt, newDefinition, status, revision + 1);
  }

  public Trigger withStatus(TriggerStatus newStatus) {
    return new Trigger(id, folderId, createdAt, definition, newStatus, revision + 1);
  }
}

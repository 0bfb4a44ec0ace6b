package io.regcast.model;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Optional;

/**
 * The roles, with the reference product's ids. A role bound on a cloud applies to its folders and
 * everything in them; on a folder, to its resources. {@link #grants} says which roles a role includes.
 */
public enum Role {
  ADMIN("admin"),
  EDITOR("editor"),
  VIEWER("viewer"),
  SERVICE_ACCOUNT_USER("iam.serviceAccounts.user"),
  IMAGES_PULLER("container-registry.images.puller"),
  IMAGES_PUSHER("container-registry.images.pusher"),
  WEBSOCKET_WRITER("api-gateway.websocketWriter"),
  WEBSOCKET_BROADCASTER("api-gateway.websocketBroadcaster");

  private final String id;

  Role(String id) {
    this.id = id;
  }

  @JsonValue
  public String id() {
    return id;
  }

  public static Optional<Role> fromId(String id) {
    return Arrays.stream(values()).filter(r -> r.id.equals(id)).findFirst();
  }

  /**
   * Whether holding this role gives {@code wanted}: admin includes every role, editor every role
   * but admin (viewer and the service roles included), pusher includes puller, broadcaster
   * includes writer.
   */
  public boolean grants(Role wanted) {
    if (this == wanted) {
      return true;
    }
    return switch (this) {
      case ADMIN -> true;
      case EDITOR -> wanted != ADMIN;
      case IMAGES_PUSHER -> wanted == IMAGES_PULLER;
      case WEBSOCKET_BROADCASTER -> wanted == WEBSOCKET_WRITER;
      default -> false;
    };
  }
}

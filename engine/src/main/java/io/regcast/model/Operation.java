package io.regcast.model;

import java.time.Instant;
import java.util.Map;

/**
 * The record of one write, in the reference product's shape. Writes complete synchronously, so
 * every operation is {@code done}; {@code response} is the resource after the write, or null when
 * the write deleted it.
 */
public record Operation(
    String id,
    String description,
    Instant createdAt,
    String createdBy,
    Instant modifiedAt,
    boolean done,
    Map<String, String> metadata,
    Resource response)
    implements JsonSerializable {

  public static final String ID_PREFIX = "op1";

  public Operation {
    metadata = Map.copyOf(metadata);
  }

  public static Operation completed(
      String description, String createdBy, Instant at, ResourceKind kind, String resourceId,
      Resource response) {
    return new Operation(
        Ids.next(ID_PREFIX),
        description,
        at,
        createdBy,
        at,
        true,
        Map.of(metadataKey(kind), resourceId),
        response);
  }

  /** {@code triggerId}, {@code folderId}, … as the reference names the metadata field. */
  public static String metadataKey(ResourceKind kind) {
    return switch (kind) {
      case CLOUD -> "cloudId";
      case FOLDER -> "folderId";
      case REGISTRY -> "registryId";
      case GATEWAY -> "apiGatewayId";
      case SERVICE_ACCOUNT -> "serviceAccountId";
      case TRIGGER -> "triggerId";
      case USER -> "userId";
    };
  }
}

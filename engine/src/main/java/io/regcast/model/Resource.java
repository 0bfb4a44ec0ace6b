package io.regcast.model;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Instant;

/** A stored resource: what the catalog keeps and what the API shows. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = Cloud.class, name = "cloud"),
  @JsonSubTypes.Type(value = Folder.class, name = "folder"),
  @JsonSubTypes.Type(value = Registry.class, name = "registry"),
  @JsonSubTypes.Type(value = Gateway.class, name = "gateway"),
  @JsonSubTypes.Type(value = ServiceAccount.class, name = "serviceAccount"),
  @JsonSubTypes.Type(value = Trigger.class, name = "trigger"),
  @JsonSubTypes.Type(value = User.class, name = "user")
})
public sealed interface Resource extends JsonSerializable
    permits Cloud, Folder, Registry, Gateway, ServiceAccount, Trigger, User {

  String id();

  /** The id of the cloud (for folders) or folder (for the rest) holding it; null for clouds and users. */
  String parentId();

  String name();

  String description();

  Instant createdAt();

  ResourceKind kind();
}

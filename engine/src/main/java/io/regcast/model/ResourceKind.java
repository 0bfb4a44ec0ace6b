package io.regcast.model;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The kinds of resources regcast manages, with the id prefix and parent of each. */
public enum ResourceKind {
  @JsonProperty("cloud")
  CLOUD("b1c", "cloud", null),
  @JsonProperty("folder")
  FOLDER("b1g", "folder", CLOUD),
  @JsonProperty("registry")
  REGISTRY("crt", "registry", FOLDER),
  @JsonProperty("gateway")
  GATEWAY("d4e", "gateway", FOLDER),
  @JsonProperty("serviceAccount")
  SERVICE_ACCOUNT("aje", "service account", FOLDER),
  @JsonProperty("trigger")
  TRIGGER("a1s", "trigger", FOLDER),
  @JsonProperty("user")
  USER("usr", "user", null);

  private final String idPrefix;
  private final String displayName;
  private final ResourceKind parent;

  ResourceKind(String idPrefix, String displayName, ResourceKind parent) {
    this.idPrefix = idPrefix;
    this.displayName = displayName;
    this.parent = parent;
  }

  public String idPrefix() {
    return idPrefix;
  }

  public String displayName() {
    return displayName;
  }

  /** The kind this one lives in, or null for clouds. */
  public ResourceKind parent() {
    return parent;
  }

  /** The JSON field that names the parent: {@code cloudId} or {@code folderId}. */
  public String parentField() {
    return parent == null ? null : parent == CLOUD ? "cloudId" : "folderId";
  }

  public String newId() {
    return Ids.next(idPrefix);
  }
}

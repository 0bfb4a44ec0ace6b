package io.regcast.model;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * What a create request asks for, validated on construction. The catalog checks what needs the
 * other resources (parents exist, names are free, references resolve).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = ResourceSpec.CloudSpec.class, name = "cloud"),
  @JsonSubTypes.Type(value = ResourceSpec.FolderSpec.class, name = "folder"),
  @JsonSubTypes.Type(value = ResourceSpec.RegistrySpec.class, name = "registry"),
  @JsonSubTypes.Type(value = ResourceSpec.GatewaySpec.class, name = "gateway"),
  @JsonSubTypes.Type(value = ResourceSpec.ServiceAccountSpec.class, name = "serviceAccount"),
  @JsonSubTypes.Type(value = ResourceSpec.TriggerSpec.class, name = "trigger"),
  @JsonSubTypes.Type(value = ResourceSpec.UserSpec.class, name = "user")
})
public sealed interface ResourceSpec extends JsonSerializable {

  ResourceKind kind();

  String parentId();

  String name();

  Resource toResource(String id, Instant createdAt);

  /** Shared rules of every simple resource: a valid name, a short description, a parent id. */
  private static Violations checkBasics(
      ResourceKind kind, String parentId, String name, String description) {
    Violations v = new Violations();
    if (kind.parent() != null) {
      Ids.checkReference(v, kind.parentField(), parentId);
    }
    Names.checkName(v, name);
    Names.checkDescription(v, description);
    return v;
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  record CloudSpec(String name, String description) implements ResourceSpec {
    public CloudSpec {
      description = orEmpty(description);
      checkBasics(ResourceKind.CLOUD, null, name, description).throwIfAny();
    }

    public ResourceKind kind() {
      return ResourceKind.CLOUD;
    }

    public String parentId() {
      return null;
    }

    public Resource toResource(String id, Instant createdAt) {
      return new Cloud(id, name, description, createdAt);
    }
  }

  record FolderSpec(String cloudId, String name, String description) implements ResourceSpec {
    public FolderSpec {
      description = orEmpty(description);
      checkBasics(ResourceKind.FOLDER, cloudId, name, description).throwIfAny();
    }

    public ResourceKind kind() {
      return ResourceKind.FOLDER;
    }

    public String parentId() {
      return cloudId;
    }

    public Resource toResource(String id, Instant createdAt) {
      return new Folder(id, cloudId, name, description, createdAt);
    }
  }

  record RegistrySpec(String folderId, String name, String description, RegistryEndpoint endpoint)
      implements ResourceSpec {
    public RegistrySpec {
      description = orEmpty(description);
      checkBasics(ResourceKind.REGISTRY, folderId, name, description).throwIfAny();
    }

    /** A registry without an endpoint (webhooks only). */
    public RegistrySpec(String folderId, String name, String description) {
      this(folderId, name, description, null);
    }

    public ResourceKind kind() {
      return ResourceKind.REGISTRY;
    }

    public String parentId() {
      return folderId;
    }

    public Resource toResource(String id, Instant createdAt) {
      return new Registry(id, folderId, name, description, createdAt, endpoint);
    }
  }

  record ServiceAccountSpec(String folderId, String name, String description)
      implements ResourceSpec {
    public ServiceAccountSpec {
      description = orEmpty(description);
      checkBasics(ResourceKind.SERVICE_ACCOUNT, folderId, name, description).throwIfAny();
    }

    public ResourceKind kind() {
      return ResourceKind.SERVICE_ACCOUNT;
    }

    public String parentId() {
      return folderId;
    }

    public Resource toResource(String id, Instant createdAt) {
      return new ServiceAccount(id, folderId, name, description, createdAt);
    }
  }

  /**
   * A gateway. {@code history} null: the node's defaults apply, as they are when it runs (a
   * request's partial settings are completed before they get here). {@code allowedOrigins} null:
   * any origin.
   */
  record GatewaySpec(
      String folderId,
      String name,
      String description,
      List<String> websocketPaths,
      boolean requireApiKey,
      HistorySettings history,
      List<String> allowedOrigins)
      implements ResourceSpec {

    /** Default history, any origin. */
    public GatewaySpec(
        String folderId, String name, String description, List<String> websocketPaths, boolean requireApiKey) {
      this(folderId, name, description, websocketPaths, requireApiKey, null, null);
    }

    /** A public gateway. */
    public GatewaySpec(String folderId, String name, String description, List<String> websocketPaths) {
      this(folderId, name, description, websocketPaths, false);
    }

    public static final int MAX_PATHS = 100;

    public GatewaySpec {
      description = orEmpty(description);
      websocketPaths = websocketPaths == null ? List.of() : List.copyOf(websocketPaths);
      allowedOrigins = allowedOrigins == null ? Gateway.ANY_ORIGIN : GatewayOrigins.normalize(allowedOrigins);
      Violations v = checkBasics(ResourceKind.GATEWAY, folderId, name, description);
      if (v.check(!websocketPaths.isEmpty(), "websocketPaths", "must list at least one path")
          && v.check(
              websocketPaths.size() <= MAX_PATHS, "websocketPaths", "must list at most 100 paths")) {
        for (int i = 0; i < websocketPaths.size(); i++) {
          GatewayPaths.check(v, "websocketPaths[" + i + "]", websocketPaths.get(i));
        }
        v.check(
            new LinkedHashSet<>(websocketPaths).size() == websocketPaths.size(),
            "websocketPaths",
            "must not list a path twice");
      }
      if (history != null) {
        HistorySettings.check(v.under("historySettings"), (long) history.maxMessages(), history.maxAge());
      }
      GatewayOrigins.check(v, "allowedOrigins", allowedOrigins);
      v.throwIfAny();
    }

    public ResourceKind kind() {
      return ResourceKind.GATEWAY;
    }

    public String parentId() {
      return folderId;
    }

    public Resource toResource(String id, Instant createdAt) {
      return new Gateway(
          id, folderId, name, description, websocketPaths, createdAt, requireApiKey, history, allowedOrigins);
    }
  }

  record UserSpec(String name, String description) implements ResourceSpec {
    public UserSpec {
      description = orEmpty(description);
      checkBasics(ResourceKind.USER, null, name, description).throwIfAny();
    }

    public ResourceKind kind() {
      return ResourceKind.USER;
    }

    public String parentId() {
      return null;
    }

    public Resource toResource(String id, Instant createdAt) {
      return new User(id, name, description, createdAt);
    }
  }

  /** A new trigger; it starts {@link TriggerStatus#ACTIVE}. */
  record TriggerSpec(String folderId, TriggerDefinition definition) implements ResourceSpec {
    public TriggerSpec {
      Violations v = new Violations();
      Ids.checkReference(v, "folderId", folderId);
      v.check(definition != null, "", "a trigger needs a definition");
      v.throwIfAny();
    }

    public ResourceKind kind() {
      return ResourceKind.TRIGGER;
    }

    public String parentId() {
      return folderId;
    }

    public String name() {
      return definition.name();
    }

    public Resource toResource(String id, Instant createdAt) {
      return new Trigger(id, folderId, createdAt, definition, TriggerStatus.ACTIVE, 1);
    }
  }
}

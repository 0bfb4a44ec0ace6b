package io.regcast.model;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Who a binding or a key is for: a user or a service account. */
public record Subject(String id, Type type) implements JsonSerializable {

  public enum Type {
    @JsonProperty("userAccount")
    USER_ACCOUNT("userAccount", ResourceKind.USER),
    @JsonProperty("serviceAccount")
    SERVICE_ACCOUNT("serviceAccount", ResourceKind.SERVICE_ACCOUNT);

    private final String id;
    private final ResourceKind kind;

    Type(String id, ResourceKind kind) {
      this.id = id;
      this.kind = kind;
    }

    public String id() {
      return id;
    }

    /** The kind of resource the subject is. */
    public ResourceKind kind() {
      return kind;
    }

    public static java.util.Optional<Type> fromId(String id) {
      return java.util.Arrays.stream(values()).filter(t -> t.id.equals(id)).findFirst();
    }
  }
}

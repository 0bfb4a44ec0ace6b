package io.regcast.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.model.Cloud;
import io.regcast.model.Folder;
import io.regcast.model.Gateway;
import io.regcast.model.HistorySettings;
import io.regcast.model.Operation;
import io.regcast.model.Registry;
import io.regcast.model.RegistryEndpoint;
import io.regcast.model.Resource;
import io.regcast.model.ResourceKind;
import io.regcast.model.ResourceSpec;
import io.regcast.model.ServiceAccount;
import io.regcast.model.Trigger;
import io.regcast.model.User;
import io.regcast.model.Violations;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The JSON shape of every resource and operation, in one place: how create requests are read and
 * how resources are written (camelCase, the reference product's field names). Triggers have their
 * own class, {@link TriggerJson}.
 */
final class ResourceJson {
  static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  /** What a gateway's update may name in its mask. */
  static final Set<String> GATEWAY_MASK_PATHS = Set.of(
      "name", "description", "websocketPaths", "requireApiKey", "historySettings",
      "historySettings.maxMessages", "historySettings.maxAge", "allowedOrigins");
  private static final Set<String> GATEWAY_FIELDS = Set.of(
      "folderId", "name", "description", "websocketPaths", "requireApiKey", "historySettings", "allowedOrigins");

  /**
   * The node's history settings (regcast.history): what a gateway without its own shows, and
   * what completes a request's partial settings. Set once by {@link AdminApi}, like the mapper.
   */
  private static volatile HistorySettings historyDefaults;

  private ResourceJson() {}

  static void useHistoryDefaults(HistorySettings defaults) {
    historyDefaults = defaults;
  }

  /** Reads a create request for {@code kind}; every problem in it is reported at once. */
  static ResourceSpec readSpec(ResourceKind kind, JsonNode body) {
    if (kind == ResourceKind.TRIGGER) {
      return TriggerJson.readSpec(body);
    }
    Violations v = new Violations();
    JsonFields f = JsonFields.root(body, v);
    String parentField = kind.parentField();
    f.allowOnly(
        switch (kind) {
          case CLOUD, USER -> Set.of("name", "description");
          case GATEWAY -> GATEWAY_FIELDS;
          case REGISTRY -> Set.of(parentField, "name", "description", "url", "credentials");
          default -> Set.of(parentField, "name", "description");
        });
    String parentId = parentField == null ? null : f.string(parentField);
    String name = f.string("name");
    String description = f.string("description");
    var paths = kind == ResourceKind.GATEWAY ? f.strings("websocketPaths") : null;
    Boolean requireKey = kind == ResourceKind.GATEWAY ? f.bool("requireApiKey") : null;
    HistorySettings history = kind == ResourceKind.GATEWAY ? readHistory(f, v) : null;
    List<String> origins = kind == ResourceKind.GATEWAY ? f.strings("allowedOrigins") : null;
    RegistryEndpoint endpoint = kind == ResourceKind.REGISTRY ? readEndpoint(f, v) : null;
    v.throwIfAny();
    return switch (kind) {
      case CLOUD -> new ResourceSpec.CloudSpec(name, description);
      case FOLDER -> new ResourceSpec.FolderSpec(parentId, name, description);
      case REGISTRY -> new ResourceSpec.RegistrySpec(parentId, name, description, endpoint);
      case SERVICE_ACCOUNT -> new ResourceSpec.ServiceAccountSpec(parentId, name, description);
      case GATEWAY -> new ResourceSpec.GatewaySpec(
          parentId, name, description, paths, Boolean.TRUE.equals(requireKey), history, origins);
      case USER -> new ResourceSpec.UserSpec(name, description);
      case TRIGGER -> throw new IllegalStateException("handled above");
    };
  }

  /** {@code historySettings}: null when absent (the node's defaults apply); a member left out takes its default. */
  private static HistorySettings readHistory(JsonFields f, Violations v) {
    JsonFields history = f.object("historySettings");
    if (history == null) {
      return null;
    }
    history.allowOnly(Set.of("maxMessages", "maxAge"));
    Long maxMessages = history.int64("maxMessages");
    Duration maxAge = history.duration("maxAge");
    return v.under("historySettings").attempt(() -> HistorySettings.of(maxMessages, maxAge, historyDefaults));
  }

  /**
   * A gateway's update: its current fields with the masked paths replaced by the request's,
   * read as a create request is (a gateway following the node's history defaults keeps following
   * them unless the mask names historySettings).
   */
  static ResourceSpec.GatewaySpec mergeGateway(Gateway current, JsonNode request, List<String> mask) {
    ObjectNode merged = NODES.objectNode();
    merged.put("folderId", current.folderId());
    writeGateway(merged, current, current.history());
    Updates.apply(merged, request, mask);
    return (ResourceSpec.GatewaySpec) readSpec(ResourceKind.GATEWAY, merged);
  }

  /** {@code url} and {@code credentials: {username, password}}; null when neither is given. */
  static RegistryEndpoint readEndpoint(JsonFields f, Violations v) {
    String url = f.string("url");
    JsonFields credentials = f.object("credentials");
    String username = null;
    String password = null;
    if (credentials != null) {
      credentials.allowOnly(Set.of("username", "password"));
      username = credentials.string("username");
      password = credentials.string("password");
    }
    if (url == null && credentials == null) {
      return null;
    }
    String u = username;
    String p = password;
    return v.attempt(() -> new RegistryEndpoint(url, u, p));
  }

  static ObjectNode write(Resource resource) {
    ObjectNode out = NODES.objectNode();
    out.put("id", resource.id());
    if (resource.kind().parent() != null) {
      out.put(resource.kind().parentField(), resource.parentId());
    }
    out.put("createdAt", resource.createdAt().toString());
    if (resource instanceof Trigger t) {
      TriggerJson.writeFields(t, out);
    } else if (resource instanceof Gateway g) {
      writeGateway(out, g, HistorySettings.orDefault(g.history(), historyDefaults));
    } else if (resource instanceof Registry r && r.endpoint() != null) {
      writeNamed(out, r.name(), r.description());
      out.put("url", r.endpoint().url());
      if (r.endpoint().hasCredentials()) {
        out.putObject("credentials").put("username", r.endpoint().username()); // never the password
      }
    } else {
      writeNamed(out, resource.name(), resource.description());
    }
    return out;
  }

  /** A gateway's own fields, with {@code history} (omitted when null) in place of its stored one. */
  private static void writeGateway(ObjectNode out, Gateway g, HistorySettings history) {
    writeNamed(out, g.name(), g.description());
    g.websocketPaths().forEach(out.putArray("websocketPaths")::add);
    out.put("requireApiKey", g.requireApiKey());
    if (history != null) {
      out.putObject("historySettings")
          .put("maxMessages", history.maxMessages())
          .put("maxAge", JsonFields.formatDuration(history.maxAge()));
    }
    g.allowedOrigins().forEach(out.putArray("allowedOrigins")::add);
  }

  private static void writeNamed(ObjectNode out, String name, String description) {
    out.put("name", name);
    out.put("description", description);
  }

  static ObjectNode write(Operation op) {
    ObjectNode out = NODES.objectNode();
    out.put("id", op.id());
    out.put("description", op.description());
    out.put("createdAt", op.createdAt().toString());
    out.put("createdBy", op.createdBy());
    out.put("modifiedAt", op.modifiedAt().toString());
    out.put("done", op.done());
    ObjectNode metadata = out.putObject("metadata");
    op.metadata().forEach(metadata::put);
    out.set("response", op.response() == null ? NODES.objectNode() : write(op.response()));
    return out;
  }

  /** The plural field that holds a list of {@code kind}, as the reference names it. */
  static String listField(ResourceKind kind) {
    return switch (kind) {
      case CLOUD -> "clouds";
      case FOLDER -> "folders";
      case REGISTRY -> "registries";
      case GATEWAY -> "apiGateways";
      case SERVICE_ACCOUNT -> "serviceAccounts";
      case TRIGGER -> "triggers";
      case USER -> "users";
    };
  }
}

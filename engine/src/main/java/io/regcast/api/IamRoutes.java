package io.regcast.api;

import static io.regcast.api.ApiSupport.respond;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameterMap;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.catalog.CatalogEntity;
import io.regcast.iam.ApiKeySecrets;
import io.regcast.model.AccessBinding;
import io.regcast.model.ApiKey;
import io.regcast.model.Problem;
import io.regcast.model.ResourceKind;
import io.regcast.model.Role;
import io.regcast.model.Subject;
import io.regcast.model.Violations;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * API keys ({@code /iam/v1/apiKeys}) and access bindings ({@code {resource}:listAccessBindings},
 * {@code :setAccessBindings}, {@code :updateAccessBindings} on every resource path), in the
 * reference's shapes. A key's secret is in the create answer only.
 */
final class IamRoutes {
  static final String KEYS = "iam/v1/apiKeys";

  private final CatalogClient catalog;
  private final ApiSupport support;
  private final Authorizer authorizer;

  private final java.util.function.Supplier<CompletionStage<?>> refreshAccess;

  /** @param refreshAccess brings this node's access data up to date (after a key change) */
  IamRoutes(
      CatalogClient catalog, ApiSupport support, Authorizer authorizer,
      java.util.function.Supplier<CompletionStage<?>> refreshAccess) {
    this.catalog = catalog;
    this.support = support;
    this.authorizer = authorizer;
    this.refreshAccess = refreshAccess;
  }

  /**
   * Managing a subject's keys: a user manages its own, an admin everyone's; a service account's
   * keys need editor on it.
   */
  private void requireKeyManager(Subject caller, Subject subject) {
    if (subject.type() == Subject.Type.SERVICE_ACCOUNT) {
      authorizer.require(caller, Role.EDITOR, ResourceKind.SERVICE_ACCOUNT, subject.id());
    } else if (!caller.equals(subject)) {
      authorizer.requireRoot(caller, Role.ADMIN);
    }
  }

  Route apiKeys() {
    return pathPrefix(
        ResourceRoutes.matcher(KEYS),
        () ->
            Authorizer.caller(
                caller ->
                    concat(
                        pathEnd(
                            () ->
                                concat(
                                    post(() -> support.jsonBody(body -> createKey(caller, body))),
                                    get(() -> parameterMap(q -> respond(() -> listKeys(caller, q)))))),
                        path(
                            PathMatchers.segment(),
                            id ->
                                concat(
                                    get(() -> respond(() -> key(caller, id).thenApply(key -> ApiJson.ok(write(key))))),
                                    delete(() -> respond(() -> key(caller, id)
                                        .thenCompose(key -> catalog.ask(
                                            r -> new CatalogEntity.DeleteApiKey(id, r), CatalogEntity.KeyFound.class))
                                        .thenCompose(found -> refreshAccess.get())
                                        .thenApply(done -> ApiJson.ok(ResourceJson.NODES.objectNode())))))))));
  }

  /** A key the caller may manage. */
  private CompletionStage<ApiKey> key(Subject caller, String id) {
    return catalog
        .ask(r -> new CatalogEntity.GetApiKey(id, r), CatalogEntity.KeyFound.class)
        .thenApply(found -> {
          requireKeyManager(caller, found.key().subject());
          return found.key();
        });
  }

  /** The three binding verbs on one resource kind's paths: viewer lists them, admin changes them. */
  Route accessBindings(ResourceKind kind, String basePath, ResourceRoutes resources) {
    return pathPrefix(
        ResourceRoutes.matcher(basePath),
        () ->
            Authorizer.caller(
                caller ->
                    concat(
                        path(verb("listAccessBindings"), id -> get(() -> respond(() -> {
                          authorizer.require(caller, Role.VIEWER, kind, id);
                          return catalog
                              .ask(r -> new CatalogEntity.ListAccessBindings(kind, id, r), CatalogEntity.BindingsListed.class)
                              .thenApply(listed -> ApiJson.ok(writeBindings(listed.bindings())));
                        }))),
                        path(verb("setAccessBindings"), id -> post(() -> support.jsonBody(body -> {
                          List<AccessBinding> bindings = readBindings(body, "accessBindings", false);
                          authorizer.require(caller, Role.ADMIN, kind, id);
                          return resources.written(catalog.ask(
                              r -> new CatalogEntity.SetAccessBindings(kind, id, bindings, caller.id(), r),
                              CatalogEntity.Completed.class));
                        }))),
                        path(verb("updateAccessBindings"), id -> post(() -> support.jsonBody(body -> {
                          List<CatalogEntity.BindingDelta> deltas = readDeltas(body);
                          authorizer.require(caller, Role.ADMIN, kind, id);
                          return resources.written(catalog.ask(
                              r -> new CatalogEntity.UpdateAccessBindings(kind, id, deltas, caller.id(), r),
                              CatalogEntity.Completed.class));
                        }))))));
  }

  private static org.apache.pekko.http.javadsl.server.PathMatcher1<String> verb(String verb) {
    return PathMatchers.segment(Pattern.compile("(.+):" + verb));
  }

  private CompletionStage<HttpResponse> createKey(Subject caller, JsonNode body) {
    Violations v = new Violations();
    JsonFields fields = JsonFields.root(body, v).allowOnly(Set.of("serviceAccountId", "userId", "description"));
    Subject subject = subjectOf(fields, v);
    String description = fields.string("description");
    v.check(description == null || description.length() <= 256, "description", "must be at most 256 characters");
    v.throwIfAny();
    requireKeyManager(caller, subject);
    String secret = ApiKeySecrets.generate();
    return catalog
        .ask(r -> new CatalogEntity.CreateApiKey(subject, description == null ? "" : description,
            ApiKeySecrets.hash(secret), r), CatalogEntity.KeyCreated.class)
        .thenCompose(created -> refreshAccess.get().thenApply(done -> {
          ObjectNode out = ResourceJson.NODES.objectNode();
          out.set("apiKey", write(created.key()));
          out.put("secret", secret);
          return ApiJson.ok(out);
        }));
  }

  private CompletionStage<HttpResponse> listKeys(Subject caller, Map<String, String> query) {
    Violations v = new Violations();
    String account = query.get("serviceAccountId");
    String user = query.get("userId");
    v.check((account == null) != (user == null), "serviceAccountId", "give exactly one of serviceAccountId and userId");
    v.throwIfAny();
    String subjectId = account != null ? account : user;
    requireKeyManager(caller, account != null
        ? new Subject(account, Subject.Type.SERVICE_ACCOUNT)
        : new Subject(user, Subject.Type.USER_ACCOUNT));
    return catalog
        .ask(r -> new CatalogEntity.ListApiKeys(subjectId, r), CatalogEntity.KeysListed.class)
        .thenApply(listed -> {
          ObjectNode out = ResourceJson.NODES.objectNode();
          var items = out.putArray("apiKeys");
          listed.keys().forEach(k -> items.add(write(k)));
          return ApiJson.ok(out);
        });
  }

  private static Subject subjectOf(JsonFields fields, Violations v) {
    String account = fields.string("serviceAccountId");
    String user = fields.string("userId");
    if (!v.check((account == null) != (user == null), "serviceAccountId", "give exactly one of serviceAccountId and userId")) {
      return null;
    }
    return account != null
        ? new Subject(account, Subject.Type.SERVICE_ACCOUNT)
        : new Subject(user, Subject.Type.USER_ACCOUNT);
  }

  static ObjectNode write(ApiKey key) {
    ObjectNode out = ResourceJson.NODES.objectNode();
    out.put("id", key.id());
    out.put(key.subject().type() == Subject.Type.SERVICE_ACCOUNT ? "serviceAccountId" : "userId", key.subject().id());
    out.put("createdAt", key.createdAt().toString());
    out.put("description", key.description());
    return out;
  }

  private static ObjectNode writeBindings(List<AccessBinding> bindings) {
    ObjectNode out = ResourceJson.NODES.objectNode();
    var items = out.putArray("accessBindings");
    bindings.forEach(b -> items.add(write(b)));
    return out;
  }

  private static ObjectNode write(AccessBinding b) {
    ObjectNode out = ResourceJson.NODES.objectNode();
    out.put("roleId", b.roleId().id());
    out.putObject("subject").put("id", b.subject().id()).put("type", b.subject().type().id());
    return out;
  }

  private static List<AccessBinding> readBindings(JsonNode body, String field, boolean single) {
    Violations v = new Violations();
    JsonFields.root(body, v).allowOnly(Set.of(field));
    JsonNode list = body.get(field);
    if (list == null || !list.isArray()) {
      throw Problem.invalid(field, "is required: a list of {roleId, subject{id, type}}").toException();
    }
    List<AccessBinding> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      AccessBinding b = readBinding(list.get(i), v.under(field + "[" + i + "]"));
      if (b != null) {
        out.add(b);
      }
    }
    v.throwIfAny();
    return out;
  }

  private static List<CatalogEntity.BindingDelta> readDeltas(JsonNode body) {
    Violations v = new Violations();
    JsonFields.root(body, v).allowOnly(Set.of("accessBindingDeltas"));
    JsonNode list = body.get("accessBindingDeltas");
    if (list == null || !list.isArray() || list.isEmpty()) {
      throw Problem.invalid("accessBindingDeltas", "is required: a non-empty list of {action, accessBinding}").toException();
    }
    List<CatalogEntity.BindingDelta> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      Violations at = v.under("accessBindingDeltas[" + i + "]");
      JsonNode delta = list.get(i);
      String action = delta.path("action").asText("");
      at.check(action.equals("ADD") || action.equals("REMOVE"), "action", "must be ADD or REMOVE");
      AccessBinding b = readBinding(delta.get("accessBinding"), at.under("accessBinding"));
      if (b != null && at.isEmpty()) {
        out.add(new CatalogEntity.BindingDelta(action.equals("ADD"), b));
      }
    }
    v.throwIfAny();
    return out;
  }

  private static AccessBinding readBinding(JsonNode node, Violations v) {
    if (node == null || !node.isObject()) {
      v.add("", "must be an object {roleId, subject{id, type}}");
      return null;
    }
    String roleId = node.path("roleId").asText("");
    var role = Role.fromId(roleId);
    v.check(role.isPresent(), "roleId", "must be one of " + String.join(", ",
        java.util.Arrays.stream(Role.values()).map(Role::id).toList()));
    JsonNode subject = node.get("subject");
    String id = subject == null ? "" : subject.path("id").asText("");
    var type = Subject.Type.fromId(subject == null ? "" : subject.path("type").asText(""));
    v.check(!id.isEmpty() && id.length() <= 50, "subject.id", "is required (at most 50 characters)");
    v.check(type.isPresent(), "subject.type", "must be userAccount or serviceAccount");
    return role.isPresent() && type.isPresent() && !id.isEmpty() ? new AccessBinding(role.get(), new Subject(id, type.get())) : null;
  }
}

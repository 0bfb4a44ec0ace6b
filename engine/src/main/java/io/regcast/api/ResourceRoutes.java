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
import io.regcast.model.Operation;
import io.regcast.model.ResourceKind;
import io.regcast.model.ResourceSpec;
import io.regcast.model.Role;
import io.regcast.model.Subject;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.PathMatcher0;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Create, get, list, delete and list operations of one resource kind under its base path, e.g.
 * {@code /resource-manager/v1/folders}. Writes answer with the Operation.
 */
final class ResourceRoutes {
  /** An id segment; {@code {id}:verb} segments are left to the verb routes. */
  static final org.apache.pekko.http.javadsl.server.PathMatcher1<String> ID =
      PathMatchers.segment(java.util.regex.Pattern.compile("[^:]+"));

  private final ResourceKind kind;
  private final PathMatcher0 base;
  private final CatalogClient catalog;
  private final ApiSupport support;
  private final Function<Operation, CompletionStage<Operation>> afterWrite;
  private final Authorizer authorizer;
  private final CreateCheck createCheck;

  /** Checks of a create beyond the right to create in the parent (triggers have more). */
  @FunctionalInterface
  interface CreateCheck {
    CreateCheck NONE = (caller, spec) -> {};

    void check(Subject caller, ResourceSpec spec);
  }

  /**
   * @param afterWrite runs after the catalog accepted a write and before the answer (triggers
   *     use it to wait until their entity has the new revision)
   */
  ResourceRoutes(
      ResourceKind kind,
      String basePath,
      CatalogClient catalog,
      ApiSupport support,
      Function<Operation, CompletionStage<Operation>> afterWrite,
      Authorizer authorizer,
      CreateCheck createCheck) {
    this.kind = kind;
    this.base = matcher(basePath);
    this.catalog = catalog;
    this.support = support;
    this.afterWrite = afterWrite;
    this.authorizer = authorizer;
    this.createCheck = createCheck;
  }

  static PathMatcher0 matcher(String path) {
    PathMatcher0 m = null;
    for (String segment : path.split("/")) {
      m = m == null ? PathMatchers.segment(segment) : m.slash(segment);
    }
    return m;
  }

  Route route() {
    return pathPrefix(
        base,
        () ->
            Authorizer.caller(
                caller ->
                    concat(
                        pathEnd(
                            () ->
                                concat(
                                    get(() -> parameterMap(query -> respond(() -> list(caller, query)))),
                                    post(() -> support.jsonBody(body -> create(caller, body))))),
                        pathPrefix(
                            ID,
                            id ->
                                concat(
                                    pathEnd(
                                        () ->
                                            concat(
                                                get(() -> respond(() -> fetch(caller, id))),
                                                delete(() -> respond(() -> remove(caller, id))))),
                                    path(
                                        "operations",
                                        () ->
                                            get(
                                                () ->
                                                    parameterMap(
                                                        query ->
                                                            respond(() -> listOperations(caller, id, query))))))))));
  }

  /** Create: editor in the parent (admin on everything for clouds and users), plus the kind's own checks. */
  private CompletionStage<HttpResponse> create(Subject caller, JsonNode body) {
    ResourceSpec spec = ResourceJson.readSpec(kind, body);
    if (kind.parent() == null) {
      authorizer.requireRoot(caller, Role.ADMIN);
    } else {
      authorizer.require(caller, Role.EDITOR, kind.parent(), spec.parentId());
    }
    createCheck.check(caller, spec);
    return written(catalog.ask(r -> new CatalogEntity.Create(spec, caller.id(), r), CatalogEntity.Completed.class));
  }

  private CompletionStage<HttpResponse> fetch(Subject caller, String id) {
    authorizer.require(caller, Role.VIEWER, kind, id);
    return catalog
        .ask(r -> new CatalogEntity.Get(kind, id, r), CatalogEntity.Found.class)
        .thenApply(found -> ApiJson.ok(ResourceJson.write(found.resource())));
  }

  private CompletionStage<HttpResponse> remove(Subject caller, String id) {
    if (kind == ResourceKind.USER) {
      authorizer.requireRoot(caller, Role.ADMIN);
    } else {
      authorizer.require(caller, Role.EDITOR, kind, id);
    }
    return written(catalog.ask(r -> new CatalogEntity.Delete(kind, id, caller.id(), r), CatalogEntity.Completed.class));
  }

  CompletionStage<HttpResponse> written(CompletionStage<CatalogEntity.Completed> write) {
    return write
        .thenCompose(completed -> afterWrite.apply(completed.operation()))
        .thenApply(op -> ApiJson.ok(ResourceJson.write(op)));
  }

  /** In a parent the caller may view; clouds and users: those the caller may view. */
  private CompletionStage<HttpResponse> list(Subject caller, Map<String, String> query) {
    String parentId = kind.parent() == null ? null : ApiSupport.requiredParam(query, kind.parentField());
    if (parentId != null) {
      authorizer.require(caller, Role.VIEWER, kind.parent(), parentId);
    }
    String name = ApiSupport.nameFilter(query);
    var page = support.page(query);
    return catalog
        .ask(r -> new CatalogEntity.ListResources(kind, parentId, name, page, r), CatalogEntity.Listed.class)
        .thenApply(
            listed -> {
              ObjectNode out = ResourceJson.NODES.objectNode();
              var items = out.putArray(ResourceJson.listField(kind));
              listed.items().stream()
                  .filter(r -> parentId != null || authorizer.allows(caller, Role.VIEWER, r.id()))
                  .forEach(r -> items.add(ResourceJson.write(r)));
              if (listed.nextAfterId() != null) {
                out.put("nextPageToken", ApiSupport.pageToken(listed.nextAfterId()));
              }
              return ApiJson.ok(out);
            });
  }

  private CompletionStage<HttpResponse> listOperations(Subject caller, String id, Map<String, String> query) {
    authorizer.require(caller, Role.VIEWER, kind, id);
    var page = support.page(query);
    return catalog
        .ask(r -> new CatalogEntity.ListOperations(kind, id, page, r), CatalogEntity.ListedOperations.class)
        .thenApply(
            listed -> {
              ObjectNode out = ResourceJson.NODES.objectNode();
              var items = out.putArray("operations");
              listed.operations().forEach(op -> items.add(ResourceJson.write(op)));
              if (listed.nextAfterId() != null) {
                out.put("nextPageToken", ApiSupport.pageToken(listed.nextAfterId()));
              }
              return ApiJson.ok(out);
            });
  }
}

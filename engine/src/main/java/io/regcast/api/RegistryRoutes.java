package io.regcast.api;

import static org.apache.pekko.http.javadsl.server.Directives.patch;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import com.fasterxml.jackson.databind.JsonNode;
import io.regcast.catalog.CatalogEntity;
import io.regcast.model.RegistryEndpoint;
import io.regcast.model.ResourceKind;
import io.regcast.model.Role;
import io.regcast.model.Subject;
import io.regcast.model.Violations;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code PATCH /container-registry/v1/registries/{id}} sets where {@code :reconcile} reads the
 * registry: {@code {"url": …, "credentials": {…}}} replaces the endpoint (credentials left out:
 * none), {@code {"url": null}} removes it. Editor on the registry.
 */
final class RegistryRoutes {
  private final CatalogClient catalog;
  private final ApiSupport support;
  private final Authorizer authorizer;

  RegistryRoutes(CatalogClient catalog, ApiSupport support, Authorizer authorizer) {
    this.catalog = catalog;
    this.support = support;
    this.authorizer = authorizer;
  }

  Route route() {
    return path(
        ResourceRoutes.matcher("container-registry/v1/registries").slash(ResourceRoutes.ID),
        id -> patch(() -> Authorizer.caller(caller -> support.jsonBody(body -> setEndpoint(caller, id, body)))));
  }

  private CompletionStage<HttpResponse> setEndpoint(Subject caller, String id, JsonNode body) {
    authorizer.require(caller, Role.EDITOR, ResourceKind.REGISTRY, id);
    Violations v = new Violations();
    JsonFields f = JsonFields.root(body, v).allowOnly(Set.of("url", "credentials"));
    v.check(body.has("url"), "url", "is required: the registry's HTTP API v2 address, or null to remove it");
    RegistryEndpoint endpoint = ResourceJson.readEndpoint(f, v);
    v.throwIfAny();
    return catalog
        .ask(r -> new CatalogEntity.SetRegistryEndpoint(id, endpoint, caller.id(), r), CatalogEntity.Completed.class)
        .thenApply(done -> ApiJson.ok(ResourceJson.write(done.operation())));
  }
}

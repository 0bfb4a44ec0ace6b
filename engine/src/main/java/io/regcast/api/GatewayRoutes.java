package io.regcast.api;

import static org.apache.pekko.http.javadsl.server.Directives.parameterMap;
import static org.apache.pekko.http.javadsl.server.Directives.patch;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.catalog.CatalogEntity;
import io.regcast.model.Gateway;
import io.regcast.model.ResourceKind;
import io.regcast.model.Role;
import io.regcast.model.Subject;
import io.regcast.model.Violations;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code PATCH /apigateways/v1/apigateways/{id}} updates a gateway with an update mask, as a
 * trigger is updated: the masked fields are replaced by the body's (a masked field left out of the
 * body takes its default) and the result is checked as a create request is. Editor on the
 * gateway; the folder cannot change.
 */
final class GatewayRoutes {
  private static final Set<String> UPDATE_FIELDS = Set.of(
      "gatewayId", "updateMask", "name", "description", "websocketPaths", "requireApiKey", "historySettings",
      "allowedOrigins");

  private final String base;
  private final CatalogClient catalog;
  private final ApiSupport support;
  private final Authorizer authorizer;
  private final ResourceRoutes common;

  /** {@code common}: the gateway's resource routes, whose writes wait for the hub and access data. */
  GatewayRoutes(String base, CatalogClient catalog, ApiSupport support, Authorizer authorizer, ResourceRoutes common) {
    this.base = base;
    this.catalog = catalog;
    this.support = support;
    this.authorizer = authorizer;
    this.common = common;
  }

  Route route() {
    return path(
        ResourceRoutes.matcher(base).slash(ResourceRoutes.ID),
        id -> patch(() -> Authorizer.caller(caller -> parameterMap(
            query -> support.jsonBody(body -> update(caller, id, body, query))))));
  }

  private CompletionStage<HttpResponse> update(Subject caller, String id, JsonNode body, Map<String, String> query) {
    authorizer.require(caller, Role.EDITOR, ResourceKind.GATEWAY, id);
    Violations v = new Violations();
    JsonFields fields = JsonFields.root(body, v).allowOnly(UPDATE_FIELDS);
    String bodyId = fields.string("gatewayId");
    v.check(bodyId == null || bodyId.equals(id), "gatewayId", "must match the gateway id in the path");
    List<String> mask = Updates.mask((ObjectNode) body, query, Set.of("gatewayId"), ResourceJson.GATEWAY_MASK_PATHS,
        "name, description, websocketPaths, requireApiKey, historySettings (or one of its fields), allowedOrigins", v);
    v.throwIfAny();
    return common.written(Updates.retried(() -> catalog
        .ask(r -> new CatalogEntity.Get(ResourceKind.GATEWAY, id, r), CatalogEntity.Found.class)
        .thenCompose(found -> {
          Gateway current = (Gateway) found.resource();
          var merged = ResourceJson.mergeGateway(current, body, mask);
          return catalog.ask(
              r -> new CatalogEntity.UpdateGateway(current, merged, caller.id(), r), CatalogEntity.Completed.class);
        })));
  }
}

package io.regcast.api;

import static io.regcast.api.ApiSupport.respond;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.parameterMap;
import static org.apache.pekko.http.javadsl.server.Directives.patch;
import static org.apache.pekko.http.javadsl.server.Directives.path;
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
import io.regcast.model.Trigger;
import io.regcast.model.TriggerDefinition;
import io.regcast.model.TriggerStatus;
import io.regcast.model.Violations;
import io.regcast.trigger.TriggerEntity;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /triggers/v1/triggers}: the common resource routes plus update ({@code PATCH} with an
 * update mask), {@code :pause} and {@code :resume}. Every write answers once the trigger's entity
 * holds the new revision (or, if it does not answer in time, once the catalog has it: the catalog
 * keeps re-sending).
 */
final class TriggerRoutes {
  static final String BASE = "triggers/v1/triggers";
  private static final String CR_PATH = "rule.containerRegistry.";
  private static final String TARGET_PATH = CR_PATH + "gatewayWebsocketBroadcast.";
  private static final Logger log = LoggerFactory.getLogger(TriggerRoutes.class);
  private static final Set<String> UPDATE_FIELDS =
      Set.of("triggerId", "updateMask", "name", "description", "labels", TriggerJson.RULE);

  private final CatalogClient catalog;
  private final ApiSupport support;
  private final ClusterSharding sharding;
  private final Duration timeout;
  private final ResourceRoutes common;
  private final Authorizer authorizer;

  TriggerRoutes(
      ActorSystem<?> system,
      CatalogClient catalog,
      ApiSupport support,
      Duration timeout,
      java.util.function.Function<Operation, CompletionStage<Operation>> afterWrite,
      Authorizer authorizer) {
    this.catalog = catalog;
    this.support = support;
    this.sharding = ClusterSharding.get(system);
    this.timeout = timeout;
    this.authorizer = authorizer;
    this.common =
        new ResourceRoutes(
            ResourceKind.TRIGGER, BASE, catalog, support, op -> handToEntity(op).thenCompose(afterWrite), authorizer,
            (caller, spec) -> checkDefinition(caller, ((ResourceSpec.TriggerSpec) spec).definition(), true));
  }

  /**
   * The reference's access rule: to create or update a trigger the caller must hold
   * iam.serviceAccounts.user on its service account and container-registry.images.puller on its
   * registry; to be active, the service account must hold api-gateway.websocketBroadcaster on the
   * gateway, its folder or its cloud.
   */
  private void checkDefinition(Subject caller, TriggerDefinition definition, boolean active) {
    var rule = definition.rule();
    authorizer.require(caller, Role.IMAGES_PULLER, ResourceKind.REGISTRY, rule.registryId(), CR_PATH + "registryId");
    authorizer.require(caller, Role.SERVICE_ACCOUNT_USER, ResourceKind.SERVICE_ACCOUNT,
        rule.target().serviceAccountId(), TARGET_PATH + "serviceAccountId");
    if (active) {
      checkActivation(definition);
    }
  }

  private void checkActivation(TriggerDefinition definition) {
    var target = definition.rule().target();
    authorizer.requireAccount(target.serviceAccountId(), TARGET_PATH + "serviceAccountId",
        Role.WEBSOCKET_BROADCASTER, ResourceKind.GATEWAY, target.gatewayId(), TARGET_PATH + "gatewayId");
  }

  Route route() {
    return concat(
        common.route(),
        pathPrefix(
            ResourceRoutes.matcher(BASE),
            () ->
                Authorizer.caller(
                    caller ->
                        concat(
                            // the body (empty or {}) is read so that the connection stays usable
                            path(verb("pause"), id -> post(() -> support.jsonBody(body -> setStatus(caller, id, TriggerStatus.PAUSED)))),
                            path(verb("resume"), id -> post(() -> support.jsonBody(body -> setStatus(caller, id, TriggerStatus.ACTIVE)))),
                            path(
                                ResourceRoutes.ID,
                                id ->
                                    patch(
                                        () ->
                                            parameterMap(
                                                query -> support.jsonBody(body -> update(caller, id, body, query)))))))));
  }

  private static org.apache.pekko.http.javadsl.server.PathMatcher1<String> verb(String verb) {
    return PathMatchers.segment(Pattern.compile("(.+):" + verb));
  }

  /** Pause: editor on the trigger. Resume: that, and the service account may broadcast. */
  private CompletionStage<HttpResponse> setStatus(Subject caller, String id, TriggerStatus status) {
    authorizer.require(caller, Role.EDITOR, ResourceKind.TRIGGER, id);
    CompletionStage<Void> allowed =
        status == TriggerStatus.PAUSED
            ? CompletableFuture.completedFuture(null)
            : catalog
                .ask(r -> new CatalogEntity.Get(ResourceKind.TRIGGER, id, r), CatalogEntity.Found.class)
                .thenAccept(found -> checkActivation(((Trigger) found.resource()).definition()));
    return common.written(allowed.thenCompose(ok ->
        catalog.ask(r -> new CatalogEntity.SetTriggerStatus(id, status, caller.id(), r), CatalogEntity.Completed.class)));
  }

  private CompletionStage<HttpResponse> update(Subject caller, String id, JsonNode body, Map<String, String> query) {
    authorizer.require(caller, Role.EDITOR, ResourceKind.TRIGGER, id);
    Violations v = new Violations();
    JsonFields fields = JsonFields.root(body, v).allowOnly(UPDATE_FIELDS);
    String bodyId = fields.string("triggerId");
    v.check(bodyId == null || bodyId.equals(id), "triggerId", "must match the trigger id in the path");
    List<String> mask = Updates.mask((ObjectNode) body, query, Set.of("triggerId"), TriggerJson.MASK_PATHS,
        "name, description, labels, rule and the fields of rule.containerRegistry", v);
    v.throwIfAny();
    return common.written(Updates.retried(() -> update(caller, id, (ObjectNode) body, mask)));
  }

  /** Merges the update into the current revision; the catalog refuses it if another write got in between. */
  private CompletionStage<CatalogEntity.Completed> update(
      Subject caller, String id, ObjectNode body, List<String> mask) {
    return catalog
        .ask(r -> new CatalogEntity.Get(ResourceKind.TRIGGER, id, r), CatalogEntity.Found.class)
        .thenCompose(
            found -> {
              Trigger current = (Trigger) found.resource();
              TriggerDefinition merged = TriggerJson.merge(current, body, mask);
              checkDefinition(caller, merged, current.status() == TriggerStatus.ACTIVE);
              return catalog.ask(
                  r -> new CatalogEntity.UpdateTrigger(id, current.revision(), merged, caller.id(), r),
                  CatalogEntity.Completed.class);
            });
  }

  /** Hands the written revision to the trigger's entity and waits for it, within the ask timeout. */
  private CompletionStage<Operation> handToEntity(Operation op) {
    if (!(op.response() instanceof Trigger trigger)) {
      return CompletableFuture.completedFuture(op);
    }
    return sharding
        .entityRefFor(TriggerEntity.ENTITY_KEY, trigger.id())
        .<TriggerEntity.Applied>ask(r -> new TriggerEntity.Configure(trigger, r), timeout)
        .handle(
            (applied, failure) -> {
              if (failure != null) {
                log.warn("Trigger {} revision {} not yet applied by its entity ({}); the catalog re-sends it",
                    trigger.id(), trigger.revision(), failure.toString());
              }
              return op;
            });
  }
}

package io.regcast.catalog;

import io.regcast.model.AccessBinding;
import io.regcast.model.ApiKey;
import io.regcast.model.FieldViolation;
import io.regcast.model.Folder;
import io.regcast.model.Gateway;
import io.regcast.model.JsonSerializable;
import io.regcast.model.Operation;
import io.regcast.model.Problem;
import io.regcast.model.Registry;
import io.regcast.model.Resource;
import io.regcast.model.ResourceKind;
import io.regcast.model.ResourceSpec;
import io.regcast.model.Subject;
import io.regcast.model.Trigger;
import io.regcast.model.TriggerDefinition;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Everything the catalog knows, immutable: each change returns a new state (copy on write; the
 * catalog changes at the rate of admin calls). The checks that need several resources live here so
 * they can be tested without an actor.
 */
public record CatalogState(
    Map<String, Resource> resources,
    Map<String, Operation> operations,
    Map<String, List<String>> operationIdsByResource,
    Map<String, Long> removedTriggers,
    Map<String, ApiKey> apiKeys,
    Map<String, List<AccessBinding>> bindings)
    implements JsonSerializable {

  /** The scope above every cloud: the bootstrap administrator's binding lives here. */
  public static final String ROOT = "root";

  /** Operations kept per resource; older ones are forgotten. */
  public static final int OPERATIONS_PER_RESOURCE = 100;

  public static final CatalogState EMPTY =
      new CatalogState(Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of());

  public CatalogState {
    resources = Collections.unmodifiableMap(resources);
    operations = Collections.unmodifiableMap(operations);
    operationIdsByResource = Collections.unmodifiableMap(operationIdsByResource);
    removedTriggers = Collections.unmodifiableMap(removedTriggers);
    apiKeys = apiKeys == null ? Map.of() : Collections.unmodifiableMap(apiKeys);
    bindings = bindings == null ? Map.of() : Collections.unmodifiableMap(bindings);
  }

  // ---- queries ----

  public Optional<Resource> find(ResourceKind kind, String id) {
    Resource r = resources.get(id);
    return r != null && r.kind() == kind ? Optional.of(r) : Optional.empty();
  }

  public Stream<Trigger> triggers() {
    return resources.values().stream().filter(Trigger.class::isInstance).map(Trigger.class::cast);
  }

  /** Resources of {@code kind} under {@code parentId} (all clouds when kind is CLOUD), by id. */
  public List<Resource> list(ResourceKind kind, String parentId, Predicate<Resource> filter) {
    return resources.values().stream()
        .filter(r -> r.kind() == kind)
        .filter(r -> kind.parent() == null || r.parentId().equals(parentId))
        .filter(filter)
        .sorted(Comparator.comparing(Resource::id))
        .toList();
  }

  public List<Operation> operationsOf(String resourceId) {
    return operationIdsByResource.getOrDefault(resourceId, List.of()).stream()
        .map(operations::get)
        .toList();
  }

  // ---- checks: null when the command may go ahead ----

  public Problem checkCreate(ResourceSpec spec) {
    ResourceKind kind = spec.kind();
    if (kind.parent() != null && find(kind.parent(), spec.parentId()).isEmpty()) {
      return notFound(kind.parent(), spec.parentId(), kind.parentField());
    }
    if (spec instanceof ResourceSpec.TriggerSpec t) {
      Problem problem = checkTriggerReferences(t.folderId(), t.definition());
      if (problem != null) {
        return problem;
      }
    }
    return checkNameFree(kind, spec.parentId(), spec.name(), null);
  }

  public Problem checkTriggerUpdate(Trigger current, TriggerDefinition definition) {
    Problem problem = checkTriggerReferences(current.folderId(), definition);
    return problem != null
        ? problem
        : checkNameFree(ResourceKind.TRIGGER, current.folderId(), definition.name(), current.id());
  }

  /**
   * A gateway's update keeps its folder, takes a free name, and keeps every path a trigger
   * broadcasts on (those triggers would otherwise target nothing).
   */
  public Problem checkGatewayUpdate(Gateway current, ResourceSpec.GatewaySpec spec) {
    if (!spec.folderId().equals(current.folderId())) {
      return Problem.invalid("folderId", "cannot change (the gateway is in folder " + current.folderId() + ")");
    }
    List<String> used = triggers()
        .filter(t -> t.definition().rule().target().gatewayId().equals(current.id()))
        .filter(t -> !spec.websocketPaths().contains(t.definition().rule().target().path()))
        .map(t -> t.definition().rule().target().path() + " (trigger " + t.id() + ")")
        .distinct()
        .sorted()
        .toList();
    if (!used.isEmpty()) {
      return new Problem(
          Problem.Kind.FAILED_PRECONDITION,
          "gateway " + current.id() + " still broadcasts on " + String.join(", ", used),
          List.of(new FieldViolation("websocketPaths", "must keep the paths triggers broadcast on: "
              + String.join(", ", used))));
    }
    return checkNameFree(ResourceKind.GATEWAY, current.folderId(), spec.name(), current.id());
  }

  public Problem checkDelete(Resource resource) {
    List<String> dependents =
        switch (resource.kind()) {
          case CLOUD, FOLDER -> resources.values().stream()
              .filter(r -> resource.id().equals(r.parentId()))
              .map(r -> r.kind().displayName() + " " + r.id())
              .sorted()
              .toList();
          case REGISTRY, GATEWAY, SERVICE_ACCOUNT -> triggers()
              .filter(t -> references(t, resource))
              .map(t -> "trigger " + t.id())
              .sorted()
              .toList();
          case TRIGGER, USER -> List.of();
        };
    if (dependents.isEmpty()) {
      return null;
    }
    String shown = String.join(", ", dependents.subList(0, Math.min(5, dependents.size())));
    return Problem.of(
        Problem.Kind.FAILED_PRECONDITION,
        resource.kind().displayName() + " " + resource.id() + " is still used by " + shown
            + (dependents.size() > 5 ? " and " + (dependents.size() - 5) + " more" : ""));
  }

  private static boolean references(Trigger trigger, Resource resource) {
    var rule = trigger.definition().rule();
    return switch (resource.kind()) {
      case REGISTRY -> rule.registryId().equals(resource.id());
      case GATEWAY -> rule.target().gatewayId().equals(resource.id());
      case SERVICE_ACCOUNT -> rule.target().serviceAccountId().equals(resource.id());
      default -> false;
    };
  }

  private Problem checkTriggerReferences(String folderId, TriggerDefinition definition) {
    String rulePath = "rule.containerRegistry.";
    String targetPath = rulePath + "gatewayWebsocketBroadcast.";
    var rule = definition.rule();
    Optional<Resource> registry = find(ResourceKind.REGISTRY, rule.registryId());
    if (registry.isEmpty()) {
      return notFound(ResourceKind.REGISTRY, rule.registryId(), rulePath + "registryId");
    }
    Optional<Resource> gateway = find(ResourceKind.GATEWAY, rule.target().gatewayId());
    if (gateway.isEmpty()) {
      return notFound(ResourceKind.GATEWAY, rule.target().gatewayId(), targetPath + "gatewayId");
    }
    String accountId = rule.target().serviceAccountId();
    if (find(ResourceKind.SERVICE_ACCOUNT, accountId).isEmpty()) {
      return notFound(ResourceKind.SERVICE_ACCOUNT, accountId, targetPath + "serviceAccountId");
    }
    String triggerCloud = cloudOf(folderId);
    String registryCloud = cloudOf(((Registry) registry.get()).folderId());
    if (!triggerCloud.equals(registryCloud)) {
      return Problem.invalid(
          rulePath + "registryId",
          "registry " + rule.registryId() + " is in cloud " + registryCloud
              + "; the trigger must be in the same cloud (its folder is in cloud " + triggerCloud
              + ")");
    }
    List<String> paths = ((Gateway) gateway.get()).websocketPaths();
    if (!paths.contains(rule.target().path())) {
      return Problem.invalid(
          targetPath + "path",
          "gateway " + rule.target().gatewayId() + " has no WebSocket path " + rule.target().path()
              + " (its paths: " + String.join(", ", paths) + ")");
    }
    return null;
  }

  private String cloudOf(String folderId) {
    return ((Folder) resources.get(folderId)).cloudId();
  }

  private Problem checkNameFree(ResourceKind kind, String parentId, String name, String exceptId) {
    boolean taken =
        resources.values().stream()
            .anyMatch(
                r -> r.kind() == kind
                    && !r.id().equals(exceptId)
                    && (kind.parent() == null || r.parentId().equals(parentId))
                    && r.name().equals(name));
    if (!taken) {
      return null;
    }
    String scope = kind.parent() == null ? "" : " in " + kind.parent().displayName() + " " + parentId;
    return new Problem(
        Problem.Kind.ALREADY_EXISTS,
        "a " + kind.displayName() + " named " + name + " already exists" + scope,
        List.of(new FieldViolation("name", "is already used" + scope)));
  }

  private static Problem notFound(ResourceKind kind, String id, String field) {
    return new Problem(
        Problem.Kind.NOT_FOUND,
        kind.displayName() + " " + id + " not found",
        List.of(new FieldViolation(field, kind.displayName() + " " + id + " does not exist")));
  }

  // ---- changes (called from the event handler only) ----

  public CatalogState withResource(Resource resource, Operation operation) {
    Map<String, Resource> newResources = new HashMap<>(resources);
    newResources.put(resource.id(), resource);
    return new CatalogState(newResources, operations, operationIdsByResource, removedTriggers, apiKeys, bindings)
        .withOperation(resource.id(), operation);
  }

  /**
   * Without the resource, the bindings on it, and — for a user or service account — its keys and
   * every binding naming it.
   */
  public CatalogState without(Resource resource, Operation operation) {
    Map<String, Resource> newResources = new HashMap<>(resources);
    newResources.remove(resource.id());
    Map<String, Long> newRemoved = removedTriggers;
    if (resource instanceof Trigger t) {
      newRemoved = new HashMap<>(removedTriggers);
      newRemoved.put(t.id(), t.revision() + 1);
    }
    Map<String, ApiKey> newKeys = new HashMap<>(apiKeys);
    newKeys.values().removeIf(k -> k.subject().id().equals(resource.id()));
    Map<String, List<AccessBinding>> newBindings = new HashMap<>();
    bindings.forEach((scope, list) -> {
      if (!scope.equals(resource.id())) {
        List<AccessBinding> kept = list.stream().filter(b -> !b.subject().id().equals(resource.id())).toList();
        if (!kept.isEmpty()) {
          newBindings.put(scope, kept);
        }
      }
    });
    return new CatalogState(newResources, operations, operationIdsByResource, newRemoved, newKeys, newBindings)
        .withOperation(resource.id(), operation);
  }

  public CatalogState withApiKey(ApiKey key) {
    Map<String, ApiKey> newKeys = new HashMap<>(apiKeys);
    newKeys.put(key.id(), key);
    return new CatalogState(resources, operations, operationIdsByResource, removedTriggers, newKeys, bindings);
  }

  public CatalogState withoutApiKey(String keyId) {
    Map<String, ApiKey> newKeys = new HashMap<>(apiKeys);
    newKeys.remove(keyId);
    return new CatalogState(resources, operations, operationIdsByResource, removedTriggers, newKeys, bindings);
  }

  public CatalogState withBindings(String scope, List<AccessBinding> list, Operation operation) {
    Map<String, List<AccessBinding>> newBindings = new HashMap<>(bindings);
    if (list.isEmpty()) {
      newBindings.remove(scope);
    } else {
      newBindings.put(scope, List.copyOf(list));
    }
    CatalogState next =
        new CatalogState(resources, operations, operationIdsByResource, removedTriggers, apiKeys, newBindings);
    return operation == null ? next : next.withOperation(scope, operation);
  }

  /** Null when every subject of {@code list} exists. */
  public Problem checkSubjects(List<AccessBinding> list, String field) {
    for (int i = 0; i < list.size(); i++) {
      Subject subject = list.get(i).subject();
      if (find(subject.type().kind(), subject.id()).isEmpty()) {
        return notFound(subject.type().kind(), subject.id(), field + "[" + i + "].subject.id");
      }
    }
    return null;
  }

  /** What every node needs to authenticate and authorize without asking: keys, bindings, parents. */
  public AccessSnapshot accessSnapshot() {
    Map<String, Subject> keys = new HashMap<>();
    apiKeys.values().forEach(k -> keys.put(k.secretHash(), k.subject()));
    Map<String, String> parents = new HashMap<>();
    resources.values().forEach(r -> parents.put(r.id(), r.parentId() == null ? ROOT : r.parentId()));
    return new AccessSnapshot(keys, bindings, parents);
  }

  private CatalogState withOperation(String resourceId, Operation operation) {
    Map<String, Operation> newOperations = new HashMap<>(operations);
    newOperations.put(operation.id(), operation);
    List<String> ids = new ArrayList<>(operationIdsByResource.getOrDefault(resourceId, List.of()));
    ids.add(operation.id());
    while (ids.size() > OPERATIONS_PER_RESOURCE) {
      newOperations.remove(ids.remove(0));
    }
    Map<String, List<String>> newIndex = new HashMap<>(operationIdsByResource);
    newIndex.put(resourceId, List.copyOf(ids));
    return new CatalogState(resources, newOperations, newIndex, removedTriggers, apiKeys, bindings);
  }
}

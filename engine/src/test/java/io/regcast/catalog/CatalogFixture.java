package io.regcast.catalog;

import io.regcast.model.BroadcastTarget;
import io.regcast.model.Cloud;
import io.regcast.model.ContainerRegistryRule;
import io.regcast.model.Folder;
import io.regcast.model.Gateway;
import io.regcast.model.Operation;
import io.regcast.model.Registry;
import io.regcast.model.Resource;
import io.regcast.model.Samples;
import io.regcast.model.ServiceAccount;
import io.regcast.model.Trigger;
import io.regcast.model.TriggerDefinition;
import io.regcast.model.TriggerStatus;
import java.time.Instant;
import java.util.List;

/** Builds a {@link CatalogState} the way the event handler does, with readable ids. */
final class CatalogFixture {
  static final Instant T0 = Samples.T0;

  CatalogState state = CatalogState.EMPTY;

  <R extends Resource> R add(R resource) {
    state = state.withResource(resource, created(resource));
    return resource;
  }

  void remove(Resource resource) {
    state = state.without(resource, operation("Delete " + resource.kind().displayName(), resource, null));
  }

  Cloud cloud(String id, String name) {
    return add(new Cloud(id, name, "", T0));
  }

  Folder folder(String id, Cloud cloud, String name) {
    return add(new Folder(id, cloud.id(), name, "", T0));
  }

  Registry registry(String id, Folder folder, String name) {
    return add(new Registry(id, folder.id(), name, "", T0));
  }

  Gateway gateway(String id, Folder folder, String name, String... paths) {
    return add(new Gateway(id, folder.id(), name, "", List.of(paths), T0));
  }

  ServiceAccount account(String id, Folder folder, String name) {
    return add(new ServiceAccount(id, folder.id(), name, "", T0));
  }

  Trigger trigger(String id, Folder folder, TriggerDefinition definition) {
    return add(new Trigger(id, folder.id(), T0, definition, TriggerStatus.ACTIVE, 1));
  }

  static TriggerDefinition definition(
      String name, Registry registry, Gateway gateway, String path, ServiceAccount account) {
    return definition(name, registry.id(), gateway.id(), path, account.id());
  }

  static TriggerDefinition definition(
      String name, String registryId, String gatewayId, String path, String accountId) {
    return Samples.definition(
        name,
        Samples.rule(registryId, new BroadcastTarget(gatewayId, path, accountId)));
  }

  static Operation created(Resource resource) {
    return operation("Create " + resource.kind().displayName(), resource, resource);
  }

  static Operation operation(String description, Resource subject, Resource response) {
    return Operation.completed(description, "user-1", T0, subject.kind(), subject.id(), response);
  }

  /** A small world: cloud c1 with folders f1 and f2, cloud c2 with folder f3. */
  static final class World {
    final CatalogFixture fx = new CatalogFixture();
    final Cloud c1 = fx.cloud("b1c-1", "cloud-one");
    final Cloud c2 = fx.cloud("b1c-2", "cloud-two");
    final Folder f1 = fx.folder("b1g-1", c1, "folder-one");
    final Folder f2 = fx.folder("b1g-2", c1, "folder-two");
    final Folder f3 = fx.folder("b1g-3", c2, "folder-three");
    final Registry registry = fx.registry("crt-1", f1, "registry");
    final Gateway gateway = fx.gateway("d4e-1", f1, "gateway", "/ws", "/events");
    final ServiceAccount account = fx.account("aje-1", f1, "account");
    /** A registry in another cloud. */
    final Registry foreignRegistry = fx.registry("crt-3", f3, "registry");

    TriggerDefinition definition(String name) {
      return CatalogFixture.definition(name, registry, gateway, "/ws", account);
    }

    CatalogState state() {
      return fx.state;
    }
  }
}

package io.regcast.catalog;

import io.regcast.model.AccessBinding;
import io.regcast.model.JsonSerializable;
import io.regcast.model.Subject;
import java.util.List;
import java.util.Map;

/**
 * The catalog's access data as every node keeps it: API key hashes and whom they belong to, the
 * bindings per resource (and on {@link CatalogState#ROOT}), and each resource's parent (clouds and
 * users have {@link CatalogState#ROOT}).
 */
public record AccessSnapshot(
    Map<String, Subject> keysByHash, Map<String, List<AccessBinding>> bindings, Map<String, String> parents)
    implements JsonSerializable {

  public static final AccessSnapshot EMPTY = new AccessSnapshot(Map.of(), Map.of(), Map.of());

  public AccessSnapshot {
    keysByHash = Map.copyOf(keysByHash);
    bindings = Map.copyOf(bindings);
    parents = Map.copyOf(parents);
  }
}

package io.regcast.registry;

import io.regcast.model.JsonSerializable;
import java.util.Map;
import java.util.Set;

/**
 * What a registry's HTTP API showed when it was read for a reconcile: every tag of every
 * repository with the digest it points to, and which of the manifests the index knew (and no tag
 * points to any more) are gone. A known manifest that is neither tagged nor gone is still there,
 * untagged.
 *
 * @param tags repository → tag → manifest digest
 * @param gone repository → digests of known manifests the registry answered 404 for
 */
public record RegistryObservation(Map<String, Map<String, String>> tags, Map<String, Set<String>> gone)
    implements JsonSerializable {

  public RegistryObservation {
    tags = Map.copyOf(tags);
    gone = Map.copyOf(gone);
  }

  boolean isGone(String repository, String digest) {
    return gone.getOrDefault(repository, Set.of()).contains(digest);
  }
}

package io.regcast.registry;

import io.regcast.model.RegistryEndpoint;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * The port a reconcile reads a registry through (the node wires the HTTP implementation). It must
 * not block: the registry's entity waits for the stage without holding its thread.
 */
@FunctionalInterface
public interface RegistryReader {
  /**
   * Reads every repository's tags, then checks which of {@code known} (repository → digests the
   * index holds) that no tag points to are gone. Fails with a {@code ProblemException} of kind
   * {@code UPSTREAM_FAILED} naming the request that failed.
   */
  CompletionStage<RegistryObservation> observe(RegistryEndpoint endpoint, Map<String, Set<String>> known);
}

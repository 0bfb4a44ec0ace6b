package io.regcast.iam;

import io.regcast.catalog.AccessSnapshot;
import io.regcast.catalog.CatalogState;
import io.regcast.model.AccessBinding;
import io.regcast.model.Role;
import io.regcast.model.Subject;
import java.util.List;
import java.util.Optional;

/**
 * Who a key belongs to and what roles a subject holds where, from one immutable snapshot: a role
 * bound on a resource's cloud, folder or the root applies to it.
 */
public record AccessView(AccessSnapshot snapshot) {

  public static final AccessView EMPTY = new AccessView(AccessSnapshot.EMPTY);

  /** The subject a presented secret belongs to. */
  public Optional<Subject> authenticate(String secret) {
    return Optional.ofNullable(snapshot.keysByHash().get(ApiKeySecrets.hash(secret)));
  }

  /** Whether {@code subject} holds {@code role} (or a role that includes it) on {@code resourceId}. */
  public boolean allows(Subject subject, Role role, String resourceId) {
    String scope = resourceId;
    for (int depth = 0; scope != null && depth < 8; depth++) {
      for (AccessBinding binding : snapshot.bindings().getOrDefault(scope, List.of())) {
        if (binding.subject().equals(subject) && binding.roleId().grants(role)) {
          return true;
        }
      }
      scope = scope.equals(CatalogState.ROOT) ? null : snapshot.parents().getOrDefault(scope, CatalogState.ROOT);
    }
    return false;
  }

  /** Whether the resource exists as far as this node knows. */
  public boolean knows(String resourceId) {
    return snapshot.parents().containsKey(resourceId);
  }
}

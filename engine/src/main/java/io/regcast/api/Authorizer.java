package io.regcast.api;

import static org.apache.pekko.http.javadsl.server.Directives.attribute;

import io.regcast.catalog.CatalogState;
import io.regcast.iam.AccessMirror;
import io.regcast.model.FieldViolation;
import io.regcast.model.Problem;
import java.util.List;
import io.regcast.model.ResourceKind;
import io.regcast.model.Role;
import io.regcast.model.Subject;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.AttributeKey;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The role checks for the routes (the reference's roles, see {@link Role}), answered from this
 * node's access mirror: the caller (set by {@link Authentication}) must hold the role on the
 * resource, its folder, its cloud, or the root. A refusal is 403 PERMISSION_DENIED naming the role and the resource.
 */
final class Authorizer {
  static final AttributeKey<Subject> CALLER = AttributeKey.create("regcast-caller", Subject.class);

  private final AccessMirror access;

  Authorizer(AccessMirror access) {
    this.access = access;
  }

  /** The authenticated caller of this request. */
  static Route caller(Function<Subject, Route> inner) {
    return attribute(CALLER, inner);
  }

  boolean allows(Subject caller, Role role, String resourceId) {
    return access.view().allows(caller, role, resourceId);
  }

  /** Refuses unless {@code caller} holds {@code role} on the resource (or above it). */
  void require(Subject caller, Role role, ResourceKind kind, String resourceId) {
    require(caller, role, kind, resourceId, null);
  }

  /** As {@link #require}; a missing resource is reported on {@code field}. */
  void require(Subject caller, Role role, ResourceKind kind, String resourceId, String field) {
    if (!allows(caller, role, resourceId)) {
      throw kind == null
          ? denied(role, "everything (the root)", "the caller")
          : deniedOrMissing(role, kind, resourceId, "the caller", field);
    }
  }

  /** Refuses unless {@code caller} holds {@code role} on everything (a binding on the root). */
  void requireRoot(Subject caller, Role role) {
    require(caller, role, null, CatalogState.ROOT);
  }

  /** Refuses unless the service account holds {@code role} on the resource (or above it). */
  void requireAccount(
      String serviceAccountId, String accountField, Role role, ResourceKind kind, String resourceId, String field) {
    if (!access.view().knows(serviceAccountId)) {
      throw deniedOrMissing(role, ResourceKind.SERVICE_ACCOUNT, serviceAccountId, "", accountField);
    }
    if (!allows(new Subject(serviceAccountId, Subject.Type.SERVICE_ACCOUNT), role, resourceId)) {
      throw deniedOrMissing(role, kind, resourceId, "service account " + serviceAccountId, field);
    }
  }

  /** A resource this node does not know is reported missing (404), not forbidden. */
  private RuntimeException deniedOrMissing(Role role, ResourceKind kind, String resourceId, String who, String field) {
    if (access.view().knows(resourceId)) {
      return denied(role, kind.displayName() + " " + resourceId, who);
    }
    String message = kind.displayName() + " " + resourceId + " not found";
    return new Problem(Problem.Kind.NOT_FOUND, message,
            field == null ? List.of() : List.of(new FieldViolation(field, kind.displayName() + " " + resourceId + " does not exist")))
        .toException();
  }

  private static RuntimeException denied(Role role, String resource, String who) {
    return Problem.of(
            Problem.Kind.PERMISSION_DENIED,
            "permission denied: " + who + " needs role " + role.id() + " on " + resource
                + " (bound there or on a folder or cloud above it)")
        .toException();
  }
}

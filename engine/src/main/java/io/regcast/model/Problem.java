package io.regcast.model;

import java.util.List;

/**
 * Why a command was refused, independent of the transport: the API maps {@link Kind} to an HTTP
 * status and gRPC code in one place.
 */
public record Problem(Kind kind, String message, List<FieldViolation> details)
    implements JsonSerializable {

  public enum Kind {
    INVALID_ARGUMENT,
    UNAUTHENTICATED,
    PERMISSION_DENIED,
    NOT_FOUND,
    ALREADY_EXISTS,
    FAILED_PRECONDITION,
    ABORTED,
    RESOURCE_EXHAUSTED,
    UNSUPPORTED_MEDIA_TYPE,
    METHOD_NOT_ALLOWED,
    UNAVAILABLE,
    /** A system we called (a registry being reconciled) failed or answered what we cannot use. */
    UPSTREAM_FAILED,
    INTERNAL
  }

  public Problem {
    details = List.copyOf(details);
  }

  public static Problem invalid(List<FieldViolation> violations) {
    String message =
        violations.size() == 1
            ? (violations.get(0).field().isEmpty() ? "" : violations.get(0).field() + ": ")
                + violations.get(0).reason()
            : "the request has " + violations.size() + " invalid fields";
    return new Problem(Kind.INVALID_ARGUMENT, message, violations);
  }

  public static Problem invalid(String field, String reason) {
    return invalid(List.of(new FieldViolation(field, reason)));
  }

  public static Problem notFound(ResourceKind kind, String id) {
    return new Problem(Kind.NOT_FOUND, kind.displayName() + " " + id + " not found", List.of());
  }

  public static Problem of(Kind kind, String message) {
    return new Problem(kind, message, List.of());
  }

  public ProblemException toException() {
    return new ProblemException(this);
  }
}

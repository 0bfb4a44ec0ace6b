package io.regcast.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.model.Problem;
import io.regcast.model.ProblemException;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.http.scaladsl.model.IllegalRequestException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where outcomes become HTTP: each {@link Problem.Kind} has its status and gRPC
 * code, every failure (ours, Pekko's rejections, unexpected exceptions) answers with the error
 * body {@code {"code", "status", "message", "details": [{"field", "reason"}]}}.
 */
final class ApiErrors {
  private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);

  private ApiErrors() {}

  private record Mapping(StatusCode status, int code, String name) {}

  private static Mapping mapping(Problem.Kind kind) {
    return switch (kind) {
      case INVALID_ARGUMENT -> new Mapping(StatusCodes.BAD_REQUEST, 3, "INVALID_ARGUMENT");
      case UNAUTHENTICATED -> new Mapping(StatusCodes.UNAUTHORIZED, 16, "UNAUTHENTICATED");
      case PERMISSION_DENIED -> new Mapping(StatusCodes.FORBIDDEN, 7, "PERMISSION_DENIED");
      case NOT_FOUND -> new Mapping(StatusCodes.NOT_FOUND, 5, "NOT_FOUND");
      case ALREADY_EXISTS -> new Mapping(StatusCodes.CONFLICT, 6, "ALREADY_EXISTS");
      case FAILED_PRECONDITION -> new Mapping(StatusCodes.CONFLICT, 9, "FAILED_PRECONDITION");
      case ABORTED -> new Mapping(StatusCodes.CONFLICT, 10, "ABORTED");
      case RESOURCE_EXHAUSTED -> new Mapping(StatusCodes.PAYLOAD_TOO_LARGE, 8, "RESOURCE_EXHAUSTED");
      case UNSUPPORTED_MEDIA_TYPE -> new Mapping(StatusCodes.UNSUPPORTED_MEDIA_TYPE, 3, "INVALID_ARGUMENT");
      case METHOD_NOT_ALLOWED -> new Mapping(StatusCodes.METHOD_NOT_ALLOWED, 12, "UNIMPLEMENTED");
      case UNAVAILABLE -> new Mapping(StatusCodes.SERVICE_UNAVAILABLE, 14, "UNAVAILABLE");
      case UPSTREAM_FAILED -> new Mapping(StatusCodes.BAD_GATEWAY, 14, "UNAVAILABLE");
      case INTERNAL -> new Mapping(StatusCodes.INTERNAL_SERVER_ERROR, 13, "INTERNAL");
    };
  }

  static HttpResponse response(Problem problem) {
    Mapping m = mapping(problem.kind());
    ObjectNode body = ResourceJson.NODES.objectNode();
    body.put("code", m.code());
    body.put("status", m.name());
    body.put("message", problem.message());
    var details = body.putArray("details");
    problem.details().forEach(d -> details.addObject().put("field", d.field()).put("reason", d.reason()));
    return ApiJson.response(m.status(), body);
  }

  static HttpResponse response(Throwable failure) {
    return response(toProblem(failure));
  }

  static Problem toProblem(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof ProblemException p) {
      return p.problem();
    }
    if (t instanceof TimeoutException) {
      log.warn("Request timed out waiting for an entity: {}", t.getMessage());
      return Problem.of(Problem.Kind.UNAVAILABLE, "the service did not answer in time; retry");
    }
    if (t instanceof EntityStreamSizeException) {
      return tooLarge();
    }
    if (t instanceof IllegalRequestException e) {
      // Pekko reports an over-long streamed body as a 400 whose summary says "Request too large".
      boolean tooLarge = e.status().intValue() == 413 || e.info().summary().contains("too large");
      return tooLarge ? tooLarge() : Problem.of(kindOf(e.status()), e.info().summary());
    }
    log.error("Request failed unexpectedly", t);
    return Problem.of(Problem.Kind.INTERNAL, "internal error");
  }

  private static Problem tooLarge() {
    return Problem.of(
        Problem.Kind.RESOURCE_EXHAUSTED,
        "the request body is larger than the limit (regcast.http.max-body-size)");
  }

  static ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder().matchAny(t -> ApiSupport.complete(response(t))).build();
  }

  /** Pekko's rejections with their usual status and text, in our error body. */
  static RejectionHandler rejectionHandler() {
    return RejectionHandler.defaultHandler()
        .mapRejectionResponse(
            resp -> {
              if (resp.entity().getContentType().mediaType().subType().equals("json")) {
                return resp;
              }
              String text = resp.entity() instanceof HttpEntity.Strict s ? s.getData().utf8String() : "";
              return response(new Problem(kindOf(resp.status()), text.isBlank() ? resp.status().reason() : text, List.of()));
            });
  }

  private static Problem.Kind kindOf(StatusCode status) {
    return switch (status.intValue()) {
      case 401 -> Problem.Kind.UNAUTHENTICATED;
      case 403 -> Problem.Kind.PERMISSION_DENIED;
      case 404 -> Problem.Kind.NOT_FOUND;
      case 405 -> Problem.Kind.METHOD_NOT_ALLOWED;
      case 413 -> Problem.Kind.RESOURCE_EXHAUSTED;
      case 415 -> Problem.Kind.UNSUPPORTED_MEDIA_TYPE;
      case 503 -> Problem.Kind.UNAVAILABLE;
      default -> status.intValue() >= 500 ? Problem.Kind.INTERNAL : Problem.Kind.INVALID_ARGUMENT;
    };
  }
}

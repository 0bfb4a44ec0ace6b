package io.regcast.api;

import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.mapRequest;

import io.regcast.iam.AccessMirror;
import io.regcast.iam.ApiKeySecrets;
import io.regcast.model.Problem;
import io.regcast.model.Subject;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Every API route but health needs a valid API key: {@code Authorization: Bearer <key>} or
 * {@code Authorization: Api-Key <key>}. The key is checked against this node's copy of the key
 * hashes; it is never logged or echoed.
 */
final class Authentication {
  private final AccessMirror access;

  Authentication(AccessMirror access) {
    this.access = access;
  }

  Route required(Route inner) {
    return extractRequest(request -> {
      Optional<String> secret = secret(request);
      if (secret.isEmpty()) {
        return refuse("an API key is required: Authorization: Bearer <key>");
      }
      Optional<Subject> caller = access.view().authenticate(secret.get());
      if (caller.isEmpty()) {
        return refuse("the API key is not valid (unknown, revoked, or its owner was deleted)");
      }
      return mapRequest(r -> r.addAttribute(Authorizer.CALLER, caller.get()), () -> inner);
    });
  }

  private static Route refuse(String message) {
    return ApiSupport.complete(
        ApiErrors.response(Problem.of(Problem.Kind.UNAUTHENTICATED, message))
            .addHeader(RawHeader.create("WWW-Authenticate", "Bearer")));
  }

  /** The key from {@code Authorization: Bearer …} or {@code Authorization: Api-Key …}. */
  static Optional<String> secret(HttpRequest request) {
    return request.getHeader("Authorization").map(HttpHeader::value).flatMap(ApiKeySecrets::fromAuthorization);
  }

}

package io.regcast.api;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.extractStrictEntity;

import com.fasterxml.jackson.databind.JsonNode;
import io.regcast.catalog.PageRequest;
import io.regcast.model.Problem;
import io.regcast.model.Violations;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.server.Route;

/** What every route needs: reading a JSON body within limits, answering asynchronously, paging. */
final class ApiSupport {
  private static final Pattern NAME_FILTER = Pattern.compile("\\s*name\\s*=\\s*(\"?)([^\"]*)\\1\\s*");

  private final ApiSettings settings;

  ApiSupport(ApiSettings settings) {
    this.settings = settings;
  }

  static Route complete(HttpResponse response) {
    return org.apache.pekko.http.javadsl.server.Directives.complete(response);
  }

  /** Answers with the work's response, or with the error body of whatever it failed with. */
  static Route respond(Supplier<CompletionStage<HttpResponse>> work) {
    CompletionStage<HttpResponse> started;
    try {
      started = work.get();
    } catch (RuntimeException e) {
      started = CompletableFuture.failedFuture(e);
    }
    return completeWithFuture(started.exceptionally(ApiErrors::response));
  }

  /**
   * Reads the body as JSON (null when empty) within the size limit; a body of another media type
   * is refused with 415.
   */
  Route jsonBody(Function<JsonNode, CompletionStage<HttpResponse>> handler) {
    return jsonBody(Set.of(MediaTypes.APPLICATION_JSON.toString()), handler);
  }

  /** {@link #jsonBody(Function)} for a body of any of {@code mediaTypes} (all JSON). */
  Route jsonBody(Set<String> mediaTypes, Function<JsonNode, CompletionStage<HttpResponse>> handler) {
    return extractStrictEntity(
        settings.askTimeout(),
        settings.maxBodySize(),
        entity ->
            respond(
                () -> {
                  byte[] bytes = entity.getData().toArray();
                  if (bytes.length == 0) {
                    return handler.apply(null);
                  }
                  String mediaType = entity.getContentType().mediaType().toString();
                  if (!mediaTypes.contains(mediaType)) {
                    throw Problem.of(
                            Problem.Kind.UNSUPPORTED_MEDIA_TYPE,
                            "the request body must be " + String.join(" or ", mediaTypes.stream().sorted().toList())
                                + ", not " + mediaType)
                        .toException();
                  }
                  return handler.apply(ApiJson.parse(bytes));
                }));
  }

  /** {@code pageSize} (0 or absent = default) and {@code pageToken} from the query. */
  PageRequest page(Map<String, String> query) {
    Violations v = new Violations();
    int size = settings.defaultPageSize();
    String rawSize = query.get("pageSize");
    if (rawSize != null && !rawSize.isEmpty()) {
      try {
        long parsed = Long.parseLong(rawSize);
        if (v.check(parsed >= 0 && parsed <= settings.maxPageSize(), "pageSize",
            "must be between 0 and " + settings.maxPageSize() + " (0 = " + settings.defaultPageSize() + ")")) {
          size = parsed == 0 ? settings.defaultPageSize() : (int) parsed;
        }
      } catch (NumberFormatException e) {
        v.add("pageSize", "must be an integer");
      }
    }
    String afterId = null;
    String token = query.get("pageToken");
    if (token != null && !token.isEmpty()) {
      try {
        afterId = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
        v.check(afterId.matches("[a-z0-9]{1,50}"), "pageToken", "is not a token this API issued");
      } catch (IllegalArgumentException e) {
        v.add("pageToken", "is not a token this API issued");
      }
    }
    v.throwIfAny();
    return new PageRequest(size, afterId);
  }

  static String pageToken(String afterId) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(afterId.getBytes(StandardCharsets.UTF_8));
  }

  /** {@code filter=name="x"} (quotes optional) → x; null when there is no filter. */
  static String nameFilter(Map<String, String> query) {
    String filter = query.get("filter");
    if (filter == null || filter.isBlank()) {
      return null;
    }
    var m = NAME_FILTER.matcher(filter);
    if (!m.matches()) {
      throw Problem.invalid("filter", "only name=\"<name>\" is supported").toException();
    }
    return m.group(2);
  }

  static String requiredParam(Map<String, String> query, String name) {
    String value = query.get(name);
    if (value == null || value.isEmpty()) {
      throw Problem.invalid(name, "is required").toException();
    }
    return value;
  }
}

package io.regcast.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.model.Problem;
import io.regcast.model.ProblemException;
import io.regcast.model.Violations;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * What every {@code PATCH} shares: its update mask, merging the masked paths into the resource's
 * JSON (so that one reader validates creates and updates alike), and merging again when another
 * write got in between.
 */
final class Updates {
  private static final int ATTEMPTS = 5;

  private Updates() {}

  /**
   * The paths to update: {@code updateMask} from the body (a comma-separated string or a list) or
   * the query; without one, every field present in the body but {@code notFields}.
   */
  static List<String> mask(
      ObjectNode body, Map<String, String> query, Set<String> notFields, Set<String> updatable,
      String updatableText, Violations v) {
    List<String> mask = new ArrayList<>();
    JsonNode inBody = body.get("updateMask");
    if (inBody != null && inBody.isTextual()) {
      mask.addAll(split(inBody.textValue()));
    } else if (inBody != null && inBody.isArray()) {
      inBody.forEach(p -> mask.add(p.asText()));
    } else if (inBody != null && !inBody.isNull()) {
      v.add("updateMask", "must be a comma-separated string of field paths");
    } else if (query.containsKey("updateMask")) {
      mask.addAll(split(query.get("updateMask")));
    } else {
      body.fieldNames().forEachRemaining(f -> {
        if (!f.equals("updateMask") && !notFields.contains(f)) {
          mask.add(f);
        }
      });
    }
    for (String path : mask) {
      v.check(
          updatable.contains(path),
          "updateMask",
          "\"" + path + "\" cannot be updated (updatable: " + updatableText + ")");
    }
    v.check(!mask.isEmpty() || !v.isEmpty(), "updateMask", "names no field to update");
    return mask;
  }

  /**
   * Replaces each masked (dotted) path of {@code into} by the request's value at that path; a
   * path absent from the request is removed, so that it takes its default.
   */
  static void apply(ObjectNode into, JsonNode request, List<String> mask) {
    for (String path : mask) {
      String[] parts = path.split("\\.");
      ObjectNode target = into;
      JsonNode from = request;
      for (int i = 0; i < parts.length - 1; i++) {
        target = target.with(parts[i]);
        from = from == null ? null : from.get(parts[i]);
      }
      String leaf = parts[parts.length - 1];
      JsonNode value = from == null ? null : from.get(leaf);
      if (value == null || value.isNull()) {
        target.remove(leaf);
      } else {
        target.set(leaf, value);
      }
    }
  }

  /**
   * Runs {@code attempt} (read the current value, merge, write if it is unchanged) again while
   * it fails with {@code ABORTED}, up to five times.
   */
  static <T> CompletionStage<T> retried(Supplier<CompletionStage<T>> attempt) {
    return retried(attempt, 1);
  }

  private static <T> CompletionStage<T> retried(Supplier<CompletionStage<T>> attempt, int number) {
    return attempt.get()
        .handle(
            (done, failure) -> {
              if (failure == null) {
                return CompletableFuture.completedFuture(done);
              }
              Problem problem = ApiErrors.toProblem(failure);
              if (problem.kind() == Problem.Kind.ABORTED && number < ATTEMPTS) {
                return retried(attempt, number + 1);
              }
              return CompletableFuture.<T>failedFuture(new ProblemException(problem));
            })
        .thenCompose(stage -> stage);
  }

  private static List<String> split(String mask) {
    return Arrays.stream(mask.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }
}

package io.regcast.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.regcast.model.Problem;
import io.regcast.model.RegistryEndpoint;
import io.regcast.registry.RegistryObservation;
import io.regcast.registry.RegistryReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a registry through the Docker Registry HTTP API v2 (CNCF Distribution, and the registries
 * that follow it): {@code GET /v2/_catalog} and {@code GET /v2/<repo>/tags/list} (both paged by
 * their {@code Link} header), {@code HEAD /v2/<repo>/manifests/<tag>} for the digest a tag points
 * to ({@code Docker-Content-Digest}, asked with every manifest type accepted so no registry
 * converts it), and {@code HEAD /v2/<repo>/manifests/<digest>} for known manifests no tag points
 * to. HTTP basic credentials when the endpoint has them; token (Bearer) authentication is not
 * spoken. Asynchronous, at most {@code maxParallelRequests} requests in flight per reconcile.
 */
public final class DistributionApiReader implements RegistryReader {
  static final String MANIFEST_TYPES =
      String.join(
          ", ",
          "application/vnd.oci.image.manifest.v1+json",
          "application/vnd.oci.image.index.v1+json",
          "application/vnd.docker.distribution.manifest.v2+json",
          "application/vnd.docker.distribution.manifest.list.v2+json");
  private static final int PAGE_SIZE = 1000;
  private static final Pattern NEXT_LINK = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http;
  private final Duration requestTimeout;
  private final int maxParallelRequests;

  public DistributionApiReader(Duration requestTimeout, int maxParallelRequests) {
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(requestTimeout)
            // never: a redirect would carry the registry's credentials to another host
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    this.requestTimeout = requestTimeout;
    this.maxParallelRequests = maxParallelRequests;
  }

  @Override
  public CompletionStage<RegistryObservation> observe(RegistryEndpoint endpoint, Map<String, Set<String>> known) {
    return new Reading(endpoint, known).run();
  }

  /** One reconcile's reading: its requests share a bound on how many are in flight. */
  private final class Reading {
    private final RegistryEndpoint endpoint;
    private final Map<String, Set<String>> known;
    private final Slots slots = new Slots(maxParallelRequests);
    private final Map<String, Map<String, String>> tags = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> gone = new ConcurrentHashMap<>();

    Reading(RegistryEndpoint endpoint, Map<String, Set<String>> known) {
      this.endpoint = endpoint;
      this.known = known;
    }

    CompletionStage<RegistryObservation> run() {
      return pages(endpoint.url() + "/v2/_catalog?n=" + PAGE_SIZE, "repositories")
          .thenCompose(catalog -> {
            Set<String> repositories = new HashSet<>(catalog);
            repositories.addAll(known.keySet()); // a repository may have left the catalog with its images
            return all(repositories.stream().map(this::readRepository).toList());
          })
          .thenApply(done -> new RegistryObservation(tags, gone));
    }

    private CompletableFuture<Void> readRepository(String repository) {
      return pages(endpoint.url() + "/v2/" + repository + "/tags/list?n=" + PAGE_SIZE, "tags")
          .thenCompose(tagNames -> {
            Map<String, String> digests = new ConcurrentHashMap<>();
            return all(tagNames.stream()
                    .map(tag -> manifestDigest(repository, tag).thenAccept(d -> d.ifPresent(v -> digests.put(tag, v))))
                    .toList())
                .thenCompose(v -> {
                  tags.put(repository, Map.copyOf(digests));
                  Set<String> untagged = new HashSet<>(known.getOrDefault(repository, Set.of()));
                  untagged.removeAll(digests.values());
                  Set<String> repoGone = ConcurrentHashMap.newKeySet();
                  return all(untagged.stream()
                          .map(digest -> manifestDigest(repository, digest)
                              .thenAccept(d -> { if (d.isEmpty()) repoGone.add(digest); }))
                          .toList())
                      .thenRun(() -> gone.put(repository, Set.copyOf(repoGone)));
                });
          });
    }

    /** The digest a tag or digest reference names, or empty when the registry has no such manifest. */
    private CompletableFuture<Optional<String>> manifestDigest(String repository, String reference) {
      // tags ([\w][\w.-]*) and digests (algorithm:hex) need no escaping in a path
      String url = endpoint.url() + "/v2/" + repository + "/manifests/" + reference;
      HttpRequest request = request(url).method("HEAD", HttpRequest.BodyPublishers.noBody())
          .header("Accept", MANIFEST_TYPES).build();
      return send(request, HttpResponse.BodyHandlers.discarding()).thenApply(response -> {
        if (response.statusCode() == 404) {
          return Optional.<String>empty();
        }
        expectOk(request, response, "");
        return Optional.of(response.headers().firstValue("Docker-Content-Digest")
            .orElseThrow(() -> failed(request, "answered without a Docker-Content-Digest header")));
      });
    }

    /** Every item of a paged list; for tags, a 404 (a repository without tags any more) reads as none. */
    private CompletableFuture<List<String>> pages(String url, String field) {
      List<String> items = new ArrayList<>();
      return page(url, field, items).thenApply(done -> items);
    }

    private CompletableFuture<Void> page(String url, String field, List<String> items) {
      HttpRequest request = request(url).GET().header("Accept", "application/json").build();
      return send(request, HttpResponse.BodyHandlers.ofString()).thenCompose(response -> {
        if (response.statusCode() == 404 && !field.equals("repositories")) {
          return CompletableFuture.completedFuture(null);
        }
        expectOk(request, response, response.body());
        JsonNode list;
        try {
          list = JSON.readTree(response.body()).path(field);
        } catch (java.io.IOException e) {
          throw failed(request, "answered what is not JSON: " + e.getMessage());
        }
        if (!list.isNull() && !list.isMissingNode()) {
          if (!list.isArray()) {
            throw failed(request, "answered a \"" + field + "\" that is not a list");
          }
          list.forEach(item -> items.add(item.asText()));
        }
        var next = response.headers().firstValue("Link").map(NEXT_LINK::matcher).filter(Matcher::find);
        return next.isPresent()
            ? page(URI.create(url).resolve(next.get().group(1)).toString(), field, items)
            : CompletableFuture.completedFuture(null);
      });
    }

    private HttpRequest.Builder request(String url) {
      HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(url)).timeout(requestTimeout);
      if (endpoint.hasCredentials()) {
        String pair = endpoint.username() + ":" + endpoint.password();
        builder.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8)));
      }
      return builder;
    }

    /** Sends once one of the reading's request slots is free. */
    private <T> CompletableFuture<HttpResponse<T>> send(HttpRequest request, HttpResponse.BodyHandler<T> body) {
      return slots.acquire().thenCompose(slot -> http.sendAsync(request, body)
          .handle((response, failure) -> {
            slots.release();
            if (failure != null) {
              throw failed(request, "failed: " + rootCause(failure));
            }
            return response;
          }));
    }
  }

  /** A bound on requests in flight whose waiters wait without a thread. */
  private static final class Slots {
    private final ArrayDeque<CompletableFuture<Void>> waiting = new ArrayDeque<>();
    private int free;

    Slots(int free) {
      this.free = free;
    }

    synchronized CompletableFuture<Void> acquire() {
      if (free > 0) {
        free--;
        return CompletableFuture.completedFuture(null);
      }
      CompletableFuture<Void> turn = new CompletableFuture<>();
      waiting.add(turn);
      return turn;
    }

    void release() {
      CompletableFuture<Void> next;
      synchronized (this) {
        next = waiting.poll();
        if (next == null) {
          free++;
          return;
        }
      }
      next.complete(null); // outside the lock: the waiter's request starts on this thread
    }
  }

  private static void expectOk(HttpRequest request, HttpResponse<?> response, String body) {
    int status = response.statusCode();
    if (status / 100 != 2) {
      String hint = status == 401 || status == 403 ? " (check the registry's credentials)" : "";
      String excerpt = body.length() > 200 ? body.substring(0, 200) + "…" : body;
      throw failed(request, "answered " + status + hint + (excerpt.isBlank() ? "" : ": " + excerpt.strip()));
    }
  }

  private static io.regcast.model.ProblemException failed(HttpRequest request, String what) {
    return Problem.of(Problem.Kind.UPSTREAM_FAILED,
        "reading the registry: " + request.method() + " " + request.uri() + " " + what).toException();
  }

  private static String rootCause(Throwable t) {
    Throwable cause = t;
    while (cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause instanceof io.regcast.model.ProblemException ? cause.getMessage() : cause.toString();
  }

  private static CompletableFuture<Void> all(List<CompletableFuture<Void>> futures) {
    return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new));
  }
}

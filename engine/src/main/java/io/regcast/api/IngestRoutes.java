package io.regcast.api;

import static io.regcast.api.ApiSupport.respond;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import com.fasterxml.jackson.databind.JsonNode;
import io.regcast.catalog.CatalogEntity;
import io.regcast.ingest.IngestFormats;
import io.regcast.metrics.Metrics;
import io.regcast.model.Folder;
import io.regcast.model.Problem;
import io.regcast.model.Registry;
import io.regcast.model.ResourceKind;
import io.regcast.model.Role;
import io.regcast.model.Subject;
import io.regcast.model.TraceContext;
import io.regcast.registry.RegistryEntity;
import io.regcast.registry.RegistryInfo;
import io.regcast.registry.RegistryOp;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Ingest (any node): {@code POST /container-registry/v1/registries/{id}/notifications} takes a
 * Distribution notification envelope, {@code …/events} already-typed CR events. Both answer
 * {@code 202 {}} once the registry's entity has persisted what they carried — the same for a
 * notification seen before.
 */
final class IngestRoutes {
  private static final Set<String> NOTIFICATION_TYPES =
      Set.of(
          "application/vnd.docker.distribution.events.v1+json",
          "application/vnd.docker.distribution.events.v2+json",
          "application/json");

  private final ActorSystem<?> system;
  private final CatalogClient catalog;
  private final ApiSupport support;
  private final Duration timeout;
  private static final Duration INFO_TTL = Duration.ofSeconds(5);
  private static final int MAX_CACHED = 10_000;
  private final Clock clock = Clock.systemUTC();
  private final java.util.concurrent.ConcurrentHashMap<String, CachedInfo> infoCache = new java.util.concurrent.ConcurrentHashMap<>();

  private final Authorizer authorizer;
  private final Duration reconcileTimeout;
  private final Metrics metrics;

  IngestRoutes(
      ActorSystem<?> system, CatalogClient catalog, ApiSupport support, Duration timeout, Duration reconcileTimeout,
      Authorizer authorizer, Metrics metrics) {
    this.system = system;
    this.catalog = catalog;
    this.support = support;
    this.timeout = timeout;
    this.reconcileTimeout = reconcileTimeout;
    this.authorizer = authorizer;
    this.metrics = metrics;
  }

  /** All need container-registry.images.pusher on the registry (or above it). */
  Route route() {
    var registries = ResourceRoutes.matcher("container-registry/v1/registries");
    var registry = registries.slash(PathMatchers.segment());
    return Authorizer.caller(caller -> concat(
        path(
            registries.slash(PathMatchers.segment(java.util.regex.Pattern.compile("(.+):reconcile"))),
            id -> post(() -> support.jsonBody(body -> reconcile(caller, id)))),
        path(
            registry.slash("notifications"),
            id -> post(() -> extractRequest(request -> support.jsonBody(NOTIFICATION_TYPES,
                body -> ingest(caller, id, trace(request), t -> IngestFormats.distributionEnvelope(body, t)))))),
        path(
            registry.slash("events"),
            id -> post(() -> extractRequest(request -> support.jsonBody(
                body -> ingest(caller, id, trace(request), t -> IngestFormats.nativeEvents(body, id, t, clock.instant()))))))));
  }

  private static TraceContext trace(HttpRequest request) {
    return request.getHeader("traceparent").flatMap(h -> TraceContext.fromTraceparent(h.value())).orElse(null);
  }

  /**
   * Checks the registry exists, parses, and waits until its entity has persisted the operations.
   * The time it is taken is the events' ingest time (the start of the ingest-to-socket latency).
   */
  private CompletionStage<HttpResponse> ingest(
      Subject caller, String registryId, TraceContext trace, Function<TraceContext, List<RegistryOp>> parse) {
    long started = System.nanoTime();
    var ingestedAt = clock.instant();
    authorizer.require(caller, Role.IMAGES_PUSHER, ResourceKind.REGISTRY, registryId);
    return registryInfo(registryId)
        .thenCompose(
            info -> {
              List<RegistryOp> ops = parse.apply(trace);
              if (ops.isEmpty()) {
                return CompletableFuture.completedFuture(null);
              }
              return RegistryEntity.ref(system, registryId)
                  .<RegistryEntity.Accepted>ask(r -> new RegistryEntity.Ingest(info, ops, ingestedAt, r), timeout);
            })
        .thenApply(accepted -> {
          metrics.ingestAnswered(started);
          return ApiJson.response(StatusCodes.ACCEPTED, ResourceJson.NODES.objectNode());
        });
  }

  /**
   * {@code POST …/registries/{id}:reconcile}: the registry's entity reads the registry at its
   * {@code url} and derives the events its webhooks did not bring; answers 200 with the changes
   * once they are durable, 409 without a {@code url}, 502 when the registry cannot be read.
   */
  private CompletionStage<HttpResponse> reconcile(Subject caller, String registryId) {
    authorizer.require(caller, Role.IMAGES_PUSHER, ResourceKind.REGISTRY, registryId);
    return catalog
        .ask(r -> new CatalogEntity.Get(ResourceKind.REGISTRY, registryId, r), CatalogEntity.Found.class)
        .thenCompose(found -> {
          Registry registry = (Registry) found.resource();
          if (registry.endpoint() == null) {
            throw Problem.of(Problem.Kind.FAILED_PRECONDITION, "registry " + registryId
                + " has no url: create it with \"url\" (its HTTP API v2 address) to reconcile it").toException();
          }
          return registryInfo(registryId).thenCompose(info -> RegistryEntity.ref(system, registryId)
              .<RegistryEntity.ReconcileOutcome>ask(r -> new RegistryEntity.Reconcile(info, registry.endpoint(), r),
                  reconcileTimeout));
        })
        .thenApply(outcome -> {
          if (outcome instanceof RegistryEntity.ReconcileFailed failed) {
            throw failed.problem().toException();
          }
          var done = (RegistryEntity.Reconciled) outcome;
          var out = ResourceJson.NODES.objectNode();
          out.put("registryId", registryId);
          done.changes().forEach(out.putArray("changes")::add);
          done.skippedRepositories().forEach(out.putArray("skippedRepositories")::add);
          return ApiJson.ok(out);
        });
  }

  /**
   * Where a registry lives, from a short-lived cache: a registry never changes folder nor a folder
   * cloud, and the cache keeps the catalog off the ingest path. A deleted registry may go on
   * accepting events for up to {@link #INFO_TTL} (they reach no trigger: none may use it).
   */
  private CompletionStage<RegistryInfo> registryInfo(String registryId) {
    long now = System.nanoTime();
    CachedInfo cached = infoCache.get(registryId);
    if (cached != null && now - cached.loadedAt() < INFO_TTL.toNanos()) {
      return CompletableFuture.completedFuture(cached.info());
    }
    return loadRegistryInfo(registryId)
        .thenApply(info -> {
          if (infoCache.size() > MAX_CACHED) {
            infoCache.clear();
          }
          infoCache.put(registryId, new CachedInfo(info, now));
          return info;
        });
  }

  private record CachedInfo(RegistryInfo info, long loadedAt) {}

  private CompletionStage<RegistryInfo> loadRegistryInfo(String registryId) {
    return catalog
        .ask(r -> new CatalogEntity.Get(ResourceKind.REGISTRY, registryId, r), CatalogEntity.Found.class)
        .thenCompose(
            found -> {
              Registry registry = (Registry) found.resource();
              return catalog
                  .ask(r -> new CatalogEntity.Get(ResourceKind.FOLDER, registry.folderId(), r), CatalogEntity.Found.class)
                  .thenApply(folder -> new RegistryInfo(registryId, registry.folderId(), ((Folder) folder.resource()).cloudId()));
            });
  }

}

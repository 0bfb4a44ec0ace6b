package io.regcast.api;

import static io.regcast.api.ApiSupport.respond;
import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.handleExceptions;
import static org.apache.pekko.http.javadsl.server.Directives.handleRejections;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import io.regcast.catalog.CatalogEntity;
import io.regcast.catalog.CatalogFeed;
import io.regcast.gateway.Connections;
import io.regcast.iam.AccessMirror;
import io.regcast.metrics.Metrics;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import io.regcast.model.Operation;
import io.regcast.model.Role;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import io.regcast.model.ResourceKind;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;

/** Wires every admin route (used by the node and by tests) and binds the HTTP listener. */
public final class AdminApi {
  private AdminApi() {}

  /**
   * What the routes reach beyond the catalog: the cluster's connections, this node's feeds of the
   * gateways and of the access data (re-read after a write, so the writer's next request sees it),
   * the access data, and metrics.
   */
  public record Services(
      Connections connections,
      ActorRef<CatalogFeed.Command> gatewayFeed,
      AccessMirror access,
      ActorRef<CatalogFeed.Command> accessFeed,
      Metrics metrics) {}

  public static Route routes(ActorSystem<?> system, ApiSettings settings, Services services) {
    ApiJson.use(JacksonObjectMapperProvider.get(system).getOrCreate("jackson-json", java.util.Optional.empty()));
    ResourceJson.useHistoryDefaults(settings.historyDefaults());
    Duration timeout = settings.askTimeout();
    CatalogClient catalog = new CatalogClient(CatalogEntity.ref(system), timeout);
    ApiSupport support = new ApiSupport(settings);
    Authorizer authorizer = new Authorizer(services.access());
    // Every write refreshes this node's access data before answering: the caller sees its change.
    Function<Operation, CompletionStage<Operation>> refreshAccess = op -> refresh(system, services.accessFeed(), timeout, op);
    IamRoutes iam = new IamRoutes(catalog, support, authorizer, () -> refresh(system, services.accessFeed(), timeout, null));
    List<Route> routes = new ArrayList<>();
    for (var kind : List.of(
        new Base(ResourceKind.CLOUD, "resource-manager/v1/clouds"),
        new Base(ResourceKind.FOLDER, "resource-manager/v1/folders"),
        new Base(ResourceKind.REGISTRY, "container-registry/v1/registries"),
        new Base(ResourceKind.GATEWAY, "apigateways/v1/apigateways"),
        new Base(ResourceKind.SERVICE_ACCOUNT, "iam/v1/serviceAccounts"),
        new Base(ResourceKind.USER, "iam/v1/users"))) {
      Function<Operation, CompletionStage<Operation>> after = kind.kind() == ResourceKind.GATEWAY
          ? op -> refresh(system, services.gatewayFeed(), timeout, op).thenCompose(refreshAccess)
          : refreshAccess;
      ResourceRoutes resource =
          new ResourceRoutes(kind.kind(), kind.path(), catalog, support, after, authorizer, ResourceRoutes.CreateCheck.NONE);
      routes.add(resource.route());
      if (kind.kind() == ResourceKind.GATEWAY) {
        routes.add(new GatewayRoutes(kind.path(), catalog, support, authorizer, resource).route());
      }
      if (kind.kind() != ResourceKind.USER) {
        routes.add(iam.accessBindings(kind.kind(), kind.path(), resource));
      }
    }
    routes.add(new RegistryRoutes(catalog, support, authorizer).route());
    routes.add(new TriggerRoutes(system, catalog, support, timeout, refreshAccess, authorizer).route());
    routes.add(iam.apiKeys());
    routes.add(new ConnectionRoutes(services.connections(), catalog, support, authorizer).route());
    routes.add(new IngestRoutes(system, catalog, support, timeout, settings.reconcileTimeout(), authorizer, services.metrics()).route());
    routes.add(
        path(
            PathMatchers.segment("operations").slash(PathMatchers.segment()),
            id ->
                get(
                    () ->
                        Authorizer.caller(
                            caller ->
                                respond(
                                    () ->
                                        catalog
                                            .ask(r -> new CatalogEntity.GetOperation(id, r), CatalogEntity.FoundOperation.class)
                                            .thenApply(found -> {
                                              // viewer on what the operation was about
                                              var about = found.operation().metadata().entrySet().iterator().next();
                                              ResourceKind kind = java.util.Arrays.stream(ResourceKind.values())
                                                  .filter(k -> Operation.metadataKey(k).equals(about.getKey()))
                                                  .findFirst().orElseThrow();
                                              authorizer.require(caller, Role.VIEWER, kind, about.getValue());
                                              return ApiJson.ok(ResourceJson.write(found.operation()));
                                            }))))));
    Route guarded = new Authentication(services.access())
        .required(concat(routes.get(0), routes.subList(1, routes.size()).toArray(Route[]::new)));
    Route health = path("health", () -> get(() -> ApiSupport.complete(ApiJson.ok(ResourceJson.NODES.objectNode().put("status", "UP")))));
    // Open like /health, for Prometheus: counts and latencies only (no secrets, no user data).
    Route metrics = path("metrics", () -> get(() -> optionalHeaderValueByName("Accept",
        accept -> complete(scrape(services.metrics(), accept.orElse(""))))));
    return handleExceptions(
        ApiErrors.exceptionHandler(),
        () -> handleRejections(ApiErrors.rejectionHandler(), () -> concat(health, metrics, guarded)));
  }

  private record Base(ResourceKind kind, String path) {}

  private static HttpResponse scrape(Metrics metrics, String accept) {
    Metrics.Scrape scrape = metrics.scrape(accept);
    ContentType type = ContentTypes.parse(scrape.contentType());
    return HttpResponse.create().withEntity(HttpEntities.create(type, scrape.body()));
  }

  /**
   * Re-reads a feed before answering a write: this node then routes clients by a new gateway, and
   * checks the writer's next request against its new access data.
   */
  private static CompletionStage<Operation> refresh(
      ActorSystem<?> system, ActorRef<CatalogFeed.Command> feed, Duration timeout, Operation op) {
    return AskPattern.<CatalogFeed.Command, Done>ask(feed, CatalogFeed.Refresh::new, timeout, system.scheduler())
        .handle((done, failure) -> op);
  }

  public static CompletionStage<ServerBinding> bind(ActorSystem<?> system, ApiSettings settings, Services services) {
    String host = settings.host();
    int port = settings.port();
    return Http.get(system)
        .newServerAt(host, port)
        .bind(routes(system, settings, services))
        .handle(
            (binding, failure) -> {
              if (failure != null) {
                throw new IllegalStateException(
                    "cannot listen for HTTP on " + host + ":" + port + " (" + failure.getMessage()
                        + "); set regcast.http.port / REGCAST_HTTP_PORT to a free port", failure);
              }
              binding.addToCoordinatedShutdown(Duration.ofSeconds(10), system);
              return binding;
            });
  }
}

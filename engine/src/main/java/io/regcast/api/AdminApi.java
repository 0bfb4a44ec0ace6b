package io.regcast.api;

import static io.regcast.api.ApiSupport.respond;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.handleExceptions;
import static org.apache.pekko.http.javadsl.server.Directives.handleRejections;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import io.regcast.broadcast.PathHub;
import io.regcast.catalog.CatalogEntity;
import io.regcast.gateway.Connections;
import io.regcast.model.Operation;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import io.regcast.model.ResourceKind;
import io.regcast.node.Settings;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;

/** Wires every admin route (used by the node and by tests) and binds the HTTP listener. */
public final class AdminApi {
  private AdminApi() {}

  /** What the routes reach beyond the catalog: the cluster's connections and this node's hub. */
  public record Services(Connections connections, ActorRef<PathHub.Command> hub) {}

  public static Route routes(ActorSystem<?> system, Settings settings, Services services) {
    ApiJson.use(JacksonObjectMapperProvider.get(system).getOrCreate("jackson-json", java.util.Optional.empty()));
    Duration timeout = settings.http().askTimeout();
    CatalogClient catalog = new CatalogClient(CatalogEntity.ref(system), timeout);
    ApiSupport support = new ApiSupport(settings.http(), settings.api());
    Route resources =
        concat(
            resource(ResourceKind.CLOUD, "resource-manager/v1/clouds", catalog, support),
            resource(ResourceKind.FOLDER, "resource-manager/v1/folders", catalog, support),
            resource(ResourceKind.REGISTRY, "container-registry/v1/registries", catalog, support),
            new ResourceRoutes(
                    ResourceKind.GATEWAY, "apigateways/v1/apigateways", catalog, support,
                    op -> resyncHub(system, services.hub(), timeout, op))
                .route(),
            new ConnectionRoutes(services.connections(), catalog, support).route(),
            new IngestRoutes(system, catalog, support, timeout).route(),
            resource(ResourceKind.SERVICE_ACCOUNT, "iam/v1/serviceAccounts", catalog, support),
            new TriggerRoutes(system, catalog, support, timeout).route(),
            path(
                PathMatchers.segment("operations").slash(PathMatchers.segment()),
                id ->
                    get(
                        () ->
                            respond(
                                () ->
                                    catalog
                                        .ask(r -> new CatalogEntity.GetOperation(id, r), CatalogEntity.FoundOperation.class)
                                        .thenApply(found -> ApiJson.ok(ResourceJson.write(found.operation())))))));
    return handleExceptions(
        ApiErrors.exceptionHandler(),
        () -> handleRejections(ApiErrors.rejectionHandler(), () -> resources));
  }

  /** This node routes WebSocket clients by a new gateway as soon as its create is answered. */
  private static CompletionStage<Operation> resyncHub(
      ActorSystem<?> system, ActorRef<PathHub.Command> hub, Duration timeout, Operation op) {
    return AskPattern.<PathHub.Command, Done>ask(hub, PathHub.Resync::new, timeout, system.scheduler())
        .handle((done, failure) -> op);
  }

  private static Route resource(ResourceKind kind, String base, CatalogClient catalog, ApiSupport support) {
    return new ResourceRoutes(kind, base, catalog, support, CompletableFuture::completedFuture).route();
  }

  public static CompletionStage<ServerBinding> bind(ActorSystem<?> system, Settings settings, Services services) {
    String host = settings.http().host();
    int port = settings.http().port();
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

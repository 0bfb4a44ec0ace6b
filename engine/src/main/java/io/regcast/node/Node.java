package io.regcast.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.regcast.api.AdminApi;
import io.regcast.broadcast.Broadcaster;
import io.regcast.broadcast.PathHub;
import io.regcast.gateway.ConnectAuthorizer;
import io.regcast.gateway.ConnectionManager;
import io.regcast.gateway.Connections;
import io.regcast.gateway.GatewayDirectory;
import io.regcast.gateway.GatewayServer;
import io.regcast.iam.AccessMirror;
import io.regcast.metrics.Metrics;
import io.regcast.catalog.CatalogEntity;
import io.regcast.catalog.PageRequest;
import io.regcast.model.ResourceKind;
import io.regcast.model.Role;
import io.regcast.model.Subject;
import io.regcast.ingest.DistributionApiReader;
import io.regcast.registry.RegistryEntity;
import io.regcast.trigger.TriggerEntity;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.SelfUp;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One regcast node: a cluster member with sharding, the journal and the admin API. {@link
 * #start} blocks until the node is ready (member Up, catalog answering, HTTP bound); {@link #stop}
 * runs the coordinated shutdown. Used by {@link Main} and by tests alike.
 */
public final class Node implements AutoCloseable {
  public static final String SYSTEM_NAME = "regcast";
  private static final Logger log = LoggerFactory.getLogger(Node.class);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  /** How often each node re-reads the gateways, in case it missed an announcement. */
  private static final Duration HUB_RESYNC = Duration.ofSeconds(30);

  private final ActorSystem<Void> system;
  private final Settings settings;
  private final ServerBinding http;
  private final GatewayServer gateway;
  private final ActorRef<PathHub.Command> hub;
  private final Metrics metrics;

  private Node(
      ActorSystem<Void> system,
      Settings settings,
      ServerBinding http,
      GatewayServer gateway,
      ActorRef<PathHub.Command> hub,
      Metrics metrics) {
    this.system = system;
    this.settings = settings;
    this.http = http;
    this.gateway = gateway;
    this.hub = hub;
    this.metrics = metrics;
  }

  /**
   * Our configuration: system properties over {@code overrides} over the application config
   * ({@code -Dconfig.file=…} if given, else application.conf with its environment overrides) over
   * the libraries' defaults.
   */
  public static Config loadConfig(Config overrides) {
    ConfigFactory.invalidateCaches();
    return ConfigFactory.load(overrides.withFallback(ConfigFactory.defaultApplication()));
  }

  public static Node start(Config overrides) throws Exception {
    long started = System.nanoTime();
    Config loaded = loadConfig(overrides);
    Settings settings = Settings.from(loaded);
    Files.createDirectories(settings.dataDir());
    if (settings.persistence().createSchema()) {
      Schema.create(settings);
      log.info("Journal schema ready ({}, {})", settings.persistence().database(),
          settings.persistence().isH2() ? settings.dataDir() : "external database");
    }
    int managementPort = settings.management().port() == 0
        ? freePort(settings.management().host())
        : settings.management().port();
    Config management = ConfigFactory.parseMap(java.util.Map.of("pekko.management.http.port", managementPort));
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(), SYSTEM_NAME,
            management.withFallback(settings.pekkoOverrides()).withFallback(loaded));
    try {
      // First: /alive answers and /ready says 503 while the node starts.
      String managementUrl =
          PekkoManagement.get(system).start().toCompletableFuture()
              .get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS).toString();
      Cluster cluster = Cluster.get(system);
      if (settings.cluster().seedNodes().isEmpty()) {
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
      }
      awaitSelfUp(system);
      log.info("Cluster member up at {}", cluster.selfMember().address());
      // Regions first (entities start on demand); triggers last: they are remembered, so they
      // start at once and reach for their registries.
      Metrics metrics = new Metrics(settings.metrics());
      CatalogEntity.init(system, settings.catalog());
      RegistryEntity.init(system, settings.registry(), TriggerEntity.deliveries(system),
          new DistributionApiReader(settings.reconcile().requestTimeout(), settings.reconcile().maxParallelRequests()),
          metrics);
      GatewayDirectory directory = new GatewayDirectory(settings.gateway().domain(), settings.history().defaults());
      AccessMirror access = new AccessMirror();
      GatewayServer gateway =
          GatewayServer.start(
              settings.gateway(), directory, Connections.localToken(system),
              (gatewayId, secret) -> {
                var caller = secret == null ? java.util.Optional.<Subject>empty() : access.view().authenticate(secret);
                if (caller.isEmpty()) {
                  return ConnectAuthorizer.Verdict.UNAUTHENTICATED;
                }
                return access.view().allows(caller.get(), Role.VIEWER, gatewayId)
                    ? ConnectAuthorizer.Verdict.ALLOWED
                    : ConnectAuthorizer.Verdict.FORBIDDEN;
              },
              (path, lastEventId, target) -> target.unavailable("history not wired yet"),
              settings.history().memoryTail(),
              metrics);
      CoordinatedShutdown.get(system)
          .addTask(
              CoordinatedShutdown.PhaseServiceUnbind(),
              "regcast-gateway-stop",
              () -> CompletableFuture.runAsync(gateway::stop).thenApply(v -> Done.getInstance()));
      system.systemActorOf(ConnectionManager.create(gateway), "connections", Props.empty());
      ActorRef<PathHub.Command> hub =
          system.systemActorOf(
              PathHub.create(gateway, directory, CatalogEntity.ref(system), settings.http().askTimeout(), HUB_RESYNC),
              "path-hub",
              Props.empty());
      TriggerEntity.init(
          system, settings.trigger(),
          RegistryEntity.subscriptions(system, settings.http().askTimeout()), Broadcaster.via(system, hub, settings.http().askTimeout()),
          new TriggerEntity.BroadcastPermission() {
            @Override
            public boolean allows(String account, String gatewayId) {
              return access.view().allows(
                  new Subject(account, Subject.Type.SERVICE_ACCOUNT), Role.WEBSOCKET_BROADCASTER, gatewayId);
            }

            @Override
            public boolean ready() {
              return access.loaded();
            }
          },
          metrics);
      awaitCatalog(system);
      Bootstrap.run(system, settings, START_TIMEOUT);
      AskPattern.<PathHub.Command, Done>ask(hub, PathHub.Resync::new, START_TIMEOUT, system.scheduler())
          .toCompletableFuture()
          .get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      ActorRef<AccessMirror.Command> accessRefresher =
          system.systemActorOf(
              access.behavior(CatalogEntity.ref(system), settings.http().askTimeout(), HUB_RESYNC),
              "access-mirror",
              Props.empty());
      AskPattern.<AccessMirror.Command, Done>ask(accessRefresher, AccessMirror.Refresh::new, START_TIMEOUT, system.scheduler())
          .toCompletableFuture()
          .get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      var services =
          new AdminApi.Services(new Connections(system, settings.http().askTimeout()), hub, access, accessRefresher, metrics);
      ServerBinding http = AdminApi.bind(system, settings, services).toCompletableFuture()
          .get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      logShutdown(system);
      Node node = new Node(system, settings, http, gateway, hub, metrics);
      Health.Started.ID.get(system).set(hub);
      log.info(
          "regcast node ready in {} ms: http://{}:{}, gateway ws://{}:{}, management {} (data {})",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
          http.localAddress().getHostString(),
          http.localAddress().getPort(),
          gateway.address().getHostString(),
          gateway.address().getPort(),
          managementUrl.replaceAll("/$", ""),
          settings.persistence().isH2() ? settings.dataDir() : settings.persistence().jdbcUrl());
      return node;
    } catch (Exception e) {
      // Logged here: terminating may end the JVM (exit-jvm) before the caller gets to log it.
      log.error("regcast failed to start: {}", e.toString(), e);
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** A port on {@code host} that was free a moment ago (Pekko Management cannot bind port 0). */
  private static int freePort(String host) throws java.io.IOException {
    try (var socket = new java.net.ServerSocket()) {
      socket.bind(new InetSocketAddress(host, 0));
      return socket.getLocalPort();
    }
  }

  private static void logShutdown(ActorSystem<Void> system) {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    shutdown.addTask(
        CoordinatedShutdown.PhaseBeforeServiceUnbind(),
        "regcast-log-stopping",
        () -> {
          log.info("regcast node stopping ({})", shutdown.getShutdownReason()
              .map(Object::toString).orElse("unknown reason"));
          return CompletableFuture.completedFuture(Done.getInstance());
        });
    system.getWhenTerminated().thenRun(() -> log.info("regcast node stopped"));
  }

  private static void awaitSelfUp(ActorSystem<Void> system) throws Exception {
    CompletableFuture<Void> up = new CompletableFuture<>();
    system.systemActorOf(
        Behaviors.<SelfUp>setup(
            ctx -> {
              Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(ctx.getSelf(), SelfUp.class));
              return Behaviors.receiveMessage(
                  m -> {
                    up.complete(null);
                    return Behaviors.stopped();
                  });
            }),
        "self-up-watch",
        Props.empty());
    up.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }

  /** The catalog recovered and answers: the journal is reachable. */
  private static void awaitCatalog(ActorSystem<Void> system) throws Exception {
    CatalogEntity.ref(system)
        .<CatalogEntity.Reply>ask(
            replyTo -> new CatalogEntity.ListResources(
                ResourceKind.CLOUD, null, null, new PageRequest(1, null), replyTo),
            START_TIMEOUT)
        .toCompletableFuture()
        .get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public Settings settings() {
    return settings;
  }

  public InetSocketAddress httpAddress() {
    return http.localAddress();
  }

  public GatewayServer gateway() {
    return gateway;
  }

  /** Where to publish a message to a gateway path, cluster-wide. */
  public ActorRef<PathHub.Command> hub() {
    return hub;
  }

  /** This node's metrics (what {@code GET /metrics} shows). */
  public Metrics metrics() {
    return metrics;
  }

  /** Runs the coordinated shutdown and waits for it. */
  @Override
  public void close() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}

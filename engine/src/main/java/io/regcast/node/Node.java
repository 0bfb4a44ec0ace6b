package io.regcast.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.regcast.api.AdminApi;
import io.regcast.broadcast.Broadcaster;
import io.regcast.broadcast.PathHub;
import io.regcast.broadcast.PathLog;
import io.regcast.gateway.ConnectionManager;
import io.regcast.gateway.Connections;
import io.regcast.gateway.GatewayDirectory;
import io.regcast.gateway.GatewayServer;
import io.regcast.gateway.StreamHistory;
import io.regcast.iam.AccessMirror;
import io.regcast.iam.GatewayAccess;
import io.regcast.metrics.Metrics;
import io.regcast.catalog.CatalogEntity;
import io.regcast.catalog.CatalogFeed;
import io.regcast.catalog.PageRequest;
import io.regcast.model.ResourceKind;
import io.regcast.model.Trigger;
import io.regcast.ingest.DistributionApiReader;
import io.regcast.registry.RegistryEntity;
import io.regcast.trigger.TriggerEntity;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
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
  /** How often each node re-reads the gateways and the access data, in case it missed an announcement. */
  private static final Duration CATALOG_RESYNC = Duration.ofSeconds(30);

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
      CatalogEntity.init(system, settings.catalog(), triggerSync(system, settings.catalog().syncTimeout()));
      RegistryEntity.init(system, settings.registry(), TriggerEntity.deliveries(system),
          new DistributionApiReader(settings.reconcile().requestTimeout(), settings.reconcile().maxParallelRequests()),
          metrics);
      GatewayDirectory directory = new GatewayDirectory(settings.gateway().domain(), settings.history().defaults());
      AccessMirror access = new AccessMirror();
      GatewayAccess gatewayAccess = new GatewayAccess(access);
      // The hub answers resumes but is made after the gateway it broadcasts to; resumes come only
      // once the gateway listens, by then the hub is there.
      AtomicReference<ActorRef<PathHub.Command>> hubRef = new AtomicReference<>();
      StreamHistory resumes = (path, lastEventId, target) -> PathHub.history(hubRef.get()).resume(path, lastEventId, target);
      GatewayServer gateway =
          GatewayServer.create(settings.gateway(), directory, Connections.localToken(system), gatewayAccess,
              resumes, settings.history().memoryTail(), settings.history().memoryTailLinger(), metrics);
      CoordinatedShutdown.get(system)
          .addTask(
              CoordinatedShutdown.PhaseServiceUnbind(),
              "regcast-gateway-stop",
              () -> CompletableFuture.runAsync(gateway::stop).thenApply(v -> Done.getInstance()));
      system.systemActorOf(ConnectionManager.create(gateway), "connections", Props.empty());
      ActorRef<PathHub.Command> hub =
          system.systemActorOf(
              PathHub.create(gateway, directory, path -> PathLog.ref(system, path), settings.http().askTimeout()),
              "path-hub",
              Props.empty());
      hubRef.set(hub);
      PathLog.init(system, new PathLog.Settings(settings.history().snapshotEvery(), settings.history().idleAfter()),
          (path, entries, head, ingestedAt) -> hub.tell(new PathHub.Publish(path, entries, head, ingestedAt)), metrics);
      TriggerEntity.init(
          system, settings.trigger(),
          RegistryEntity.subscriptions(system, settings.http().askTimeout()),
          Broadcaster.toLogs(system, directory, settings.http().askTimeout()),
          gatewayAccess,
          metrics);
      awaitCatalog(system);
      Bootstrap.run(system, settings, START_TIMEOUT);
      ActorRef<CatalogFeed.Command> gatewayFeed = system.systemActorOf(
          CatalogFeed.create(CatalogEntity.ref(system), CatalogFeed.GATEWAYS, PathHub.gatewayUpdates(directory, gateway, hub),
              settings.http().askTimeout(), CATALOG_RESYNC),
          "gateway-feed", Props.empty());
      ActorRef<CatalogFeed.Command> accessFeed = system.systemActorOf(
          CatalogFeed.create(CatalogEntity.ref(system), CatalogFeed.ACCESS, access::update,
              settings.http().askTimeout(), CATALOG_RESYNC),
          "access-feed", Props.empty());
      for (ActorRef<CatalogFeed.Command> feed : java.util.List.of(gatewayFeed, accessFeed)) {
        AskPattern.<CatalogFeed.Command, Done>ask(feed, CatalogFeed.Refresh::new, START_TIMEOUT, system.scheduler())
            .toCompletableFuture()
            .get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      }
      gateway.listen(); // now that it knows the gateways
      var services = new AdminApi.Services(
          new Connections(system, settings.http().askTimeout()), gatewayFeed, access, accessFeed, metrics);
      ServerBinding http = AdminApi.bind(system, settings.adminApi(), services).toCompletableFuture()
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

  /** The catalog hands trigger definitions to the triggers' entities. */
  private static CatalogEntity.TriggerSync triggerSync(ActorSystem<?> system, Duration timeout) {
    var sharding = ClusterSharding.get(system);
    return new CatalogEntity.TriggerSync() {
      @Override
      public CompletionStage<Long> configure(Trigger trigger) {
        return sharding.entityRefFor(TriggerEntity.ENTITY_KEY, trigger.id())
            .<TriggerEntity.Applied>ask(r -> new TriggerEntity.Configure(trigger, r), timeout)
            .thenApply(TriggerEntity.Applied::revision);
      }

      @Override
      public CompletionStage<Long> remove(String triggerId, long revision) {
        return sharding.entityRefFor(TriggerEntity.ENTITY_KEY, triggerId)
            .<TriggerEntity.Applied>ask(r -> new TriggerEntity.Remove(triggerId, revision, r), timeout)
            .thenApply(TriggerEntity.Applied::revision);
      }
    };
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

package io.regcast.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.regcast.api.ApiSettings;
import io.regcast.catalog.CatalogEntity;
import io.regcast.gateway.GatewaySettings;
import io.regcast.metrics.Metrics;
import io.regcast.model.HistorySettings;
import io.regcast.registry.RegistryEntity;
import io.regcast.trigger.TriggerEntity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code regcast} configuration block, read and checked once at start-up. A missing or
 * out-of-range value stops the node with a message naming the key.
 */
public record Settings(
    Path dataDir,
    Http http,
    GatewaySettings gateway,
    Cluster cluster,
    Management management,
    Persistence persistence,
    CatalogEntity.Settings catalog,
    RegistryEntity.Settings registry,
    TriggerEntity.Settings trigger,
    History history,
    Reconcile reconcile,
    Iam iam,
    Api api,
    Metrics.Settings metrics) {

  /**
   * The paths' logs: the retention of gateways that set none, how many of a path's newest
   * messages each node keeps in memory for resuming clients (and how long after the path's last
   * client on the node left), and how often a log is snapshotted
   * (what lets it delete its older journal entries), and after how long without a message a log
   * stops (its retained messages are read from the journal again when it is next needed).
   */
  public record History(
      HistorySettings defaults, int memoryTail, Duration memoryTailLinger, int snapshotEvery, Duration idleAfter) {}

  /** How {@code :reconcile} reads registries: per request, in flight at once, and in all. */
  public record Reconcile(Duration requestTimeout, int maxParallelRequests, Duration timeout) {}

  /** The bootstrap administrator: its key if configured ("" = generate one), and its name. */
  public record Iam(String adminKey, String adminName) {
    @Override
    public String toString() {
      return "Iam[adminKey=" + (adminKey.isEmpty() ? "" : "***") + ", adminName=" + adminName + "]";
    }
  }

  public record Http(String host, int port, long maxBodySize, Duration askTimeout) {}

  public record Cluster(String host, int port, List<String> seedNodes) {}

  /** Pekko Management's listener (health checks, read-only cluster HTTP); port 0 = a free one. */
  public record Management(String host, int port) {}

  public record Persistence(
      String database,
      String jdbcUrl,
      String user,
      String password,
      int maxConnections,
      int writeParallelism,
      boolean createSchema) {

    public boolean isH2() {
      return database.equals("h2");
    }
  }

  public record Api(int defaultPageSize, int maxPageSize) {}

  /** What the admin API needs of these settings. */
  public ApiSettings adminApi() {
    return new ApiSettings(http.host(), http.port(), http.maxBodySize(), http.askTimeout(), api.defaultPageSize(),
        api.maxPageSize(), reconcile.timeout(), history.defaults());
  }

  /** The largest message a trigger may render: it travels between nodes, as base64 JSON, in one 2 MiB frame. */
  static final long MAX_MESSAGE_BYTES = 1024 * 1024;

  public static Settings from(Config root) {
    Config c = root.getConfig("regcast");
    Path dataDir = Path.of(c.getString("data-dir")).toAbsolutePath().normalize();
    Http http =
        new Http(
            c.getString("http.host"),
            port(c, "http.port"),
            positive(c, "http.max-body-size", c.getBytes("http.max-body-size")),
            positive(c, "http.ask-timeout", c.getDuration("http.ask-timeout")));
    GatewaySettings gateway = gateway(c);
    Cluster cluster =
        new Cluster(
            c.getString("cluster.host"), port(c, "cluster.port"), seedNodes(c));
    for (String seed : cluster.seedNodes()) {
      if (!seed.matches("[^:/@]+:\\d{1,5}")) {
        throw invalid(c, "cluster.seed-nodes", "each seed must be host:port, got \"" + seed + "\"");
      }
    }
    Management management = new Management(c.getString("management.host"), port(c, "management.port"));
    String database = c.getString("persistence.database");
    if (!database.equals("h2") && !database.equals("postgres")) {
      throw invalid(c, "persistence.database", "must be \"h2\" or \"postgres\", got " + database);
    }
    Persistence persistence =
        new Persistence(
            database,
            c.getString("persistence.jdbc-url"),
            c.getString("persistence.user"),
            c.getString("persistence.password"),
            (int) positive(c, "persistence.max-connections", c.getInt("persistence.max-connections")),
            (int) positive(c, "persistence.write-parallelism", c.getInt("persistence.write-parallelism")),
            bool(c, "persistence.create-schema"));
    if (!persistence.isH2() && persistence.jdbcUrl().isBlank()) {
      throw invalid(c, "persistence.jdbc-url", "is required when database = postgres"
          + " (e.g. jdbc:postgresql://127.0.0.1:5432/regcast, or REGCAST_JDBC_URL)");
    }
    CatalogEntity.Settings catalog =
        new CatalogEntity.Settings(
            (int) positive(c, "catalog.snapshot-every", c.getInt("catalog.snapshot-every")),
            positive(c, "catalog.trigger-sync-interval", c.getDuration("catalog.trigger-sync-interval")),
            http.askTimeout());
    Api api =
        new Api(
            (int) positive(c, "api.default-page-size", c.getInt("api.default-page-size")),
            (int) positive(c, "api.max-page-size", c.getInt("api.max-page-size")));
    if (api.defaultPageSize() > api.maxPageSize()) {
      throw invalid(c, "api.default-page-size", "must not exceed api.max-page-size");
    }
    RegistryEntity.Settings registry =
        new RegistryEntity.Settings(
            (int) positive(c, "registry.dedupe-window", c.getInt("registry.dedupe-window")),
            (int) positive(c, "registry.snapshot-every", c.getInt("registry.snapshot-every")),
            positive(c, "registry.redeliver-interval", c.getDuration("registry.redeliver-interval")),
            (int) positive(c, "registry.max-events-per-delivery", c.getInt("registry.max-events-per-delivery")));
    if (c.getBytes("trigger.max-message-size") > MAX_MESSAGE_BYTES) {
      throw invalid(c, "trigger.max-message-size", "must be at most 1m (a message crosses nodes in one remoting frame)");
    }
    TriggerEntity.Settings trigger =
        new TriggerEntity.Settings(
            (int) positive(c, "trigger.max-message-size", c.getBytes("trigger.max-message-size")),
            positive(c, "trigger.subscribe-retry", c.getDuration("trigger.subscribe-retry")),
            (int) positive(c, "trigger.snapshot-every", c.getInt("trigger.snapshot-every")));
    int maxMessages = c.getInt("history.max-messages");
    if (maxMessages < 0 || maxMessages > HistorySettings.MAX_MESSAGES) {
      throw invalid(c, "history.max-messages", "must be between 0 and " + HistorySettings.MAX_MESSAGES + ", got " + maxMessages);
    }
    History history =
        new History(
            new HistorySettings(maxMessages, positive(c, "history.max-age", c.getDuration("history.max-age"))),
            (int) positive(c, "history.memory-tail", c.getInt("history.memory-tail")),
            positive(c, "history.memory-tail-linger", c.getDuration("history.memory-tail-linger")),
            (int) positive(c, "history.snapshot-every", c.getInt("history.snapshot-every")),
            positive(c, "history.idle-after", c.getDuration("history.idle-after")));
    Reconcile reconcile =
        new Reconcile(
            positive(c, "registry.reconcile.request-timeout", c.getDuration("registry.reconcile.request-timeout")),
            (int) positive(c, "registry.reconcile.max-parallel-requests", c.getInt("registry.reconcile.max-parallel-requests")),
            positive(c, "registry.reconcile.timeout", c.getDuration("registry.reconcile.timeout")));
    String adminKey = c.getString("iam.admin-key");
    if (!adminKey.isEmpty() && adminKey.length() < 16) {
      throw invalid(c, "iam.admin-key", "must be at least 16 characters (or empty to generate one)");
    }
    Iam iam = new Iam(adminKey, c.getString("iam.admin-name"));
    Metrics.Settings metrics = new Metrics.Settings(bool(c, "metrics.jvm"));
    return new Settings(
        dataDir, http, gateway, cluster, management, persistence, catalog, registry, trigger, history, reconcile, iam, api, metrics);
  }

  /** A list, or a comma-separated string (as REGCAST_SEED_NODES gives it). */
  private static List<String> seedNodes(Config c) {
    if (c.getValue("cluster.seed-nodes").valueType() == com.typesafe.config.ConfigValueType.STRING) {
      List<String> seeds = new ArrayList<>();
      for (String seed : c.getString("cluster.seed-nodes").split(",")) {
        if (!seed.isBlank()) {
          seeds.add(seed.strip());
        }
      }
      return List.copyOf(seeds);
    }
    return c.getStringList("cluster.seed-nodes");
  }

  private static GatewaySettings gateway(Config c) {
    String policy = c.getString("gateway.slow-consumer.policy");
    if (!policy.equals("disconnect") && !policy.equals("drop-oldest")) {
      throw invalid(c, "gateway.slow-consumer.policy", "must be \"disconnect\" or \"drop-oldest\", got " + policy);
    }
    int threads = c.getInt("gateway.event-loop-threads");
    if (threads < 0) {
      throw invalid(c, "gateway.event-loop-threads", "must be 0 (one per core) or more, got " + threads);
    }
    return new GatewaySettings(
        c.getString("gateway.host"),
        port(c, "gateway.port"),
        c.getString("gateway.domain"),
        (int) positive(c, "gateway.max-frame-size", c.getBytes("gateway.max-frame-size")),
        (int) positive(c, "gateway.max-message-size", c.getBytes("gateway.max-message-size")),
        positive(c, "gateway.ping-interval", c.getDuration("gateway.ping-interval")),
        positive(c, "gateway.idle-timeout", c.getDuration("gateway.idle-timeout")),
        positive(c, "gateway.max-lifetime", c.getDuration("gateway.max-lifetime")),
        positive(c, "gateway.close-grace", c.getDuration("gateway.close-grace")),
        policy.equals("disconnect")
            ? GatewaySettings.SlowConsumerPolicy.DISCONNECT
            : GatewaySettings.SlowConsumerPolicy.DROP_OLDEST,
        positive(c, "gateway.slow-consumer.max-queued-bytes", c.getBytes("gateway.slow-consumer.max-queued-bytes")),
        threads,
        new GatewaySettings.Limits(
            positive(c, "gateway.handshake-timeout", c.getDuration("gateway.handshake-timeout")),
            (int) positive(c, "gateway.max-connections", c.getInt("gateway.max-connections")),
            (int) positive(c, "gateway.max-connections-per-ip", c.getInt("gateway.max-connections-per-ip"))));
  }

  /** The JDBC URL the journal uses: H2 in the data directory, or the configured one. */
  public String jdbcUrl() {
    if (!persistence.isH2()) {
      return persistence.jdbcUrl();
    }
    // WRITE_DELAY=0: H2's default 500 ms delay loses acknowledged commits on kill -9.
    // DB_CLOSE_ON_EXIT=FALSE: H2's own exit hook would close the database under Pekko's shutdown.
    // Every commit rewrites the B-tree pages it changed, so commits cost what those pages weigh:
    // MAX_LENGTH_INPLACE_LOB=65536 keeps journal payloads (BLOBs of ~0.5-2 KB) in their row instead
    // of H2's separate LOB maps (default: over 256 bytes), and PAGE_SIZE=4096 splits pages at 4 KB
    // instead of 16 KB, so an append rewrites a quarter of the leaf. With write-parallelism 1 they
    // took one node from ~1.1k to ~2.7k accepted events/s over ten registries, ~1.9k to ~2.7k into
    // one (src/bench/RESULTS.md).
    return "jdbc:h2:file:" + dataDir.resolve("regcast")
        + ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE;MAX_LENGTH_INPLACE_LOB=65536;PAGE_SIZE=4096";
  }

  /** Pekko settings derived from ours, layered over the loaded configuration. */
  public Config pekkoOverrides() {
    Map<String, Object> values = new HashMap<>();
    String db = "pekko-persistence-jdbc.shared-databases.regcast.";
    values.put(db + "profile", persistence.isH2() ? "slick.jdbc.H2Profile$" : "slick.jdbc.PostgresProfile$");
    values.put(db + "db.driver", persistence.isH2() ? "org.h2.Driver" : "org.postgresql.Driver");
    values.put(db + "db.url", jdbcUrl());
    values.put(db + "db.user", persistence.isH2() ? "" : persistence.user());
    values.put(db + "db.password", persistence.isH2() ? "" : persistence.password());
    values.put("jdbc-journal.parallelism", persistence.writeParallelism());
    List<String> seeds = new ArrayList<>();
    for (String seed : cluster.seedNodes()) {
      seeds.add("pekko://" + Node.SYSTEM_NAME + "@" + seed);
    }
    values.put("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seeds));
    return ConfigFactory.parseMap(values);
  }

  private static int port(Config c, String key) {
    int port = c.getInt(key);
    if (port < 0 || port > 65535) {
      throw invalid(c, key, "must be a port between 0 and 65535 (0 = any free port), got " + port);
    }
    return port;
  }

  /** A switch; HOCON's own message would name the key without its {@code regcast.} prefix. */
  private static boolean bool(Config c, String key) {
    try {
      return c.getBoolean(key);
    } catch (ConfigException.WrongType e) {
      throw invalid(c, key, "must be on or off (true/false), got " + c.getValue(key).render());
    }
  }

  private static long positive(Config c, String key, long value) {
    if (value <= 0) {
      throw invalid(c, key, "must be positive, got " + value);
    }
    return value;
  }

  private static Duration positive(Config c, String key, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw invalid(c, key, "must be a positive duration, got " + value);
    }
    return value;
  }

  private static ConfigException invalid(Config c, String key, String reason) {
    return new ConfigException.BadValue(c.origin(), "regcast." + key, reason);
  }
}

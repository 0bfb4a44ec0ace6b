package io.regcast.e2e;

import static io.regcast.e2e.DistributionEvents.digest;
import static io.regcast.e2e.DistributionEvents.envelope;
import static io.regcast.e2e.DistributionEvents.push;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The resources one cluster test needs — cloud, folder, registry, gateway with path {@value
 * #PATH}, service account allowed to broadcast, and a trigger on CreateImage events — created
 * with fresh names in the shared cluster's catalog, and the helpers the failover tests share:
 * notifications of numbered pushes ({@link DistributionEvents#digest}), clients, warm-up, polling
 * for the node that hosts an entity.
 *
 * <p>Event numbers: those a test asserts on count from 0 or 1; warm-up events from {@value
 * #WARM_UP} on.
 */
record ClusterScene(String folderId, String registryId, String gatewayId, String triggerId, int batchSize) {
  static final String PATH = "/ws";
  static final String REPOSITORY = "failover/app";
  static final long WARM_UP = 1_000_000;
  private static final Instant T0 = Instant.parse("2026-11-28T13:55:53Z");
  private static final Duration WAIT = Duration.ofSeconds(15);

  static ClusterScene create(JsonHttp api, String prefix, int size, String cutoff) {
    return create(api, prefix, size, cutoff, Map.of());
  }

  /**
   * {@link #create(JsonHttp, String, int, String)} with more fields of the gateway's create
   * request, e.g. {@code historySettings} or {@code allowedOrigins}.
   */
  static ClusterScene create(JsonHttp api, String prefix, int size, String cutoff, Map<String, Object> gatewayFields) {
    String suffix = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36);
    String cloud = created(api.post("/resource-manager/v1/clouds", Map.of("name", prefix + "-cloud-" + suffix)));
    String folder =
        created(api.post("/resource-manager/v1/folders", Map.of("cloudId", cloud, "name", prefix + "-folder")));
    String registry =
        created(api.post("/container-registry/v1/registries", Map.of("folderId", folder, "name", prefix + "-registry")));
    Map<String, Object> gatewayRequest = new java.util.LinkedHashMap<>(gatewayFields);
    gatewayRequest.putAll(Map.of("folderId", folder, "name", prefix + "-gateway", "websocketPaths", List.of(PATH)));
    String gateway = created(api.post("/apigateways/v1/apigateways", gatewayRequest));
    String account =
        created(api.post("/iam/v1/serviceAccounts", Map.of("folderId", folder, "name", prefix + "-robot")));
    api.allowBroadcast(folder, account);
    Map<String, Object> rule =
        Map.of(
            "eventType", List.of("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE"),
            "registryId", registry,
            "batchSettings", Map.of("size", size, "cutoff", cutoff),
            "gatewayWebsocketBroadcast", Map.of("gatewayId", gateway, "path", PATH, "serviceAccountId", account));
    String trigger =
        created(
            api.post(
                "/triggers/v1/triggers",
                Map.of("folderId", folder, "name", prefix + "-trigger", "rule", Map.of("containerRegistry", rule))));
    return new ClusterScene(folder, registry, gateway, trigger, size);
  }

  private static String created(JsonHttp.Response response) {
    return response.createdId();
  }

  URI wsUrl(TestCluster cluster, int node) {
    return cluster.wsUrl(node, gatewayId, PATH);
  }

  /** A notification of one push by digest: event number {@code n}, one CreateImage event, a fresh source id. */
  static ObjectNode notification(long n) {
    return envelope(push(REPOSITORY, digest(n), null, T0.plusMillis(n)));
  }

  /**
   * How long a node may answer 404 for a gateway just created. Known gap: a node that has just
   * (re)joined may miss the catalog's announcement of a new gateway (its subscription to the
   * catalog's gateway topic has not spread yet) and learns of it at its next full re-read of the
   * gateways, every 30 s (PathHub's resync interval). Seen once in 5 quick kill/restart rounds.
   */
  private static final Duration NEW_GATEWAY_DEADLINE = Duration.ofSeconds(45);

  /** A client on node {@code node}'s gateway, listed by that node's connections API when this returns. */
  BroadcastClient connect(TestCluster cluster, int node, String name) throws InterruptedException {
    return connect(cluster, node, name, BroadcastClient.Handshake.PLAIN);
  }

  /**
   * A regcast.v1 client on node {@code node}'s gateway (listed by its connections API when this
   * returns) that, whenever its connection ends, resumes after its last id — on this node until
   * the test names another ({@link ResumingClient#resumeOn}).
   */
  ResumingClient connectResuming(TestCluster cluster, int node, String name) throws InterruptedException {
    return new ResumingClient(name, connect(cluster, node, name, BroadcastClient.Handshake.V1), wsUrl(cluster, node));
  }

  private BroadcastClient connect(TestCluster cluster, int node, String name, BroadcastClient.Handshake handshake)
      throws InterruptedException {
    long connecting = System.nanoTime();
    BroadcastClient client =
        BroadcastClient.connectRetrying(
            name, wsUrl(cluster, node), "regcast-failover-" + UUID.randomUUID(), NEW_GATEWAY_DEADLINE, handshake);
    if (client.openedNanos() - connecting > Duration.ofSeconds(2).toNanos()) {
      System.out.printf(
          "[cluster] %s: node %d served gateway %s only %d ms after the first attempt (%d attempts: it did not know the"
              + " gateway yet)%n",
          name, node + 1, gatewayId, ms(client.openedNanos() - connecting), client.attempts());
    }
    try {
      cluster.api(node).awaitConnectionId(gatewayId, client, WAIT);
    } catch (RuntimeException | Error e) {
      client.close();
      throw e;
    }
    return client;
  }

  /** Posts the notification of event {@code n} (one envelope, re-sent as a registry would) until it gets a 202. */
  void ingest(JsonHttp api, long n) throws InterruptedException {
    ObjectNode notification = notification(n);
    long until = System.nanoTime() + WAIT.toNanos();
    Object last;
    do {
      try {
        JsonHttp.Response response = DistributionEvents.notify(api, registryId, notification);
        if (response.status() == 202) {
          return;
        }
        last = response.status() + " " + response.body();
      } catch (UncheckedIOException e) {
        last = e;
      }
      TimeUnit.MILLISECONDS.sleep(200); // a registry's retry interval
    } while (System.nanoTime() < until);
    throw new AssertionError("notification " + n + " not accepted within " + WAIT + ": last " + last);
  }

  /** Ingests events {@code first} to {@code last}, each accepted before the next is posted. */
  void ingestEach(JsonHttp api, long first, long last) throws InterruptedException {
    for (long n = first; n <= last; n++) {
      ingest(api, n);
    }
  }

  /**
   * Ingests rounds of one batch of warm-up events until one round's message has reached every
   * client: a new gateway path's subscriptions take a moment to spread through the cluster (see
   * ClusterIT). At most 20 rounds; returns the next warm-up number.
   */
  long warmUp(JsonHttp api, List<BroadcastClient> clients) throws InterruptedException {
    long next = WARM_UP;
    for (int round = 1; round <= 20; round++) {
      long last = next + batchSize - 1;
      for (; next <= last; next++) {
        ingest(api, next);
      }
      boolean everyone = true;
      for (BroadcastClient client : clients) {
        if (!hasNumber(client, last, Duration.ofSeconds(2))) {
          everyone = false;
        }
      }
      if (everyone) {
        return next;
      }
    }
    throw new AssertionError("after 20 warm-up rounds not every client got a message: " + clients);
  }

  /** Reads the client's messages until one holds event {@code n}; when it arrived. AssertionError after the deadline. */
  static long awaitNumber(BroadcastClient client, long n, Duration deadline) throws InterruptedException {
    long until = System.nanoTime() + deadline.toNanos();
    for (BroadcastClient.Message m : client.messages()) {
      if (numbers(m).contains(n)) {
        return m.nanos();
      }
    }
    while (true) {
      BroadcastClient.Message m = client.next(Duration.ofNanos(Math.max(0, until - System.nanoTime())));
      if (numbers(m).contains(n)) {
        return m.nanos();
      }
    }
  }

  static boolean hasNumber(BroadcastClient client, long n, Duration deadline) throws InterruptedException {
    try {
      awaitNumber(client, n, deadline);
      return true;
    } catch (AssertionError notYet) {
      return false;
    }
  }

  /** The event numbers of one message, in order. */
  static List<Long> numbers(BroadcastClient.Message m) {
    return m.events().stream()
        .map(e -> DistributionEvents.number(e.path("details").path("image_digest").asText()))
        .toList();
  }

  /** The client's messages without the warm-up ones, each as its event numbers. */
  static List<List<Long>> measured(BroadcastClient client) {
    return measured(client.messages());
  }

  /** These messages without the warm-up ones, each as its event numbers. */
  static List<List<Long>> measured(List<BroadcastClient.Message> messages) {
    List<List<Long>> out = new ArrayList<>();
    for (BroadcastClient.Message m : messages) {
      List<Long> numbers = numbers(m);
      if (numbers.isEmpty() || numbers.stream().anyMatch(n -> n < WARM_UP)) {
        out.add(numbers);
      }
    }
    return out;
  }

  /** The node that hosts entity {@code entityId} of {@code typeName} ("Trigger", "Registry"), waiting for one to. */
  static int awaitHost(TestCluster cluster, String typeName, String entityId, Duration within)
      throws InterruptedException {
    long until = System.nanoTime() + within.toNanos();
    Object last = "nothing";
    while (true) {
      try {
        var host = cluster.hostOf(typeName, entityId);
        if (host.isPresent()) {
          return host.get();
        }
      } catch (UncheckedIOException | AssertionError notAnswering) {
        last = notAnswering; // a node busy with a failover may not answer in time: ask again
      }
      if (System.nanoTime() > until) {
        throw new AssertionError("no node hosts " + typeName + " " + entityId + " after " + within + " (last: " + last + ")");
      }
      TimeUnit.MILLISECONDS.sleep(100); // polling interval
    }
  }

  static int[] otherThan(int node) {
    int[] others = new int[TestCluster.SIZE - 1];
    for (int i = 0, j = 0; i < TestCluster.SIZE; i++) {
      if (i != node) {
        others[j++] = i;
      }
    }
    return others;
  }

  static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}

package io.regcast.e2e;

import static io.regcast.e2e.ClusterScene.PATH;
import static io.regcast.e2e.ClusterScene.WARM_UP;
import static io.regcast.e2e.ClusterScene.awaitHost;
import static io.regcast.e2e.ClusterScene.awaitNumber;
import static io.regcast.e2e.ClusterScene.hasNumber;
import static io.regcast.e2e.ClusterScene.measured;
import static io.regcast.e2e.ClusterScene.ms;
import static io.regcast.e2e.ClusterScene.otherThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A real cluster: three JVMs of the fat jar on one PostgreSQL ({@link TestCluster}, shared with
 * other cluster test classes), real WebSocket clients ({@link BroadcastClient}) on every node,
 * events in as a registry's webhook notifications.
 *
 * <p>Each test creates its own resources (fresh names) in the shared catalog. A gateway created a
 * moment ago is served on every node at once (one broadcast topic, known to every node before it
 * is ready): each test's first batch, sent as soon as its clients are connected, must reach every
 * client ({@link #firstBatchReachesEveryone}); then the test asserts exactly what each receives.
 */
@ExtendWith(ClusterExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {
  private static final String CONNECTIONS = "/apigateways/websocket/v1/connections/";
  /** For a request, a connection, a message that is due. */
  private static final Duration WAIT = Duration.ofSeconds(15);
  /** How long nothing more may arrive after the expected messages. */
  private static final Duration QUIET = Duration.ofSeconds(1);

  // ---- 1. fan-out across the cluster ----

  private static final int FANOUT_EVENTS = 20;
  private static final int CLIENTS_PER_NODE = 2;

  /**
   * Two clients on each of the three nodes; {@value #FANOUT_EVENTS} notifications ingested one
   * after the other on the first node, each one event and one message (batch size 1): every
   * client receives each message exactly once, in the order of ingest.
   */
  @Test
  @Order(1)
  void aMessageIngestedOnOneNodeReachesEveryClientOnEveryNodeExactlyOnceInOrder(TestCluster cluster)
      throws Exception {
    JsonHttp api = cluster.api(0);
    ClusterScene scene = ClusterScene.create(api, "fanout", 1, "1s");
    List<BroadcastClient> clients = new ArrayList<>();
    try {
      for (int node = 0; node < TestCluster.SIZE; node++) {
        for (int c = 0; c < CLIENTS_PER_NODE; c++) {
          clients.add(scene.connect(cluster, node, "fanout-node" + (node + 1) + "-client" + (c + 1)));
        }
      }
      firstBatchReachesEveryone(api, scene, 1, clients);

      long firstSent = System.nanoTime();
      for (long n = 1; n <= FANOUT_EVENTS; n++) {
        scene.ingest(api, n);
      }
      long lastAccepted = System.nanoTime();
      long lastArrival = 0;
      for (BroadcastClient client : clients) {
        lastArrival = Math.max(lastArrival, awaitNumber(client, FANOUT_EVENTS, WAIT));
      }
      clients.get(0).poll(QUIET); // a quiet period: whatever else was coming has arrived
      List<Long> expected = new ArrayList<>();
      for (long n = 1; n <= FANOUT_EVENTS; n++) {
        expected.add(n);
      }
      for (BroadcastClient client : clients) {
        List<List<Long>> messages = measured(client);
        List<Long> numbers = messages.stream().flatMap(List::stream).toList();
        assertEquals(expected, numbers, () -> client.name() + ": each event once, in order; got " + messages);
        assertTrue(messages.stream().allMatch(m -> m.size() == 1), () -> client.name() + ": one event per message: " + messages);
      }
      System.out.printf(
          "[fan-out] %d events ingested on node 1 in %d ms; all %d clients on %d nodes had every message %d ms after the"
              + " last 202 (%d ms after the first was sent)%n",
          FANOUT_EVENTS, ms(lastAccepted - firstSent), clients.size(), TestCluster.SIZE,
          ms(lastArrival - lastAccepted), ms(lastArrival - firstSent));
    } finally {
      clients.forEach(BroadcastClient::close);
    }
  }

  // ---- 6. the connections API across nodes ----

  /**
   * A connection held by node 3, driven through node 1's API: get, send (text and binary) and
   * disconnect (close 1000); afterwards it is 404 on every node.
   */
  @Test
  @Order(2)
  void theConnectionsApiOfNodeOneDrivesAConnectionHeldByNodeThree(TestCluster cluster) throws Exception {
    JsonHttp viaFirst = cluster.api(0);
    ClusterScene scene = ClusterScene.create(viaFirst, "conn", 1, "1s");
    try (BroadcastClient client = scene.connect(cluster, 2, "connections-api-client")) {
      String id = viaFirst.awaitConnectionId(scene.gatewayId(), client, WAIT);

      JsonNode got = viaFirst.get(CONNECTIONS + id).ok();
      assertEquals(id, got.path("id").asText(), got::toString);
      assertEquals(scene.gatewayId(), got.path("gatewayId").asText(), got::toString);
      assertEquals(client.userAgent(), got.path("identity").path("userAgent").asText(), got::toString);
      assertFalse(got.path("connectedAt").asText().isEmpty(), got::toString);

      String text = "hello from node 1 to a client of node 3";
      viaFirst.post(CONNECTIONS + id + ":send", Map.of("data", base64(text.getBytes(StandardCharsets.UTF_8)), "type", "TEXT")).ok();
      assertEquals(text, client.next(WAIT).text());
      byte[] binary = {0, 1, 2, (byte) 0xff};
      viaFirst.post(CONNECTIONS + id + ":send", Map.of("data", base64(binary), "type", "BINARY")).ok();
      assertEquals("binary message of 4 bytes", client.next(WAIT).text());

      viaFirst.delete(CONNECTIONS + id).ok();
      assertTrue(client.awaitEnd(WAIT), () -> "still open after DELETE: " + client);
      assertTrue(client.ending().startsWith("close 1000"), client::ending);
      for (int node = 0; node < TestCluster.SIZE; node++) {
        JsonHttp api = cluster.api(node);
        JsonNode gone = awaitStatus(api, CONNECTIONS + id, 404);
        assertEquals("NOT_FOUND", gone.path("status").asText(), gone::toString);
      }
    }
  }

  // ---- 5. a node leaves gracefully ----

  /**
   * A trigger (batch size 3, cutoff 60 s) holds an open batch of two events on node H when H is
   * stopped with SIGTERM: H's clients are closed with 1001, H leaves, the trigger starts on
   * another node with its open batch, and the third event fills it — one message with the three
   * events, in order, to every client of the remaining nodes.
   */
  @Test
  @Order(3)
  void aNodeThatLeavesHandsItsTriggersOverAndClosesItsClientsWith1001(TestCluster cluster) throws Exception {
    ClusterScene scene = ClusterScene.create(cluster.api(0), "handover", 3, "60s");
    int host = awaitHost(cluster, "Trigger", scene.triggerId(), WAIT);
    int[] others = otherThan(host);
    List<BroadcastClient> clients = new ArrayList<>();
    try {
      for (int node = 0; node < TestCluster.SIZE; node++) {
        clients.add(scene.connect(cluster, node, "handover-node" + (node + 1)));
      }
      firstBatchReachesEveryone(cluster.api(others[0]), scene, 3, clients);
      scene.ingest(cluster.api(others[0]), 1);
      scene.ingest(cluster.api(others[1]), 2);

      long stopping = System.nanoTime();
      int exit = cluster.stopGracefully(host);
      long exited = System.nanoTime();
      assertTrue(exit == 0 || exit == 143, "exit code after SIGTERM: " + exit);
      BroadcastClient hostClient = clients.get(host);
      assertTrue(hostClient.awaitEnd(WAIT), () -> "the leaving node's client is still open: " + hostClient);
      assertTrue(hostClient.ending().startsWith("close 1001"), hostClient::ending);
      awaitMembers(cluster, others, TestCluster.SIZE - 1);
      long removed = System.nanoTime();

      scene.ingest(cluster.api(others[1]), 3);
      long lastAccepted = System.nanoTime();
      long arrived = 0;
      for (int node : others) {
        arrived = Math.max(arrived, awaitNumber(clients.get(node), 3, WAIT));
      }
      clients.get(others[0]).poll(QUIET);
      for (int node : others) {
        BroadcastClient client = clients.get(node);
        assertEquals(List.of(List.of(1L, 2L, 3L)), measured(client),
            () -> client.name() + ": the handed-over batch, once, in order");
      }
      assertEquals(List.of(), measured(hostClient), "nothing reached the leaving node's client before it left");
      int newHost = awaitHost(cluster, "Trigger", scene.triggerId(), WAIT);
      assertNotEquals(host, newHost);
      System.out.printf(
          "[leave] node %d (host of the trigger) exited %d ms after SIGTERM, removed from the others' view %d ms after"
              + " SIGTERM; the trigger now on node %d; the handed-over batch reached the remaining clients %d ms after the"
              + " last 202%n",
          host + 1, ms(exited - stopping), ms(removed - stopping), newHost + 1, ms(arrived - lastAccepted));
    } finally {
      clients.forEach(BroadcastClient::close);
    }
    long restarting = System.nanoTime();
    cluster.restart(host);
    cluster.awaitHealthy(TestCluster.HEALTHY_DEADLINE);
    System.out.printf("[leave] node %d rejoined and ready in %d ms%n", host + 1, ms(System.nanoTime() - restarting));
  }

  // ---- 7. the metrics count what happened ----

  private static final int COUNTED_EVENTS = 12;

  /** The counters a scenario moves, and by how much per event (one event per ingest, batches of one). */
  private static final Map<String, Integer> PER_EVENT =
      Map.of(
          "regcast_events_received_total", 1,
          "regcast_events_derived_total", 1,
          "regcast_events_filtered_total{result=\"matched\"}", 1,
          "regcast_events_delivered_total", 1,
          "regcast_batches_sent_total", 1,
          "regcast_messages_published_total", 1,
          // each message reaches the gateway of every node, and is written to the one client there
          "regcast_gateway_broadcasts_total", TestCluster.SIZE,
          "regcast_gateway_messages_written_total", TestCluster.SIZE);

  /**
   * One client on each node; {@value #COUNTED_EVENTS} events ingested round-robin through the
   * three nodes. Summed over the nodes, each counter grew by exactly what happened; each node's
   * open-connections gauge shows its one client on the path.
   */
  @Test
  @Order(5)
  void theMetricsOfAllNodesAddUpToTheEventsOfAScenario(TestCluster cluster) throws Exception {
    ClusterScene scene = ClusterScene.create(cluster.api(0), "metrics", 1, "1s");
    List<BroadcastClient> clients = new ArrayList<>();
    try {
      for (int node = 0; node < TestCluster.SIZE; node++) {
        clients.add(scene.connect(cluster, node, "metrics-node" + (node + 1)));
      }
      firstBatchReachesEveryone(cluster.api(0), scene, 1, clients);
      Map<String, Double> before = summed(cluster);
      for (long n = 1; n <= COUNTED_EVENTS; n++) {
        scene.ingest(cluster.api((int) (n % TestCluster.SIZE)), n);
      }
      for (BroadcastClient client : clients) {
        awaitNumber(client, COUNTED_EVENTS, WAIT);
      }
      clients.get(0).poll(QUIET); // whatever else was coming has arrived
      Map<String, Double> after = summed(cluster);
      Map<String, Double> grew = new java.util.TreeMap<>();
      Map<String, Double> expected = new java.util.TreeMap<>();
      PER_EVENT.forEach((counter, perEvent) -> {
        grew.put(counter, after.get(counter) - before.get(counter));
        expected.put(counter, (double) perEvent * COUNTED_EVENTS);
      });
      assertEquals(expected, grew, "counter growth summed over the nodes");
      String open = "regcast_gateway_connections_open{gateway_id=\"" + scene.gatewayId() + "\",path=\"" + PATH + "\"}";
      for (int node = 0; node < TestCluster.SIZE; node++) {
        assertEquals(1.0, PrometheusScrape.of(cluster.node(node).baseUrl()).value(open), "node " + (node + 1) + ": " + open);
      }
      System.out.printf("[metrics] after %d events through 3 nodes, the counters summed over the nodes: %s%n",
          COUNTED_EVENTS, grew);
    } finally {
      clients.forEach(BroadcastClient::close);
    }
  }

  /** Each counter of {@link #PER_EVENT}, summed over the nodes. */
  private static Map<String, Double> summed(TestCluster cluster) {
    Map<String, Double> out = new HashMap<>();
    for (int node = 0; node < TestCluster.SIZE; node++) {
      PrometheusScrape scrape = PrometheusScrape.of(cluster.node(node).baseUrl());
      PER_EVENT.keySet().forEach(counter -> out.merge(counter, scrape.value(counter), Double::sum));
    }
    return out;
  }

  // ---- 8. readiness follows the journal ----

  private static final Duration NOT_READY_WITHIN = Duration.ofSeconds(10);
  private static final Duration READY_AGAIN_WITHIN = Duration.ofSeconds(30);

  /**
   * PostgreSQL stops: every node's /ready answers 503 within 10 s (and /alive stays 200); it
   * starts again: /ready answers 200 again.
   */
  @Test
  @Order(4)
  void readinessTurns503WithinTenSecondsOfPostgresStoppingAnd200WhenItReturns(TestCluster cluster) throws Exception {
    for (int node = 0; node < TestCluster.SIZE; node++) {
      assertEquals(200, cluster.readiness(node), "node " + (node + 1) + " before");
    }
    long stopped = System.nanoTime();
    cluster.stopPostgres();
    long[] notReady = awaitReadiness(cluster, 503, stopped, NOT_READY_WITHIN);
    for (int node = 0; node < TestCluster.SIZE; node++) {
      assertEquals(200, cluster.liveness(node), "node " + (node + 1) + " /alive while PostgreSQL is down");
    }
    long started = System.nanoTime();
    cluster.startPostgres();
    long[] readyAgain = awaitReadiness(cluster, 200, started, READY_AGAIN_WITHIN);
    System.out.printf(
        "[readiness] /ready 503 after PostgreSQL stopped: %s ms; /ready 200 after it started again: %s ms%n",
        java.util.Arrays.toString(notReady), java.util.Arrays.toString(readyAgain));
  }

  // ---- helpers ----

  /** Per node, milliseconds from {@code since} until its /ready answered {@code status}. */
  private static long[] awaitReadiness(TestCluster cluster, int status, long since, Duration within)
      throws InterruptedException {
    long[] after = new long[TestCluster.SIZE];
    java.util.Arrays.fill(after, -1);
    int[] last = new int[TestCluster.SIZE];
    while (true) {
      boolean all = true;
      for (int node = 0; node < TestCluster.SIZE; node++) {
        if (after[node] < 0) {
          last[node] = cluster.readiness(node);
          if (last[node] == status) {
            after[node] = ms(System.nanoTime() - since);
          } else {
            all = false;
          }
        }
      }
      if (all) {
        return after;
      }
      if (System.nanoTime() - since > within.toNanos()) {
        throw new AssertionError(
            "/ready did not answer " + status + " on every node within " + within + ": last answers "
                + java.util.Arrays.toString(last) + ", reached after (ms) " + java.util.Arrays.toString(after));
      }
      TimeUnit.MILLISECONDS.sleep(100); // polling interval
    }
  }

  /**
   * Ingests one batch of {@code batchSize} events numbered from {@link ClusterScene#WARM_UP} right after the
   * gateway's creation and its clients' connection: every client must get it (no warm-up).
   */
  private static void firstBatchReachesEveryone(JsonHttp api, ClusterScene scene, int batchSize, List<BroadcastClient> clients)
      throws InterruptedException {
    long last = WARM_UP + batchSize - 1;
    for (long n = WARM_UP; n <= last; n++) {
      scene.ingest(api, n);
    }
    for (BroadcastClient client : clients) {
      assertTrue(hasNumber(client, last, WAIT), () -> "the first batch did not reach " + client);
    }
  }

  /** Waits until each of {@code nodes} sees exactly {@code count} members, all Up. */
  private static void awaitMembers(TestCluster cluster, int[] nodes, int count) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    for (int node : nodes) {
      while (true) {
        Map<String, String> members = cluster.members(node);
        if (members.size() == count && members.values().stream().allMatch("Up"::equals)) {
          break;
        }
        if (System.nanoTime() > until) {
          throw new AssertionError("node " + (node + 1) + " sees " + members + ", not " + count + " members Up");
        }
        TimeUnit.MILLISECONDS.sleep(100); // polling interval
      }
    }
  }

  private static JsonNode awaitStatus(JsonHttp api, String path, int status) throws InterruptedException {
    long until = System.nanoTime() + WAIT.toNanos();
    while (true) {
      JsonHttp.Response response = api.get(path);
      if (response.status() == status || System.nanoTime() > until) {
        return response.expect(status);
      }
      TimeUnit.MILLISECONDS.sleep(100); // polling interval
    }
  }

  private static String base64(byte[] data) {
    return Base64.getEncoder().encodeToString(data);
  }
}

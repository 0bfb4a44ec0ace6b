package io.regcast.api;

import static io.regcast.testing.ApiClient.object;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import io.regcast.node.Node;
import io.regcast.testing.ApiClient;
import io.regcast.testing.Envelopes;
import io.regcast.testing.PrometheusText;
import io.regcast.testing.RawWebSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /metrics} after a known scenario driven through the real ingest API to real WebSocket
 * clients: every counter equals what the scenario implies. A node of its own (the shared node's
 * counters carry every other test's traffic), with one event loop so that the ingest-to-socket
 * histogram sees each message once.
 */
class MetricsApiTest {
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final String DIST = "application/vnd.docker.distribution.events.v1+json";
  private static final String ADMIN_KEY = "metrics-test-admin-key-0123456789";
  private static final String BROADCASTER = "api-gateway.websocketBroadcaster";
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static Path dataDir;
  private static Node node;
  private static ApiClient api;

  @BeforeAll
  static void startNode() throws Exception {
    dataDir = Files.createTempDirectory("regcast-metrics-test-");
    node = Node.start(ConfigFactory.parseMap(Map.of(
        "regcast.data-dir", dataDir.toString(),
        "regcast.http.port", 0,
        "regcast.cluster.port", 0,
        "regcast.gateway.port", 0,
        "regcast.gateway.event-loop-threads", 1,
        "regcast.gateway.slow-consumer.max-queued-bytes", "64k",
        "regcast.iam.admin-key", ADMIN_KEY)));
    api = new ApiClient("http://127.0.0.1:" + node.httpAddress().getPort(), ADMIN_KEY);
  }

  @AfterAll
  static void stopNode() throws Exception {
    node.close();
    try (Stream<Path> files = Files.walk(dataDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void countersEqualTheEventsOfAKnownScenario() throws Exception {
    ApiClient.Setup s = api.setup();
    String folder = "/resource-manager/v1/folders/" + s.folderId();
    // A: create events of image "app" on /ws, two to a batch.
    trigger(s, "metrics-a", "/ws", s.serviceAccountId(), 2,
        List.of("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", "CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE_TAG"), "app");
    // B: everything on /other, paused.
    String paused = trigger(s, "metrics-b", "/other", s.serviceAccountId(), 1, ALL_TYPES, null);
    api.post("/triggers/v1/triggers/" + paused + ":pause", "").expect(200);
    // C: everything on /other, five to a batch, as an account that then loses the right to broadcast.
    String account = api.createInFolder("/iam/v1/serviceAccounts", s.folderId(), object());
    api.grant(account, "serviceAccount", BROADCASTER, folder);
    trigger(s, "metrics-c", "/other", account, 5, ALL_TYPES, null);
    api.revoke(account, "serviceAccount", BROADCASTER, folder);

    try (RawWebSocket first = connect(s.gatewayId(), "/ws", RawWebSocket.Options.DEFAULTS);
        RawWebSocket other = connect(s.gatewayId(), "/other", RawWebSocket.Options.DEFAULTS)) {
      RawWebSocket second = connect(s.gatewayId(), "/ws", RawWebSocket.Options.DEFAULTS);
      Instant at = Instant.parse("2026-11-28T13:55:53Z");
      ObjectNode pushes = Envelopes.envelope(
          Envelopes.push("app", Envelopes.digest(1), "v1", at), Envelopes.push("other", Envelopes.digest(2), "v1", at));
      notify(s.registryId(), pushes);
      notify(s.registryId(), pushes); // re-sent: both are duplicates
      notify(s.registryId(), Envelopes.envelope(Envelopes.deleteTag("app", "v1", at)));
      assertEquals(2, nextMessage(first).size(), "A's batch: CreateImage and CreateImageTag of app");
      assertEquals(2, nextMessage(second).size());

      String ws = "{gateway_id=\"" + s.gatewayId() + "\",path=\"/ws\"}";
      String otherPath = "{gateway_id=\"" + s.gatewayId() + "\",path=\"/other\"}";
      Map<String, Double> expected = new LinkedHashMap<>();
      // 2 new operations and a tag delete; the re-sent notification's 2 are duplicates.
      expected.put("regcast_events_received_total", 3.0);
      expected.put("regcast_events_duplicate_total", 2.0);
      // CreateImage + CreateImageTag per push, DeleteImageTag for the tag delete.
      expected.put("regcast_events_derived_total", 5.0);
      // A matches 2 and rejects 3; B, paused, drops all 5; C matches all 5.
      expected.put("regcast_events_filtered_total{result=\"matched\"}", 7.0);
      expected.put("regcast_events_filtered_total{result=\"rejected\"}", 3.0);
      expected.put("regcast_events_filtered_total{result=\"paused\"}", 5.0);
      // A's one batch of 2, one message; C's batch of 5 is dropped: an access error.
      expected.put("regcast_events_delivered_total", 2.0);
      expected.put("regcast_batches_sent_total", 1.0);
      expected.put("regcast_batch_size_events_count", 1.0);
      expected.put("regcast_batch_size_events_sum", 2.0);
      expected.put("regcast_batch_size_events_bucket{le=\"1.0\"}", 0.0);
      expected.put("regcast_batch_size_events_bucket{le=\"2.0\"}", 1.0);
      expected.put("regcast_messages_published_total", 1.0);
      expected.put("regcast_access_errors_total", 1.0);
      // The message reached this node's gateway once and was written to both /ws connections.
      expected.put("regcast_gateway_broadcasts_total", 1.0);
      expected.put("regcast_gateway_messages_written_total", 2.0);
      expected.put("regcast_gateway_connections_opened_total", 3.0);
      expected.put("regcast_gateway_connections_open" + ws, 2.0);
      expected.put("regcast_gateway_connections_open" + otherPath, 1.0);
      expected.put("regcast_gateway_slow_consumer_disconnects_total", 0.0);
      expected.put("regcast_ingest_duration_seconds_count", 3.0);
      expected.put("regcast_ingest_to_socket_seconds_count", 1.0);
      // The duplicate-only request writes nothing.
      expected.put("regcast_journal_write_duration_seconds_count{entity=\"registry\"}", 2.0);
      awaitMetrics(expected);

      second.close();
      awaitMetrics(Map.of("regcast_gateway_connections_open" + ws, 1.0));

      // A client that stops reading while messages are sent to it is cut (queue limit 64 KiB).
      try (RawWebSocket slow = connect(s.gatewayId(), "/other", RawWebSocket.Options.DEFAULTS.withReceiveBufferSize(4096))) {
        slow.stopReading();
        String id = slow.header("X-Yc-Apigateway-Websocket-Connection-Id");
        ObjectNode send = object().put("type", "BINARY").put("data", Base64.getEncoder().encodeToString(new byte[100_000]));
        long deadline = System.nanoTime() + WAIT.toNanos();
        int sent = 0;
        while (api.post("/apigateways/websocket/v1/connections/" + id + ":send", send).status() == 200) {
          sent++;
          assertTrue(System.nanoTime() < deadline, "the slow client was not cut after " + sent + " messages");
        }
      }
      awaitMetrics(Map.of(
          "regcast_gateway_slow_consumer_disconnects_total", 1.0,
          "regcast_gateway_connections_open" + otherPath, 1.0,
          "regcast_gateway_connections_opened_total", 4.0));
    }
  }

  @Test
  void metricsAreOpenAndSpeakPrometheusTextOrOpenMetricsAsAsked() throws Exception {
    ApiClient anonymous = api.withKey(null);
    ApiClient.Answer text = anonymous.get("/metrics").expect(200);
    assertEquals("text/plain; version=0.0.4; charset=utf-8", text.contentType().toLowerCase(Locale.ROOT));
    assertTrue(text.text().contains("# TYPE regcast_events_received_total counter"), text.text());
    assertTrue(text.text().contains("# TYPE regcast_ingest_to_socket_seconds histogram"), text.text());
    assertTrue(text.text().contains("jvm_memory_used_bytes"), "JVM metrics are on by default");

    HttpResponse<String> open = HTTP.send(
        HttpRequest.newBuilder(URI.create(api.base() + "/metrics"))
            .header("Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8").build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, open.statusCode());
    assertTrue(open.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text"),
        open.headers().toString());
    assertTrue(open.body().endsWith("# EOF\n"), "an OpenMetrics exposition ends with # EOF");
  }

  private static final List<String> ALL_TYPES = List.of(
      "CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE",
      "CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE",
      "CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE_TAG",
      "CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE_TAG");

  private static String trigger(
      ApiClient.Setup s, String name, String path, String account, int size, List<String> types, String imageName) {
    ObjectNode body = s.trigger(ApiClient.uniqueName(name));
    ObjectNode rule = (ObjectNode) body.get("rule").get("containerRegistry");
    var eventTypes = rule.putArray("eventType");
    types.forEach(eventTypes::add);
    rule.putObject("batchSettings").put("size", size).put("cutoff", "60s");
    if (imageName != null) {
      rule.put("imageName", imageName);
    }
    ((ObjectNode) rule.get("gatewayWebsocketBroadcast")).put("path", path).put("serviceAccountId", account);
    return api.post("/triggers/v1/triggers", body).expect(200).responseId();
  }

  /** A client on a path, once the gateway has registered it. */
  private static RawWebSocket connect(String gateway, String path, RawWebSocket.Options options) throws Exception {
    RawWebSocket ws = RawWebSocket.open(
        "127.0.0.1", node.gateway().address().getPort(), "/gateways/" + gateway + path, Map.of(), options);
    assertEquals(101, ws.status());
    String id = ws.header("X-Yc-Apigateway-Websocket-Connection-Id");
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (api.get("/apigateways/websocket/v1/connections/" + id).status() != 200) {
      assertTrue(System.nanoTime() < deadline, "connection not registered");
    }
    return ws;
  }

  private static void notify(String registry, ObjectNode envelope) {
    api.raw("POST", "/container-registry/v1/registries/" + registry + "/notifications", DIST,
            envelope.toString().getBytes(StandardCharsets.UTF_8))
        .expect(202);
  }

  /** The next message's events (keep-alive pings skipped). */
  private static List<JsonNode> nextMessage(RawWebSocket ws) throws Exception {
    while (true) {
      RawWebSocket.Frame frame = ws.readFrame(WAIT);
      if (frame.opcode() == RawWebSocket.OP_TEXT) {
        List<JsonNode> events = new ArrayList<>();
        ApiClient.JSON.readTree(frame.text()).get("messages").forEach(events::add);
        return events;
      }
    }
  }

  /**
   * Scrapes until every expected sample has its value (counting happens after the answers the
   * test waits for, on the entities' and event loops' threads); fails with the difference.
   */
  private static void awaitMetrics(Map<String, Double> expected) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    Map<String, Double> actual;
    while (true) {
      Map<String, Double> samples = PrometheusText.parse(api.withKey(null).get("/metrics").expect(200).text());
      actual = new TreeMap<>();
      for (String key : expected.keySet()) {
        actual.put(key, samples.get(key));
      }
      if (actual.equals(new TreeMap<>(expected)) || System.nanoTime() > deadline) {
        break;
      }
      Thread.onSpinWait();
    }
    assertEquals(new TreeMap<>(expected), actual);
  }
}

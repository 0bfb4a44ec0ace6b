package io.regcast.api;

import static io.regcast.testing.ApiClient.object;
import static io.regcast.testing.Envelopes.deleteManifest;
import static io.regcast.testing.Envelopes.deleteTag;
import static io.regcast.testing.Envelopes.digest;
import static io.regcast.testing.Envelopes.envelope;
import static io.regcast.testing.Envelopes.push;
import static io.regcast.testing.Envelopes.pushBlob;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.node.Node;
import io.regcast.testing.ApiClient;
import io.regcast.testing.RawWebSocket;
import io.regcast.testing.SharedNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Registry events in over the ingest API, messages out on real WebSocket connections: the event
 * semantics, the message format, batching, filters and pause as a client sees them.
 */
@ExtendWith(SharedNode.class)
class IngestApiTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String DIST = "application/vnd.docker.distribution.events.v1+json";
  private static final List<String> ALL_TYPES =
      List.of(
          "CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE",
          "CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE",
          "CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE_TAG",
          "CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE_TAG");
  private static final String TYPE = "yandex.cloud.events.containerregistry.";

  /** A setup, a trigger on it and a client on its path. */
  private record Scene(ApiClient.Setup setup, String triggerId, RawWebSocket client) implements AutoCloseable {
    @Override
    public void close() {
      client.close();
    }
  }

  private static Scene scene(ApiClient api, Node node, int size, String cutoff, List<String> types, Map<String, String> filters)
      throws Exception {
    ApiClient.Setup s = api.setup();
    ObjectNode body = s.trigger("ingest-" + Math.abs(System.nanoTime() % 100000));
    ObjectNode cr = (ObjectNode) body.get("rule").get("containerRegistry");
    var eventTypes = cr.putArray("eventType");
    types.forEach(eventTypes::add);
    cr.putObject("batchSettings").put("size", size).put("cutoff", cutoff);
    filters.forEach(cr::put);
    String trigger = api.post("/triggers/v1/triggers", body).expect(200).responseId();
    return new Scene(s, trigger, connect(api, node, s.gatewayId(), "/ws"));
  }

  private static RawWebSocket connect(ApiClient api, Node node, String gateway, String path) throws Exception {
    RawWebSocket ws = RawWebSocket.open("127.0.0.1", node.gateway().address().getPort(), "/gateways/" + gateway + path, Map.of());
    assertEquals(101, ws.status());
    String id = ws.header("X-Yc-Apigateway-Websocket-Connection-Id");
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (api.get("/apigateways/websocket/v1/connections/" + id).status() != 200) {
      assertTrue(System.nanoTime() < deadline, "connection not registered");
    }
    return ws;
  }

  private static void notify(ApiClient api, String registry, ObjectNode envelope) {
    api.raw("POST", "/container-registry/v1/registries/" + registry + "/notifications", DIST,
            envelope.toString().getBytes(StandardCharsets.UTF_8))
        .expect(202);
  }

  /** The next message's events (keep-alive pings skipped). */
  private static List<JsonNode> nextMessage(RawWebSocket ws) throws Exception {
    while (true) {
      RawWebSocket.Frame frame = ws.readFrame(WAIT);
      if (frame.opcode() == RawWebSocket.OP_TEXT) {
        JsonNode message = ApiClient.JSON.readTree(frame.text());
        assertEquals(List.of("messages"), iterable(message.fieldNames()));
        List<JsonNode> events = new ArrayList<>();
        message.get("messages").forEach(events::add);
        return events;
      }
    }
  }

  private static List<String> iterable(java.util.Iterator<String> names) {
    List<String> out = new ArrayList<>();
    names.forEachRemaining(out::add);
    return out;
  }

  /** The next {@code count} events, one message each (batch size 1). */
  private static List<JsonNode> nextEvents(RawWebSocket ws, int count) throws Exception {
    List<JsonNode> events = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      List<JsonNode> message = nextMessage(ws);
      assertEquals(1, message.size(), "batch size 1 sends events alone");
      events.add(message.get(0));
    }
    return events;
  }

  private static void assertEvent(JsonNode e, String type, String digest, String repository, String tag) {
    assertEquals(TYPE + type, e.get("event_metadata").get("event_type").asText(), e.toString());
    assertEquals(digest, e.get("details").get("image_digest").asText(), e.toString());
    assertEquals(repository, e.get("details").get("repository_name").asText(), e.toString());
    assertEquals(tag, e.get("details").get("tag").asText(), e.toString());
  }

  /** Sends a marker to one connection: the next frame it reads proves nothing came before. */
  private static void assertNothingBefore(ApiClient api, RawWebSocket ws) throws Exception {
    String id = ws.header("X-Yc-Apigateway-Websocket-Connection-Id");
    String marker = Base64.getEncoder().encodeToString("marker".getBytes(StandardCharsets.UTF_8));
    api.post("/apigateways/websocket/v1/connections/" + id + ":send", object().put("data", marker)).expect(200);
    RawWebSocket.Frame frame = ws.readFrame(WAIT);
    while (frame.opcode() == RawWebSocket.OP_PING) {
      frame = ws.readFrame(WAIT);
    }
    assertEquals("marker", frame.text(), "an unexpected message arrived before the marker");
  }

  @Test
  void imageLifecycleReachesTheClientAsTheReferenceEventsInOrder(ApiClient api, Node node) throws Exception {
    try (Scene sc = scene(api, node, 1, "1s", ALL_TYPES, Map.of());
        RawWebSocket otherPath = connect(api, node, sc.setup().gatewayId(), "/other")) {
      String registry = sc.setup().registryId();
      String repo = registry + "/demo/hello";
      Instant t0 = Instant.parse("2026-11-28T13:55:53.043627551Z");
      String a = digest(1);
      String b = digest(2);

      notify(api, registry, envelope(pushBlob("demo/hello", digest(99), t0), push("demo/hello", a, "v1", t0)));
      List<JsonNode> pushed = nextEvents(sc.client(), 2);
      assertEvent(pushed.get(0), "CreateImage", a, repo, "v1");
      assertEvent(pushed.get(1), "CreateImageTag", a, repo, "v1");
      JsonNode meta = pushed.get(0).get("event_metadata");
      assertEquals(List.of("cloud_id", "created_at", "event_id", "event_type", "folder_id"), iterable(meta.fieldNames()));
      assertEquals(List.of("image_digest", "image_id", "registry_id", "repository_name", "tag"),
          iterable(pushed.get(0).get("details").fieldNames()));
      assertEquals(sc.setup().cloudId(), meta.get("cloud_id").asText());
      assertEquals(sc.setup().folderId(), meta.get("folder_id").asText());
      assertEquals(t0, Instant.parse(meta.get("created_at").asText()));
      assertEquals(registry, pushed.get(0).get("details").get("registry_id").asText());
      String imageA = pushed.get(0).get("details").get("image_id").asText();
      assertEquals(imageA, pushed.get(1).get("details").get("image_id").asText());

      notify(api, registry, envelope(push("demo/hello", a, "latest", t0.plusSeconds(1))));
      assertEvent(nextEvents(sc.client(), 1).get(0), "CreateImageTag", a, repo, "latest");

      notify(api, registry, envelope(push("demo/hello", b, "v1", t0.plusSeconds(2))));
      List<JsonNode> moved = nextEvents(sc.client(), 3);
      assertEvent(moved.get(0), "CreateImage", b, repo, "v1");
      assertEvent(moved.get(1), "DeleteImageTag", a, repo, "v1");
      assertEvent(moved.get(2), "CreateImageTag", b, repo, "v1");
      assertNotEquals(imageA, moved.get(0).get("details").get("image_id").asText());

      notify(api, registry, envelope(push("demo/hello", b, "v2", t0.plusSeconds(3))));
      assertEvent(nextEvents(sc.client(), 1).get(0), "CreateImageTag", b, repo, "v2");

      // skopeo delete: the manifest delete, then the registry's own tag deletes
      Instant gone = t0.plusSeconds(4);
      notify(api, registry, envelope(deleteManifest("demo/hello", b, gone)));
      notify(api, registry, envelope(deleteTag("demo/hello", "v1", gone), deleteTag("demo/hello", "v2", gone)));
      List<JsonNode> deleted = nextEvents(sc.client(), 3);
      assertEvent(deleted.get(0), "DeleteImage", b, repo, "");
      assertEvent(deleted.get(1), "DeleteImageTag", b, repo, "v1");
      assertEvent(deleted.get(2), "DeleteImageTag", b, repo, "v2");

      List<String> ids = new ArrayList<>();
      for (List<JsonNode> group : List.of(pushed, moved, deleted)) {
        group.forEach(e -> ids.add(e.get("event_metadata").get("event_id").asText()));
      }
      assertEquals(ids.size(), new HashSet<>(ids).size(), "event ids are unique");
      assertNothingBefore(api, sc.client());
      assertNothingBefore(api, otherPath);
    }
  }

  @Test
  void aNotificationSentTwiceIsProcessedOnce(ApiClient api, Node node) throws Exception {
    try (Scene sc = scene(api, node, 1, "1s", List.of("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE"), Map.of())) {
      ObjectNode first = envelope(push("app", digest(10), "v1", Instant.now()));
      notify(api, sc.setup().registryId(), first);
      notify(api, sc.setup().registryId(), first);
      notify(api, sc.setup().registryId(), envelope(push("app", digest(11), "v1", Instant.now())));
      assertEquals(digest(10), nextEvents(sc.client(), 1).get(0).get("details").get("image_digest").asText());
      assertEquals(digest(11), nextEvents(sc.client(), 1).get(0).get("details").get("image_digest").asText());
      assertNothingBefore(api, sc.client());
    }
  }

  @Test
  void eventsAreBatchedBySizeAndTheRestGoesWhenTheTriggerIsPaused(ApiClient api, Node node) throws Exception {
    try (Scene sc = scene(api, node, 3, "60s", List.of("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE_TAG"), Map.of())) {
      List<ObjectNode> pushes = new ArrayList<>();
      for (int i = 0; i < 7; i++) {
        pushes.add(push("app", digest(20), "t" + i, Instant.now()));
      }
      notify(api, sc.setup().registryId(), envelope(pushes.toArray(ObjectNode[]::new)));
      for (int batch = 0; batch < 2; batch++) {
        List<JsonNode> events = nextMessage(sc.client());
        assertEquals(3, events.size());
        for (int i = 0; i < 3; i++) {
          assertEquals("t" + (batch * 3 + i), events.get(i).get("details").get("tag").asText());
        }
      }
      assertNothingBefore(api, sc.client());
      api.post("/triggers/v1/triggers/" + sc.triggerId() + ":pause", "").expect(200);
      List<JsonNode> rest = nextMessage(sc.client());
      assertEquals(1, rest.size(), "pause flushes the open batch first");
      assertEquals("t6", rest.get(0).get("details").get("tag").asText());

      notify(api, sc.setup().registryId(), envelope(push("app", digest(20), "dropped", Instant.now())));
      api.post("/triggers/v1/triggers/" + sc.triggerId() + ":resume", "").expect(200);
      notify(api, sc.setup().registryId(), envelope(
          push("app", digest(20), "a", Instant.now()), push("app", digest(20), "b", Instant.now()),
          push("app", digest(20), "c", Instant.now())));
      List<String> tags = new ArrayList<>();
      nextMessage(sc.client()).forEach(e -> tags.add(e.get("details").get("tag").asText()));
      assertEquals(List.of("a", "b", "c"), tags, "a paused trigger dropped the event it got");
    }
  }

  @Test
  void aBatchGoesAtItsCutoff(ApiClient api, Node node) throws Exception {
    try (Scene sc = scene(api, node, 100, "1s", List.of("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE"), Map.of())) {
      long sent = System.nanoTime();
      notify(api, sc.setup().registryId(), envelope(push("app", digest(30), "v1", Instant.now()), push("app", digest(31), "v1", Instant.now())));
      List<JsonNode> events = nextMessage(sc.client());
      long waited = Duration.ofNanos(System.nanoTime() - sent).toMillis();
      assertEquals(2, events.size());
      assertTrue(waited >= 900, "sent after " + waited + " ms, before the cutoff");
    }
  }

  @Test
  void filtersLetThroughOnlyTheirImageAndTag(ApiClient api, Node node) throws Exception {
    try (Scene sc = scene(api, node, 1, "1s", ALL_TYPES, Map.of("imageName", "team/app", "tag", "prod"))) {
      String registry = sc.setup().registryId();
      notify(api, registry, envelope(
          push("team/other", digest(40), "prod", Instant.now()),
          push("team/app", digest(41), "dev", Instant.now()),
          push("team/app", digest(42), "prod", Instant.now())));
      List<JsonNode> events = nextEvents(sc.client(), 2);
      assertEvent(events.get(0), "CreateImage", digest(42), registry + "/team/app", "prod");
      assertEvent(events.get(1), "CreateImageTag", digest(42), registry + "/team/app", "prod");
      notify(api, registry, envelope(deleteManifest("team/app", digest(41), Instant.now()), deleteManifest("team/app", digest(42), Instant.now())));
      List<JsonNode> deleted = nextEvents(sc.client(), 2);
      assertEvent(deleted.get(0), "DeleteImage", digest(42), registry + "/team/app", "");
      assertEvent(deleted.get(1), "DeleteImageTag", digest(42), registry + "/team/app", "prod");
      assertNothingBefore(api, sc.client());
    }
  }

  @Test
  void nativeEventsPassAsTheyAreWithTracingContext(ApiClient api, Node node) throws Exception {
    try (Scene sc = scene(api, node, 1, "1s", ALL_TYPES, Map.of())) {
      String registry = sc.setup().registryId();
      ObjectNode body = object();
      body.putArray("events").addObject()
          .put("eventType", "CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE")
          .put("repositoryName", registry + "/native/app")
          .put("imageDigest", digest(50))
          .put("tag", "v9")
          .put("eventId", "native-1")
          .put("createdAt", "2020-09-07T11:09:14Z");
      String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
      api.raw("POST", "/container-registry/v1/registries/" + registry + "/events", "application/json",
              body.toString().getBytes(StandardCharsets.UTF_8))
          .expect(202);
      var sent = java.net.http.HttpRequest.newBuilder(java.net.URI.create(api.base() + "/container-registry/v1/registries/" + registry + "/events"))
          .header("Content-Type", "application/json")
          .header("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01")
          .header("Authorization", "Bearer " + SharedNode.ADMIN_KEY)
          .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body.toString().replace("native-1", "native-2").replace("v9", "v10")))
          .build();
      assertEquals(202, java.net.http.HttpClient.newHttpClient().send(sent, java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode());
      JsonNode first = nextEvents(sc.client(), 1).get(0);
      assertEvent(first, "CreateImage", digest(50), registry + "/native/app", "v9");
      assertEquals("2020-09-07T11:09:14Z", first.get("event_metadata").get("created_at").asText());
      assertFalse(first.get("event_metadata").has("tracing_context"));
      JsonNode traced = nextEvents(sc.client(), 1).get(0).get("event_metadata").get("tracing_context");
      assertEquals(traceId, traced.get("trace_id").asText());
      assertEquals("00f067aa0ba902b7", traced.get("parent_span_id").asText());
      assertTrue(traced.get("span_id").asText().matches("[0-9a-f]{16}"));
    }
  }

  @Test
  void badIngestRequestsAreRefusedAndApplyNothing(ApiClient api, Node node) throws Exception {
    try (Scene sc = scene(api, node, 1, "1s", List.of("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE"), Map.of())) {
      String registry = sc.setup().registryId();
      String path = "/container-registry/v1/registries/" + registry + "/notifications";
      byte[] good = envelope(push("app", digest(60), "v1", Instant.now())).toString().getBytes(StandardCharsets.UTF_8);
      api.raw("POST", "/container-registry/v1/registries/crtmissing/notifications", DIST, good).expect(404);
      api.raw("POST", path, "text/plain", good).expect(415);
      ObjectNode broken = push("app", digest(61), "v1", Instant.now());
      ((ObjectNode) broken.get("target")).remove("digest");
      JsonNode error = api.raw("POST", path, DIST,
              envelope(push("app", digest(62), "v1", Instant.now()), broken).toString().getBytes(StandardCharsets.UTF_8))
          .expect(400).json();
      assertEquals("events[1].target.digest", error.get("details").get(0).get("field").asText());
      api.raw("POST", path, DIST, "{\"events\":".getBytes(StandardCharsets.UTF_8)).expect(400);
      api.raw("POST", path, DIST, good).expect(202);
      assertEquals(digest(60), nextEvents(sc.client(), 1).get(0).get("details").get("image_digest").asText(),
          "the refused request's first event was not applied");
    }
  }
}

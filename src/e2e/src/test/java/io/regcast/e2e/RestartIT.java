package io.regcast.e2e;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node keeps every write it acknowledged across a restart on the same data directory, whether
 * it was stopped with SIGTERM or killed with SIGKILL right after the last acknowledgement.
 */
class RestartIT {
  private static final String CLOUDS = "/resource-manager/v1/clouds";
  private static final String FOLDERS = "/resource-manager/v1/folders";
  private static final String REGISTRIES = "/container-registry/v1/registries";
  private static final String GATEWAYS = "/apigateways/v1/apigateways";
  private static final String ACCOUNTS = "/iam/v1/serviceAccounts";
  private static final String TRIGGERS = "/triggers/v1/triggers";
  private static final String TRIGGER_NAME = "on-new-image";

  @TempDir Path dataDir;

  @Test
  void aNodeStoppedWithSigtermRestartsWithEveryWriteItAcknowledged() throws Exception {
    Acknowledged acknowledged;
    try (NodeProcess first = new NodeProcess("sigterm-first", dataDir)) {
      acknowledged = writeCatalog(started(first));
      int exitCode = first.stopGracefully();
      // 143 = 128 + SIGTERM: the JVM ran its shutdown hooks (Pekko's coordinated shutdown) and ended.
      assertTrue(exitCode == 0 || exitCode == 143, "exit code after SIGTERM: " + exitCode);
    }
    try (NodeProcess second = new NodeProcess("sigterm-second", dataDir)) {
      assertSurvived(acknowledged, started(second));
    }
  }

  @Test
  void aNodeKilledRightAfterAWriteRestartsWithEveryWriteItAcknowledged() throws Exception {
    Acknowledged acknowledged;
    try (NodeProcess first = new NodeProcess("sigkill-first", dataDir)) {
      acknowledged = writeCatalog(started(first));
      first.kill();
    }
    try (NodeProcess second = new NodeProcess("sigkill-second", dataDir)) {
      assertSurvived(acknowledged, started(second));
    }
  }

  /**
   * What the first node acknowledged: the resources the trigger refers to (cloud, folder,
   * registry, gateway, service account) as GET path → JSON, the trigger and its operations.
   */
  private record Acknowledged(
      Map<String, JsonNode> referenced,
      String folderId,
      Map<String, Object> triggerRequest,
      String triggerId,
      JsonNode trigger,
      List<JsonNode> triggerOperations) {}

  /**
   * Creates a cloud, folder, registry, gateway, service account and a trigger over them, then
   * pauses the trigger; the pause is the last write, acknowledged when this returns.
   */
  private static Acknowledged writeCatalog(JsonHttp api) {
    Map<String, JsonNode> referenced = new LinkedHashMap<>();
    JsonNode cloud = create(api, CLOUDS, Map.of("name", "e2e-cloud"), referenced);
    String cloudId = cloud.path("id").asText();
    String folderId =
        create(api, FOLDERS, Map.of("cloudId", cloudId, "name", "e2e-folder"), referenced)
            .path("id").asText();
    String registryId =
        create(api, REGISTRIES, Map.of("folderId", folderId, "name", "e2e-registry"), referenced)
            .path("id").asText();
    String gatewayId =
        create(
                api,
                GATEWAYS,
                Map.of("folderId", folderId, "name", "e2e-gateway", "websocketPaths", List.of("/ws")),
                referenced)
            .path("id").asText();
    String accountId =
        create(api, ACCOUNTS, Map.of("folderId", folderId, "name", "e2e-robot"), referenced)
            .path("id").asText();

    api.allowBroadcast(folderId, accountId);
    Map<String, Object> triggerRequest = triggerRequest(folderId, registryId, gatewayId, accountId);
    JsonNode createOp = write(api, TRIGGERS, triggerRequest);
    String triggerId = createOp.path("response").path("id").asText();
    assertEquals("ACTIVE", createOp.path("response").path("status").asText(), createOp::toString);

    JsonNode pauseOp = write(api, TRIGGERS + "/" + triggerId + ":pause", null);
    JsonNode trigger = pauseOp.path("response");
    assertEquals("PAUSED", trigger.path("status").asText(), pauseOp::toString);
    assertEquals(trigger, api.get(TRIGGERS + "/" + triggerId).ok(), "GET answers what the pause acknowledged");
    return new Acknowledged(
        referenced, folderId, triggerRequest, triggerId, trigger, List.of(createOp, pauseOp));
  }

  private static Map<String, Object> triggerRequest(
      String folderId, String registryId, String gatewayId, String accountId) {
    return Map.of(
        "folderId", folderId,
        "name", TRIGGER_NAME,
        "description", "new images, in batches of three",
        "labels", Map.of("env", "prod"),
        "rule",
            Map.of(
                "containerRegistry",
                Map.of(
                    "eventType", List.of("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE"),
                    "registryId", registryId,
                    "batchSettings", Map.of("size", "3", "cutoff", "20s"),
                    "gatewayWebsocketBroadcast",
                        Map.of("gatewayId", gatewayId, "path", "/ws", "serviceAccountId", accountId))));
  }

  /** Creates one resource and records it under its GET path; returns it as the write answered. */
  private static JsonNode create(
      JsonHttp api, String collection, Map<String, Object> body, Map<String, JsonNode> into) {
    JsonNode resource = write(api, collection, body).path("response");
    into.put(collection + "/" + resource.path("id").asText(), resource);
    return resource;
  }

  /** A write: 200 with a completed Operation that holds the written resource. */
  private static JsonNode write(JsonHttp api, String path, Object body) {
    JsonNode op = api.post(path, body).ok();
    for (String field : List.of("id", "description", "createdAt", "modifiedAt")) {
      assertFalse(op.path(field).asText().isEmpty(), () -> "Operation without " + field + ": " + op);
    }
    assertTrue(op.has("createdBy"), () -> "Operation without createdBy: " + op);
    assertTrue(op.path("done").asBoolean(), () -> "Operation not done: " + op);
    assertTrue(op.path("metadata").isObject(), () -> "Operation without metadata: " + op);
    assertFalse(op.path("response").path("id").asText().isEmpty(), () -> "Operation without resource: " + op);
    return op;
  }

  /** Every check runs (assertAll), so one failure report shows all that did not survive. */
  private static void assertSurvived(Acknowledged before, JsonHttp api) {
    String trigger = TRIGGERS + "/" + before.triggerId();
    List<Executable> checks = new ArrayList<>();
    checks.add(() -> {
      JsonNode recovered = api.get(trigger).ok();
      assertEquals("PAUSED", recovered.path("status").asText(), recovered::toString);
      JsonNode batch = recovered.path("rule").path("containerRegistry").path("batchSettings");
      assertEquals(JsonHttp.JSON.createObjectNode().put("size", "3").put("cutoff", "20s"), batch);
      assertEquals(before.trigger(), recovered, "the trigger as the pause acknowledged it");
    });
    before.referenced().forEach((path, json) -> checks.add(() -> assertEquals(json, api.get(path).ok(), path)));
    checks.add(() -> {
      JsonNode listed = api.get(TRIGGERS + "?folderId=" + before.folderId()).ok();
      assertEquals(List.of(before.trigger()), elements(listed.path("triggers")), listed::toString);
    });
    checks.add(() -> {
      JsonNode listed = api.get(trigger + "/operations").ok();
      assertEquals(before.triggerOperations(), elements(listed.path("operations")), listed::toString);
    });
    for (JsonNode op : before.triggerOperations()) {
      String path = "/operations/" + op.path("id").asText();
      checks.add(() -> assertEquals(op, api.get(path).ok(), path));
    }
    checks.add(() -> {
      JsonNode duplicate = api.post(TRIGGERS, before.triggerRequest()).expect(409);
      assertEquals(6, duplicate.path("code").asInt(), duplicate::toString);
      assertEquals("ALREADY_EXISTS", duplicate.path("status").asText(), duplicate::toString);
    });
    assertAll("after the restart", checks);
  }

  private static List<JsonNode> elements(JsonNode array) {
    List<JsonNode> out = new ArrayList<>();
    array.forEach(out::add);
    return out;
  }

  /** Starts the node, reports how long it took, and answers a client of its API. */
  private static JsonHttp started(NodeProcess node) throws Exception {
    node.start();
    System.out.printf(
        "%s ready in %d ms from launch (node reports %d ms) at %s%n",
        node.name(), node.startMillis(), node.reportedReadyMillis(), node.baseUrl());
    return new JsonHttp(node.baseUrl());
  }
}

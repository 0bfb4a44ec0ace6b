package io.regcast.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * WebSocket clients regcast did not write — the JDK's {@code java.net.http.WebSocket}, npm {@code ws}
 * (Node) and Python {@code websockets} (Debian's python3-websockets, strict about the protocol) —
 * against a node's gateway: each connects, learns its connection id, answers the server's pings (the
 * libraries do), receives a text and a binary message sent through the connections API, and
 * sees a disconnect as close 1000 and the node's SIGTERM as close 1001. The external clients live in
 * {@code src/e2e/clients/} (installed by {@code .ci/run}).
 */
class InteropIT {
  private static final String CLOUDS = "/resource-manager/v1/clouds";
  private static final String FOLDERS = "/resource-manager/v1/folders";
  private static final String GATEWAYS = "/apigateways/v1/apigateways";
  private static final String CONNECTIONS = "/apigateways/websocket/v1/connections/";
  private static final String PATH = "/ws";
  /** For one event to arrive; generous, events normally take milliseconds. */
  private static final Duration EVENT = Duration.ofSeconds(10);
  /** The shared node pings often, so every client answers a few pings during its test. */
  private static final String PING_INTERVAL = "100ms";

  @TempDir static Path sharedDataDir;
  private static NodeProcess node;
  private static JsonHttp api;
  private static String gatewayId;

  /** The kinds of client, each started on a URL with a User-Agent (only the JDK's is used). */
  enum Kind {
    JDK {
      @Override
      WsClient connect(URI url, String userAgent) {
        return JdkWsClient.connect(url, userAgent);
      }
    },
    NODE_WS {
      @Override
      WsClient connect(URI url, String userAgent) throws IOException {
        return ExternalWsClient.node(url.toString());
      }
    },
    PYTHON_WEBSOCKETS {
      @Override
      WsClient connect(URI url, String userAgent) throws IOException {
        return ExternalWsClient.python(url.toString());
      }
    };

    abstract WsClient connect(URI url, String userAgent) throws IOException;
  }

  @BeforeAll
  static void startNode() throws Exception {
    node =
        new NodeProcess("interop", sharedDataDir)
            .withSystemProperty("regcast.gateway.ping-interval", PING_INTERVAL)
            .start();
    api = new JsonHttp(node.baseUrl());
    gatewayId = createGateway(api);
  }

  @AfterAll
  static void stopNode() throws InterruptedException {
    if (node != null) {
      node.close();
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aClientLearnsItsIdReceivesTextAndBinaryAndSeesADisconnectAsClose1000(Kind kind) throws Exception {
    String userAgent = "regcast-interop-" + UUID.randomUUID();
    try (WsClient client = kind.connect(wsUrl(node, gatewayId, PATH), userAgent)) {
      JsonNode open = client.expect("open", EVENT);
      String id = connectionId(kind, client, open, userAgent);

      JsonNode connection = api.get(CONNECTIONS + id).ok();
      assertEquals(id, connection.path("id").asText(), connection::toString);
      assertEquals(gatewayId, connection.path("gatewayId").asText(), connection::toString);
      assertEquals("127.0.0.1", connection.path("identity").path("sourceIp").asText(), connection::toString);
      if (kind == Kind.JDK) {
        assertEquals(userAgent, connection.path("identity").path("userAgent").asText(), connection::toString);
      }
      assertTimestamp(connection, "connectedAt");
      assertTimestamp(connection, "lastActiveAt");
      assertTrue(
          ids(listConnections(api, gatewayId)).contains(id),
          () -> "the gateway's connections list " + id + ": " + api.get(GATEWAYS + "/" + gatewayId + "/connections"));

      // The server's pings reach the client, its library answers them, and the server keeps the
      // connection (an ill-formed ping or a refused pong would close it).
      client.awaitPings(2, EVENT);
      api.get(CONNECTIONS + id).ok();

      String text = "héllo → " + kind + " ✓";
      api.post(CONNECTIONS + id + ":send", Map.of("data", base64(text.getBytes(UTF_8)), "type", "TEXT")).ok();
      assertEquals(message("text", text), client.next(EVENT), client::details);

      byte[] binary = new byte[300];
      for (int i = 0; i < binary.length; i++) {
        binary[i] = (byte) (i * 7); // every byte value, not valid UTF-8
      }
      api.post(CONNECTIONS + id + ":send", Map.of("data", base64(binary), "type", "BINARY")).ok();
      assertEquals(message("binary", base64(binary)), client.next(EVENT), client::details);

      api.delete(CONNECTIONS + id).ok();
      JsonNode close = client.expect("close", EVENT);
      assertEquals(1000, close.path("code").asInt(), () -> close + client.details());
      api.get(CONNECTIONS + id).expect(404);
      assertFalse(ids(listConnections(api, gatewayId)).contains(id), "a closed connection is no longer listed");
      if (client instanceof ExternalWsClient external) {
        assertEquals(0, external.exitCode(), external::details);
      }
    }
  }

  static Stream<Arguments> unknownTargets() {
    return Stream.of(Kind.values())
        .flatMap(
            kind ->
                Stream.of(
                    Arguments.of(kind, "an unknown gateway", "/gateways/d4e00000000000000000" + PATH),
                    Arguments.of(kind, "an unknown path", "/gateways/{gatewayId}/nope")));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("unknownTargets")
  void connectingToAnUnknownGatewayOrPathIsRefusedWith404(Kind kind, String what, String path) throws Exception {
    URI url = URI.create(node.gatewayUrl() + path.replace("{gatewayId}", gatewayId));
    try (WsClient client = kind.connect(url, "regcast-interop-" + UUID.randomUUID())) {
      JsonNode error = client.expect("error", EVENT);
      assertEquals(404, error.path("status").asInt(), () -> url + " → " + error + client.details());
      if (client instanceof ExternalWsClient external) {
        assertEquals(1, external.exitCode(), external::details);
      }
    }
  }

  @Test
  void sigtermClosesEveryClientWith1001BeforeTheNodeExits(@TempDir Path dataDir) throws Exception {
    List<WsClient> clients = new ArrayList<>();
    try (NodeProcess stopping = new NodeProcess("interop-sigterm", dataDir).start()) {
      JsonHttp stoppingApi = new JsonHttp(stopping.baseUrl());
      String gateway = createGateway(stoppingApi);
      for (Kind kind : Kind.values()) {
        WsClient client = kind.connect(wsUrl(stopping, gateway, PATH), "regcast-interop-" + UUID.randomUUID());
        clients.add(client);
        client.expect("open", EVENT);
      }
      assertEquals(
          clients.size(),
          listConnections(stoppingApi, gateway).size(),
          () -> "connections: " + stoppingApi.get(GATEWAYS + "/" + gateway + "/connections"));

      int exitCode = stopping.stopGracefully();

      assertTrue(exitCode == 0 || exitCode == 143, "exit code after SIGTERM: " + exitCode);
      for (WsClient client : clients) {
        JsonNode close = client.expect("close", EVENT);
        assertEquals(1001, close.path("code").asInt(), () -> client.kind() + ": " + close + client.details());
      }
    } finally {
      clients.forEach(WsClient::close);
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** A cloud, a folder and a gateway with the one path {@code /ws}; returns the gateway's id. */
  private static String createGateway(JsonHttp api) {
    String cloudId = api.post(CLOUDS, Map.of("name", "interop-cloud")).ok().path("response").path("id").asText();
    String folderId =
        api.post(FOLDERS, Map.of("cloudId", cloudId, "name", "interop-folder")).ok().path("response").path("id").asText();
    JsonNode gateway =
        api.post(GATEWAYS, Map.of("folderId", folderId, "name", "interop-gateway", "websocketPaths", List.of(PATH)))
            .ok()
            .path("response");
    String id = gateway.path("id").asText();
    assertFalse(id.isEmpty(), gateway::toString);
    return id;
  }

  private static URI wsUrl(NodeProcess node, String gatewayId, String path) {
    return URI.create(node.gatewayUrl() + "/gateways/" + gatewayId + path);
  }

  /**
   * The client's connection id: from the upgrade's header as the client reported it; for the JDK
   * client, which cannot see response headers, the one listed connection with its User-Agent.
   */
  private static String connectionId(Kind kind, WsClient client, JsonNode open, String userAgent) {
    if (kind == Kind.JDK) {
      List<JsonNode> mine =
          listConnections(api, gatewayId).stream()
              .filter(c -> userAgent.equals(c.path("identity").path("userAgent").asText()))
              .toList();
      assertEquals(1, mine.size(), () -> "connections with User-Agent " + userAgent + ": " + mine);
      return mine.get(0).path("id").asText();
    }
    JsonNode id = open.path("connectionId");
    assertTrue(
        id.isTextual() && !id.asText().isBlank(),
        () -> client.kind() + " saw no X-Yc-Apigateway-Websocket-Connection-Id header: " + open + client.details());
    return id.asText();
  }

  /** {@code GET /apigateways/v1/apigateways/{id}/connections}: the listed connections. */
  private static List<JsonNode> listConnections(JsonHttp api, String gatewayId) {
    JsonNode body = api.get(GATEWAYS + "/" + gatewayId + "/connections").ok();
    JsonNode list = body.isArray() ? body : body.path("connections");
    if (list.isMissingNode() && body.isObject() && body.size() <= 1 && !body.has("nextPageToken")) {
      return List.of(); // proto-JSON omits an empty repeated field
    }
    assertTrue(list.isArray(), () -> "a list of connections: " + body);
    return StreamSupport.stream(list.spliterator(), false).toList();
  }

  private static List<String> ids(List<JsonNode> connections) {
    return connections.stream().map(c -> c.path("id").asText()).toList();
  }

  private static void assertTimestamp(JsonNode resource, String field) {
    String value = resource.path(field).asText();
    try {
      Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new AssertionError(field + " is not an RFC 3339 UTC timestamp: " + resource, e);
    }
    assertTrue(value.endsWith("Z"), () -> field + " in UTC with Z: " + resource);
  }

  private static JsonNode message(String type, String data) {
    return JsonHttp.JSON.createObjectNode().put("event", "message").put("type", type).put("data", data);
  }

  private static String base64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }
}

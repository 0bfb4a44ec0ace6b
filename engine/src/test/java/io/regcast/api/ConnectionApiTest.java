package io.regcast.api;

import static io.regcast.testing.ApiClient.object;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.regcast.node.Node;
import io.regcast.testing.ApiClient;
import io.regcast.testing.RawWebSocket;
import io.regcast.testing.SharedNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The connections API (get, :send, disconnect, a gateway's list) against real WebSockets on the node. */
@ExtendWith(SharedNode.class)
class ConnectionApiTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String CONNECTIONS = "/apigateways/websocket/v1/connections/";

  private static RawWebSocket connect(Node node, String gatewayId, String path) throws Exception {
    RawWebSocket ws =
        RawWebSocket.open(
            "127.0.0.1", node.gateway().address().getPort(), "/gateways/" + gatewayId + path,
            Map.of("User-Agent", "connection-api-test"));
    assertEquals(101, ws.status(), ws.statusLine());
    return ws;
  }

  /** The connection as the API shows it, once the node has registered it. */
  private static JsonNode awaitConnection(ApiClient api, String id) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      ApiClient.Answer answer = api.get(CONNECTIONS + id);
      if (answer.status() == 200) {
        return answer.json();
      }
      assertTrue(System.nanoTime() < deadline, "connection " + id + " never appeared: " + answer.text());
    }
  }

  @Test
  void connectionIsShownSentToAndDisconnected(ApiClient api, Node node) throws Exception {
    ApiClient.Setup s = api.setup();
    Instant before = Instant.now().minusSeconds(1);
    try (RawWebSocket ws = connect(node, s.gatewayId(), "/ws")) {
      String id = ws.header("X-Yc-Apigateway-Websocket-Connection-Id");
      JsonNode shown = awaitConnection(api, id);
      assertEquals(id, shown.get("id").asText());
      assertEquals(s.gatewayId(), shown.get("gatewayId").asText());
      assertEquals("127.0.0.1", shown.get("identity").get("sourceIp").asText());
      assertEquals("connection-api-test", shown.get("identity").get("userAgent").asText());
      assertTrue(Instant.parse(shown.get("connectedAt").asText()).isAfter(before));
      assertTrue(shown.get("lastActiveAt").asText().endsWith("Z"));

      JsonNode listed = api.get("/apigateways/v1/apigateways/" + s.gatewayId() + "/connections").expect(200).json();
      assertEquals(id, listed.get("connections").get(0).get("id").asText());

      String text = Base64.getEncoder().encodeToString("hello, client".getBytes(StandardCharsets.UTF_8));
      api.post(CONNECTIONS + id + ":send", object().put("data", text).put("type", "TEXT")).expect(200);
      RawWebSocket.Frame frame = ws.readFrame(WAIT);
      assertEquals(RawWebSocket.OP_TEXT, frame.opcode());
      assertEquals("hello, client", frame.text());

      api.post(CONNECTIONS + id + ":send", object().put("data", "AAEC/w==").put("type", "BINARY")).expect(200);
      frame = ws.readFrame(WAIT);
      assertEquals(RawWebSocket.OP_BINARY, frame.opcode());
      assertArrayEquals(new byte[] {0, 1, 2, (byte) 0xFF}, frame.payload());

      api.delete(CONNECTIONS + id).expect(200);
      assertEquals(1000, ws.readUntilClose(WAIT));
      api.get(CONNECTIONS + id).expect(404);
      api.post(CONNECTIONS + id + ":send", object().put("data", text)).expect(404);
      api.delete(CONNECTIONS + id).expect(404);
    }
  }

  @Test
  void sendRefusesBadDataNamingTheField(ApiClient api, Node node) throws Exception {
    ApiClient.Setup s = api.setup();
    try (RawWebSocket ws = connect(node, s.gatewayId(), "/ws")) {
      String id = ws.header("X-Yc-Apigateway-Websocket-Connection-Id");
      awaitConnection(api, id);
      String tooBig = Base64.getEncoder().encodeToString(new byte[131073]);
      assertEquals("data", field(api.post(CONNECTIONS + id + ":send", object().put("data", tooBig).put("type", "BINARY")).expect(400).json()));
      assertEquals("data", field(api.post(CONNECTIONS + id + ":send", object().put("data", "not base64!")).expect(400).json()));
      assertEquals("data", field(api.post(CONNECTIONS + id + ":send", object().put("data", "wyg=").put("type", "TEXT")).expect(400).json()));
      assertEquals("type", field(api.post(CONNECTIONS + id + ":send", object().put("data", "AA==").put("type", "JSON")).expect(400).json()));
      assertEquals("data", field(api.post(CONNECTIONS + id + ":send", object()).expect(400).json()));
      String limit = Base64.getEncoder().encodeToString(new byte[131072]);
      api.post(CONNECTIONS + id + ":send", object().put("data", limit).put("type", "BINARY")).expect(200);
      assertEquals(131072, ws.readFrame(WAIT).payload().length);
    }
  }

  @Test
  void unknownConnectionOrGatewayIsNotFound(ApiClient api) {
    api.get(CONNECTIONS + "cnothere000000000000").expect(404);
    api.get(CONNECTIONS + "garbage").expect(404);
    api.get("/apigateways/v1/apigateways/d4emissing/connections").expect(404);
  }

  @Test
  void deletingAGatewayClosesItsConnections(ApiClient api, Node node) throws Exception {
    String folder = api.createFolder(api.createCloud());
    var body = object();
    body.putArray("websocketPaths").add("/ws");
    String gateway = api.createInFolder("/apigateways/v1/apigateways", folder, body);
    try (RawWebSocket ws = connect(node, gateway, "/ws")) {
      awaitConnection(api, ws.header("X-Yc-Apigateway-Websocket-Connection-Id"));
      api.delete("/apigateways/v1/apigateways/" + gateway).expect(200);
      assertEquals(1001, ws.readUntilClose(WAIT));
    }
    try (RawWebSocket ws =
        RawWebSocket.open("127.0.0.1", node.gateway().address().getPort(), "/gateways/" + gateway + "/ws", Map.of())) {
      assertEquals(404, ws.status());
    }
  }

  private static String field(JsonNode error) {
    return error.get("details").get(0).get("field").asText();
  }
}

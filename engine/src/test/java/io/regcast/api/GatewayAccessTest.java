package io.regcast.api;

import static io.regcast.testing.ApiClient.object;
import static io.regcast.testing.ApiClient.uniqueName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.regcast.node.Node;
import io.regcast.testing.ApiClient;
import io.regcast.testing.RawWebSocket;
import io.regcast.testing.SharedNode;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Gateways are public unless they require an API key whose owner may view them. */
@ExtendWith(SharedNode.class)
class GatewayAccessTest {

  private static int open(Node node, String pathAndQuery, Map<String, String> headers) throws Exception {
    try (RawWebSocket ws = RawWebSocket.open("127.0.0.1", node.gateway().address().getPort(), pathAndQuery, headers)) {
      return ws.status();
    }
  }

  @Test
  void aPublicGatewayNeedsNoKey(ApiClient api, Node node) throws Exception {
    ApiClient.Setup s = api.setup();
    assertEquals(false, api.get("/apigateways/v1/apigateways/" + s.gatewayId()).json().get("requireApiKey").asBoolean());
    assertEquals(101, open(node, "/gateways/" + s.gatewayId() + "/ws", Map.of()));
  }

  @Test
  void aGatewayThatRequiresAKeyRefusesUpgradesWithoutAValidOneOrTheRightToViewIt(ApiClient api, Node node) throws Exception {
    String cloud = api.createCloud();
    String folder = api.createFolder(cloud);
    var body = object().put("folderId", folder).put("name", uniqueName("private")).put("requireApiKey", true);
    body.putArray("websocketPaths").add("/ws");
    String gateway = api.post("/apigateways/v1/apigateways", body).expect(200).responseId();
    String path = "/gateways/" + gateway + "/ws";

    assertEquals(401, open(node, path, Map.of()));
    assertEquals(401, open(node, path, Map.of("Authorization", "Bearer rck_unknown")));

    String user = api.post("/iam/v1/users", object().put("name", uniqueName("dave"))).expect(200).responseId();
    String secret = api.post("/iam/v1/apiKeys", object().put("userId", user)).expect(200).json().get("secret").asText();
    assertEquals(403, open(node, path, Map.of("Authorization", "Bearer " + secret)));

    api.grant(user, "userAccount", "viewer", "/resource-manager/v1/folders/" + folder);
    assertEquals(101, open(node, path, Map.of("Authorization", "Bearer " + secret)));
    assertEquals(101, open(node, path + "?apiKey=" + secret, Map.of()), "browsers pass the key in the query");
    assertTrue(api.get("/apigateways/v1/apigateways/" + gateway).json().get("requireApiKey").asBoolean());
  }
}

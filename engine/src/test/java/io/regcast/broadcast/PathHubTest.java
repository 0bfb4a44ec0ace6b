package io.regcast.broadcast;

import static io.regcast.testing.ApiClient.object;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.regcast.gateway.PathKey;
import io.regcast.gateway.StreamEntry;
import io.regcast.node.Node;
import io.regcast.testing.ApiClient;
import io.regcast.testing.RawWebSocket;
import io.regcast.testing.SharedNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Publishing through the node's hub reaches the path's connections, and only them. */
@ExtendWith(SharedNode.class)
class PathHubTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @Test
  void publishedMessageReachesEveryConnectionOfItsPathOnly(ApiClient api, Node node) throws Exception {
    String folder = api.createFolder(api.createCloud());
    var body = object();
    body.putArray("websocketPaths").add("/in").add("/out");
    String gateway = api.createInFolder("/apigateways/v1/apigateways", folder, body);
    int port = node.gateway().address().getPort();
    try (RawWebSocket first = RawWebSocket.open("127.0.0.1", port, "/gateways/" + gateway + "/in", Map.of());
        RawWebSocket second = RawWebSocket.open("127.0.0.1", port, "/gateways/" + gateway + "/in", Map.of());
        RawWebSocket elsewhere = RawWebSocket.open("127.0.0.1", port, "/gateways/" + gateway + "/out", Map.of())) {
      awaitConnections(node, gateway, 3);
      for (int n = 0; n < 20; n++) {
        node.hub().tell(new PathHub.Publish(new PathKey(gateway, "/in"), List.of(entry(n + 1, "m" + n)), n + 1, 0));
      }
      node.hub().tell(new PathHub.Publish(new PathKey(gateway, "/out"), List.of(entry(1, "out")), 1, 0));
      for (RawWebSocket ws : new RawWebSocket[] {first, second}) {
        for (int n = 0; n < 20; n++) {
          assertEquals("m" + n, ws.readFrame(WAIT).text());
        }
      }
      assertEquals("out", elsewhere.readFrame(WAIT).text(), "/out saw nothing published to /in");
    }
  }

  private static StreamEntry entry(long position, String text) {
    return new StreamEntry(position, text.getBytes(StandardCharsets.UTF_8), System.currentTimeMillis());
  }

  private static void awaitConnections(Node node, String gateway, int count) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (node.gateway().connectionsOf(gateway).size() < count) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("connections not registered in time");
      }
      Thread.onSpinWait();
    }
  }
}

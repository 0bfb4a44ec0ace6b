package io.regcast.api;

import static io.regcast.testing.ApiClient.object;
import static io.regcast.testing.ApiClient.uniqueName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.node.Node;
import io.regcast.testing.ApiClient;
import io.regcast.testing.ApiClient.Answer;
import io.regcast.testing.Envelopes;
import io.regcast.testing.RawWebSocket;
import io.regcast.testing.SharedNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * The reference's access scenarios: the roles creating, updating and resuming a trigger need, and
 * delivery stopping when the service account loses the right to broadcast and resuming when it
 * gets it back — each within 5 s.
 */
@ExtendWith(SharedNode.class)
class AccessScenariosTest {
  private static final Duration BOUND = Duration.ofSeconds(5);
  private static final String FOLDERS = "/resource-manager/v1/folders";
  private static final String CLOUDS = "/resource-manager/v1/clouds";
  private static final String REGISTRIES = "/container-registry/v1/registries";
  private static final String GATEWAYS = "/apigateways/v1/apigateways";
  private static final String ACCOUNTS = "/iam/v1/serviceAccounts";
  private static final String TRIGGERS = "/triggers/v1/triggers";
  private static final String CONNECTIONS = "/apigateways/websocket/v1/connections/";
  private static final String BROADCASTER = "api-gateway.websocketBroadcaster";
  private static final String WRITER = "api-gateway.websocketWriter";
  private static final String PULLER = "container-registry.images.puller";
  private static final String SA_USER = "iam.serviceAccounts.user";

  /** A user, its id and a client with its key. */
  private record Principal(String id, ApiClient client) {}

  /** A fresh user with a key, holding the given roles (role, resource path, role, path, …). */
  private static Principal userWith(ApiClient api, String... roleAtPath) {
    String user = api.post("/iam/v1/users", object().put("name", uniqueName("scn"))).expect(200).responseId();
    String secret = api.post("/iam/v1/apiKeys", object().put("userId", user)).expect(200).json().get("secret").asText();
    for (int i = 0; i < roleAtPath.length; i += 2) {
      api.grant(user, "userAccount", roleAtPath[i], roleAtPath[i + 1]);
    }
    ApiClient client = api.withKey(secret);
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (client.get("/iam/v1/users?pageSize=1").status() == 401) {
      assertTrue(System.nanoTime() < deadline, "the new key never worked");
    }
    return new Principal(user, client);
  }

  private static ObjectNode trigger(ApiClient.Setup s, String name, String registryId, String accountId) {
    ObjectNode body = s.trigger(name);
    ObjectNode cr = (ObjectNode) body.get("rule").get("containerRegistry");
    cr.put("registryId", registryId);
    ((ObjectNode) cr.get("gatewayWebsocketBroadcast")).put("serviceAccountId", accountId);
    return body;
  }

  /** A 403 naming the role and the resource. */
  private static void denied(Answer answer, String role, String resource) {
    assertEquals(403, answer.status(), answer.text());
    assertEquals(7, answer.json().get("code").asInt());
    assertEquals("PERMISSION_DENIED", answer.json().get("status").asText());
    String message = answer.json().get("message").asText();
    assertTrue(message.contains("needs role " + role + " on "), message);
    assertTrue(message.contains(resource), () -> "names " + resource + ": " + message);
  }

  private static void noTriggerNamed(ApiClient api, String folderId, String name) {
    String filter = URLEncoder.encode("name=\"" + name + "\"", StandardCharsets.UTF_8);
    assertEquals(0, api.get(TRIGGERS + "?folderId=" + folderId + "&filter=" + filter).expect(200).json().get("triggers").size(),
        "a refused create creates nothing");
  }

  private static String status(ApiClient api, String trigger) {
    return api.get(TRIGGERS + "/" + trigger).expect(200).json().get("status").asText();
  }

  private static int operations(ApiClient api, String trigger) {
    return api.get(TRIGGERS + "/" + trigger + "/operations?pageSize=1000").expect(200).json().get("operations").size();
  }

  @Test
  void triggerCreateNeedsPullerOnTheRegistry(ApiClient api) {
    ApiClient.Setup s = api.setup();
    String elsewhere = api.createFolder(s.cloudId());
    String registry = api.createInFolder(REGISTRIES, elsewhere, object());
    // editor on the trigger's folder (which covers using its service account); only viewer on the registry
    Principal user = userWith(api, "editor", FOLDERS + "/" + s.folderId(), "viewer", REGISTRIES + "/" + registry);
    String name = uniqueName("needs-puller");
    denied(user.client().post(TRIGGERS, trigger(s, name, registry, s.serviceAccountId())), PULLER, "registry " + registry);
    noTriggerNamed(api, s.folderId(), name);

    // pusher includes puller
    api.grant(user.id(), "userAccount", "container-registry.images.pusher", REGISTRIES + "/" + registry);
    JsonNode created = user.client().post(TRIGGERS, trigger(s, name, registry, s.serviceAccountId())).expect(200).json();
    assertEquals("ACTIVE", created.get("response").get("status").asText());
  }

  @Test
  void triggerCreateNeedsTheRightToUseTheServiceAccount(ApiClient api) {
    ApiClient.Setup s = api.setup();
    String elsewhere = api.createFolder(s.cloudId());
    String account = api.createInFolder(ACCOUNTS, elsewhere, object());
    api.grant(account, "serviceAccount", BROADCASTER, GATEWAYS + "/" + s.gatewayId());
    // editor on the trigger's folder (puller on its registry included); viewer on the other account only
    Principal user = userWith(api, "editor", FOLDERS + "/" + s.folderId(), "viewer", ACCOUNTS + "/" + account);
    String name = uniqueName("needs-sa-user");
    denied(user.client().post(TRIGGERS, trigger(s, name, s.registryId(), account)), SA_USER, "service account " + account);
    noTriggerNamed(api, s.folderId(), name);

    api.grant(user.id(), "userAccount", SA_USER, ACCOUNTS + "/" + account);
    user.client().post(TRIGGERS, trigger(s, name, s.registryId(), account)).expect(200);
  }

  @Test
  void theRegistryMustBeInTheTriggersCloudEvenForTheAdministrator(ApiClient api) {
    ApiClient.Setup s = api.setup();
    ApiClient.Setup other = api.setup();
    String name = uniqueName("cross-cloud");
    Answer refused = api.post(TRIGGERS, trigger(s, name, other.registryId(), s.serviceAccountId())).expect(400);
    assertEquals("INVALID_ARGUMENT", refused.json().get("status").asText());
    assertEquals("rule.containerRegistry.registryId", refused.json().get("details").get(0).get("field").asText(), refused.text());
    noTriggerNamed(api, s.folderId(), name);

    // a user holding every role involved gets the same answer
    Principal user = userWith(api, "editor", FOLDERS + "/" + s.folderId(), PULLER, REGISTRIES + "/" + other.registryId());
    user.client().post(TRIGGERS, trigger(s, name, other.registryId(), s.serviceAccountId())).expect(400);
    noTriggerNamed(api, s.folderId(), name);
  }

  @Test
  void createAsActiveNeedsTheServiceAccountToBroadcast(ApiClient api) {
    ApiClient.Setup s = api.setup();
    String folder = FOLDERS + "/" + s.folderId();
    api.revoke(s.serviceAccountId(), "serviceAccount", BROADCASTER, folder);
    api.grant(s.serviceAccountId(), "serviceAccount", WRITER, folder); // writer does not include broadcaster
    String name = uniqueName("needs-broadcaster");
    denied(api.post(TRIGGERS, s.trigger(name)), BROADCASTER, "gateway " + s.gatewayId());
    Answer asUser = userWith(api, "editor", folder).client().post(TRIGGERS, s.trigger(name));
    denied(asUser, BROADCASTER, "gateway " + s.gatewayId());
    assertTrue(asUser.json().get("message").asText().contains("service account " + s.serviceAccountId()), asUser.text());
    noTriggerNamed(api, s.folderId(), name);

    // bound on the cloud works as well
    api.grant(s.serviceAccountId(), "serviceAccount", BROADCASTER, CLOUDS + "/" + s.cloudId());
    assertEquals("ACTIVE", api.post(TRIGGERS, s.trigger(name)).expect(200).response().get("status").asText());
  }

  @Test
  void resumeNeedsTheServiceAccountToBroadcastAndTheTriggerStaysPaused(ApiClient api) {
    ApiClient.Setup s = api.setup();
    String folder = FOLDERS + "/" + s.folderId();
    String trigger = api.post(TRIGGERS, s.trigger(uniqueName("resume"))).expect(200).responseId();
    Principal editor = userWith(api, "editor", folder);
    api.revoke(s.serviceAccountId(), "serviceAccount", BROADCASTER, folder);

    // pausing needs no broadcaster; an update of an active trigger does
    String description = api.get(TRIGGERS + "/" + trigger).json().get("description").asText();
    denied(editor.client().patch(TRIGGERS + "/" + trigger, object().put("updateMask", "description").put("description", "x")),
        BROADCASTER, "gateway " + s.gatewayId());
    assertEquals(description, api.get(TRIGGERS + "/" + trigger).json().get("description").asText());
    editor.client().post(TRIGGERS + "/" + trigger + ":pause", object()).expect(200);
    assertEquals("PAUSED", status(api, trigger));
    // a paused trigger may be updated without it
    editor.client().patch(TRIGGERS + "/" + trigger, object().put("updateMask", "description").put("description", "paused")).expect(200);

    int before = operations(api, trigger);
    denied(editor.client().post(TRIGGERS + "/" + trigger + ":resume", object()), BROADCASTER, "gateway " + s.gatewayId());
    denied(api.post(TRIGGERS + "/" + trigger + ":resume", object()), BROADCASTER, "gateway " + s.gatewayId());
    assertEquals("PAUSED", status(api, trigger));
    assertEquals(before, operations(api, trigger), "a refused resume writes nothing");

    // websocketWriter is not enough; broadcaster on the gateway itself is
    api.grant(s.serviceAccountId(), "serviceAccount", WRITER, GATEWAYS + "/" + s.gatewayId());
    denied(editor.client().post(TRIGGERS + "/" + trigger + ":resume", object()), BROADCASTER, "gateway " + s.gatewayId());
    assertEquals("PAUSED", status(api, trigger));
    api.grant(s.serviceAccountId(), "serviceAccount", BROADCASTER, GATEWAYS + "/" + s.gatewayId());
    editor.client().post(TRIGGERS + "/" + trigger + ":resume", object()).expect(200);
    assertEquals("ACTIVE", status(api, trigger));
  }

  // ---- delivery ----

  private static RawWebSocket connect(ApiClient api, Node node, String gatewayId) throws Exception {
    RawWebSocket ws = RawWebSocket.open("127.0.0.1", node.gateway().address().getPort(), "/gateways/" + gatewayId + "/ws", Map.of());
    assertEquals(101, ws.status(), ws.statusLine());
    String id = ws.header("X-Yc-Apigateway-Websocket-Connection-Id");
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (api.get(CONNECTIONS + id).status() != 200) {
      assertTrue(System.nanoTime() < deadline, "connection not registered");
    }
    return ws;
  }

  private static void ingest(ApiClient api, String registry, String digest) {
    ObjectNode body = object();
    body.putArray("events").addObject()
        .put("eventType", "CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE")
        .put("repositoryName", "access/app")
        .put("imageDigest", digest)
        .put("tag", "v1");
    api.post(REGISTRIES + "/" + registry + "/events", body).expect(202);
  }

  /** The next text message (pings skipped), within {@code within}. */
  private static String nextText(RawWebSocket ws, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      assertTrue(left > 0, "no message within " + within);
      RawWebSocket.Frame frame = ws.readFrame(Duration.ofNanos(left));
      if (frame.opcode() == RawWebSocket.OP_TEXT) {
        return frame.text();
      }
    }
  }

  /** A marker sent through the connections API is the next message: nothing came before it. */
  private static void assertNothingBefore(ApiClient api, RawWebSocket ws) throws Exception {
    String marker = "marker-" + System.nanoTime();
    String id = ws.header("X-Yc-Apigateway-Websocket-Connection-Id");
    api.post(CONNECTIONS + id + ":send",
        object().put("data", Base64.getEncoder().encodeToString(marker.getBytes(StandardCharsets.UTF_8)))).expect(200);
    assertEquals(marker, nextText(ws, BOUND), "a message arrived before the marker");
  }

  private static long accessErrors(Node node) {
    return node.metrics().counterValue("regcast_access_errors_total");
  }

  private static void awaitAccessErrors(Node node, long atLeast) throws InterruptedException {
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (accessErrors(node) < atLeast) {
      assertTrue(System.nanoTime() < deadline,
          "the dropped batch was not counted within " + BOUND + " (access errors: " + accessErrors(node) + ")");
      Thread.sleep(20);
    }
  }

  private static long logged(ListAppender<ILoggingEvent> logs, String triggerId, String text) {
    synchronized (logs) {
      return logs.list.stream()
          .map(ILoggingEvent::getFormattedMessage)
          .filter(m -> m.contains(triggerId) && m.contains(text))
          .count();
    }
  }

  @Test
  void deliveryStopsWhenTheRoleIsRemovedAndResumesWhenItIsGrantedAgain(ApiClient api, Node node) throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    root.addAppender(logs);
    ApiClient.Setup s = api.setup();
    String folder = FOLDERS + "/" + s.folderId();
    ObjectNode body = s.trigger(uniqueName("delivery"));
    ((ObjectNode) body.get("rule").get("containerRegistry")).putObject("batchSettings").put("size", 1);
    String trigger = api.post(TRIGGERS, body).expect(200).responseId();
    try (RawWebSocket ws = connect(api, node, s.gatewayId())) {
      ingest(api, s.registryId(), Envelopes.digest(7001));
      assertTrue(nextText(ws, BOUND).contains(Envelopes.digest(7001)), "delivered while the role is held");

      long errors = accessErrors(node);
      long revokedAt = System.nanoTime();
      api.revoke(s.serviceAccountId(), "serviceAccount", BROADCASTER, folder);
      ingest(api, s.registryId(), Envelopes.digest(7002));
      awaitAccessErrors(node, errors + 1);
      assertTrue(System.nanoTime() - revokedAt < BOUND.toNanos(), "delivery stopped within 5 s of the revoke");
      ingest(api, s.registryId(), Envelopes.digest(7003));
      awaitAccessErrors(node, errors + 2);
      assertNothingBefore(api, ws);
      assertEquals(1, logged(logs, trigger, "may not broadcast"), "the access error is logged once, not per batch");
      assertEquals("ACTIVE", status(api, trigger), "the trigger itself stays active");

      api.grant(s.serviceAccountId(), "serviceAccount", BROADCASTER, folder);
      long grantedAt = System.nanoTime();
      ingest(api, s.registryId(), Envelopes.digest(7004));
      String resumed = nextText(ws, BOUND);
      assertTrue(System.nanoTime() - grantedAt < BOUND.toNanos(), "delivery resumed within 5 s of the grant");
      assertTrue(resumed.contains(Envelopes.digest(7004)), "the next event, not the dropped ones: " + resumed);
      assertEquals(1, logged(logs, trigger, "may broadcast again"), "the recovery is logged once");
      assertNothingBefore(api, ws);
    } finally {
      root.detachAppender(logs);
      logs.stop();
    }
  }
}

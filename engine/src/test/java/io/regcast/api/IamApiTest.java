package io.regcast.api;

import static io.regcast.testing.ApiClient.object;
import static io.regcast.testing.ApiClient.uniqueName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import io.regcast.node.Node;
import io.regcast.testing.ApiClient;
import io.regcast.testing.SharedNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Users, API keys, access bindings and authentication, over real HTTP. */
@ExtendWith(SharedNode.class)
class IamApiTest {
  private static final String KEYS = "/iam/v1/apiKeys";

  @Test
  void everyRouteButHealthNeedsAValidKey(ApiClient api) {
    ApiClient anonymous = api.withKey(null);
    ApiClient.Answer refused = anonymous.get("/resource-manager/v1/clouds").expect(401);
    assertEquals(16, refused.json().get("code").asInt());
    assertEquals("UNAUTHENTICATED", refused.json().get("status").asText());
    api.withKey("rck_not-a-key-anyone-was-given").get("/resource-manager/v1/clouds").expect(401);
    anonymous.post("/container-registry/v1/registries/crtx/notifications", object()).expect(401);
    anonymous.get("/apigateways/websocket/v1/connections/cabc").expect(401);
    assertEquals("UP", anonymous.get("/health").expect(200).json().get("status").asText());
  }

  @Test
  void theApiKeySchemeWorksAsWellAsBearer(ApiClient api) throws Exception {
    var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(api.base() + "/resource-manager/v1/clouds"))
        .header("Authorization", "Api-Key " + SharedNode.ADMIN_KEY)
        .build();
    var response = java.net.http.HttpClient.newHttpClient().send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode());
  }

  @Test
  void aKeyWorksUntilItIsDeletedAndItsSecretIsShownOnlyOnce(ApiClient api) {
    String user = api.post("/iam/v1/users", object().put("name", uniqueName("alice"))).expect(200).responseId();
    JsonNode created = api.post(KEYS, object().put("userId", user).put("description", "laptop")).expect(200).json();
    String secret = created.get("secret").asText();
    String keyId = created.get("apiKey").get("id").asText();
    assertTrue(secret.startsWith("rck_") && secret.length() >= 40, "a 256-bit secret");
    assertEquals(user, created.get("apiKey").get("userId").asText());
    assertEquals("laptop", created.get("apiKey").get("description").asText());

    ApiClient alice = api.withKey(secret);
    alice.get("/resource-manager/v1/clouds").expect(200);

    JsonNode shown = api.get(KEYS + "/" + keyId).expect(200).json();
    assertFalse(shown.toString().contains(secret));
    assertFalse(shown.has("secret"));
    JsonNode listed = api.get(KEYS + "?userId=" + user).expect(200).json().get("apiKeys");
    assertEquals(1, listed.size());
    assertFalse(listed.toString().contains(secret));

    api.delete(KEYS + "/" + keyId).expect(200);
    alice.get("/resource-manager/v1/clouds").expect(401);
    api.get(KEYS + "/" + keyId).expect(404);
  }

  @Test
  void deletingAUserOrServiceAccountRevokesItsKeys(ApiClient api) {
    String user = api.post("/iam/v1/users", object().put("name", uniqueName("bob"))).expect(200).responseId();
    String userSecret = api.post(KEYS, object().put("userId", user)).expect(200).json().get("secret").asText();
    String folder = api.createFolder(api.createCloud());
    String account = api.createInFolder("/iam/v1/serviceAccounts", folder, object());
    String accountSecret = api.post(KEYS, object().put("serviceAccountId", account)).expect(200).json().get("secret").asText();
    api.withKey(userSecret).get("/health").expect(200);
    api.withKey(accountSecret).get("/resource-manager/v1/clouds").expect(200);

    api.delete("/iam/v1/users/" + user).expect(200);
    api.delete("/iam/v1/serviceAccounts/" + account).expect(200);
    api.withKey(userSecret).get("/resource-manager/v1/clouds").expect(401);
    api.withKey(accountSecret).get("/resource-manager/v1/clouds").expect(401);
  }

  @Test
  void keyRequestsAreValidated(ApiClient api) {
    assertEquals("serviceAccountId", field(api.post(KEYS, object()).expect(400).json()));
    assertEquals("serviceAccountId", field(api.post(KEYS, object().put("userId", "u").put("serviceAccountId", "s")).expect(400).json()));
    assertEquals("userId", field(api.post(KEYS, object().put("userId", "usrmissing")).expect(404).json()));
    api.get(KEYS + "/ajkmissing").expect(404);
    api.get(KEYS).expect(400);
  }

  @Test
  void accessBindingsAreSetAddedRemovedAndListed(ApiClient api) {
    String cloud = api.createCloud();
    String folder = api.createFolder(cloud);
    String user = api.post("/iam/v1/users", object().put("name", uniqueName("carol"))).expect(200).responseId();
    String path = "/resource-manager/v1/folders/" + folder;

    ObjectNode set = object();
    set.putArray("accessBindings").addObject().put("roleId", "viewer")
        .putObject("subject").put("id", user).put("type", "userAccount");
    JsonNode op = api.post(path + ":setAccessBindings", set).expect(200).json();
    assertTrue(op.get("done").asBoolean());
    assertEquals(List.of("viewer"), roles(api, path));

    ObjectNode update = object();
    var deltas = update.putArray("accessBindingDeltas");
    deltas.addObject().put("action", "ADD").putObject("accessBinding").put("roleId", "editor")
        .putObject("subject").put("id", user).put("type", "userAccount");
    deltas.addObject().put("action", "REMOVE").putObject("accessBinding").put("roleId", "viewer")
        .putObject("subject").put("id", user).put("type", "userAccount");
    api.post(path + ":updateAccessBindings", update).expect(200);
    assertEquals(List.of("editor"), roles(api, path));

    ObjectNode unknownRole = object();
    unknownRole.putArray("accessBindings").addObject().put("roleId", "superuser")
        .putObject("subject").put("id", user).put("type", "userAccount");
    assertEquals("accessBindings[0].roleId", field(api.post(path + ":setAccessBindings", unknownRole).expect(400).json()));
    ObjectNode unknownSubject = object();
    unknownSubject.putArray("accessBindings").addObject().put("roleId", "viewer")
        .putObject("subject").put("id", "usrnobody").put("type", "userAccount");
    assertEquals("accessBindings[0].subject.id", field(api.post(path + ":setAccessBindings", unknownSubject).expect(404).json()));
    assertEquals(List.of("editor"), roles(api, path), "a refused request changes nothing");
    api.get("/resource-manager/v1/folders/b1gmissing:listAccessBindings").expect(404);
  }

  private static List<String> roles(ApiClient api, String path) {
    return api.get(path + ":listAccessBindings").expect(200).json().get("accessBindings").findValuesAsText("roleId");
  }

  private static String field(JsonNode error) {
    return error.get("details").get(0).get("field").asText();
  }

  @Test
  void aFreshNodeWithoutAConfiguredKeyWritesItsAdministratorKeyToAnOwnerOnlyFile() throws Exception {
    Path dir = Files.createTempDirectory("regcast-bootstrap-");
    try (Node node = Node.start(ConfigFactory.parseMap(Map.of(
        "regcast.data-dir", dir.toString(), "regcast.http.port", 0, "regcast.gateway.port", 0,
        "regcast.cluster.port", 0, "regcast.management.port", 0, "regcast.iam.admin-key", "")))) {
      Path keyFile = dir.resolve("admin-key");
      assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE), Files.getPosixFilePermissions(keyFile));
      String secret = Files.readString(keyFile).trim();
      ApiClient admin = new ApiClient("http://127.0.0.1:" + node.httpAddress().getPort(), secret);
      admin.get("/iam/v1/users").expect(200);
      assertEquals(1, admin.get("/iam/v1/users").json().get("users").size());
      admin.withKey(null).get("/iam/v1/users").expect(401);
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}

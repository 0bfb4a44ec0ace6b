package io.regcast.api;

import static io.regcast.testing.ApiClient.object;
import static io.regcast.testing.ApiClient.uniqueName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.testing.ApiClient;
import io.regcast.testing.SharedNode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Clouds, folders, registries, gateways and service accounts over real HTTP. */
@ExtendWith(SharedNode.class)
class ResourceApiTest {

  /** Resource kinds that live in a folder: base path, list field, metadata key, extra fields. */
  static Stream<Arguments> folderResources() {
    ObjectNode gateway = object();
    gateway.putArray("websocketPaths").add("/ws");
    return Stream.of(
        Arguments.of("/container-registry/v1/registries", "registries", "registryId", object()),
        Arguments.of("/apigateways/v1/apigateways", "apiGateways", "apiGatewayId", gateway),
        Arguments.of("/iam/v1/serviceAccounts", "serviceAccounts", "serviceAccountId", object()));
  }

  @ParameterizedTest
  @MethodSource("folderResources")
  void folderResourceGoesThroughItsWholeLifecycle(
      String path, String listField, String metadataKey, ObjectNode extra, ApiClient api) {
    String folder = api.createFolder(api.createCloud());
    ObjectNode body = extra.deepCopy().put("folderId", folder).put("name", "first-one").put("description", "d");

    ApiClient.Answer created = api.post(path, body).expect(200);
    JsonNode op = created.json();
    assertTrue(op.get("done").asBoolean());
    assertTrue(op.get("id").asText().startsWith("op1"));
    String id = created.responseId();
    assertEquals(id, op.get("metadata").get(metadataKey).asText());
    assertEquals(20, id.length());
    assertEquals(folder, created.response().get("folderId").asText());
    assertEquals("first-one", created.response().get("name").asText());
    assertTrue(created.response().get("createdAt").asText().endsWith("Z"));

    assertEquals(created.response(), api.get(path + "/" + id).expect(200).json());
    JsonNode listed = api.get(path + "?folderId=" + folder).expect(200).json().get(listField);
    assertEquals(1, listed.size());
    assertEquals(created.response(), listed.get(0));
    assertEquals(1, api.get(path + "/" + id + "/operations").expect(200).json().get("operations").size());

    ApiClient.Answer deleted = api.delete(path + "/" + id).expect(200);
    assertEquals(id, deleted.json().get("metadata").get(metadataKey).asText());
    assertEquals(object(), deleted.response());
    api.get(path + "/" + id).expect(404);
    assertEquals(0, api.get(path + "?folderId=" + folder).expect(200).json().get(listField).size());
  }

  @Test
  void cloudAndFolderGoThroughTheirLifecycle(ApiClient api) {
    String cloudName = uniqueName("cloud");
    ApiClient.Answer cloud = api.post("/resource-manager/v1/clouds", object().put("name", cloudName)).expect(200);
    String cloudId = cloud.responseId();
    assertTrue(cloudId.startsWith("b1c"));
    JsonNode clouds = api.get("/resource-manager/v1/clouds?pageSize=1000").expect(200).json().get("clouds");
    assertTrue(clouds.findValuesAsText("id").contains(cloudId));

    String folderId =
        api.post("/resource-manager/v1/folders", object().put("cloudId", cloudId).put("name", "team-a"))
            .expect(200)
            .responseId();
    assertEquals(cloudId, api.get("/resource-manager/v1/folders/" + folderId).expect(200).json().get("cloudId").asText());
    assertEquals(1, api.get("/resource-manager/v1/folders?cloudId=" + cloudId).expect(200).json().get("folders").size());

    api.delete("/resource-manager/v1/folders/" + folderId).expect(200);
    api.delete("/resource-manager/v1/clouds/" + cloudId).expect(200);
    api.get("/resource-manager/v1/clouds/" + cloudId).expect(404);
  }

  @Test
  void creatingInAMissingParentIsNotFoundNamingTheParentField(ApiClient api) {
    JsonNode error =
        api.post("/container-registry/v1/registries", object().put("folderId", "b1gmissing").put("name", "reg"))
            .expect(404)
            .json();
    assertEquals(5, error.get("code").asInt());
    assertEquals("NOT_FOUND", error.get("status").asText());
    assertEquals("folderId", error.get("details").get(0).get("field").asText());
  }

  @Test
  void listWithoutItsParentParameterIsRefused(ApiClient api) {
    JsonNode error = api.get("/iam/v1/serviceAccounts").expect(400).json();
    assertEquals("folderId", error.get("details").get(0).get("field").asText());
  }

  @Test
  void duplicateNameInTheSameParentConflictsButNotElsewhere(ApiClient api) {
    String cloud = api.createCloud();
    String folderA = api.createFolder(cloud);
    String folderB = api.createFolder(cloud);
    api.createInFolder("/iam/v1/serviceAccounts", folderA, object().put("name", "robot"));
    JsonNode error =
        api.post("/iam/v1/serviceAccounts", object().put("folderId", folderA).put("name", "robot")).expect(409).json();
    assertEquals("ALREADY_EXISTS", error.get("status").asText());
    assertEquals(6, error.get("code").asInt());
    api.createInFolder("/iam/v1/serviceAccounts", folderB, object().put("name", "robot"));
  }

  @Test
  void deletingACloudWithFoldersOrAFolderWithResourcesIsRefusedAndChangesNothing(ApiClient api) {
    ApiClient.Setup s = api.setup();
    JsonNode cloudError = api.delete("/resource-manager/v1/clouds/" + s.cloudId()).expect(409).json();
    assertEquals(9, cloudError.get("code").asInt());
    assertEquals("FAILED_PRECONDITION", cloudError.get("status").asText());
    assertTrue(cloudError.get("message").asText().contains(s.folderId()));

    JsonNode folderError = api.delete("/resource-manager/v1/folders/" + s.folderId()).expect(409).json();
    assertTrue(folderError.get("message").asText().contains(s.registryId()));
    api.get("/resource-manager/v1/clouds/" + s.cloudId()).expect(200);
    api.get("/resource-manager/v1/folders/" + s.folderId()).expect(200);
  }

  static Stream<Arguments> referencedByTrigger() {
    return Stream.of(
        Arguments.of("/container-registry/v1/registries", "registry"),
        Arguments.of("/apigateways/v1/apigateways", "gateway"),
        Arguments.of("/iam/v1/serviceAccounts", "serviceAccount"));
  }

  @ParameterizedTest
  @MethodSource("referencedByTrigger")
  void deletingAResourceThatATriggerUsesIsRefusedAndChangesNothing(String path, String which, ApiClient api) {
    ApiClient.Setup s = api.setup();
    String trigger = api.post("/triggers/v1/triggers", s.trigger("uses-it")).expect(200).responseId();
    String id =
        switch (which) {
          case "registry" -> s.registryId();
          case "gateway" -> s.gatewayId();
          default -> s.serviceAccountId();
        };
    JsonNode before = api.get(path + "/" + id).expect(200).json();
    JsonNode error = api.delete(path + "/" + id).expect(409).json();
    assertEquals("FAILED_PRECONDITION", error.get("status").asText());
    assertTrue(error.get("message").asText().contains(trigger), error.toString());
    assertEquals(before, api.get(path + "/" + id).expect(200).json());

    api.delete("/triggers/v1/triggers/" + trigger).expect(200);
    api.delete(path + "/" + id).expect(200);
  }

  @Test
  void listsArePagedInIdOrderWithOpaqueTokens(ApiClient api) {
    String folder = api.createFolder(api.createCloud());
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(api.createInFolder("/container-registry/v1/registries", folder, object()));
    }
    ids.sort(String::compareTo);
    List<String> seen = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      JsonNode page =
          api.get("/container-registry/v1/registries?folderId=" + folder + "&pageSize=2&pageToken=" + token)
              .expect(200)
              .json();
      page.get("registries").forEach(r -> seen.add(r.get("id").asText()));
      token = page.has("nextPageToken") ? page.get("nextPageToken").asText() : "";
      pages++;
    } while (!token.isEmpty());
    assertEquals(ids, seen);
    assertEquals(3, pages);
  }

  @Test
  void gatewayPathsAreValidatedOneByOne(ApiClient api) {
    String folder = api.createFolder(api.createCloud());
    ObjectNode body = object().put("folderId", folder).put("name", "gw-bad");
    body.putArray("websocketPaths").add("/ok").add("no-slash").add("/q?x=1").add("/ok");
    JsonNode error = api.post("/apigateways/v1/apigateways", body).expect(400).json();
    List<String> fields = error.get("details").findValuesAsText("field");
    assertEquals(List.of("websocketPaths[1]", "websocketPaths[2]", "websocketPaths"), fields);

    ObjectNode none = object().put("folderId", folder).put("name", "gw-none");
    assertEquals(
        "websocketPaths",
        api.post("/apigateways/v1/apigateways", none).expect(400).json().get("details").get(0).get("field").asText());
    assertFalse(api.get("/apigateways/v1/apigateways?folderId=" + folder).json().get("apiGateways").elements().hasNext());
  }

  // ---- a registry's endpoint and :reconcile (the real registry is in src/e2e RealRegistryIT) ----

  private static final String REGISTRIES = "/container-registry/v1/registries";

  @ParameterizedTest
  @MethodSource("badEndpoints")
  void aBadRegistryEndpointIsRefusedNamingTheField(String field, ObjectNode extra, String reason, ApiClient api) {
    String folder = api.createFolder(api.createCloud());
    ObjectNode body = extra.deepCopy().put("folderId", folder).put("name", uniqueName("reg"));
    JsonNode error = api.post(REGISTRIES, body).expect(400).json();
    assertEquals(field, error.get("details").get(0).get("field").asText(), error::toString);
    assertTrue(error.get("details").get(0).get("reason").asText().contains(reason), error::toString);
    assertFalse(api.get(REGISTRIES + "?folderId=" + folder).json().get("registries").elements().hasNext());
  }

  static Stream<Arguments> badEndpoints() {
    return Stream.of(
        Arguments.of("url", object().put("url", "ftp://registry.example.com"), "http:// or https://"),
        Arguments.of("url", object().put("url", "registry.example.com"), "http:// or https://"),
        Arguments.of("url", object().put("url", "https://user:pw@registry.example.com"), "must not carry credentials"),
        Arguments.of("url", object().put("url", "https://registry.example.com/?x=1"), "query"),
        Arguments.of("url", object().put("url", "https://" + "a".repeat(2050)), "at most 2048"),
        Arguments.of("url", object().put("url", 5), "must be a string"),
        Arguments.of("url", credentials("u", "p"), "is required"),
        Arguments.of("credentials.password", credentials("u", null).put("url", "https://r.example.com"), "is required with a username"),
        Arguments.of("credentials.username", credentials(null, "p").put("url", "https://r.example.com"), "is required with a password"),
        Arguments.of("credentials.token", credentials("u", "p").put("url", "https://r.example.com").set("credentials",
            object().put("username", "u").put("password", "p").put("token", "t")), "is not a known field"));
  }

  private static ObjectNode credentials(String username, String password) {
    ObjectNode body = object();
    ObjectNode credentials = body.putObject("credentials");
    if (username != null) {
      credentials.put("username", username);
    }
    if (password != null) {
      credentials.put("password", password);
    }
    return body;
  }

  @Test
  void aRegistrysUrlAndUsernameAreShownButNeverItsPassword(ApiClient api) {
    String folder = api.createFolder(api.createCloud());
    String secret = "registry-password-" + uniqueName("pw");
    String id = api.createInFolder(REGISTRIES, folder,
        credentials("robot", secret).put("url", "https://registry.example.com:5000/"));
    JsonNode registry = api.get(REGISTRIES + "/" + id).expect(200).json();
    assertEquals("https://registry.example.com:5000", registry.get("url").asText(), "without the trailing slash");
    assertEquals("robot", registry.get("credentials").get("username").asText());
    assertFalse(registry.get("credentials").has("password"));
    String listed = api.get(REGISTRIES + "?folderId=" + folder).expect(200).text();
    assertFalse(listed.contains(secret));
    assertFalse(api.get(REGISTRIES + "/" + id + "/operations").expect(200).text().contains(secret));
    JsonNode plain = api.get(REGISTRIES + "/" + api.createInFolder(REGISTRIES, folder, object())).json();
    assertFalse(plain.has("url"));
    assertFalse(plain.has("credentials"));
  }

  @Test
  void reconcilingARegistryWithoutUrlConflictsAndOneThatCannotBeReadIsABadGateway(ApiClient api) throws Exception {
    String folder = api.createFolder(api.createCloud());
    String plain = api.createInFolder(REGISTRIES, folder, object());
    JsonNode noUrl = api.post(REGISTRIES + "/" + plain + ":reconcile", object()).expect(409).json();
    assertEquals("FAILED_PRECONDITION", noUrl.get("status").asText());
    assertTrue(noUrl.get("message").asText().contains("has no url"), noUrl::toString);

    int closedPort;
    try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort(); // nothing listens there once it is closed
    }
    String unreachable = api.createInFolder(REGISTRIES, folder, object().put("url", "http://127.0.0.1:" + closedPort));
    JsonNode error = api.post(REGISTRIES + "/" + unreachable + ":reconcile", object()).expect(502).json();
    assertEquals("UNAVAILABLE", error.get("status").asText());
    assertTrue(error.get("message").asText().contains("GET http://127.0.0.1:" + closedPort + "/v2/_catalog"), error::toString);
    api.post(REGISTRIES + "/a1smissing:reconcile", object()).expect(404);
  }

  @Test
  void aRegistrysEndpointIsSetReplacedAndRemovedByPatch(ApiClient api) {
    String folder = api.createFolder(api.createCloud());
    String id = api.createInFolder(REGISTRIES, folder, object());
    String registry = REGISTRIES + "/" + id;
    JsonNode op = api.patch(registry, credentials("robot", "pw-1").put("url", "http://127.0.0.1:5000")).expect(200).json();
    assertEquals("Update registry", op.get("description").asText());
    assertEquals("http://127.0.0.1:5000", op.get("response").get("url").asText());
    JsonNode shown = api.get(registry).expect(200).json();
    assertEquals("http://127.0.0.1:5000", shown.get("url").asText());
    assertEquals("robot", shown.get("credentials").get("username").asText());

    api.patch(registry, object().put("url", "https://registry.example.com")).expect(200);
    shown = api.get(registry).json();
    assertEquals("https://registry.example.com", shown.get("url").asText());
    assertFalse(shown.has("credentials"), "credentials left out: none");

    JsonNode missing = api.patch(registry, object()).expect(400).json();
    assertEquals("url", missing.get("details").get(0).get("field").asText());
    JsonNode unknown = api.patch(registry, object().put("url", "https://r.example.com").put("name", "x")).expect(400).json();
    assertEquals("name", unknown.get("details").get(0).get("field").asText());
    JsonNode bad = api.patch(registry, object().put("url", "ftp://r.example.com")).expect(400).json();
    assertEquals("url", bad.get("details").get(0).get("field").asText());
    assertEquals("https://registry.example.com", api.get(registry).json().get("url").asText(), "refusals change nothing");

    api.patch(registry, object().putNull("url")).expect(200);
    assertFalse(api.get(registry).json().has("url"));
    api.patch(REGISTRIES + "/crtmissing", object().putNull("url")).expect(404);
  }
}

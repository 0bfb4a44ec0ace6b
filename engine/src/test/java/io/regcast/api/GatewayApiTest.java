package io.regcast.api;

import static io.regcast.testing.ApiClient.JSON;
import static io.regcast.testing.ApiClient.object;
import static io.regcast.testing.ApiClient.uniqueName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.testing.ApiClient;
import io.regcast.testing.SharedNode;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** A gateway's historySettings and allowedOrigins over real HTTP (the test node keeps the shipped defaults). */
@ExtendWith(SharedNode.class)
class GatewayApiTest {
  private static final String BASE = "/apigateways/v1/apigateways";
  /** regcast.history in application.conf: 1000 messages, 24 h. */
  private static final JsonNode NODE_DEFAULTS = json("{\"maxMessages\": 1000, \"maxAge\": \"86400s\"}");
  private static final JsonNode ANY_ORIGIN = json("[\"*\"]");

  private static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (Exception e) {
      throw new IllegalArgumentException(text, e);
    }
  }

  private static ObjectNode gateway(String folder, String extraFields) {
    ObjectNode body = (ObjectNode) json("{" + extraFields + "}");
    body.put("folderId", folder).put("name", uniqueName("gw")).putArray("websocketPaths").add("/ws");
    return body;
  }

  private static JsonNode created(ApiClient api, ObjectNode body) {
    return api.post(BASE, body).expect(200).response();
  }

  @Test
  void aGatewayCreatedWithoutTheFieldsShowsTheNodeDefaultsAndAnyOrigin(ApiClient api) {
    String folder = api.createFolder(api.createCloud());
    JsonNode gateway = created(api, gateway(folder, ""));
    assertEquals(NODE_DEFAULTS, gateway.get("historySettings"));
    assertEquals(ANY_ORIGIN, gateway.get("allowedOrigins"));
    assertEquals(gateway, api.get(BASE + "/" + gateway.get("id").asText()).expect(200).json());
    assertEquals(gateway, api.get(BASE + "?folderId=" + folder).expect(200).json().get("apiGateways").get(0));
  }

  @Test
  void aGatewayCreatedWithBothFieldsKeepsThemWithOriginsLowerCased(ApiClient api) {
    String folder = api.createFolder(api.createCloud());
    JsonNode gateway = created(api, gateway(folder, """
        "historySettings": {"maxMessages": 5, "maxAge": "90s"},
        "allowedOrigins": ["https://App.Example.com", "http://localhost:8080", "http://[::1]:3000"]"""));
    assertEquals(json("{\"maxMessages\": 5, \"maxAge\": \"90s\"}"), gateway.get("historySettings"));
    assertEquals(json("[\"https://app.example.com\", \"http://localhost:8080\", \"http://[::1]:3000\"]"),
        gateway.get("allowedOrigins"));
    assertEquals(gateway, api.get(BASE + "/" + gateway.get("id").asText()).expect(200).json());
  }

  @Test
  void partialHistorySettingsTakeTheNodeDefaultForTheMemberLeftOut(ApiClient api) {
    String folder = api.createFolder(api.createCloud());
    assertEquals(json("{\"maxMessages\": 0, \"maxAge\": \"86400s\"}"),
        created(api, gateway(folder, "\"historySettings\": {\"maxMessages\": 0}")).get("historySettings"));
    assertEquals(json("{\"maxMessages\": 1000, \"maxAge\": \"2592000s\"}"),
        created(api, gateway(folder, "\"historySettings\": {\"maxAge\": \"2592000s\"}")).get("historySettings"));
    assertEquals(NODE_DEFAULTS, created(api, gateway(folder, "\"historySettings\": {}")).get("historySettings"));
  }

  @Test
  void anUpdateChangesTheMaskedFieldsAndKeepsTheOthers(ApiClient api) {
    String folder = api.createFolder(api.createCloud());
    JsonNode before = created(api, gateway(folder, "\"requireApiKey\": true"));
    String id = before.get("id").asText();
    ObjectNode update = (ObjectNode) json("""
        {"updateMask": "historySettings,allowedOrigins",
         "historySettings": {"maxMessages": 7, "maxAge": "1.5s"},
         "allowedOrigins": ["https://a.example"],
         "name": "not-masked"}""");

    JsonNode after = api.patch(BASE + "/" + id, update).expect(200).response();

    assertEquals(json("{\"maxMessages\": 7, \"maxAge\": \"1.500s\"}"), after.get("historySettings"));
    assertEquals(json("[\"https://a.example\"]"), after.get("allowedOrigins"));
    assertEquals(before.get("name"), after.get("name"));
    assertEquals(before.get("requireApiKey"), after.get("requireApiKey"));
    assertEquals(before.get("createdAt"), after.get("createdAt"));
    assertEquals(after, api.get(BASE + "/" + id).expect(200).json());
    assertEquals(2, api.get(BASE + "/" + id + "/operations").expect(200).json().get("operations").size());
  }

  @Test
  void anUpdateWithoutAMaskChangesTheFieldsInItsBody(ApiClient api) {
    String folder = api.createFolder(api.createCloud());
    String id = created(api, gateway(folder, "\"historySettings\": {\"maxMessages\": 3}")).get("id").asText();

    JsonNode after = api.patch(BASE + "/" + id, json("{\"name\": \"renamed\", \"websocketPaths\": [\"/a\", \"/b\"]}"))
        .expect(200).response();

    assertEquals("renamed", after.get("name").asText());
    assertEquals(json("[\"/a\", \"/b\"]"), after.get("websocketPaths"));
    assertEquals(json("{\"maxMessages\": 3, \"maxAge\": \"86400s\"}"), after.get("historySettings"));
  }

  @Test
  void maskingAFieldLeftOutOfTheBodyResetsItToItsDefault(ApiClient api) {
    String folder = api.createFolder(api.createCloud());
    String id = created(api, gateway(folder, """
        "historySettings": {"maxMessages": 3, "maxAge": "60s"}, "allowedOrigins": ["https://a.example"]"""))
        .get("id").asText();

    JsonNode afterOne = api.patch(BASE + "/" + id, json("{\"updateMask\": \"historySettings.maxAge\"}"))
        .expect(200).response();
    assertEquals(json("{\"maxMessages\": 3, \"maxAge\": \"86400s\"}"), afterOne.get("historySettings"));

    JsonNode afterAll = api.patch(BASE + "/" + id + "?updateMask=historySettings,allowedOrigins", object())
        .expect(200).response();
    assertEquals(NODE_DEFAULTS, afterAll.get("historySettings"));
    assertEquals(ANY_ORIGIN, afterAll.get("allowedOrigins"));
  }

  static Stream<Arguments> refusedFields() {
    ArrayNode many = JSON.createArrayNode();
    IntStream.range(0, 101).forEach(i -> many.add("https://h" + i + ".example"));
    return Stream.of(
        Arguments.of("\"historySettings\": {\"maxMessages\": -1}", "historySettings.maxMessages", "between 0 and 100000"),
        Arguments.of("\"historySettings\": {\"maxMessages\": 100001}", "historySettings.maxMessages", "between 0 and 100000"),
        Arguments.of("\"historySettings\": {\"maxMessages\": 1.5}", "historySettings.maxMessages", "must be an integer"),
        Arguments.of("\"historySettings\": {\"maxAge\": \"0s\"}", "historySettings.maxAge", "more than 0s"),
        Arguments.of("\"historySettings\": {\"maxAge\": \"-5s\"}", "historySettings.maxAge", "more than 0s"),
        Arguments.of("\"historySettings\": {\"maxAge\": \"2592001s\"}", "historySettings.maxAge", "at most 2592000s (30 days)"),
        Arguments.of("\"historySettings\": {\"maxAge\": \"24h\"}", "historySettings.maxAge", "a duration in seconds"),
        Arguments.of("\"historySettings\": {\"size\": 1}", "historySettings.size", "is not a known field"),
        Arguments.of("\"historySettings\": 5", "historySettings", "must be an object"),
        Arguments.of("\"allowedOrigins\": []", "allowedOrigins", "at least one origin"),
        Arguments.of("\"allowedOrigins\": " + many, "allowedOrigins", "at most 100 origins"),
        Arguments.of("\"allowedOrigins\": [\"https://a.example/\"]", "allowedOrigins[0]", "no path, query or trailing slash"),
        Arguments.of("\"allowedOrigins\": [\"https://a.example\", \"https://a.example/app\"]", "allowedOrigins[1]", "no path"),
        Arguments.of("\"allowedOrigins\": [\"ftp://a.example\"]", "allowedOrigins[0]", "http or https"),
        Arguments.of("\"allowedOrigins\": [\"a.example\"]", "allowedOrigins[0]", "or an origin such as"),
        Arguments.of("\"allowedOrigins\": [\"https://a.example:443\"]", "allowedOrigins[0]", "default port 443"),
        Arguments.of("\"allowedOrigins\": [\"http://a.example:70000\"]", "allowedOrigins[0]", "above 65535"),
        Arguments.of("\"allowedOrigins\": [\"https://a.example\", \"*\"]", "allowedOrigins[1]", "must be the only entry"),
        Arguments.of("\"allowedOrigins\": [\"https://a.example\", \"https://A.example\"]", "allowedOrigins[1]", "repeats allowedOrigins[0]"),
        Arguments.of("\"allowedOrigins\": [\"https://a.example\", 7]", "allowedOrigins[1]", "must be a string"),
        Arguments.of("\"allowedOrigins\": \"*\"", "allowedOrigins", "an array of strings"));
  }

  @ParameterizedTest(name = "{0} is refused naming {1}")
  @MethodSource("refusedFields")
  void aCreateWithABadFieldIsRefusedNamingTheFieldAndTheReason(
      String fields, String field, String reason, ApiClient api) {
    String folder = api.createFolder(api.createCloud());
    JsonNode error = api.post(BASE, gateway(folder, fields)).expect(400).json();
    assertRefused(error, field, reason);
    assertEquals(0, api.get(BASE + "?folderId=" + folder).expect(200).json().get("apiGateways").size());
  }

  @Test
  void anUpdateWithABadFieldIsRefusedAndChangesNothing(ApiClient api) {
    String folder = api.createFolder(api.createCloud());
    JsonNode before = created(api, gateway(folder, ""));
    String path = BASE + "/" + before.get("id").asText();

    assertRefused(api.patch(path, json("{\"historySettings\": {\"maxAge\": \"0s\"}}")).expect(400).json(),
        "historySettings.maxAge", "more than 0s");
    assertRefused(api.patch(path, json("{\"allowedOrigins\": [\"*\", \"https://a.example\"]}")).expect(400).json(),
        "allowedOrigins[0]", "must be the only entry");
    assertRefused(api.patch(path, json("{\"updateMask\": \"folderId\"}")).expect(400).json(),
        "updateMask", "\"folderId\" cannot be updated");
    assertRefused(api.patch(path, json("{\"gatewayId\": \"d4eother\", \"name\": \"x\"}")).expect(400).json(),
        "gatewayId", "must match");
    assertEquals(before, api.get(path).expect(200).json());
  }

  @Test
  void anUpdateMayNotDropAPathATriggerBroadcastsOn(ApiClient api) {
    ApiClient.Setup s = api.setup();
    api.post("/triggers/v1/triggers", s.trigger(uniqueName("t"))).expect(200);
    String path = BASE + "/" + s.gatewayId();

    JsonNode error = api.patch(path, json("{\"websocketPaths\": [\"/other\"]}")).expect(409).json();

    assertEquals("FAILED_PRECONDITION", error.get("status").asText());
    assertRefused(error, "websocketPaths", "/ws");
    api.patch(path, json("{\"websocketPaths\": [\"/ws\", \"/third\"]}")).expect(200);
  }

  private static void assertRefused(JsonNode error, String field, String reason) {
    JsonNode details = error.get("details");
    assertEquals(1, details.size(), details::toString);
    assertEquals(field, details.get(0).get("field").asText(), details::toString);
    assertTrue(details.get(0).get("reason").asText().contains(reason), details::toString);
  }
}

package io.regcast.api;

import static io.regcast.testing.ApiClient.object;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.model.TriggerStatus;
import io.regcast.node.Node;
import io.regcast.testing.ApiClient;
import io.regcast.testing.SharedNode;
import io.regcast.trigger.TriggerEntity;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The trigger API (create, get, list, update, delete, pause, resume) and its edge cases (validation,
 * update masks, paging, concurrent creates), over real HTTP.
 */
@ExtendWith(SharedNode.class)
class TriggerApiTest {
  private static final String TRIGGERS = "/triggers/v1/triggers";

  private static ObjectNode rule(ObjectNode body) {
    return (ObjectNode) body.get("rule").get("containerRegistry");
  }

  @Test
  void createdTriggerHasTheReferenceShapeAndDefaults(ApiClient api) {
    ApiClient.Setup s = api.setup();
    ObjectNode body = s.trigger("registry-trigger").put("description", "pushes to the team");
    body.putObject("labels").put("env", "prod");
    Instant before = Instant.now();

    ApiClient.Answer created = api.post(TRIGGERS, body).expect(200);

    JsonNode t = created.response();
    assertEquals(created.responseId(), created.json().get("metadata").get("triggerId").asText());
    assertEquals("Create trigger", created.json().get("description").asText());
    assertTrue(t.get("id").asText().startsWith("a1s"));
    assertEquals(s.folderId(), t.get("folderId").asText());
    assertEquals("registry-trigger", t.get("name").asText());
    assertEquals("pushes to the team", t.get("description").asText());
    assertEquals("prod", t.get("labels").get("env").asText());
    assertEquals("ACTIVE", t.get("status").asText());
    JsonNode cr = t.get("rule").get("containerRegistry");
    assertEquals("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", cr.get("eventType").get(0).asText());
    assertEquals(s.registryId(), cr.get("registryId").asText());
    assertEquals("1", cr.get("batchSettings").get("size").asText(), "size defaults to 1, written as a string");
    assertTrue(cr.get("batchSettings").get("size").isTextual());
    assertEquals("1s", cr.get("batchSettings").get("cutoff").asText());
    assertEquals("/ws", cr.get("gatewayWebsocketBroadcast").get("path").asText());
    Instant createdAt = Instant.parse(t.get("createdAt").asText());
    assertTrue(t.get("createdAt").asText().endsWith("Z"));
    assertFalse(createdAt.isBefore(before.minusSeconds(1)));

    assertEquals(t, api.get(TRIGGERS + "/" + t.get("id").asText()).expect(200).json());
  }

  @ParameterizedTest(name = "size {0} is stored as \"{1}\"")
  @CsvSource({"3,3", "'\"3\"',3", "0,1", "'\"0\"',1", "1000,1000", "'\"1000\"',1000"})
  void batchSizeAcceptsANumberOrADecimalStringAndIsWrittenAsAString(String json, String stored, ApiClient api)
      throws Exception {
    ApiClient.Setup s = api.setup();
    ObjectNode body = s.trigger("sized");
    rule(body).putObject("batchSettings").set("size", ApiClient.JSON.readTree(json));
    JsonNode batch = api.post(TRIGGERS, body).expect(200).response().get("rule").get("containerRegistry").get("batchSettings");
    assertEquals(stored, batch.get("size").textValue());
  }

  @ParameterizedTest(name = "cutoff {0} is stored as {1}")
  @CsvSource({"20s,20s", "1s,1s", "60s,60s", "1.5s,1.500s", "2.000001s,2.000001s", "0s,1s"})
  void cutoffIsAProtoJsonDuration(String cutoff, String stored, ApiClient api) {
    ApiClient.Setup s = api.setup();
    ObjectNode body = s.trigger("timed");
    rule(body).putObject("batchSettings").put("cutoff", cutoff);
    JsonNode batch = api.post(TRIGGERS, body).expect(200).response().get("rule").get("containerRegistry").get("batchSettings");
    assertEquals(stored, batch.get("cutoff").textValue());
  }

  /** One invalid field per case: how to break a valid body, the field named, a word of the reason. */
  static Stream<Arguments> invalidTriggers() {
    return Stream.of(
        invalid("name too short", b -> b.put("name", "ab"), "name", "3-63"),
        invalid("name too long", b -> b.put("name", "a" + "b".repeat(63)), "name", "3-63"),
        invalid("name uppercase", b -> b.put("name", "Trigger"), "name", "lowercase"),
        invalid("name ends with dash", b -> b.put("name", "trigger-"), "name", "not end"),
        invalid("name missing", b -> b.remove("name"), "name", "required"),
        invalid("name not a string", b -> b.put("name", 12), "name", "string"),
        invalid("description too long", b -> b.put("description", "x".repeat(501)), "description", "500"),
        invalid("label key uppercase", b -> b.putObject("labels").put("Env", "x"), "labels.Env", "key"),
        invalid("label value uppercase", b -> b.putObject("labels").put("env", "X"), "labels.env", "value"),
        invalid("label value too long", b -> b.putObject("labels").put("env", "x".repeat(64)), "labels.env", "value"),
        invalid("65 labels", TriggerApiTest::tooManyLabels, "labels", "64"),
        invalid("no event type", b -> rule(b).putArray("eventType"), "rule.containerRegistry.eventType", "at least one"),
        invalid("unknown event type", b -> rule(b).putArray("eventType").add("PUSH"), "rule.containerRegistry.eventType[0]", "one of"),
        invalid("registry missing", b -> rule(b).remove("registryId"), "rule.containerRegistry.registryId", "required"),
        invalid("registry id too long", b -> rule(b).put("registryId", "c".repeat(51)), "rule.containerRegistry.registryId", "50"),
        invalid("bad image name", b -> rule(b).put("imageName", "Ubuntu"), "rule.containerRegistry.imageName", "repository"),
        invalid("bad tag", b -> rule(b).put("tag", "-latest"), "rule.containerRegistry.tag", "tag"),
        invalid("size 1001", b -> rule(b).putObject("batchSettings").put("size", 1001), "rule.containerRegistry.batchSettings.size", "1000"),
        invalid("size negative", b -> rule(b).putObject("batchSettings").put("size", "-1"), "rule.containerRegistry.batchSettings.size", "1000"),
        invalid("size fraction", b -> rule(b).putObject("batchSettings").put("size", 2.5), "rule.containerRegistry.batchSettings.size", "integer"),
        invalid("size word", b -> rule(b).putObject("batchSettings").put("size", "three"), "rule.containerRegistry.batchSettings.size", "integer"),
        invalid("cutoff 61s", b -> rule(b).putObject("batchSettings").put("cutoff", "61s"), "rule.containerRegistry.batchSettings.cutoff", "60s"),
        invalid("cutoff 0.5s", b -> rule(b).putObject("batchSettings").put("cutoff", "0.5s"), "rule.containerRegistry.batchSettings.cutoff", "1s"),
        invalid("cutoff without unit", b -> rule(b).putObject("batchSettings").put("cutoff", "20"), "rule.containerRegistry.batchSettings.cutoff", "duration"),
        invalid("cutoff in minutes", b -> rule(b).putObject("batchSettings").put("cutoff", "1m"), "rule.containerRegistry.batchSettings.cutoff", "duration"),
        invalid("cutoff as number", b -> rule(b).putObject("batchSettings").put("cutoff", 20), "rule.containerRegistry.batchSettings.cutoff", "string"),
        invalid("target missing", b -> rule(b).remove("gatewayWebsocketBroadcast"), "rule.containerRegistry.gatewayWebsocketBroadcast", "required"),
        invalid("gateway missing", b -> target(b).remove("gatewayId"), "rule.containerRegistry.gatewayWebsocketBroadcast.gatewayId", "required"),
        invalid("path missing", b -> target(b).remove("path"), "rule.containerRegistry.gatewayWebsocketBroadcast.path", "required"),
        invalid("path relative", b -> target(b).put("path", "ws"), "rule.containerRegistry.gatewayWebsocketBroadcast.path", "absolute"),
        invalid("account missing", b -> target(b).remove("serviceAccountId"), "rule.containerRegistry.gatewayWebsocketBroadcast.serviceAccountId", "required"),
        invalid("rule missing", b -> b.remove("rule"), "rule", "required"),
        invalid("other trigger type", b -> b.putObject("rule").putObject("timer"), "rule.timer", "not a known field"),
        invalid("unknown field", b -> b.put("colour", "red"), "colour", "not a known field"),
        invalid("folder missing", b -> b.remove("folderId"), "folderId", "required"));
  }

  private static Arguments invalid(String name, Consumer<ObjectNode> breakIt, String field, String reason) {
    return Arguments.of(name, breakIt, field, reason);
  }

  private static ObjectNode target(ObjectNode body) {
    return (ObjectNode) rule(body).get("gatewayWebsocketBroadcast");
  }

  private static void tooManyLabels(ObjectNode body) {
    ObjectNode labels = body.putObject("labels");
    IntStream.range(0, 65).forEach(i -> labels.put("k" + i, "v"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidTriggers")
  void invalidTriggerIsRefusedNamingTheFieldAndNothingIsCreated(
      String name, Consumer<ObjectNode> breakIt, String field, String reason, ApiClient api) {
    ApiClient.Setup s = api.setup();
    ObjectNode body = s.trigger("valid-name");
    breakIt.accept(body);

    JsonNode error = api.post(TRIGGERS, body).expect(400).json();

    assertEquals(3, error.get("code").asInt());
    assertEquals("INVALID_ARGUMENT", error.get("status").asText());
    JsonNode detail = detail(error, field);
    assertTrue(detail.get("reason").asText().contains(reason), error.toString());
    assertEquals(0, api.get(TRIGGERS + "?folderId=" + s.folderId()).expect(200).json().get("triggers").size());
  }

  @Test
  void everyInvalidFieldIsReportedAtOnce(ApiClient api) {
    ApiClient.Setup s = api.setup();
    ObjectNode body = s.trigger("X");
    body.put("description", "x".repeat(600));
    rule(body).putObject("batchSettings").put("size", 5000);
    JsonNode error = api.post(TRIGGERS, body).expect(400).json();
    List<String> fields = error.get("details").findValuesAsText("field");
    assertTrue(fields.containsAll(List.of("name", "description", "rule.containerRegistry.batchSettings.size")), fields.toString());
  }

  @Test
  void referencesMustExistAndFitTogether(ApiClient api) {
    ApiClient.Setup s = api.setup();
    String prefix = "rule.containerRegistry.";

    ObjectNode noRegistry = s.trigger("refs");
    rule(noRegistry).put("registryId", "crtmissing");
    assertEquals(prefix + "registryId", field(api.post(TRIGGERS, noRegistry).expect(404).json()));

    ObjectNode noGateway = s.trigger("refs");
    target(noGateway).put("gatewayId", "d4emissing");
    assertEquals(prefix + "gatewayWebsocketBroadcast.gatewayId", field(api.post(TRIGGERS, noGateway).expect(404).json()));

    ObjectNode noAccount = s.trigger("refs");
    target(noAccount).put("serviceAccountId", "ajemissing");
    assertEquals(prefix + "gatewayWebsocketBroadcast.serviceAccountId", field(api.post(TRIGGERS, noAccount).expect(404).json()));

    ObjectNode undeclaredPath = s.trigger("refs");
    target(undeclaredPath).put("path", "/elsewhere");
    assertEquals(prefix + "gatewayWebsocketBroadcast.path", field(api.post(TRIGGERS, undeclaredPath).expect(400).json()));

    ApiClient.Setup otherCloud = api.setup();
    ObjectNode crossCloud = s.trigger("refs");
    rule(crossCloud).put("registryId", otherCloud.registryId());
    JsonNode error = api.post(TRIGGERS, crossCloud).expect(400).json();
    assertEquals(prefix + "registryId", field(error));
    assertTrue(error.get("message").asText().contains("same cloud"));

    ObjectNode missingFolder = s.trigger("refs").put("folderId", "b1gmissing");
    assertEquals("folderId", field(api.post(TRIGGERS, missingFolder).expect(404).json()));
  }

  @Test
  void registryInAnotherFolderOfTheSameCloudIsAccepted(ApiClient api) {
    ApiClient.Setup s = api.setup();
    String otherFolder = api.createFolder(s.cloudId());
    ObjectNode body = s.trigger("cross-folder").put("folderId", otherFolder);
    api.post(TRIGGERS, body).expect(200);
  }

  /** The detail naming {@code field}; fails when there is none. */
  private static JsonNode detail(JsonNode error, String field) {
    for (JsonNode d : error.get("details")) {
      if (d.get("field").asText().equals(field)) {
        return d;
      }
    }
    throw new AssertionError("no detail for " + field + " in " + error);
  }

  private static String field(JsonNode error) {
    return error.get("details").get(0).get("field").asText();
  }

  @Test
  void twentyParallelCreatesWithOneNameYieldExactlyOneTrigger(ApiClient api) {
    ApiClient.Setup s = api.setup();
    List<CompletableFuture<ApiClient.Answer>> calls =
        IntStream.range(0, 20).mapToObj(i -> api.postAsync(TRIGGERS, s.trigger("contended"))).toList();
    List<Integer> statuses = calls.stream().map(c -> c.join().status()).sorted().toList();
    assertEquals(1, statuses.stream().filter(st -> st == 200).count(), statuses.toString());
    assertEquals(19, statuses.stream().filter(st -> st == 409).count(), statuses.toString());
    assertEquals(1, api.get(TRIGGERS + "?folderId=" + s.folderId()).expect(200).json().get("triggers").size());
  }

  @Test
  void pauseAndResumeChangeTheStatusAndReachTheTriggersEntity(ApiClient api, Node node) {
    ApiClient.Setup s = api.setup();
    String id = api.post(TRIGGERS, s.trigger("pausable")).expect(200).responseId();

    ApiClient.Answer paused = api.post(TRIGGERS + "/" + id + ":pause", "").expect(200);
    assertEquals("PAUSED", paused.response().get("status").asText());
    assertEquals("Pause trigger", paused.json().get("description").asText());
    assertEquals("PAUSED", api.get(TRIGGERS + "/" + id).json().get("status").asText());
    assertEquals(TriggerStatus.PAUSED, runtime(node, id).trigger().status());

    api.post(TRIGGERS + "/" + id + ":pause", "").expect(200);
    assertEquals("PAUSED", api.get(TRIGGERS + "/" + id).json().get("status").asText());

    assertEquals("ACTIVE", api.post(TRIGGERS + "/" + id + ":resume", "").expect(200).response().get("status").asText());
    assertEquals(TriggerStatus.ACTIVE, runtime(node, id).trigger().status());

    List<String> descriptions = new java.util.ArrayList<>();
    api.get(TRIGGERS + "/" + id + "/operations").expect(200).json().get("operations")
        .forEach(op -> descriptions.add(op.get("description").asText()));
    assertEquals(List.of("Create trigger", "Pause trigger", "Pause trigger", "Resume trigger"), descriptions);
    api.post(TRIGGERS + "/a1smissing:pause", "").expect(404);
  }

  private static TriggerEntity.Runtime runtime(Node node, String id) {
    return ClusterSharding.get(node.system())
        .entityRefFor(TriggerEntity.ENTITY_KEY, id)
        .<TriggerEntity.Runtime>ask(TriggerEntity.GetRuntime::new, Duration.ofSeconds(5))
        .toCompletableFuture()
        .join();
  }

  @Test
  void updateMaskChangesOnlyTheNamedFields(ApiClient api) {
    ApiClient.Setup s = api.setup();
    ObjectNode body = s.trigger("masked").put("description", "before");
    body.putObject("labels").put("a", "1").put("b", "2");
    rule(body).putObject("batchSettings").put("size", 3).put("cutoff", "20s");
    JsonNode created = api.post(TRIGGERS, body).expect(200).response();
    String id = created.get("id").asText();

    ObjectNode update = object().put("updateMask", "description,labels,rule.containerRegistry.batchSettings.size");
    update.put("description", "after").put("name", "ignored-not-in-mask");
    update.putObject("labels").put("c", "3");
    update.putObject("rule").putObject("containerRegistry").putObject("batchSettings").put("size", "7");
    ApiClient.Answer updated = api.patch(TRIGGERS + "/" + id, update).expect(200);

    JsonNode t = updated.response();
    assertEquals("Update trigger", updated.json().get("description").asText());
    assertEquals("masked", t.get("name").asText());
    assertEquals("after", t.get("description").asText());
    assertEquals(object().put("c", "3"), t.get("labels"), "labels are replaced whole");
    JsonNode batch = t.get("rule").get("containerRegistry").get("batchSettings");
    assertEquals("7", batch.get("size").asText());
    assertEquals("20s", batch.get("cutoff").asText());
    assertEquals(created.get("createdAt"), t.get("createdAt"));
    assertEquals(t, api.get(TRIGGERS + "/" + id).json());
  }

  @Test
  void updateWithoutMaskChangesTheFieldsPresent(ApiClient api) {
    ApiClient.Setup s = api.setup();
    String id = api.post(TRIGGERS, s.trigger("unmasked").put("description", "keep")).expect(200).responseId();
    ObjectNode newRule = s.trigger("x");
    rule(newRule).put("imageName", "team/app").put("tag", "v1");
    JsonNode t = api.patch(TRIGGERS + "/" + id, object().put("name", "renamed").set("rule", newRule.get("rule")))
        .expect(200)
        .response();
    assertEquals("renamed", t.get("name").asText());
    assertEquals("keep", t.get("description").asText());
    assertEquals("team/app", t.get("rule").get("containerRegistry").get("imageName").asText());
    assertEquals("v1", t.get("rule").get("containerRegistry").get("tag").asText());
  }

  @Test
  void updateMaskInTheQueryIsHonoured(ApiClient api) {
    ApiClient.Setup s = api.setup();
    String id = api.post(TRIGGERS, s.trigger("query-mask")).expect(200).responseId();
    JsonNode t = api.patch(TRIGGERS + "/" + id + "?updateMask=description", object().put("description", "q").put("name", "not-this"))
        .expect(200)
        .response();
    assertEquals("q", t.get("description").asText());
    assertEquals("query-mask", t.get("name").asText());
  }

  @Test
  void invalidUpdatesAreRefusedAndChangeNothing(ApiClient api) {
    ApiClient.Setup s = api.setup();
    api.post(TRIGGERS, s.trigger("taken-name")).expect(200);
    String id = api.post(TRIGGERS, s.trigger("to-update")).expect(200).responseId();
    JsonNode before = api.get(TRIGGERS + "/" + id).json();

    JsonNode folderMask = api.patch(TRIGGERS + "/" + id, object().put("updateMask", "folderId").put("folderId", "x")).expect(400).json();
    assertTrue(detail(folderMask, "updateMask").get("reason").asText().contains("cannot be updated"));
    assertTrue(detail(folderMask, "folderId").get("reason").asText().contains("not a known field"));
    assertEquals("updateMask", field(api.patch(TRIGGERS + "/" + id, object()).expect(400).json()));
    ObjectNode badSize = object().put("updateMask", "rule.containerRegistry.batchSettings.size");
    badSize.putObject("rule").putObject("containerRegistry").putObject("batchSettings").put("size", 1001);
    assertEquals("rule.containerRegistry.batchSettings.size", field(api.patch(TRIGGERS + "/" + id, badSize).expect(400).json()));
    ObjectNode otherType = object().put("updateMask", "rule");
    otherType.putObject("rule").putObject("timer");
    api.patch(TRIGGERS + "/" + id, otherType).expect(400);
    ObjectNode wrongPath = object().put("updateMask", "rule.containerRegistry.gatewayWebsocketBroadcast.path");
    wrongPath.putObject("rule").putObject("containerRegistry").putObject("gatewayWebsocketBroadcast").put("path", "/nope");
    assertEquals("rule.containerRegistry.gatewayWebsocketBroadcast.path", field(api.patch(TRIGGERS + "/" + id, wrongPath).expect(400).json()));
    assertEquals("ALREADY_EXISTS", api.patch(TRIGGERS + "/" + id, object().put("name", "taken-name")).expect(409).json().get("status").asText());
    assertEquals("triggerId", field(api.patch(TRIGGERS + "/" + id, object().put("triggerId", "other").put("name", "fine-name")).expect(400).json()));

    assertEquals(before, api.get(TRIGGERS + "/" + id).json());
    api.patch(TRIGGERS + "/a1smissing", object().put("name", "whatever")).expect(404);
  }

  @Test
  void listFiltersByExactNameWithOrWithoutQuotes(ApiClient api) {
    ApiClient.Setup s = api.setup();
    String wanted = api.post(TRIGGERS, s.trigger("wanted")).expect(200).responseId();
    api.post(TRIGGERS, s.trigger("wanted-not")).expect(200);

    for (String filter : List.of("name=%22wanted%22", "name=wanted", "name%20=%20%22wanted%22")) {
      JsonNode triggers = api.get(TRIGGERS + "?folderId=" + s.folderId() + "&filter=" + filter).expect(200).json().get("triggers");
      assertEquals(1, triggers.size(), filter);
      assertEquals(wanted, triggers.get(0).get("id").asText());
    }
    assertEquals("filter", field(api.get(TRIGGERS + "?folderId=" + s.folderId() + "&filter=description%3Dx").expect(400).json()));
  }

  @Test
  void listPagesWithinLimitsAndRefusesBadPageParameters(ApiClient api) {
    ApiClient.Setup s = api.setup();
    for (int i = 0; i < 3; i++) {
      api.post(TRIGGERS, s.trigger("paged-" + i)).expect(200);
    }
    JsonNode first = api.get(TRIGGERS + "?folderId=" + s.folderId() + "&pageSize=2").expect(200).json();
    assertEquals(2, first.get("triggers").size());
    JsonNode second =
        api.get(TRIGGERS + "?folderId=" + s.folderId() + "&pageSize=\"2\"".replace("\"", "") + "&pageToken=" + first.get("nextPageToken").asText())
            .expect(200)
            .json();
    assertEquals(1, second.get("triggers").size());
    assertFalse(second.has("nextPageToken"));
    assertNotEquals(first.get("triggers").get(0).get("id"), second.get("triggers").get(0).get("id"));

    assertEquals("pageSize", field(api.get(TRIGGERS + "?folderId=" + s.folderId() + "&pageSize=1001").expect(400).json()));
    assertEquals("pageSize", field(api.get(TRIGGERS + "?folderId=" + s.folderId() + "&pageSize=x").expect(400).json()));
    assertEquals("pageToken", field(api.get(TRIGGERS + "?folderId=" + s.folderId() + "&pageToken=%21%21").expect(400).json()));
    api.get(TRIGGERS + "?folderId=b1gmissing").expect(404);
  }

  @Test
  void deletedTriggerIsGoneAndItsOperationStaysReadable(ApiClient api) {
    ApiClient.Setup s = api.setup();
    String id = api.post(TRIGGERS, s.trigger("short-lived")).expect(200).responseId();
    ApiClient.Answer deleted = api.delete(TRIGGERS + "/" + id).expect(200);
    assertEquals(id, deleted.json().get("metadata").get("triggerId").asText());
    api.get(TRIGGERS + "/" + id).expect(404);
    api.delete(TRIGGERS + "/" + id).expect(404);
    JsonNode op = api.get("/operations/" + deleted.json().get("id").asText()).expect(200).json();
    assertEquals("Delete trigger", op.get("description").asText());
    api.get("/operations/op1missing").expect(404);
    api.post(TRIGGERS, s.trigger("short-lived")).expect(200);
  }
}

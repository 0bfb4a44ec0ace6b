package io.regcast.api;

import static io.regcast.testing.ApiClient.object;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.regcast.testing.ApiClient;
import io.regcast.testing.SharedNode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every failure answers in the reference's error contract ({@code code}, {@code status},
 * {@code message}, {@code details}), Pekko's own rejections included.
 */
@ExtendWith(SharedNode.class)
class ApiErrorsTest {
  private static final String CLOUDS = "/resource-manager/v1/clouds";

  private static void assertErrorBody(ApiClient.Answer answer, int code, String status) {
    assertTrue(answer.contentType().startsWith("application/json"), answer.contentType());
    JsonNode body = answer.json();
    assertEquals(code, body.get("code").asInt(), body.toString());
    assertEquals(status, body.get("status").asText());
    assertTrue(body.get("message").isTextual());
    assertTrue(body.get("details").isArray());
  }

  @Test
  void malformedJsonIsInvalidArgument(ApiClient api) {
    ApiClient.Answer answer = api.raw("POST", CLOUDS, "application/json", "{\"name\":".getBytes(StandardCharsets.UTF_8)).expect(400);
    assertErrorBody(answer, 3, "INVALID_ARGUMENT");
    assertTrue(answer.json().get("message").asText().contains("not valid JSON"));
  }

  @Test
  void duplicateJsonKeysAreRefused(ApiClient api) {
    byte[] body = "{\"name\":\"abc\",\"name\":\"abd\"}".getBytes(StandardCharsets.UTF_8);
    assertErrorBody(api.raw("POST", CLOUDS, "application/json", body).expect(400), 3, "INVALID_ARGUMENT");
  }

  @Test
  void bodyThatIsNotAnObjectIsRefused(ApiClient api) {
    assertErrorBody(api.raw("POST", CLOUDS, "application/json", "[1]".getBytes(StandardCharsets.UTF_8)).expect(400), 3, "INVALID_ARGUMENT");
    assertErrorBody(api.raw("POST", CLOUDS, "application/json", new byte[0]).expect(400), 3, "INVALID_ARGUMENT");
  }

  @Test
  void wrongContentTypeIs415(ApiClient api) {
    ApiClient.Answer answer = api.raw("POST", CLOUDS, "text/plain", "{\"name\":\"abc\"}".getBytes(StandardCharsets.UTF_8)).expect(415);
    assertErrorBody(answer, 3, "INVALID_ARGUMENT");
  }

  @Test
  void bodyOverTheLimitIs413(ApiClient api) {
    byte[] big = ("{\"name\":\"" + "a".repeat(2 * 1024 * 1024) + "\"}").getBytes(StandardCharsets.UTF_8);
    assertErrorBody(api.raw("POST", CLOUDS, "application/json", big).expect(413), 8, "RESOURCE_EXHAUSTED");
  }

  @Test
  void unknownPathIs404AndWrongMethodIs405InTheErrorContract(ApiClient api) {
    assertErrorBody(api.get("/no/such/path").expect(404), 5, "NOT_FOUND");
    assertErrorBody(api.raw("PUT", CLOUDS, "application/json", "{}".getBytes(StandardCharsets.UTF_8)).expect(405), 12, "UNIMPLEMENTED");
  }

  @Test
  void unknownIdIs404NamingTheResource(ApiClient api) {
    ApiClient.Answer answer = api.get(CLOUDS + "/b1cnothere").expect(404);
    assertErrorBody(answer, 5, "NOT_FOUND");
    assertTrue(answer.json().get("message").asText().contains("b1cnothere"));
  }

  @Test
  void wrongTypesAndUnknownFieldsAreNamed(ApiClient api) {
    JsonNode error = api.post(CLOUDS, object().put("name", 5).put("nmae", "typo")).expect(400).json();
    assertEquals(2, error.get("details").size(), error.toString());
    assertEquals("nmae", error.get("details").get(0).get("field").asText());
    assertEquals("name", error.get("details").get(1).get("field").asText());
  }
}

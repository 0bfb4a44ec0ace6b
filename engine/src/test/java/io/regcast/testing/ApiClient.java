package io.regcast.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** A JSON client of the admin API over real HTTP, with fixtures for the common resources. */
public final class ApiClient {
  public static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;
  private final String authorization;

  /** A client that sends {@code key} as its API key (null: none). */
  public ApiClient(String base, String key) {
    this(base, key == null ? null : "Bearer " + key, true);
  }

  private ApiClient(String base, String authorization, boolean verbatim) {
    this.base = base;
    this.authorization = authorization;
  }

  /** The same server, another key (null: none). */
  public ApiClient withKey(String otherKey) {
    return new ApiClient(base, otherKey);
  }

  /** The same server, sending {@code headerValue} verbatim as the Authorization header (null: none). */
  public ApiClient withAuthorization(String headerValue) {
    return new ApiClient(base, headerValue, true);
  }

  public String base() {
    return base;
  }

  /** An answer: HTTP status, content type and body (JSON, or null when the body is not JSON). */
  public record Answer(int status, String contentType, String text, JsonNode json) {
    public Answer expect(int expected) {
      assertEquals(expected, status, () -> "HTTP status; body: " + text);
      return this;
    }

    /** The answer's Operation response (the resource written). */
    public JsonNode response() {
      return json.get("response");
    }

    public String responseId() {
      return response().get("id").asText();
    }
  }

  public Answer get(String path) {
    return send(request(path).GET());
  }

  public Answer delete(String path) {
    return send(request(path).DELETE());
  }

  public Answer post(String path, Object body) {
    return send(withJson(path, "POST", body));
  }

  public Answer patch(String path, Object body) {
    return send(withJson(path, "PATCH", body));
  }

  /** A request with any method, content type and raw body. */
  public Answer raw(String method, String path, String contentType, byte[] body) {
    return send(
        request(path)
            .header("Content-Type", contentType)
            .method(method, HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  public CompletableFuture<Answer> postAsync(String path, Object body) {
    return HTTP.sendAsync(withJson(path, "POST", body).build(), HttpResponse.BodyHandlers.ofString())
        .thenApply(ApiClient::answer);
  }

  private HttpRequest.Builder withJson(String path, String method, Object body) {
    String text;
    try {
      text = body instanceof String s ? s : JSON.writeValueAsString(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return request(path)
        .header("Content-Type", "application/json")
        .method(method, HttpRequest.BodyPublishers.ofString(text));
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path));
    if (authorization != null) {
      builder.header("Authorization", authorization);
    }
    return builder;
  }

  private Answer send(HttpRequest.Builder request) {
    try {
      return answer(
          HTTP.send(request.timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static Answer answer(HttpResponse<String> response) {
    String type = response.headers().firstValue("Content-Type").orElse("");
    JsonNode json = null;
    if (type.startsWith("application/json")) {
      try {
        json = JSON.readTree(response.body());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return new Answer(response.statusCode(), type, response.body(), json);
  }

  // ---- fixtures: each call creates fresh resources with unique names ----

  private static final java.util.concurrent.atomic.AtomicInteger SEQ = new java.util.concurrent.atomic.AtomicInteger();

  public static String uniqueName(String prefix) {
    return prefix + "-" + SEQ.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 1_000_000, 36);
  }

  public static ObjectNode object() {
    return JSON.createObjectNode();
  }

  public String createCloud() {
    return post("/resource-manager/v1/clouds", object().put("name", uniqueName("cloud"))).expect(200).responseId();
  }

  public String createFolder(String cloudId) {
    return post("/resource-manager/v1/folders", object().put("cloudId", cloudId).put("name", uniqueName("folder")))
        .expect(200)
        .responseId();
  }

  public String createInFolder(String path, String folderId, ObjectNode extra) {
    ObjectNode body = extra.deepCopy().put("folderId", folderId);
    if (!body.has("name")) {
      body.put("name", uniqueName("res"));
    }
    return post(path, body).expect(200).responseId();
  }

  /** A folder with a registry, a gateway with paths /ws and /other, and a service account. */
  public Setup setup() {
    String cloud = createCloud();
    String folder = createFolder(cloud);
    String registry = createInFolder("/container-registry/v1/registries", folder, object());
    ObjectNode gateway = object();
    gateway.putArray("websocketPaths").add("/ws").add("/other");
    String gatewayId = createInFolder("/apigateways/v1/apigateways", folder, gateway);
    String account = createInFolder("/iam/v1/serviceAccounts", folder, object());
    grant(account, "serviceAccount", "api-gateway.websocketBroadcaster", "/resource-manager/v1/folders/" + folder);
    return new Setup(cloud, folder, registry, gatewayId, account);
  }

  /** Adds a role binding on a resource (its path, e.g. /resource-manager/v1/folders/b1g…). */
  public void grant(String subjectId, String subjectType, String role, String resourcePath) {
    post(resourcePath + ":updateAccessBindings", binding("ADD", subjectId, subjectType, role)).expect(200);
  }

  /** Removes a role binding from a resource. */
  public void revoke(String subjectId, String subjectType, String role, String resourcePath) {
    post(resourcePath + ":updateAccessBindings", binding("REMOVE", subjectId, subjectType, role)).expect(200);
  }

  private static ObjectNode binding(String action, String subjectId, String subjectType, String role) {
    ObjectNode body = object();
    body.putArray("accessBindingDeltas").addObject().put("action", action)
        .putObject("accessBinding").put("roleId", role)
        .putObject("subject").put("id", subjectId).put("type", subjectType);
    return body;
  }

  public record Setup(String cloudId, String folderId, String registryId, String gatewayId, String serviceAccountId) {

    /** A valid trigger create body for this setup. */
    public ObjectNode trigger(String name) {
      ObjectNode body = object().put("folderId", folderId).put("name", name);
      ObjectNode cr = body.putObject("rule").putObject("containerRegistry");
      cr.putArray("eventType").add("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE");
      cr.put("registryId", registryId);
      cr.putObject("gatewayWebsocketBroadcast")
          .put("gatewayId", gatewayId)
          .put("path", "/ws")
          .put("serviceAccountId", serviceAccountId);
      return body;
    }
  }
}

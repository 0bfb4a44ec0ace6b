package io.regcast.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;

/** A JSON client of one node's admin API: each call answers with the status and the parsed body. */
public final class JsonHttp {
  public static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(TIMEOUT).version(HttpClient.Version.HTTP_1_1).build();

  private final URI baseUrl;

  public JsonHttp(URI baseUrl) {
    this.baseUrl = baseUrl;
  }

  /** The status and body of one call; {@code body} is a MissingNode when the answer was empty. */
  public record Response(String request, int status, JsonNode body) {
    /** The body, after asserting the call answered 200. */
    public JsonNode ok() {
      return expect(200);
    }

    /** The id of the resource a create answered with (its Operation is done and names it). */
    public String createdId() {
      JsonNode op = ok();
      org.junit.jupiter.api.Assertions.assertTrue(op.path("done").asBoolean(), op::toString);
      String id = op.path("response").path("id").asText();
      org.junit.jupiter.api.Assertions.assertFalse(id.isEmpty(), op::toString);
      return id;
    }

    /** The body, after asserting the call answered {@code expected}. */
    public JsonNode expect(int expected) {
      assertEquals(expected, status, () -> request + " answered " + status + ": " + body);
      return body;
    }
  }

  /** Gives {@code role} to a subject on a resource (its path, e.g. /resource-manager/v1/folders/b1g…). */
  public void grant(String resourcePath, String subjectId, String subjectType, String role) {
    var body = JSON.createObjectNode();
    body.putArray("accessBindingDeltas").addObject().put("action", "ADD")
        .putObject("accessBinding").put("roleId", role)
        .putObject("subject").put("id", subjectId).put("type", subjectType);
    post(resourcePath + ":updateAccessBindings", body).ok();
  }

  /** A trigger's service account may broadcast to every gateway of the folder (PRODUCT.md §6). */
  public void allowBroadcast(String folderId, String serviceAccountId) {
    grant("/resource-manager/v1/folders/" + folderId, serviceAccountId, "serviceAccount", "api-gateway.websocketBroadcaster");
  }

  /**
   * Waits until the gateway lists the client's connection (found by its User-Agent) and returns
   * its id: broadcasts reach the client from then on. Each poll is one HTTP round trip.
   */
  public String awaitConnectionId(String gatewayId, BroadcastClient client, Duration within) {
    return awaitConnectionId(gatewayId, client.name(), client.userAgent(), within);
  }

  /** {@link #awaitConnectionId(String, BroadcastClient, Duration)} for any client that sends {@code userAgent}. */
  public String awaitConnectionId(String gatewayId, String client, String userAgent, Duration within) {
    long until = System.nanoTime() + within.toNanos();
    JsonNode listed;
    do {
      listed = get("/apigateways/v1/apigateways/" + gatewayId + "/connections").ok();
      for (JsonNode c : listed.path("connections")) {
        if (userAgent.equals(c.path("identity").path("userAgent").asText())) {
          return c.path("id").asText();
        }
      }
    } while (System.nanoTime() < until);
    throw new AssertionError(client + " is not among the gateway's connections after " + within + ": " + listed);
  }

  public Response get(String path) {
    return send("GET", path, BodyPublishers.noBody());
  }

  public Response delete(String path) {
    return send("DELETE", path, BodyPublishers.noBody());
  }

  /** POSTs {@code body} (a JsonNode, Map, List…) as JSON; null sends no body. */
  public Response post(String path, Object body) {
    return send("POST", path, json(body));
  }

  public Response patch(String path, Object body) {
    return send("PATCH", path, json(body));
  }

  /**
   * POSTs {@code body} as it is, with this Content-Type (e.g. a registry's notification envelope
   * as {@code application/vnd.docker.distribution.events.v1+json}). A failure to get an answer
   * (connection refused or reset, timeout) is an UncheckedIOException.
   */
  public Response post(String path, String contentType, byte[] body) {
    return send("POST", path, contentType, BodyPublishers.ofByteArray(body));
  }

  private Response send(String method, String path, BodyPublisher body) {
    return send(method, path, "application/json", body);
  }

  private Response send(String method, String path, String contentType, BodyPublisher body) {
    String what = method + " " + path;
    HttpRequest request =
        HttpRequest.newBuilder(baseUrl.resolve(path))
            .timeout(TIMEOUT)
            .header("Content-Type", contentType)
            .header("Accept", "application/json")
            .header("Authorization", "Bearer " + NodeProcess.ADMIN_KEY)
            .method(method, body)
            .build();
    try {
      var response = CLIENT.send(request, BodyHandlers.ofString());
      String text = response.body();
      JsonNode parsed = text.isEmpty() ? MissingNode.getInstance() : parse(what, text);
      return new Response(what, response.statusCode(), parsed);
    } catch (IOException e) {
      throw new UncheckedIOException(what + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(what + " interrupted", e);
    }
  }

  private static JsonNode parse(String what, String text) {
    try {
      return JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new AssertionError(what + " answered a body that is not JSON: " + text, e);
    }
  }

  private static BodyPublisher json(Object body) {
    if (body == null) {
      return BodyPublishers.noBody();
    }
    try {
      return BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot write " + body + " as JSON", e);
    }
  }
}

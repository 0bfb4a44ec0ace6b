package io.regcast.e2e;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

/**
 * Notifications in the shape a CNCF Distribution registry sends them to its webhook (the same
 * generator as the engine's test {@code Envelopes}, which this module cannot depend on): an
 * envelope {@code {"events":[…]}} of manifest pushes and tag deletes, each with a fresh source id.
 */
final class DistributionEvents {
  /** The Content-Type a registry sends its notifications with. */
  static final String CONTENT_TYPE = "application/vnd.docker.distribution.events.v1+json";

  private static final String MANIFEST = "application/vnd.oci.image.manifest.v1+json";

  private DistributionEvents() {}

  static ObjectNode envelope(ObjectNode... events) {
    ObjectNode body = JsonHttp.JSON.createObjectNode();
    ArrayNode list = body.putArray("events");
    for (ObjectNode e : events) {
      list.add(e);
    }
    return body;
  }

  /** POSTs a notification envelope to the registry's webhook endpoint, as a registry does. */
  static JsonHttp.Response notify(JsonHttp api, String registryId, ObjectNode envelope) {
    return api.post(
        "/container-registry/v1/registries/" + registryId + "/notifications",
        CONTENT_TYPE,
        envelope.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** A manifest digest made from a number: {@code sha256:} and 64 hex digits. */
  static String digest(long n) {
    return "sha256:" + String.format("%064x", n);
  }

  /** The number {@link #digest} made this digest from. */
  static long number(String digest) {
    return Long.parseLong(digest.substring("sha256:".length()), 16);
  }

  /** A manifest push; {@code tag} null for a push by digest (no tag). */
  static ObjectNode push(String repository, String digest, String tag, Instant at) {
    ObjectNode e = event("push", at);
    ObjectNode target = e.putObject("target");
    target.put("mediaType", MANIFEST).put("size", 499).put("digest", digest).put("length", 499);
    target.put("repository", repository);
    target.put("url", "http://127.0.0.1:5000/v2/" + repository + "/manifests/" + digest);
    if (tag != null) {
      target.put("tag", tag);
    }
    return e;
  }

  static ObjectNode deleteTag(String repository, String tag, Instant at) {
    ObjectNode e = event("delete", at);
    e.putObject("target").put("repository", repository).put("tag", tag);
    return e;
  }

  private static ObjectNode event(String action, Instant at) {
    ObjectNode e = JsonHttp.JSON.createObjectNode();
    e.put("id", UUID.randomUUID().toString());
    e.put("timestamp", at.toString());
    e.put("action", action);
    e.putObject("request").put("method", action.equals("push") ? "PUT" : "DELETE").put("useragent", "skopeo/1.9.3");
    e.putObject("actor");
    e.putObject("source").put("addr", "vm:5000");
    return e;
  }
}

package io.regcast.testing;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.UUID;

/**
 * Distribution notification events in the shape a real registry sends (see the captures in
 * resources/distribution-events/), for tests that need many or particular ones.
 */
public final class Envelopes {
  public static final String MANIFEST = "application/vnd.oci.image.manifest.v1+json";

  private Envelopes() {}

  public static ObjectNode envelope(ObjectNode... events) {
    ObjectNode body = ApiClient.object();
    ArrayNode list = body.putArray("events");
    for (ObjectNode e : events) {
      list.add(e);
    }
    return body;
  }

  public static String digest(int n) {
    return "sha256:" + String.format("%064x", n);
  }

  private static ObjectNode event(String action, Instant at) {
    ObjectNode e = ApiClient.object();
    e.put("id", UUID.randomUUID().toString());
    e.put("timestamp", at.toString());
    e.put("action", action);
    e.putObject("request").put("method", action.equals("push") ? "PUT" : "DELETE").put("useragent", "skopeo/1.9.3");
    e.putObject("actor");
    e.putObject("source").put("addr", "vm:5000");
    return e;
  }

  public static ObjectNode push(String repository, String digest, String tag, Instant at) {
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

  public static ObjectNode pushBlob(String repository, String digest, Instant at) {
    ObjectNode e = event("push", at);
    e.putObject("target")
        .put("mediaType", "application/octet-stream")
        .put("digest", digest)
        .put("repository", repository)
        .put("url", "http://127.0.0.1:5000/v2/" + repository + "/blobs/" + digest);
    return e;
  }

  public static ObjectNode deleteManifest(String repository, String digest, Instant at) {
    ObjectNode e = event("delete", at);
    e.putObject("target").put("digest", digest).put("repository", repository);
    return e;
  }

  public static ObjectNode deleteTag(String repository, String tag, Instant at) {
    ObjectNode e = event("delete", at);
    e.putObject("target").put("repository", repository).put("tag", tag);
    return e;
  }
}

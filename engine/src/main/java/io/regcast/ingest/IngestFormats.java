package io.regcast.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import io.regcast.model.EventType;
import io.regcast.model.Problem;
import io.regcast.model.TraceContext;
import io.regcast.model.Violations;
import io.regcast.registry.RegistryOp;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/** Reads ingest request bodies into {@link RegistryOp}s. */
public final class IngestFormats {
  /** Media types of manifests (images and indexes): a push of anything else is a blob. */
  static final Set<String> MANIFEST_TYPES =
      Set.of(
          "application/vnd.docker.distribution.manifest.v1+json",
          "application/vnd.docker.distribution.manifest.v1+prettyjws",
          "application/vnd.docker.distribution.manifest.v2+json",
          "application/vnd.docker.distribution.manifest.list.v2+json",
          "application/vnd.oci.image.manifest.v1+json",
          "application/vnd.oci.image.index.v1+json");

  private static final Pattern REPOSITORY =
      Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  private static final Pattern DIGEST = Pattern.compile("[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}");
  /** Most events in one request. */
  public static final int MAX_EVENTS = 1000;

  private IngestFormats() {}

  /**
   * A Distribution notification envelope {@code {"events":[…]}}: manifest pushes, manifest
   * deletes (by digest) and tag deletes; every other event is ignored.
   */
  public static List<RegistryOp> distributionEnvelope(JsonNode body, TraceContext trace) {
    Violations v = new Violations();
    List<RegistryOp> ops = new ArrayList<>();
    forEachEvent(body, v, (e, at) -> {
      String action = text(e, "action");
      JsonNode target = e.get("target");
      boolean manifestPush =
          "push".equals(action) && target != null && target.isObject()
              && (MANIFEST_TYPES.contains(text(target, "mediaType"))
                  || String.valueOf(text(target, "url")).contains("/manifests/"));
      boolean delete = "delete".equals(action);
      if (!manifestPush && !delete) {
        return; // blob pushes, pulls, mounts: nothing happened to an image
      }
      String id = required(at, e, "id");
      Instant timestamp = timestamp(at, e, "timestamp");
      if (target == null || !target.isObject()) {
        at.add("target", "is required");
        return;
      }
      Violations t = at.under("target");
      String repository = repository(t, target, "repository");
      String digest = text(target, "digest");
      String tag = text(target, "tag");
      if (manifestPush) {
        checkDigest(t, "digest", digest);
        checkTag(t, "tag", tag, false);
        if (v.isEmpty()) {
          ops.add(new RegistryOp.ManifestPushed(id, timestamp, repository, digest, tag == null ? "" : tag, trace));
        }
      } else if (digest != null) {
        checkDigest(t, "digest", digest);
        if (v.isEmpty()) {
          ops.add(new RegistryOp.ManifestDeleted(id, timestamp, repository, digest, trace));
        }
      } else {
        checkTag(t, "tag", tag, true);
        if (v.isEmpty()) {
          ops.add(new RegistryOp.TagDeleted(id, timestamp, repository, tag, trace));
        }
      }
    });
    v.throwIfAny();
    return ops;
  }

  /**
   * Already-typed CR events {@code {"events":[{"eventType", "repositoryName", "imageDigest", "tag",
   * "eventId", "createdAt"}]}}; {@code eventId} and {@code createdAt} are optional (a new id and
   * the time of arrival).
   */
  public static List<RegistryOp> nativeEvents(JsonNode body, String registryId, TraceContext trace, Instant now) {
    Violations v = new Violations();
    List<RegistryOp> ops = new ArrayList<>();
    Set<String> known = Set.of("eventType", "repositoryName", "imageDigest", "tag", "eventId", "createdAt");
    forEachEvent(body, v, (e, at) -> {
      e.fieldNames().forEachRemaining(f -> at.check(known.contains(f), f, "is not a known field (known: " + String.join(", ", known.stream().sorted().toList()) + ")"));
      String typeName = required(at, e, "eventType");
      EventType type = typeName == null ? null : eventType(typeName);
      if (typeName != null && type == null) {
        at.add("eventType", "must be one of CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE, _DELETE_IMAGE, _CREATE_IMAGE_TAG, _DELETE_IMAGE_TAG");
      }
      String repository = text(e, "repositoryName");
      if (repository != null && repository.startsWith(registryId + "/")) {
        repository = repository.substring(registryId.length() + 1);
      }
      if (at.check(repository != null, "repositoryName", "is required")) {
        at.check(REPOSITORY.matcher(repository).matches(), "repositoryName", "must be a repository name such as \"team/app\"");
      }
      String digest = text(e, "imageDigest");
      if (at.check(digest != null, "imageDigest", "is required")) {
        checkDigest(at, "imageDigest", digest);
      }
      String tag = text(e, "tag");
      boolean tagEvent = type == EventType.CREATE_IMAGE_TAG || type == EventType.DELETE_IMAGE_TAG;
      checkTag(at, "tag", tag, tagEvent);
      String id = e.hasNonNull("eventId") ? required(at, e, "eventId") : UUID.randomUUID().toString();
      Instant createdAt = e.hasNonNull("createdAt") ? timestamp(at, e, "createdAt") : now;
      if (v.isEmpty()) {
        String eventTag = type == EventType.DELETE_IMAGE || tag == null ? "" : tag;
        ops.add(new RegistryOp.Native(id, createdAt, type, repository, digest, eventTag, trace));
      }
    });
    v.throwIfAny();
    return ops;
  }

  /** Reads each event object of {@code {"events":[…]}} with its own violations' prefix. */
  private static void forEachEvent(JsonNode body, Violations v, java.util.function.BiConsumer<JsonNode, Violations> read) {
    JsonNode events = eventsOf(body, v);
    for (int i = 0; i < events.size(); i++) {
      Violations at = v.under("events[" + i + "]");
      JsonNode e = events.get(i);
      if (e.isObject()) {
        read.accept(e, at);
      } else {
        at.add("", "must be an object");
      }
    }
  }

  private static EventType eventType(String name) {
    for (EventType t : EventType.values()) {
      if (t.apiName().equals(name) || t.messageType().equals(name)) {
        return t;
      }
    }
    return null;
  }

  private static JsonNode eventsOf(JsonNode body, Violations v) {
    if (body == null || !body.isObject()) {
      throw Problem.invalid("", "the body must be a JSON object {\"events\": [...]}").toException();
    }
    JsonNode events = body.get("events");
    if (events == null || !events.isArray()) {
      throw Problem.invalid("events", "is required: an array of events").toException();
    }
    if (events.size() > MAX_EVENTS) {
      throw Problem.invalid("events", "must hold at most " + MAX_EVENTS + " events").toException();
    }
    return events;
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value != null && value.isTextual() ? value.textValue() : null;
  }

  private static String required(Violations v, JsonNode node, String field) {
    String value = text(node, field);
    v.check(value != null && !value.isEmpty() && value.length() <= 256, field, "is required (a string of at most 256 characters)");
    return value;
  }

  private static String repository(Violations v, JsonNode node, String field) {
    String value = text(node, field);
    if (v.check(value != null, field, "is required")) {
      v.check(value.length() <= 255 && REPOSITORY.matcher(value).matches(), field, "must be a repository name such as \"team/app\"");
    }
    return value;
  }

  private static void checkDigest(Violations v, String field, String digest) {
    if (v.check(digest != null, field, "is required")) {
      v.check(DIGEST.matcher(digest).matches() && digest.length() <= 256, field, "must be a digest such as \"sha256:…\"");
    }
  }

  private static void checkTag(Violations v, String field, String tag, boolean required) {
    if (tag == null) {
      v.check(!required, field, "is required");
    } else {
      v.check(TAG.matcher(tag).matches(), field, "must be a tag such as \"latest\"");
    }
  }

  private static Instant timestamp(Violations v, JsonNode node, String field) {
    String value = text(node, field);
    if (!v.check(value != null, field, "is required (an RFC 3339 timestamp)")) {
      return null;
    }
    try {
      return java.time.OffsetDateTime.parse(value).toInstant();
    } catch (DateTimeParseException e) {
      v.add(field, "must be an RFC 3339 timestamp such as \"2026-11-28T13:56:03.32002582Z\"");
      return null;
    }
  }
}

package io.regcast.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.model.EventType;
import io.regcast.model.FieldViolation;
import io.regcast.model.Problem;
import io.regcast.model.ProblemException;
import io.regcast.model.TraceContext;
import io.regcast.registry.RegistryOp;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Ingest bodies → raw registry operations, from the real Distribution captures and typed events. */
class IngestFormatsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TraceContext TRACE = new TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
  private static final String REGISTRY = "crt0123456789abcdefg";
  private static final Instant NOW = Instant.parse("2026-12-01T08:00:00Z");
  private static final String DIGEST = "sha256:" + "a".repeat(64);

  private static final String V1_DIGEST = "sha256:4a01fa856102e2501eb2a24950fc7ac35cb81fc178334d6770f7e5180ce3f881";
  private static final String V2_DIGEST = "sha256:6d3edb806fcfd15ecea8af7adde0a1a8c6992e2ab882e0d3e6804cc5a0d0775c";
  private static final String DOCKER_DIGEST = "sha256:e2ac2ea73ae42020d86c06d642d450632b26628c1cd574856d3aa0d9ddd52450";
  private static final String BLOB_DIGEST = "sha256:f260029b8b295edfcb8fa8a22cd91f0f53eef32e0174f2e4a12381f3365c0161";

  // ---- helpers ----

  static ObjectNode capture(String name) throws IOException {
    try (InputStream in = IngestFormatsTest.class.getResourceAsStream("/distribution-events/" + name + ".json")) {
      if (in == null) {
        throw new IOException("missing test resource " + name);
      }
      return (ObjectNode) JSON.readTree(in);
    }
  }

  /** The single event of a capture, as a mutable copy. */
  private static ObjectNode event(String name) throws IOException {
    return (ObjectNode) capture(name).get("events").get(0).deepCopy();
  }

  private static ObjectNode envelope(JsonNode... events) {
    ObjectNode body = JSON.createObjectNode();
    ArrayNode array = body.putArray("events");
    for (JsonNode e : events) {
      array.add(e);
    }
    return body;
  }

  private static ObjectNode parse(String json) {
    try {
      return (ObjectNode) JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static List<RegistryOp> distribution(JsonNode body) {
    return IngestFormats.distributionEnvelope(body, TRACE);
  }

  private static List<RegistryOp> natives(JsonNode body) {
    return IngestFormats.nativeEvents(body, REGISTRY, TRACE, NOW);
  }

  /** The problem's field paths, in the order reported. */
  private static List<String> refusedFields(Runnable call) {
    ProblemException e = assertThrows(ProblemException.class, call::run);
    assertEquals(Problem.Kind.INVALID_ARGUMENT, e.problem().kind());
    return e.problem().details().stream().map(FieldViolation::field).toList();
  }

  private static List<String> distributionRefused(JsonNode body) {
    return refusedFields(() -> distribution(body));
  }

  private static List<String> nativeRefused(JsonNode body) {
    return refusedFields(() -> natives(body));
  }

  private static ObjectNode nativeEvent(String type, String repository, String digest, String tag) {
    ObjectNode e = JSON.createObjectNode().put("eventType", type).put("repositoryName", repository).put("imageDigest", digest);
    if (tag != null) {
      e.put("tag", tag);
    }
    return e.put("eventId", "ev-" + type + "-" + tag).put("createdAt", "2026-11-30T10:00:00.123456789Z");
  }

  // ---- Distribution: the captures ----

  @Test
  void theV1ManifestPushCaptureIsAManifestPushedWithItsIdTimestampRepositoryDigestAndTag() throws IOException {
    assertEquals(
        List.of(new RegistryOp.ManifestPushed(
            "385088b3-e359-4b94-983f-6388e241b447", Instant.parse("2026-11-28T13:55:53.043627551Z"),
            "demo/hello", V1_DIGEST, "v1", TRACE)),
        distribution(capture("push-manifest-v1")));
  }

  @Test
  void theV2ManifestPushCaptureIsAManifestPushedWithItsIdTimestampRepositoryDigestAndTag() throws IOException {
    assertEquals(
        List.of(new RegistryOp.ManifestPushed(
            "7a511bcf-eea7-474b-be1f-f7bc5ad16b78", Instant.parse("2026-11-28T13:56:03.320025820Z"),
            "demo/hello", V2_DIGEST, "v2", TRACE)),
        distribution(capture("push-manifest-v2")));
  }

  @Test
  void theDockerSchema2ManifestPushCaptureIsAManifestPushed() throws IOException {
    assertEquals(
        List.of(new RegistryOp.ManifestPushed(
            "7cfec90d-c221-4661-aae1-8867a4efacde", Instant.parse("2026-11-28T13:58:03.961700432Z"),
            "demo/docker-fmt", DOCKER_DIGEST, "v1", TRACE)),
        distribution(capture("push-manifest-docker-v2s2")));
  }

  @Test
  void theTraceIsOptional() throws IOException {
    RegistryOp op = IngestFormats.distributionEnvelope(capture("push-manifest-v1"), null).get(0);
    assertEquals(null, op.trace());
  }

  @ParameterizedTest
  @ValueSource(strings = {"push-blob", "pull-blob-GET", "pull-blob-HEAD", "pull-manifest", "mount-blob"})
  void blobPushesPullsAndMountsGiveNoOperation(String capture) throws IOException {
    assertEquals(List.of(), distribution(capture(capture)));
  }

  @Test
  void theManifestDeleteCaptureIsAManifestDeleted() throws IOException {
    assertEquals(
        List.of(new RegistryOp.ManifestDeleted(
            "3b6a955a-737c-4ef3-863a-68b402353f9f", Instant.parse("2026-11-28T13:56:10.045664883Z"),
            "demo/hello", V1_DIGEST, TRACE)),
        distribution(capture("delete-manifest")));
  }

  @Test
  void theTagDeleteCaptureIsATagDeleted() throws IOException {
    assertEquals(
        List.of(new RegistryOp.TagDeleted(
            "76123238-7393-4e85-ba49-b720c6bcbd09", Instant.parse("2026-11-28T13:56:10.047389210Z"),
            "demo/hello", "v1", TRACE)),
        distribution(capture("delete-tag")));
  }

  @Test
  void theBlobDeleteCaptureLooksLikeAManifestDeleted() throws IOException {
    // the index ignores digests it does not know as manifests (ImageIndexTest)
    assertEquals(
        List.of(new RegistryOp.ManifestDeleted(
            "aca6e866-fbaa-48a9-8b03-cc6942245399", Instant.parse("2026-11-28T13:56:15.568929536Z"),
            "other/hello", BLOB_DIGEST, TRACE)),
        distribution(capture("delete-blob")));
  }

  // ---- Distribution: what counts as a manifest ----

  @ParameterizedTest
  @ValueSource(strings = {
      "application/vnd.oci.image.index.v1+json",
      "application/vnd.docker.distribution.manifest.list.v2+json",
      "application/vnd.docker.distribution.manifest.v1+prettyjws",
      "application/vnd.docker.distribution.manifest.v1+json"})
  void aPushOfAnIndexOrManifestListMediaTypeIsAManifestPush(String mediaType) throws IOException {
    ObjectNode e = event("push-manifest-v2");
    ObjectNode target = (ObjectNode) e.get("target");
    target.put("mediaType", mediaType).put("url", "http://127.0.0.1:5000/v2/demo/hello/something-else");
    target.remove("references");
    assertEquals(
        List.of(new RegistryOp.ManifestPushed(
            "7a511bcf-eea7-474b-be1f-f7bc5ad16b78", Instant.parse("2026-11-28T13:56:03.32002582Z"),
            "demo/hello", V2_DIGEST, "v2", TRACE)),
        distribution(envelope(e)));
  }

  @Test
  void aPushWhoseUrlHasManifestsIsAManifestPushWhateverItsMediaType() throws IOException {
    ObjectNode e = event("push-manifest-v2");
    ((ObjectNode) e.get("target")).put("mediaType", "application/vnd.example.future.manifest+json");
    assertEquals(1, distribution(envelope(e)).size());
    assertTrue(distribution(envelope(e)).get(0) instanceof RegistryOp.ManifestPushed);
  }

  @Test
  void aPushWithABlobMediaTypeAndABlobUrlIsIgnored() throws IOException {
    ObjectNode e = event("push-manifest-v2");
    ((ObjectNode) e.get("target")).put("mediaType", "application/octet-stream")
        .put("url", "http://127.0.0.1:5000/v2/demo/hello/blobs/" + V2_DIGEST);
    assertEquals(List.of(), distribution(envelope(e)));
  }

  @Test
  void aManifestPushByDigestOnlyHasAnEmptyTag() throws IOException {
    ObjectNode e = event("push-manifest-v1");
    ((ObjectNode) e.get("target")).remove("tag");
    assertEquals(
        List.of(new RegistryOp.ManifestPushed(
            "385088b3-e359-4b94-983f-6388e241b447", Instant.parse("2026-11-28T13:55:53.043627551Z"),
            "demo/hello", V1_DIGEST, "", TRACE)),
        distribution(envelope(e)));
  }

  @Test
  void aTimestampWithAnOffsetIsReadAsTheSameInstant() throws IOException {
    ObjectNode e = event("delete-tag").put("timestamp", "2026-11-28T16:56:10.5+03:00");
    assertEquals(Instant.parse("2026-11-28T13:56:10.5Z"), distribution(envelope(e)).get(0).at());
  }

  @Test
  void aMultiEventEnvelopeKeepsTheOrderAndSkipsTheNoise() throws IOException {
    ObjectNode body =
        envelope(
            event("push-blob"), event("push-manifest-v1"), event("pull-manifest"), event("push-manifest-v2"),
            event("delete-tag"), event("mount-blob"), event("delete-manifest"), event("delete-blob"));
    List<RegistryOp> ops = distribution(body);
    assertEquals(
        List.of(
            "385088b3-e359-4b94-983f-6388e241b447", "7a511bcf-eea7-474b-be1f-f7bc5ad16b78",
            "76123238-7393-4e85-ba49-b720c6bcbd09", "3b6a955a-737c-4ef3-863a-68b402353f9f",
            "aca6e866-fbaa-48a9-8b03-cc6942245399"),
        ops.stream().map(RegistryOp::sourceId).toList());
    assertEquals(
        List.of(RegistryOp.ManifestPushed.class, RegistryOp.ManifestPushed.class, RegistryOp.TagDeleted.class,
            RegistryOp.ManifestDeleted.class, RegistryOp.ManifestDeleted.class),
        ops.stream().map(Object::getClass).toList());
  }

  @Test
  void anEmptyEventsArrayGivesNoOperation() {
    assertEquals(List.of(), distribution(parse("{\"events\":[]}")));
  }

  @Test
  void ignoredEventsAreNotValidated() {
    ObjectNode pull = parse("{\"action\":\"pull\",\"timestamp\":\"yesterday\",\"target\":{\"repository\":\"NOT VALID\"}}");
    assertEquals(List.of(), distribution(envelope(pull)));
  }

  // ---- Distribution: refusals, all or nothing ----

  @Test
  void aBodyThatIsNotAnObjectIsRefused() {
    assertEquals(List.of(""), distributionRefused(JSON.createArrayNode()));
    assertEquals(List.of(""), distributionRefused(null));
  }

  @Test
  void aBodyWithoutAnEventsArrayIsRefused() {
    assertEquals(List.of("events"), distributionRefused(parse("{}")));
    assertEquals(List.of("events"), distributionRefused(parse("{\"events\":{}}")));
    assertEquals(List.of("events"), distributionRefused(parse("{\"events\":\"x\"}")));
  }

  @Test
  void moreThanTheMostEventsInOneRequestIsRefused() throws IOException {
    ObjectNode pull = event("pull-manifest");
    JsonNode[] events = new JsonNode[IngestFormats.MAX_EVENTS + 1];
    java.util.Arrays.fill(events, pull);
    assertEquals(List.of("events"), distributionRefused(envelope(events)));
    assertEquals(List.of(), distribution(envelope(java.util.Arrays.copyOf(events, IngestFormats.MAX_EVENTS))));
  }

  @Test
  void aBadDigestInTheSecondEventRefusesTheWholeRequest() throws IOException {
    ObjectNode bad = event("push-manifest-v2");
    ((ObjectNode) bad.get("target")).put("digest", "sha256:short");
    assertEquals(List.of("events[1].target.digest"), distributionRefused(envelope(event("push-manifest-v1"), bad)));
  }

  @Test
  void aMissingDigestOnAManifestPushIsRefused() throws IOException {
    ObjectNode bad = event("push-manifest-v2");
    ((ObjectNode) bad.get("target")).remove("digest");
    assertEquals(List.of("events[0].target.digest"), distributionRefused(envelope(bad)));
  }

  @Test
  void aMissingOrMalformedTimestampIsRefused() throws IOException {
    ObjectNode missing = event("push-manifest-v1");
    missing.remove("timestamp");
    assertEquals(List.of("events[0].timestamp"), distributionRefused(envelope(missing)));
    ObjectNode malformed = event("delete-tag").put("timestamp", "28/11/2026 13:56");
    assertEquals(List.of("events[0].timestamp"), distributionRefused(envelope(malformed)));
    ObjectNode noOffset = event("delete-tag").put("timestamp", "2026-11-28T13:56:10");
    assertEquals(List.of("events[0].timestamp"), distributionRefused(envelope(noOffset)));
  }

  @Test
  void aMissingOrEmptyIdIsRefused() throws IOException {
    ObjectNode missing = event("delete-manifest");
    missing.remove("id");
    assertEquals(List.of("events[0].id"), distributionRefused(envelope(missing)));
    assertEquals(List.of("events[0].id"), distributionRefused(envelope(event("delete-manifest").put("id", ""))));
    assertEquals(List.of("events[0].id"), distributionRefused(envelope(event("delete-manifest").put("id", 42))));
    assertEquals(
        List.of("events[0].id"), distributionRefused(envelope(event("delete-manifest").put("id", "x".repeat(257)))));
  }

  @Test
  void aDeleteWithoutATargetIsRefused() throws IOException {
    ObjectNode e = event("delete-manifest");
    e.remove("target");
    assertEquals(List.of("events[0].target"), distributionRefused(envelope(e)));
  }

  @Test
  void aDeleteWithNeitherDigestNorTagIsRefused() throws IOException {
    ObjectNode e = event("delete-tag");
    ((ObjectNode) e.get("target")).remove("tag");
    assertEquals(List.of("events[0].target.tag"), distributionRefused(envelope(e)));
  }

  @Test
  void aBadRepositoryOrTagIsRefused() throws IOException {
    ObjectNode upper = event("push-manifest-v1");
    ((ObjectNode) upper.get("target")).put("repository", "Demo/Hello");
    assertEquals(List.of("events[0].target.repository"), distributionRefused(envelope(upper)));
    ObjectNode noRepository = event("delete-manifest");
    ((ObjectNode) noRepository.get("target")).remove("repository");
    assertEquals(List.of("events[0].target.repository"), distributionRefused(envelope(noRepository)));
    ObjectNode badTag = event("delete-tag");
    ((ObjectNode) badTag.get("target")).put("tag", "-starts-with-dash");
    assertEquals(List.of("events[0].target.tag"), distributionRefused(envelope(badTag)));
    ObjectNode longTag = event("push-manifest-v1");
    ((ObjectNode) longTag.get("target")).put("tag", "t".repeat(129));
    assertEquals(List.of("events[0].target.tag"), distributionRefused(envelope(longTag)));
  }

  @Test
  void anEventThatIsNotAnObjectIsRefused() throws IOException {
    ObjectNode body = envelope(event("push-manifest-v1"));
    ((ArrayNode) body.get("events")).add("push");
    assertEquals(List.of("events[1]"), distributionRefused(body));
  }

  @Test
  void everyBadEventIsReportedInOneRefusal() throws IOException {
    ObjectNode badTimestamp = event("push-manifest-v1").put("timestamp", "soon");
    ObjectNode badDigest = event("delete-manifest");
    ((ObjectNode) badDigest.get("target")).put("digest", "md5");
    ObjectNode body = envelope(badTimestamp, event("push-manifest-v2"), badDigest);
    assertEquals(List.of("events[0].timestamp", "events[2].target.digest"), distributionRefused(body));
    ProblemException e = assertThrows(ProblemException.class, () -> distribution(body));
    assertEquals("the request has 2 invalid fields", e.problem().message());
  }

  @Test
  void aSingleViolationNamesItsFieldInTheMessage() throws IOException {
    ObjectNode bad = event("push-manifest-v2");
    ((ObjectNode) bad.get("target")).put("digest", "nope");
    ProblemException e = assertThrows(ProblemException.class, () -> distribution(envelope(bad)));
    assertTrue(e.problem().message().startsWith("events[0].target.digest: "), e.problem().message());
  }

  // ---- native events ----

  @Test
  void allFourNativeTypesByApiNameBecomeNativeOps() {
    ObjectNode body =
        envelope(
            nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", "team/app", DIGEST, "v1"),
            nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE_TAG", "team/app", DIGEST, "v1"),
            nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE_TAG", "team/app", DIGEST, "v1"),
            nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE", "team/app", DIGEST, null));
    Instant at = Instant.parse("2026-11-30T10:00:00.123456789Z");
    assertEquals(
        List.of(
            new RegistryOp.Native("ev-CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE-v1", at, EventType.CREATE_IMAGE, "team/app", DIGEST, "v1", TRACE),
            new RegistryOp.Native("ev-CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE_TAG-v1", at, EventType.CREATE_IMAGE_TAG, "team/app", DIGEST, "v1", TRACE),
            new RegistryOp.Native("ev-CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE_TAG-v1", at, EventType.DELETE_IMAGE_TAG, "team/app", DIGEST, "v1", TRACE),
            new RegistryOp.Native("ev-CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE-null", at, EventType.DELETE_IMAGE, "team/app", DIGEST, "", TRACE)),
        natives(body));
  }

  @Test
  void nativeTypesAreAlsoAcceptedByTheirMessageTypeNames() {
    for (EventType type : EventType.values()) {
      List<RegistryOp> ops = natives(envelope(nativeEvent(type.messageType(), "team/app", DIGEST, "v1")));
      assertEquals(type, ((RegistryOp.Native) ops.get(0)).type());
    }
  }

  @Test
  void aNativeDeleteImageHasAnEmptyTagEvenWhenOneIsGiven() {
    RegistryOp.Native op = (RegistryOp.Native) natives(envelope(nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE", "team/app", DIGEST, "v1"))).get(0);
    assertEquals("", op.tag());
  }

  @Test
  void aNativeCreateImageWithoutATagHasAnEmptyTag() {
    RegistryOp.Native op = (RegistryOp.Native) natives(envelope(nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", "team/app", DIGEST, null))).get(0);
    assertEquals("", op.tag());
  }

  @Test
  void theRepositoryNameIsTakenWithOrWithoutTheRegistryPrefix() {
    ObjectNode body =
        envelope(
            nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", REGISTRY + "/team/app", DIGEST, "v1"),
            nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", "team/app", DIGEST, "v1"),
            nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", REGISTRY + "/ubuntu", DIGEST, "v1"));
    assertEquals(List.of("team/app", "team/app", "ubuntu"), natives(body).stream().map(RegistryOp::repository).toList());
  }

  @Test
  void aRepositoryNameThatIsOnlyTheRegistryPrefixIsRefused() {
    assertEquals(
        List.of("events[0].repositoryName"),
        nativeRefused(envelope(nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", REGISTRY + "/", DIGEST, "v1"))));
  }

  @Test
  void aMissingEventIdIsGeneratedAndDiffersPerEvent() {
    ObjectNode first = nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", "team/app", DIGEST, "v1");
    ObjectNode second = nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE_TAG", "team/app", DIGEST, "v1");
    first.remove("eventId");
    second.putNull("eventId");
    List<RegistryOp> ops = natives(envelope(first, second));
    assertFalse(ops.get(0).sourceId().isEmpty());
    assertFalse(ops.get(1).sourceId().isEmpty());
    assertNotEquals(ops.get(0).sourceId(), ops.get(1).sourceId());
    assertNotEquals(ops.get(0).sourceId(), natives(envelope(first)).get(0).sourceId());
  }

  @Test
  void aMissingCreatedAtIsTheGivenNow() {
    ObjectNode e = nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", "team/app", DIGEST, "v1");
    e.remove("createdAt");
    assertEquals(NOW, natives(envelope(e)).get(0).at());
  }

  @Test
  void aCreatedAtWithAnOffsetIsReadAsTheSameInstant() {
    ObjectNode e = nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", "team/app", DIGEST, "v1")
        .put("createdAt", "2026-11-30T13:00:00+03:00");
    assertEquals(Instant.parse("2026-11-30T10:00:00Z"), natives(envelope(e)).get(0).at());
  }

  @Test
  void tagEventsRequireATag() {
    assertEquals(
        List.of("events[0].tag", "events[1].tag"),
        nativeRefused(
            envelope(
                nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE_TAG", "team/app", DIGEST, null),
                nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE_TAG", "team/app", DIGEST, null))));
  }

  @Test
  void anUnknownNativeFieldIsRefused() {
    ObjectNode e = nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", "team/app", DIGEST, "v1").put("imageName", "x");
    assertEquals(List.of("events[0].imageName"), nativeRefused(envelope(e)));
  }

  @Test
  void aBadOrMissingDigestIsRefused() {
    assertEquals(
        List.of("events[0].imageDigest"),
        nativeRefused(envelope(nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", "team/app", "latest", "v1"))));
    ObjectNode missing = nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", "team/app", DIGEST, "v1");
    missing.remove("imageDigest");
    assertEquals(List.of("events[0].imageDigest"), nativeRefused(envelope(missing)));
  }

  @Test
  void anUnknownOrMissingEventTypeIsRefused() {
    assertEquals(
        List.of("events[0].eventType"),
        nativeRefused(envelope(nativeEvent("create-image", "team/app", DIGEST, "v1"))));
    ObjectNode missing = nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", "team/app", DIGEST, "v1");
    missing.remove("eventType");
    assertEquals(List.of("events[0].eventType"), nativeRefused(envelope(missing)));
  }

  @Test
  void aMissingOrBadRepositoryNameIsRefused() {
    ObjectNode missing = nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", "team/app", DIGEST, "v1");
    missing.remove("repositoryName");
    assertEquals(List.of("events[0].repositoryName"), nativeRefused(envelope(missing)));
    assertEquals(
        List.of("events[0].repositoryName"),
        nativeRefused(envelope(nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", "Team App", DIGEST, "v1"))));
  }

  @Test
  void aBadCreatedAtOrEventIdIsRefused() {
    ObjectNode e = nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", "team/app", DIGEST, "v1")
        .put("createdAt", "tomorrow").put("eventId", "");
    assertEquals(List.of("events[0].eventId", "events[0].createdAt"), nativeRefused(envelope(e)));
  }

  @Test
  void oneBadNativeEventRefusesTheWholeRequest() {
    ObjectNode good = nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", "team/app", DIGEST, "v1");
    ObjectNode bad = nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE", "team/app", "sha256:xyz", "v1");
    assertEquals(List.of("events[1].imageDigest"), nativeRefused(envelope(good, bad)));
  }

  @Test
  void nativeBodiesFollowTheSameEnvelopeRules() {
    assertEquals(List.of(""), nativeRefused(JSON.createArrayNode()));
    assertEquals(List.of("events"), nativeRefused(parse("{\"events\":null}")));
    assertEquals(List.of("events[0]"), nativeRefused(parse("{\"events\":[1]}")));
    assertEquals(List.of(), natives(parse("{\"events\":[]}")));
  }

  @Test
  void theNativeRefusalListsEveryViolationOfAnEvent() {
    ObjectNode e = JSON.createObjectNode().put("eventType", "CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE_TAG").put("other", 1);
    assertEquals(
        List.of("events[0].other", "events[0].repositoryName", "events[0].imageDigest", "events[0].tag"),
        nativeRefused(envelope(e)));
  }

  @Test
  void aNativeTagEventCarriesItsTag() {
    ObjectNode e = nativeEvent("CONTAINER_REGISTRY_EVENT_TYPE_DELETE_IMAGE_TAG", "team/app", DIGEST, "rc-1.0_b");
    assertEquals("rc-1.0_b", ((RegistryOp.Native) natives(envelope(e)).get(0)).tag());
  }
}

package io.regcast.trigger;

import static io.regcast.trigger.CrEvents.AT;
import static io.regcast.trigger.CrEvents.CLOUD;
import static io.regcast.trigger.CrEvents.DIGEST;
import static io.regcast.trigger.CrEvents.FOLDER;
import static io.regcast.trigger.CrEvents.IMAGE_ID;
import static io.regcast.trigger.CrEvents.REGISTRY;
import static io.regcast.trigger.CrEvents.TRACE;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.regcast.model.CrEvent;
import io.regcast.model.EventType;
import io.regcast.model.TraceContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The message a batch becomes: the reference's exact bytes, tracing context, splitting. */
class MessageRendererTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int LIMIT = 128 * 1024;

  private static CrEvent createImage(String eventId, TraceContext trace) {
    return new CrEvent(eventId, EventType.CREATE_IMAGE, REGISTRY, FOLDER, CLOUD, "ubuntu", DIGEST, IMAGE_ID,
        "latest", List.of(), AT, trace, null);
  }

  private static byte[] golden(String name) {
    try (InputStream in = MessageRendererTest.class.getResourceAsStream("/trigger/" + name)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static JsonNode parse(byte[] message) {
    try {
      return JSON.readTree(message);
    } catch (IOException e) {
      throw new AssertionError("not valid JSON: " + new String(message, UTF_8), e);
    }
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  /** The event ids of a message, checking it is exactly {"messages":[…]}. */
  private static List<String> eventIds(byte[] message) {
    JsonNode root = parse(message);
    assertEquals(List.of("messages"), fieldNames(root));
    assertTrue(root.get("messages").isArray());
    List<String> ids = new ArrayList<>();
    for (Iterator<JsonNode> it = root.get("messages").elements(); it.hasNext(); ) {
      ids.add(it.next().get("event_metadata").get("event_id").asText());
    }
    return ids;
  }

  @Test
  void oneEventRendersToTheGoldenBytes() {
    List<byte[]> messages = MessageRenderer.render(List.of(createImage("crtpk611000000000001", null)), LIMIT);
    assertEquals(1, messages.size());
    assertEquals(new String(golden("one-event.json"), UTF_8), new String(messages.get(0), UTF_8));
    assertArrayEquals(golden("one-event.json"), messages.get(0));
  }

  @Test
  void aBatchOfThreeRendersToTheGoldenBytesWithTracingContextOnlyWhereATraceCameWithTheEvent() {
    CrEvent create = createImage("crtpk611000000000001", TRACE);
    CrEvent tag = new CrEvent("crtpk611000000000002", EventType.CREATE_IMAGE_TAG, REGISTRY, FOLDER, CLOUD,
        "ubuntu", DIGEST, IMAGE_ID, "latest", List.of(), AT, TRACE, null);
    CrEvent delete = new CrEvent("crtpk611000000000003", EventType.DELETE_IMAGE, REGISTRY, FOLDER, CLOUD,
        "team/app", "sha256:" + "0123456789abcdef".repeat(4), "crti2c9b000000000002", "", List.of("v1"),
        Instant.parse("2020-09-07T11:10:02Z"), null, null);

    List<byte[]> messages = MessageRenderer.render(List.of(create, tag, delete), LIMIT);

    assertEquals(1, messages.size());
    assertEquals(new String(golden("three-events.json"), UTF_8), new String(messages.get(0), UTF_8));
    assertArrayEquals(golden("three-events.json"), messages.get(0));
  }

  @Test
  void keysAndNestingAreExactlyThoseOfTheReference() {
    JsonNode item = parse(MessageRenderer.render(List.of(createImage("crtpk611000000000001", TRACE)), LIMIT).get(0))
        .get("messages").get(0);
    assertEquals(List.of("event_metadata", "details"), fieldNames(item));
    assertEquals(List.of("cloud_id", "created_at", "event_id", "event_type", "folder_id", "tracing_context"),
        fieldNames(item.get("event_metadata")));
    assertEquals(List.of("parent_span_id", "span_id", "trace_id"),
        fieldNames(item.get("event_metadata").get("tracing_context")));
    assertEquals(List.of("image_digest", "image_id", "registry_id", "repository_name", "tag"),
        fieldNames(item.get("details")));
  }

  @Test
  void withoutATraceThereIsNoTracingContextKeyAtAll() {
    byte[] message = MessageRenderer.render(List.of(createImage("crtpk611000000000001", null)), LIMIT).get(0);
    assertFalse(new String(message, UTF_8).contains("tracing_context"));
    assertEquals(List.of("cloud_id", "created_at", "event_id", "event_type", "folder_id"),
        fieldNames(parse(message).get("messages").get(0).get("event_metadata")));
  }

  @Test
  void theTracingContextCarriesTheTraceAndParentAndADeterministicSixteenHexDigitSpan() {
    CrEvent event = createImage("crtpk611000000000001", TRACE);
    byte[] first = MessageRenderer.render(List.of(event), LIMIT).get(0);
    byte[] again = MessageRenderer.render(List.of(createImage("crtpk611000000000001", TRACE)), LIMIT).get(0);
    assertArrayEquals(first, again);

    JsonNode tracing = parse(first).get("messages").get(0).get("event_metadata").get("tracing_context");
    assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", tracing.get("trace_id").asText());
    assertEquals("00f067aa0ba902b7", tracing.get("parent_span_id").asText());
    String span = tracing.get("span_id").asText();
    assertTrue(span.matches("[0-9a-f]{16}"), span);
    assertNotEquals("0000000000000000", span);

    String otherSpan = parse(MessageRenderer.render(List.of(createImage("crtpk611000000000002", TRACE)), LIMIT).get(0))
        .get("messages").get(0).get("event_metadata").get("tracing_context").get("span_id").asText();
    assertTrue(otherSpan.matches("[0-9a-f]{16}"), otherSpan);
    assertNotEquals(span, otherSpan, "another event gets another span");
  }

  @Test
  void theSameEventRendersToTheSameBytesAloneAndInsideABatch() {
    CrEvent event = createImage("crtpk611000000000001", TRACE);
    byte[] alone = MessageRenderer.render(List.of(event), LIMIT).get(0);
    byte[] inBatch = MessageRenderer.render(List.of(CrEvents.numbered(1), event, CrEvents.numbered(2)), LIMIT).get(0);
    String item = new String(alone, UTF_8);
    item = item.substring("{\"messages\":[".length(), item.length() - "]}".length());
    assertTrue(new String(inBatch, UTF_8).contains("}," + item + ",{"));
  }

  @Test
  void createdAtIsTheEventsOwnTimeInRfc3339UtcWithZ() {
    for (String at : List.of("2020-09-07T11:09:14Z", "2024-05-01T10:15:30.123456789Z", "2024-05-01T10:15:30.500Z",
        "1999-12-31T23:59:59.001Z")) {
      CrEvent event = new CrEvent("crtpk611000000000001", EventType.CREATE_IMAGE, REGISTRY, FOLDER, CLOUD, "ubuntu",
          DIGEST, IMAGE_ID, "latest", List.of(), Instant.parse(at), null, null);
      String createdAt = parse(MessageRenderer.render(List.of(event), LIMIT).get(0))
          .get("messages").get(0).get("event_metadata").get("created_at").asText();
      assertTrue(createdAt.matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z"), createdAt);
      assertEquals(Instant.parse(at), Instant.parse(createdAt));
    }
    CrEvent whole = createImage("crtpk611000000000001", null);
    assertTrue(new String(MessageRenderer.render(List.of(whole), LIMIT).get(0), UTF_8)
        .contains("\"created_at\":\"2020-09-07T11:09:14Z\""));
  }

  @Test
  void eventTypesAreWrittenWithTheirMessageNames() {
    List<String> written = new ArrayList<>();
    for (EventType type : EventType.values()) {
      CrEvent event = new CrEvent("crtpk611000000000001", type, REGISTRY, FOLDER, CLOUD, "ubuntu", DIGEST, IMAGE_ID,
          "", List.of(), AT, null, null);
      written.add(parse(MessageRenderer.render(List.of(event), LIMIT).get(0))
          .get("messages").get(0).get("event_metadata").get("event_type").asText());
    }
    assertEquals(List.of(
            "yandex.cloud.events.containerregistry.CreateImage",
            "yandex.cloud.events.containerregistry.DeleteImage",
            "yandex.cloud.events.containerregistry.CreateImageTag",
            "yandex.cloud.events.containerregistry.DeleteImageTag"),
        written);
  }

  @Test
  void anEmptyBatchRendersNoMessage() {
    assertEquals(List.of(), MessageRenderer.render(List.of(), LIMIT));
  }

  @Test
  void aBatchOverTheLimitBecomesSeveralValidMessagesEachWithinTheLimitAllEventsInOrder() {
    List<CrEvent> events = CrEvents.numberedRange(1, 50);
    int oneEvent = MessageRenderer.render(List.of(events.get(0)), LIMIT).get(0).length;
    int max = oneEvent * 4; // room for three or four events per message

    List<byte[]> messages = MessageRenderer.render(events, max);

    assertTrue(messages.size() > 1, "split into " + messages.size());
    List<String> ids = new ArrayList<>();
    for (byte[] message : messages) {
      assertTrue(message.length <= max, message.length + " > " + max);
      List<String> inMessage = eventIds(message);
      assertFalse(inMessage.isEmpty());
      ids.addAll(inMessage);
    }
    assertEquals(events.stream().map(CrEvent::eventId).toList(), ids);
    // the parts are the same events rendered the same way: together they hold the unsplit items
    String whole = new String(MessageRenderer.render(events, Integer.MAX_VALUE).get(0), UTF_8);
    StringBuilder joined = new StringBuilder("{\"messages\":[");
    for (int i = 0; i < messages.size(); i++) {
      String part = new String(messages.get(i), UTF_8);
      joined.append(i == 0 ? "" : ",").append(part, "{\"messages\":[".length(), part.length() - 2);
    }
    assertEquals(whole, joined.append("]}").toString());
  }

  @Test
  void aMessageExactlyAtTheLimitIsNotSplitAndOneByteLessIsSplit() {
    List<CrEvent> two = CrEvents.numberedRange(1, 2);
    int exact = MessageRenderer.render(two, Integer.MAX_VALUE).get(0).length;

    List<byte[]> atLimit = MessageRenderer.render(two, exact);
    assertEquals(1, atLimit.size());
    assertEquals(exact, atLimit.get(0).length);

    List<byte[]> overLimit = MessageRenderer.render(two, exact - 1);
    assertEquals(2, overLimit.size());
    assertEquals(List.of("crtev000000000000001"), eventIds(overLimit.get(0)));
    assertEquals(List.of("crtev000000000000002"), eventIds(overLimit.get(1)));
  }

  @Test
  void aBatchUnderTheDefaultLimitOf128KiBStaysOneMessage() {
    List<CrEvent> events = CrEvents.numberedRange(1, 100);
    List<byte[]> messages = MessageRenderer.render(events, LIMIT);
    assertEquals(1, messages.size());
    assertEquals(100, eventIds(messages.get(0)).size());
  }

  @Test
  void aThousandEventsAtTheDefaultLimitArriveAsMessagesOfAtMost128KiBInOrder() {
    List<CrEvent> events = CrEvents.numberedRange(1, 1000);
    List<byte[]> messages = MessageRenderer.render(events, LIMIT);
    assertTrue(messages.size() > 1);
    List<String> ids = new ArrayList<>();
    for (byte[] message : messages) {
      assertTrue(message.length <= LIMIT);
      ids.addAll(eventIds(message));
    }
    assertEquals(IntStream.rangeClosed(1, 1000).mapToObj(n -> String.format("crtev%015d", n)).toList(), ids);
  }

  @Test
  void aSingleEventBiggerThanTheLimitStillGoesOutAloneBetweenItsNeighbours() {
    CrEvent big = new CrEvent("crtbig00000000000001", EventType.CREATE_IMAGE_TAG, REGISTRY, FOLDER, CLOUD,
        "team/" + "a".repeat(3000), DIGEST, IMAGE_ID, "latest", List.of(), AT, null, null);
    List<CrEvent> events = List.of(CrEvents.numbered(1), big, CrEvents.numbered(2));
    int max = 1000;

    List<byte[]> messages = MessageRenderer.render(events, max);

    assertEquals(3, messages.size());
    assertEquals(List.of("crtev000000000000001"), eventIds(messages.get(0)));
    assertEquals(List.of("crtbig00000000000001"), eventIds(messages.get(1)));
    assertEquals(List.of("crtev000000000000002"), eventIds(messages.get(2)));
    assertTrue(messages.get(0).length <= max);
    assertTrue(messages.get(1).length > max);
    assertTrue(messages.get(2).length <= max);
    assertEquals("crt2504s000000000001/team/" + "a".repeat(3000),
        parse(messages.get(1)).get("messages").get(0).get("details").get("repository_name").asText());
  }

  @Test
  void aLoneEventBiggerThanTheLimitIsOneMessage() {
    CrEvent big = new CrEvent("crtbig00000000000001", EventType.CREATE_IMAGE, REGISTRY, FOLDER, CLOUD,
        "b".repeat(2000), DIGEST, IMAGE_ID, "latest", List.of(), AT, null, null);
    List<byte[]> messages = MessageRenderer.render(List.of(big), 100);
    assertEquals(1, messages.size());
    assertEquals(List.of("crtbig00000000000001"), eventIds(messages.get(0)));
  }
}

package io.regcast.trigger;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.regcast.model.CrEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.format.DateTimeFormatter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.List;

/**
 * The message a batch becomes, keys in the reference's order:
 * {@code {"messages":[{"event_metadata":{…},"details":{…}}, …]}}. Rendered once per batch; a batch
 * whose message would exceed the size limit becomes several messages, each valid, order kept.
 */
final class MessageRenderer {
  private static final JsonFactory JSON = new JsonFactory();
  private static final byte[] OPEN = "{\"messages\":[".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CLOSE = "]}".getBytes(StandardCharsets.US_ASCII);

  private MessageRenderer() {}

  /** A rendered message and how many of the batch's events (the next ones, in order) it holds. */
  record Rendered(byte[] bytes, int events) {}

  /** The messages for {@code events}, each at most {@code maxBytes} (an event alone may exceed it). */
  static List<byte[]> render(List<CrEvent> events, int maxBytes) {
    return renderCounted(events, maxBytes).stream().map(Rendered::bytes).toList();
  }

  /** {@link #render}, each message with the number of events it holds. */
  static List<Rendered> renderCounted(List<CrEvent> events, int maxBytes) {
    List<Rendered> messages = new ArrayList<>();
    ByteArrayOutputStream current = new ByteArrayOutputStream();
    int inCurrent = 0;
    for (CrEvent event : events) {
      byte[] item = renderEvent(event);
      int sizeIfAdded = OPEN.length + current.size() + (inCurrent > 0 ? 1 : 0) + item.length + CLOSE.length;
      if (inCurrent > 0 && sizeIfAdded > maxBytes) {
        messages.add(new Rendered(wrap(current), inCurrent));
        current.reset();
        inCurrent = 0;
      }
      if (inCurrent > 0) {
        current.write(',');
      }
      current.writeBytes(item);
      inCurrent++;
    }
    if (inCurrent > 0) {
      messages.add(new Rendered(wrap(current), inCurrent));
    }
    return messages;
  }

  private static byte[] wrap(ByteArrayOutputStream items) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(OPEN.length + items.size() + CLOSE.length);
    out.writeBytes(OPEN);
    out.writeBytes(items.toByteArray());
    out.writeBytes(CLOSE);
    return out.toByteArray();
  }

  static byte[] renderEvent(CrEvent e) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeObjectFieldStart("event_metadata");
      g.writeStringField("cloud_id", e.cloudId());
      g.writeStringField("created_at", DateTimeFormatter.ISO_INSTANT.format(e.createdAt()));
      g.writeStringField("event_id", e.eventId());
      g.writeStringField("event_type", e.type().messageType());
      g.writeStringField("folder_id", e.folderId());
      if (e.trace() != null) {
        g.writeObjectFieldStart("tracing_context");
        g.writeStringField("parent_span_id", e.trace().parentSpanId());
        g.writeStringField("span_id", spanId(e.eventId()));
        g.writeStringField("trace_id", e.trace().traceId());
        g.writeEndObject();
      }
      g.writeEndObject();
      g.writeObjectFieldStart("details");
      g.writeStringField("image_digest", e.imageDigest());
      g.writeStringField("image_id", e.imageId());
      g.writeStringField("registry_id", e.registryId());
      g.writeStringField("repository_name", e.repositoryName());
      g.writeStringField("tag", e.tag());
      g.writeEndObject();
      g.writeEndObject();
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
    return out.toByteArray();
  }

  /** 16 hex digits derived from the event id: the same event always renders the same span. */
  private static String spanId(String eventId) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(eventId.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash, 0, 8);
    } catch (NoSuchAlgorithmException ex) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", ex);
    }
  }
}

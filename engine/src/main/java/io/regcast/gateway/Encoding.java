package io.regcast.gateway;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * What a connection's bytes look like. A path's message is encoded once per node for each of
 * them, never per connection; the connections of one kind share those bytes.
 */
enum Encoding {
  /** A WebSocket without subprotocol: the reference message itself, as it always was. */
  PLAIN {
    @Override
    ByteBuf message(ByteBufAllocator allocator, long position, byte[] payload) {
      return Frames.encode(allocator, true, payload);
    }

    @Override
    ByteBuf gap(ByteBufAllocator allocator, ResumeGap gap) {
      throw new IllegalStateException("a plain WebSocket cannot resume");
    }
  },
  /** {@code Sec-WebSocket-Protocol: regcast.v1}: {@code {"id":"<position>","message":<reference message>}}. */
  V1 {
    @Override
    ByteBuf message(ByteBufAllocator allocator, long position, byte[] payload) {
      return Frames.encode(allocator, true, ("{\"id\":\"" + position + "\",\"message\":").getBytes(US_ASCII), payload, CLOSE);
    }

    @Override
    ByteBuf gap(ByteBufAllocator allocator, ResumeGap gap) {
      return Frames.encode(allocator, true, gapJson(gap));
    }
  },
  /** Server-Sent Events: {@code id: <position>} and the reference message as {@code data:}. */
  SSE {
    @Override
    ByteBuf message(ByteBufAllocator allocator, long position, byte[] payload) {
      return EventChunks.event(allocator, Long.toString(position), null, payload);
    }

    @Override
    ByteBuf gap(ByteBufAllocator allocator, ResumeGap gap) {
      return EventChunks.event(allocator, null, "gap", gapJson(gap));
    }

    @Override
    ByteBuf unpositioned(ByteBufAllocator allocator, boolean text, byte[] payload) {
      return EventChunks.event(allocator, null, null, payload);
    }
  };

  private static final byte[] CLOSE = {'}'};

  /** Message {@code position} of a path's stream. */
  abstract ByteBuf message(ByteBufAllocator allocator, long position, byte[] payload);

  /** What a resuming connection is told first when messages after its id are gone. */
  abstract ByteBuf gap(ByteBufAllocator allocator, ResumeGap gap);

  /** A message outside the stream (the connections API's send): no position, so no id. */
  ByteBuf unpositioned(ByteBufAllocator allocator, boolean text, byte[] payload) {
    return Frames.encode(allocator, text, payload);
  }

  /** {@code {"gap":{"lastEventId":"…","resumedAfter":"…"}}}, the same for WebSocket and event stream. */
  static byte[] gapJson(ResumeGap gap) {
    return ("{\"gap\":{\"lastEventId\":\"" + quoted(gap.lastEventId()) + "\",\"resumedAfter\":\""
        + quoted(gap.resumedAfter()) + "\"}}").getBytes(UTF_8);
  }

  private static String quoted(String text) {
    return new String(JsonStringEncoder.getInstance().quoteAsString(text == null ? "" : text));
  }

  /**
   * The position a client's id names, or -1 when it names none (ids are opaque to clients, so any
   * text may come back).
   */
  static long positionOf(String id) {
    if (id == null || id.isEmpty() || id.length() > 18) {
      return -1;
    }
    for (int i = 0; i < id.length(); i++) {
      if (id.charAt(i) < '0' || id.charAt(i) > '9') {
        return -1;
      }
    }
    return Long.parseLong(id);
  }
}

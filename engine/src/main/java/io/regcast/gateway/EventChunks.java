package io.regcast.gateway;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;

/**
 * Server-Sent Events as HTTP/1.1 chunks, encoded once and ready for any number of sockets: each
 * buffer is one whole chunk (size line, event, CRLF), so the event stream's connections write them
 * raw once the response head is out.
 */
final class EventChunks {
  private static final byte[] ID = "id: ".getBytes(US_ASCII);
  private static final byte[] EVENT = "event: ".getBytes(US_ASCII);
  private static final byte[] DATA = "data: ".getBytes(US_ASCII);
  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(US_ASCII);

  private EventChunks() {}

  /**
   * One event: an {@code id:} line (when {@code id} is not null), an {@code event:} line (when
   * {@code event} is not null) and one {@code data:} line per line of {@code data} (any of CRLF,
   * LF, CR ends a line in an event stream, so none may stay inside a {@code data:} line).
   */
  static ByteBuf event(ByteBufAllocator allocator, String id, String event, byte[] data) {
    ByteBuf body = allocator.heapBuffer(data.length + 64);
    try {
      if (id != null) {
        body.writeBytes(ID).writeCharSequence(id, US_ASCII);
        body.writeByte('\n');
      }
      if (event != null) {
        body.writeBytes(EVENT).writeCharSequence(event, US_ASCII);
        body.writeByte('\n');
      }
      int start = 0;
      for (int i = 0; i <= data.length; i++) {
        if (i == data.length || data[i] == '\n' || data[i] == '\r') {
          body.writeBytes(DATA).writeBytes(data, start, i - start).writeByte('\n');
          if (i < data.length && data[i] == '\r' && i + 1 < data.length && data[i + 1] == '\n') {
            i++;
          }
          start = i + 1;
        }
      }
      body.writeByte('\n');
      return chunk(allocator, body);
    } finally {
      body.release();
    }
  }

  /** A comment line: what keeps the stream (and the proxies on its way) from looking idle. */
  static ByteBuf comment(ByteBufAllocator allocator, String text) {
    return ascii(allocator, ": " + text + "\n\n");
  }

  /** How long a client's {@code EventSource} waits before it reconnects. */
  static ByteBuf retry(ByteBufAllocator allocator, long millis) {
    return ascii(allocator, "retry: " + millis + "\n\n");
  }

  /** The chunk that ends the response. */
  static ByteBuf end() {
    return Unpooled.wrappedBuffer(LAST_CHUNK);
  }

  private static ByteBuf ascii(ByteBufAllocator allocator, String text) {
    ByteBuf body = allocator.heapBuffer(text.length());
    try {
      body.writeCharSequence(text, US_ASCII);
      return chunk(allocator, body);
    } finally {
      body.release();
    }
  }

  private static ByteBuf chunk(ByteBufAllocator allocator, ByteBuf body) {
    byte[] size = Integer.toHexString(body.readableBytes()).getBytes(US_ASCII);
    ByteBuf chunk = allocator.directBuffer(size.length + 2 + body.readableBytes() + 2);
    chunk.writeBytes(size).writeBytes(CRLF).writeBytes(body, body.readerIndex(), body.readableBytes()).writeBytes(CRLF);
    return chunk;
  }
}

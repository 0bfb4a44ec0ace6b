package io.regcast.gateway;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * RFC 6455 server frames encoded once, as bytes ready for any number of sockets: a server frame
 * is never masked, so the same bytes are valid on every connection.
 */
final class Frames {
  static final int OPCODE_TEXT = 0x1;
  static final int OPCODE_BINARY = 0x2;

  private Frames() {}

  /** One final frame holding the whole message (header + payload), from a direct pooled buffer. */
  static ByteBuf encode(ByteBufAllocator allocator, boolean text, byte[] payload) {
    int length = payload.length;
    int header = length < 126 ? 2 : length <= 0xFFFF ? 4 : 10;
    ByteBuf frame = allocator.directBuffer(header + length);
    frame.writeByte(0x80 | (text ? OPCODE_TEXT : OPCODE_BINARY));
    if (length < 126) {
      frame.writeByte(length);
    } else if (length <= 0xFFFF) {
      frame.writeByte(126);
      frame.writeShort(length);
    } else {
      frame.writeByte(127);
      frame.writeLong(length);
    }
    frame.writeBytes(payload);
    return frame;
  }
}

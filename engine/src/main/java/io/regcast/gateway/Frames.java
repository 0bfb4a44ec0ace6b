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
  private static final byte[] NOTHING = new byte[0];

  private Frames() {}

  /** One final frame holding the whole message (header + payload), from a direct pooled buffer. */
  static ByteBuf encode(ByteBufAllocator allocator, boolean text, byte[] payload) {
    return encode(allocator, text, NOTHING, payload, NOTHING);
  }

  /**
   * One final frame whose payload is {@code head + body + tail}: a message wrapped (the regcast.v1
   * envelope) without first copying it into a new array.
   */
  static ByteBuf encode(ByteBufAllocator allocator, boolean text, byte[] head, byte[] body, byte[] tail) {
    int length = head.length + body.length + tail.length;
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
    frame.writeBytes(head).writeBytes(body).writeBytes(tail);
    return frame;
  }
}

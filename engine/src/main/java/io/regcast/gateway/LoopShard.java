package io.regcast.gateway;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.regcast.metrics.Metrics;
import java.util.Arrays;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The connections of one path on one event loop, and the messages waiting for that loop: one
 * merged buffer per encoding for what was queued during a loop turn, one write and one flush per
 * connection. Members are touched only on the loop.
 */
final class LoopShard implements Runnable {
  /**
   * One message in each encoding (null for an encoding it has none in: an unpositioned message
   * reaches plain WebSockets only), {@code position} -1 when it has none, and the ingest time of
   * its oldest event (epoch; 0 = none).
   */
  record Message(ByteBuf plain, ByteBuf v1, ByteBuf sse, long position, long ingestedAtMillis) {
    ByteBuf bytes(Encoding encoding) {
      return switch (encoding) {
        case PLAIN -> plain;
        case V1 -> v1;
        case SSE -> sse;
      };
    }

    Message retainedDuplicate() {
      return new Message(plain.retainedDuplicate(), v1 == null ? null : v1.retainedDuplicate(),
          sse == null ? null : sse.retainedDuplicate(), position, ingestedAtMillis);
    }

    void release() {
      plain.release();
      if (v1 != null) {
        v1.release();
        sse.release();
      }
    }
  }

  private static final Encoding[] ENCODINGS = Encoding.values();

  private final EventLoop loop;
  private final Metrics metrics;
  /**
   * Copied on change (rare) so that a delivery can iterate without allocating, and a member that
   * leaves during a delivery (a slow consumer cut) does not disturb the iteration.
   */
  private ConnectionHandler[] members = new ConnectionHandler[0];
  private final Queue<Message> pending = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  /** The messages of the current turn (loop only; reused, grows as needed). */
  private Message[] turn = new Message[16];
  private int turnSize;
  /** Per encoding, the turn's messages as one buffer (built when a member needs it), and how many. */
  private final ByteBuf[] merged = new ByteBuf[ENCODINGS.length];
  private final int[] mergedCount = new int[ENCODINGS.length];
  private final long[] mergedLast = new long[ENCODINGS.length];

  LoopShard(EventLoop loop, Metrics metrics) {
    this.loop = loop;
    this.metrics = metrics;
  }

  void add(ConnectionHandler handler) {
    ConnectionHandler[] grown = Arrays.copyOf(members, members.length + 1);
    grown[members.length] = handler;
    members = grown;
  }

  /** Removes a member; true when none is left. */
  boolean remove(ConnectionHandler handler) {
    int at = Arrays.asList(members).indexOf(handler);
    if (at >= 0) {
      ConnectionHandler[] shrunk = new ConnectionHandler[members.length - 1];
      System.arraycopy(members, 0, shrunk, 0, at);
      System.arraycopy(members, at + 1, shrunk, at, members.length - at - 1);
      members = shrunk;
    }
    return members.length == 0;
  }

  /** Any thread; takes ownership of {@code message}. */
  void offer(Message message) {
    pending.add(message);
    if (scheduled.compareAndSet(false, true)) {
      loop.execute(this);
    }
  }

  /**
   * On the loop. A member that resumes gets the messages one by one with their positions (it
   * holds them until its replay is out and drops those the replay covered); the others get the
   * merged buffer of their encoding. The counts of the whole turn go to the metrics at once.
   */
  @Override
  public void run() {
    scheduled.set(false);
    drain();
    if (turnSize == 0) {
      return;
    }
    ConnectionHandler[] recipients = members;
    long messages = 0;
    long writes = 0;
    try {
      for (ConnectionHandler member : recipients) {
        Encoding encoding = member.encoding;
        if (member.wantsPositions()) {
          for (int i = 0; i < turnSize; i++) {
            ByteBuf bytes = turn[i].bytes(encoding);
            if (bytes != null) {
              member.deliver(bytes.retainedDuplicate(), 1, turn[i].position());
            }
          }
        } else {
          ByteBuf bytes = merged(encoding);
          if (bytes != null && member.deliver(bytes.retainedDuplicate(), mergedCount[encoding.ordinal()],
              mergedLast[encoding.ordinal()])) {
            messages += mergedCount[encoding.ordinal()];
            writes++;
          }
        }
      }
      for (ConnectionHandler member : recipients) {
        member.flush();
      }
      metrics.messagesWritten(messages, writes);
      if (recipients.length > 0) {
        long now = System.currentTimeMillis();
        for (int i = 0; i < turnSize; i++) {
          if (turn[i].ingestedAtMillis() > 0) {
            metrics.ingestToSocket(turn[i].ingestedAtMillis(), now);
          }
        }
      }
    } finally {
      release();
    }
  }

  private void drain() {
    for (Message next = pending.poll(); next != null; next = pending.poll()) {
      if (turnSize == turn.length) {
        turn = Arrays.copyOf(turn, turnSize * 2);
      }
      turn[turnSize++] = next;
    }
  }

  /** The turn's messages in {@code encoding} as one buffer (a lone message is not copied); null if none. */
  private ByteBuf merged(Encoding encoding) {
    int k = encoding.ordinal();
    if (merged[k] != null) {
      return merged[k];
    }
    ByteBuf single = null;
    int count = 0;
    int total = 0;
    for (int i = 0; i < turnSize; i++) {
      ByteBuf bytes = turn[i].bytes(encoding);
      if (bytes != null) {
        single = bytes;
        count++;
        total += bytes.readableBytes();
        mergedLast[k] = turn[i].position();
      }
    }
    if (count == 0) {
      return null;
    }
    if (count == 1) {
      merged[k] = single.retain();
    } else {
      merged[k] = single.alloc().directBuffer(total);
      for (int i = 0; i < turnSize; i++) {
        ByteBuf bytes = turn[i].bytes(encoding);
        if (bytes != null) {
          merged[k].writeBytes(bytes, bytes.readerIndex(), bytes.readableBytes());
        }
      }
    }
    mergedCount[k] = count;
    return merged[k];
  }

  private void release() {
    for (int k = 0; k < merged.length; k++) {
      if (merged[k] != null) {
        merged[k].release();
        merged[k] = null;
      }
    }
    for (int i = 0; i < turnSize; i++) {
      turn[i].release();
      turn[i] = null;
    }
    turnSize = 0;
  }
}

package io.regcast.gateway;

import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * The newest messages of one path on this node, already encoded for the connections that resume
 * (regcast.v1 frames and event-stream chunks, shared by all of them): a resume within it needs no
 * read from the path's log. Its entries are always contiguous; a jump in positions starts it over.
 * Not thread-safe: its path's lock guards it.
 */
final class PathTail {
  private record Entry(long position, long appendedAtMillis, ByteBuf v1, ByteBuf sse) {
    ByteBuf bytes(Encoding encoding) {
      return encoding == Encoding.SSE ? sse : v1;
    }

    void release() {
      v1.release();
      sse.release();
    }
  }

  private final ArrayDeque<Entry> entries = new ArrayDeque<>();
  /** The newest position broadcast since the tail started (over); -1: none yet. */
  private long lastSeen = -1;

  /**
   * Message {@code position} was broadcast; keeps its own duplicates of {@code v1} and {@code
   * sse}. Then keeps at most {@code limit} entries, none older than {@code maxAgeMillis}.
   */
  void append(long position, long appendedAtMillis, ByteBuf v1, ByteBuf sse, int limit, long maxAgeMillis) {
    if (lastSeen >= 0 && position != lastSeen + 1) {
      // After a loss the entries before the jump say nothing about the positions in the hole.
      clear();
    }
    lastSeen = position;
    if (limit > 0) {
      entries.addLast(new Entry(position, appendedAtMillis, v1.retainedDuplicate(), sse.retainedDuplicate()));
    }
    trim(limit, maxAgeMillis);
  }

  /**
   * Every retained message after {@code position} as the connection's bytes (retained duplicates,
   * in order), or null when the tail cannot prove it holds all of them (the log must answer).
   */
  List<ByteBuf> after(long position, Encoding encoding, int limit, long maxAgeMillis) {
    trim(limit, maxAgeMillis);
    if (position < 0 || lastSeen < 0 || position > lastSeen) {
      return null;
    }
    if (position == lastSeen) {
      return List.of();
    }
    if (entries.isEmpty() || position + 1 < entries.peekFirst().position()) {
      return null;
    }
    // From the newest back: a resume costs what it gets, not the whole tail (up to memory-tail).
    List<ByteBuf> replay = new ArrayList<>((int) (lastSeen - position));
    for (Iterator<Entry> newestFirst = entries.descendingIterator(); newestFirst.hasNext(); ) {
      Entry entry = newestFirst.next();
      if (entry.position() <= position) {
        break;
      }
      replay.add(entry.bytes(encoding).retainedDuplicate());
    }
    Collections.reverse(replay);
    return replay;
  }

  int size() {
    return entries.size();
  }

  /** Frees every entry; the tail knows no position any more. */
  void clear() {
    entries.forEach(Entry::release);
    entries.clear();
    lastSeen = -1;
  }

  private void trim(int limit, long maxAgeMillis) {
    while (entries.size() > limit) {
      entries.pollFirst().release();
    }
    long oldest = System.currentTimeMillis() - maxAgeMillis;
    while (!entries.isEmpty() && entries.peekFirst().appendedAtMillis() < oldest) {
      entries.pollFirst().release();
    }
  }
}

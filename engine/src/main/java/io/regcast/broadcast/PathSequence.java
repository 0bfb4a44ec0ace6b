package io.regcast.broadcast;

import io.regcast.gateway.StreamEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * One path's stream as this node hands it to its connections: in position order, each position
 * once, none skipped. Messages arrive from the topic out of order (the path's log moved to another
 * node) or with holes (a node died between storing a message and sending it); what comes early
 * waits here until the missing positions have been read from the log.
 *
 * <p>Not thread-safe: the hub's actor owns it.
 */
final class PathSequence {
  /** The last position handed on; -1 until the first message sets where this node starts. */
  private long last = -1;
  /** The highest position known to exist (from messages or the log's announcements). */
  private long known = -1;
  private final TreeMap<Long, StreamEntry> early = new TreeMap<>();

  /** The entries that may go to the connections now, in order; early ones wait. */
  List<StreamEntry> accept(List<StreamEntry> entries) {
    List<StreamEntry> ready = new ArrayList<>();
    for (StreamEntry e : entries) {
      known = Math.max(known, e.position());
      if (last < 0) {
        last = e.position() - 1; // a node that starts mid-stream starts with what it gets first
      }
      if (e.position() > last) {
        early.put(e.position(), e);
      }
    }
    drain(ready);
    return ready;
  }

  /** The log's last position: a node behind it has missed messages and must read them. */
  void announced(long head) {
    if (last >= 0) {
      known = Math.max(known, head);
    }
  }

  /** The position after which messages are missing, or -1 when none are. */
  long missingAfter() {
    return last >= 0 && known > last ? last : -1;
  }

  /**
   * What a read of the log returned for {@link #missingAfter()}: the missing entries, in order.
   * Positions the log no longer keeps ({@code firstRetained} past them) are given up; so is a
   * hole the log cannot fill (it ends before the next early message).
   */
  List<StreamEntry> filled(long firstRetained, long head, List<StreamEntry> entries) {
    known = Math.max(known, head);
    if (firstRetained > last + 1) {
      last = firstRetained - 1;
    }
    List<StreamEntry> ready = accept(entries);
    boolean logHasNoMore = entries.isEmpty() || entries.get(entries.size() - 1).position() >= head;
    if (logHasNoMore && !early.isEmpty() && early.firstKey() > last + 1) {
      last = early.firstKey() - 1;
      drain(ready);
    }
    if (logHasNoMore && early.isEmpty()) {
      known = Math.min(known, Math.max(last, head));
    }
    return ready;
  }

  long last() {
    return last;
  }

  private void drain(List<StreamEntry> ready) {
    while (!early.isEmpty() && early.firstKey() <= last + 1) {
      StreamEntry next = early.pollFirstEntry().getValue();
      if (next.position() == last + 1) {
        ready.add(next);
        last = next.position();
      }
    }
  }
}

package io.regcast.trigger;

import io.regcast.model.BroadcastTarget;
import io.regcast.model.CrEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a trigger has batched and not yet had confirmed, in order: the batches a change closed
 * (pause, new target, batching or registry, removal — each keeps the target and size it was
 * closed with, so it goes where and how it was meant to), then the open batch (sent with the
 * current definition, its cutoff counted from {@code openedAt}).
 *
 * <p>Every event batched gets the next ordinal of the trigger: the first pending event is {@code
 * sentUpTo + 1}, the rest follow in order. Only a confirmation ({@link #sent}) removes events, from
 * the front — so a batch closed while a part of it is on its way loses just that part when the
 * confirmation comes.
 *
 * <p>Method names avoid the bean prefixes: the record is stored as JSON with its components only.
 */
public record Outbox(long sentUpTo, List<Closed> closed, List<CrEvent> open, Instant openedAt) {

  public static final Outbox EMPTY = new Outbox(0, List.of(), List.of(), null);

  /** Events closed out of the open batch, to go to {@code target} in batches of at most {@code size}. */
  public record Closed(BroadcastTarget target, int size, List<CrEvent> events) {
    public Closed {
      events = List.copyOf(events);
    }
  }

  /**
   * Events {@code firstOrdinal..lastOrdinal()} of the trigger that are due, to send to {@code
   * target} as batches of at most {@code size} (in order: the first {@code size}, the next, …).
   */
  public record Batch(BroadcastTarget target, long firstOrdinal, List<CrEvent> events, int size) {
    public Batch {
      events = List.copyOf(events);
    }

    public long lastOrdinal() {
      return firstOrdinal + events.size() - 1;
    }
  }

  public Outbox {
    closed = List.copyOf(closed);
    open = List.copyOf(open);
  }

  /** How many events are pending: closed and open. */
  public int pending() {
    return closedEvents() + open.size();
  }

  public boolean drained() {
    return pending() == 0;
  }

  private int closedEvents() {
    return closed.stream().mapToInt(c -> c.events().size()).sum();
  }

  /** {@code matched} joins the open batch; an empty open batch opens {@code at}. */
  public Outbox received(List<CrEvent> matched, Instant at) {
    if (matched.isEmpty()) {
      return this;
    }
    List<CrEvent> joined = new ArrayList<>(open);
    joined.addAll(matched);
    return new Outbox(sentUpTo, closed, joined, open.isEmpty() ? at : openedAt);
  }

  /** The open batch joins the closed ones, keeping the target and size it was opened under. */
  public Outbox closeOpen(BroadcastTarget target, int size) {
    if (open.isEmpty()) {
      return this;
    }
    List<Closed> more = new ArrayList<>(closed);
    more.add(new Closed(target, size, open));
    return new Outbox(sentUpTo, more, List.of(), null);
  }

  /**
   * What is due now: the first closed batch's events, else the open batch's full batches of
   * {@code size} — or all of it once {@code cutoffReached}. A backlog of several batches goes out
   * together (one append, one commit), at most {@code maxBatches} of them.
   */
  public Optional<Batch> next(BroadcastTarget target, int size, boolean cutoffReached, int maxBatches) {
    return nextClosed(maxBatches).or(() -> {
      int due = cutoffReached ? open.size() : open.size() / size * size;
      due = Math.min(due, size * maxBatches);
      return due == 0 ? Optional.empty() : Optional.of(new Batch(target, sentUpTo + 1, open.subList(0, due), size));
    });
  }

  /** The first closed batch's events, at most {@code maxBatches} batches: all that may go without a definition. */
  public Optional<Batch> nextClosed(int maxBatches) {
    if (closed.isEmpty()) {
      return Optional.empty();
    }
    Closed head = closed.get(0);
    List<CrEvent> events = head.events();
    int due = Math.min(events.size(), head.size() * maxBatches);
    return Optional.of(new Batch(head.target(), sentUpTo + 1, events.subList(0, due), head.size()));
  }

  /** Whether confirming up to {@code upTo} takes events of the open batch (the rest then opens anew). */
  public boolean popsOpen(long upTo) {
    return !open.isEmpty() && upTo > sentUpTo + closedEvents();
  }

  /**
   * The events up to ordinal {@code upTo} are confirmed: they leave the front. What is left of a
   * partly confirmed open batch is a new batch, opened {@code at}.
   */
  public Outbox sent(long upTo, Instant at) {
    long toPop = Math.min(upTo - sentUpTo, pending());
    if (toPop <= 0) {
      return this;
    }
    int left = (int) toPop;
    List<Closed> stillClosed = new ArrayList<>();
    for (Closed c : closed) {
      int taken = Math.min(left, c.events().size());
      left -= taken;
      if (taken < c.events().size()) {
        stillClosed.add(new Closed(c.target(), c.size(), c.events().subList(taken, c.events().size())));
      }
    }
    List<CrEvent> stillOpen = open.subList(left, open.size());
    Instant opened = left == 0 ? openedAt : stillOpen.isEmpty() ? null : at;
    return new Outbox(sentUpTo + toPop, stillClosed, stillOpen, opened);
  }
}

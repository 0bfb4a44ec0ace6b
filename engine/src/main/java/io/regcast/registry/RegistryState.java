package io.regcast.registry;

import io.regcast.delivery.Delivery;
import io.regcast.model.CrEvent;
import io.regcast.model.Ids;
import io.regcast.model.JsonSerializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A registry's state: its image index, the window of source event ids seen (dedupe), the last
 * sequence number given, the events not yet acknowledged by every subscriber, and each
 * subscriber's acknowledged sequence number. Mutable, changed only by the entity's event handler;
 * {@link #snapshot()} gives the immutable form the snapshot store serializes.
 */
final class RegistryState {
  private final int dedupeWindow;
  final ImageIndex index;
  private final LinkedHashSet<String> seen;
  long lastSeq;
  final TreeMap<Long, CrEvent> unacknowledged;
  final Map<String, Long> subscribers;
  /**
   * repository → the sequence number of its last derived event, since this state was loaded (not
   * in snapshots: only a reconcile running in this incarnation asks, for changes after its start).
   */
  private final Map<String, Long> repositoryChangedAt = new HashMap<>();

  RegistryState(int dedupeWindow) {
    this(dedupeWindow, new ImageIndex(), new LinkedHashSet<>(), 0, new TreeMap<>(), new HashMap<>());
  }

  private RegistryState(
      int dedupeWindow, ImageIndex index, LinkedHashSet<String> seen, long lastSeq,
      TreeMap<Long, CrEvent> unacknowledged, Map<String, Long> subscribers) {
    this.dedupeWindow = dedupeWindow;
    this.index = index;
    this.seen = seen;
    this.lastSeq = lastSeq;
    this.unacknowledged = unacknowledged;
    this.subscribers = subscribers;
  }

  boolean seen(String sourceId) {
    return seen.contains(sourceId);
  }

  /**
   * Applies accepted operations (of an ingest request taken at {@code ingestedAt}): the index
   * derives their events, which get sequence numbers.
   */
  List<Delivery.Sequenced> accept(RegistryInfo info, List<RegistryOp> ops, Instant ingestedAt) {
    List<Delivery.Sequenced> derived = new ArrayList<>();
    for (RegistryOp op : ops) {
      remember(op.sourceId());
      List<ImageIndex.Derived> events = index.apply(op);
      for (int position = 0; position < events.size(); position++) {
        ImageIndex.Derived d = events.get(position);
        CrEvent event =
            new CrEvent(
                Ids.derived("crt", info.registryId(), op.sourceId(), Integer.toString(position)),
                d.type(),
                info.registryId(),
                info.folderId(),
                info.cloudId(),
                d.repository(),
                d.digest(),
                Ids.derived("crt", info.registryId(), d.repository(), d.digest()),
                d.tag(),
                d.imageTags(),
                op.at(),
                op.trace(),
                ingestedAt);
        derived.add(new Delivery.Sequenced(++lastSeq, event));
        repositoryChangedAt.put(d.repository(), lastSeq);
        if (!subscribers.isEmpty()) {
          unacknowledged.put(lastSeq, event);
        }
      }
    }
    return derived;
  }

  /** Repositories with events derived after {@code seq}. */
  Set<String> changedAfter(long seq) {
    Set<String> out = new HashSet<>();
    repositoryChangedAt.forEach((repo, at) -> {
      if (at > seq) {
        out.add(repo);
      }
    });
    return out;
  }

  private void remember(String sourceId) {
    if (seen.add(sourceId)) {
      var oldest = seen.iterator();
      while (seen.size() > dedupeWindow) {
        oldest.next();
        oldest.remove();
      }
    }
  }

  void acknowledged(Map<String, Long> acks) {
    acks.forEach((trigger, seq) -> subscribers.computeIfPresent(trigger, (t, old) -> Math.max(old, seq)));
    trim();
  }

  void subscribe(String triggerId) {
    subscribers.putIfAbsent(triggerId, lastSeq);
  }

  void unsubscribe(String triggerId) {
    subscribers.remove(triggerId);
    trim();
  }

  /** Forgets events every subscriber has. */
  private void trim() {
    long everyoneHas = subscribers.values().stream().mapToLong(Long::longValue).min().orElse(lastSeq);
    unacknowledged.headMap(everyoneHas, true).clear();
  }

  /** Events after {@code afterSeq}, at most {@code max}. */
  List<Delivery.Sequenced> after(long afterSeq, int max) {
    List<Delivery.Sequenced> out = new ArrayList<>();
    for (var e : unacknowledged.tailMap(afterSeq, false).entrySet()) {
      if (out.size() == max) {
        break;
      }
      out.add(new Delivery.Sequenced(e.getKey(), e.getValue()));
    }
    return out;
  }

  Snapshot snapshot() {
    return new Snapshot(
        index.copy(), List.copyOf(seen), lastSeq, Map.copyOf(unacknowledged), Map.copyOf(subscribers));
  }

  static RegistryState restore(int dedupeWindow, Snapshot s) {
    return new RegistryState(
        dedupeWindow, ImageIndex.restore(s.index()), new LinkedHashSet<>(s.seen()), s.lastSeq(),
        new TreeMap<>(s.unacknowledged()), new HashMap<>(s.subscribers()));
  }

  /** The stored form (oldest source ids first). */
  record Snapshot(
      Map<String, Map<String, List<String>>> index,
      List<String> seen,
      long lastSeq,
      Map<Long, CrEvent> unacknowledged,
      Map<String, Long> subscribers)
      implements JsonSerializable {}
}

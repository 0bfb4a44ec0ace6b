package io.regcast.e2e;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a set of clients received of a test's numbered events (warm-up events left out), against
 * what was accepted and against the trigger's journal order: lost, duplicated, never sent, out of
 * order. Each client is given as its event numbers in the order they arrived.
 */
final class Deliveries {
  private final Set<Long> accepted;
  private final Map<Long, Integer> journalPosition = new HashMap<>();
  private final Map<String, List<Long>> received;

  Deliveries(Set<Long> accepted, List<Long> journal, Map<String, List<Long>> received) {
    this.accepted = new TreeSet<>(accepted);
    for (int i = 0; i < journal.size(); i++) {
      journalPosition.putIfAbsent(journal.get(i), i);
    }
    this.received = new LinkedHashMap<>(received);
  }

  Deliveries(Set<Long> accepted, List<Long> journal, Collection<BroadcastClient> clients) {
    this(accepted, journal, sequences(clients));
  }

  private static Map<String, List<Long>> sequences(Collection<BroadcastClient> clients) {
    Map<String, List<Long>> out = new LinkedHashMap<>();
    for (BroadcastClient client : clients) {
      List<Long> numbers = new ArrayList<>();
      for (BroadcastClient.Message m : client.messages()) {
        ClusterScene.numbers(m).stream().filter(n -> n < ClusterScene.WARM_UP).forEach(numbers::add);
      }
      out.put(client.name(), numbers);
    }
    return out;
  }

  /** Accepted events some client lacks. */
  Set<Long> lost() {
    Set<Long> lost = new TreeSet<>();
    for (List<Long> got : received.values()) {
      Set<Long> have = new HashSet<>(got);
      accepted.stream().filter(n -> !have.contains(n)).forEach(lost::add);
    }
    return lost;
  }

  /** How many accepted events every client has. */
  int deliveredToAll() {
    return accepted.size() - lost().size();
  }

  /** Events some client received more than once. */
  Set<Long> duplicated() {
    Set<Long> duplicated = new TreeSet<>();
    for (List<Long> got : received.values()) {
      Set<Long> seen = new HashSet<>();
      got.stream().filter(n -> !seen.add(n)).forEach(duplicated::add);
    }
    return duplicated;
  }

  /** Copies beyond the first, over all clients. */
  int extraCopies() {
    int extra = 0;
    for (List<Long> got : received.values()) {
      extra += got.size() - new HashSet<>(got).size();
    }
    return extra;
  }

  /** The events of {@code these} some client received. */
  Set<Long> deliveredOf(Set<Long> these) {
    Set<Long> out = new TreeSet<>();
    received.values().forEach(got -> got.stream().filter(these::contains).forEach(out::add));
    return out;
  }

  /** Received events that are neither accepted nor in {@code sentButNotAccepted}: never sent. */
  Set<Long> unknown(Set<Long> sentButNotAccepted) {
    Set<Long> out = new TreeSet<>();
    received.values().forEach(
        got -> got.stream().filter(n -> !accepted.contains(n) && !sentButNotAccepted.contains(n)).forEach(out::add));
    return out;
  }

  /**
   * Clients whose events (first copies) did not arrive in the trigger's journal order — the order
   * the trigger stored them in, which its messages keep — or include an event the journal lacks.
   */
  List<String> outOfOrder() {
    List<String> out = new ArrayList<>();
    received.forEach((name, got) -> {
      Set<Long> seen = new HashSet<>();
      int previous = -1;
      for (long n : got) {
        if (!seen.add(n)) {
          continue;
        }
        Integer position = journalPosition.get(n);
        if (position == null) {
          out.add(name + ": event " + n + " is not in the trigger's journal");
          return;
        }
        if (position < previous) {
          out.add(name + ": event " + n + " after an event the journal stored later");
          return;
        }
        previous = position;
      }
    });
    return out;
  }

  /** Per client, how many events (copies included) it received. */
  Map<String, Integer> counts() {
    Map<String, Integer> out = new LinkedHashMap<>();
    received.forEach((name, got) -> out.put(name, got.size()));
    return out;
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder();
    out.append(accepted.size()).append(" accepted, lost ").append(BurstDelivery.ranges(lost()))
        .append(", duplicated ").append(BurstDelivery.ranges(duplicated()));
    received.forEach((name, got) -> {
      Set<Long> have = new TreeSet<>(got);
      Set<Long> lacks = new TreeSet<>(accepted);
      lacks.removeAll(have);
      out.append("\n  ").append(name).append(": ").append(got.size()).append(" events, lacks ")
          .append(BurstDelivery.ranges(lacks));
    });
    return out.toString();
  }
}

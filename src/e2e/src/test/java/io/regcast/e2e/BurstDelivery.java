package io.regcast.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a client connected before a kill and a client connected after the restart received of an
 * {@link IngestBurst}'s events (by number, see {@link DistributionEvents#number}), against what
 * the burst had accepted: missing, duplicated, unexpected, out of order. Events numbered
 * {@code markersFrom} or more (sent after the restart to flush what is pending) are left out.
 */
final class BurstDelivery {
  private static final String CREATE_IMAGE = "yandex.cloud.events.containerregistry.CreateImage";

  final Set<Long> accepted;
  final Set<Long> unanswered;
  final List<Long> beforeKill = new ArrayList<>();
  final List<Long> afterRestart = new ArrayList<>();
  final Set<Long> missing = new TreeSet<>();
  final Set<Long> duplicated = new TreeSet<>();
  final Set<Long> neverSent = new TreeSet<>();
  final Set<Long> unansweredDelivered = new TreeSet<>();
  final List<String> malformed = new ArrayList<>();
  private final int beforeMessages;
  private final int afterMessages;
  private int duplicates;
  private boolean ordered = true;

  BurstDelivery(IngestBurst burst, long markersFrom, BroadcastClient before, BroadcastClient after) {
    accepted = new TreeSet<>(burst.accepted.keySet());
    unanswered = new TreeSet<>(burst.unanswered.keySet());
    beforeMessages = collect(before, beforeKill);
    afterMessages = collect(after, afterRestart);
    beforeKill.removeIf(n -> n >= markersFrom);
    afterRestart.removeIf(n -> n >= markersFrom);
    Map<Long, Integer> counts = new TreeMap<>();
    for (List<Long> session : List.of(beforeKill, afterRestart)) {
      for (int k = 1; k < session.size(); k++) {
        ordered &= session.get(k - 1) < session.get(k);
      }
      session.forEach(n -> counts.merge(n, 1, Integer::sum));
    }
    counts.forEach((n, c) -> {
      if (c > 1) {
        duplicated.add(n);
        duplicates += c - 1;
      }
      if (!accepted.contains(n)) {
        (unanswered.contains(n) ? unansweredDelivered : neverSent).add(n);
      }
    });
    for (long n : accepted) {
      if (!counts.containsKey(n)) {
        missing.add(n);
      }
    }
  }

  /** The event numbers in one message. */
  static Set<Long> numbers(BroadcastClient.Message m) {
    Set<Long> out = new TreeSet<>();
    m.events().forEach(e -> out.add(DistributionEvents.number(e.path("details").path("image_digest").asText())));
    return out;
  }

  private int collect(BroadcastClient client, List<Long> into) {
    for (BroadcastClient.Message m : client.messages()) {
      if (m.events().isEmpty()) {
        malformed.add(client.name() + ": " + m.text());
      }
      for (JsonNode event : m.events()) {
        if (!CREATE_IMAGE.equals(event.path("event_metadata").path("event_type").asText())) {
          malformed.add(client.name() + ": " + event);
        } else {
          into.add(DistributionEvents.number(event.path("details").path("image_digest").asText()));
        }
      }
    }
    return client.messages().size();
  }

  /** What holds whatever the timing: the events of the burst, each connection's in order. */
  void assertSound() {
    assertEquals(List.of(), malformed, "every event is a CreateImage of the burst");
    assertEquals(Set.of(), neverSent, "events that were never sent");
    assertTrue(ordered, () -> "each connection receives the events in the order they were accepted: " + this);
  }

  /** Only events numbered {@code from} or more (those near the kill) arrived more than once. */
  void assertDuplicatesFrom(long from) {
    assertTrue(
        duplicated.stream().allMatch(n -> n >= from),
        () -> "events before " + from + " (not near the kill) arrived twice: " + this);
  }

  @Override
  public String toString() {
    return String.format(
        "accepted and delivered %d/%d, missing %s, duplicates %d %s; without an answer %s, of which delivered %s;"
            + " before the kill %d messages with events %s, after the restart %d messages with events %s"
            + " (and markers)",
        accepted.size() - missing.size(), accepted.size(), ranges(missing), duplicates, ranges(duplicated),
        ranges(unanswered), ranges(unansweredDelivered), beforeMessages, ranges(beforeKill), afterMessages,
        ranges(afterRestart));
  }

  /** Numbers in order as ranges: [0-9, 12, 14-20]. */
  static String ranges(Collection<Long> numbers) {
    List<String> out = new ArrayList<>();
    Long start = null;
    Long previous = null;
    for (long n : numbers) {
      if (previous != null && n == previous + 1) {
        previous = n;
        continue;
      }
      if (start != null) {
        out.add(start.equals(previous) ? String.valueOf(start) : start + "-" + previous);
      }
      start = n;
      previous = n;
    }
    if (start != null) {
      out.add(start.equals(previous) ? String.valueOf(start) : start + "-" + previous);
    }
    return out.toString();
  }
}

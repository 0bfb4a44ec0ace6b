package io.regcast.broadcast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.regcast.broadcast.PathLog.Append;
import io.regcast.broadcast.PathLog.Appended;
import io.regcast.broadcast.PathLog.Command;
import io.regcast.broadcast.PathLog.Entries;
import io.regcast.broadcast.PathLog.Event;
import io.regcast.broadcast.PathLog.MessagesAppended;
import io.regcast.broadcast.PathLog.Read;
import io.regcast.broadcast.PathLog.State;
import io.regcast.gateway.PathKey;
import io.regcast.gateway.StreamEntry;
import io.regcast.metrics.Metrics;
import io.regcast.model.HistorySettings;
import io.regcast.testing.InMemoryPersistence;
import io.regcast.testing.ManualClock;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A path's log on the persistence testkit's in-memory journal and snapshot store, commands, events
 * and state checked through the configured (Jackson) serializer; what it publishes is recorded,
 * and the clock is the test's.
 */
class PathLogTest {
  private static final AtomicInteger IDS = new AtomicInteger();
  private static final HistorySettings KEEP_ALL = new HistorySettings(1000, Duration.ofHours(24));
  private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

  private static ActorTestKit testKit;

  /** What the log handed to the hub: entries, or an announcement of its head. */
  record Published(PathKey path, List<StreamEntry> entries, long head) {}

  private PathKey path;
  private List<Published> published;
  /** Every publish too, to await one with a deadline. */
  private TestProbe<Published> publishes;
  private ManualClock clock;
  private TestProbe<ClusterSharding.ShardCommand> shard;
  private EventSourcedBehaviorTestKit<Command, Event, State> log;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("PathLogTest", InMemoryPersistence.serializingConfig());
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void freshLog() {
    path = new PathKey("d5d-" + IDS.incrementAndGet(), "/events");
    published = new CopyOnWriteArrayList<>();
    publishes = testKit.createTestProbe(Published.class);
    clock = new ManualClock(T0);
    shard = testKit.createTestProbe(ClusterSharding.ShardCommand.class);
    log = logWith(new PathLog.Settings(500, Duration.ofMinutes(2)));
  }

  private EventSourcedBehaviorTestKit<Command, Event, State> logWith(PathLog.Settings settings) {
    var kit = EventSourcedBehaviorTestKit.<Command, Event, State>create(
        testKit.system(),
        PathLog.create(PathLog.entityId(path), shard.getRef(), settings,
            (p, entries, head, ingested) -> {
              Published one = new Published(p, entries, head);
              published.add(one);
              publishes.getRef().tell(one);
            },
            new Metrics(new Metrics.Settings(false)), clock));
    kit.clear();
    return kit;
  }

  private static List<byte[]> messages(String... texts) {
    return java.util.Arrays.stream(texts).map(t -> t.getBytes(StandardCharsets.UTF_8)).toList();
  }

  private CommandResultWithReply<Command, Event, State, Appended> append(
      String trigger, long first, long last, HistorySettings retention, String... texts) {
    return log.runCommand(r -> new Append(trigger, first, last, messages(texts), 0, retention, r));
  }

  private Entries read(long after, int maxBytes) {
    return log.<Entries>runCommand(r -> new Read(after, maxBytes, r)).reply();
  }

  private static List<String> texts(List<PathLog.Entry> entries) {
    return entries.stream().map(e -> new String(e.payload(), StandardCharsets.UTF_8)).toList();
  }

  private static List<Long> positions(List<PathLog.Entry> entries) {
    return entries.stream().map(PathLog.Entry::position).toList();
  }

  @Test
  void givesEachMessageTheNextPositionAndPublishesItOnceStored() {
    var first = append("a1s-1", 1, 3, KEEP_ALL, "m1", "m2");
    assertEquals(new Appended(3), first.reply());
    MessagesAppended stored = assertInstanceOf(MessagesAppended.class, first.event());
    assertEquals(1, stored.firstPosition());
    assertEquals(2, first.state().head());

    var second = append("a1s-2", 1, 1, KEEP_ALL, "n1");
    assertEquals(new Appended(1), second.reply());
    assertEquals(3, second.state().head());

    assertEquals(2, published.size());
    assertEquals(List.of(1L, 2L), published.get(0).entries().stream().map(StreamEntry::position).toList());
    assertEquals(List.of(3L), published.get(1).entries().stream().map(StreamEntry::position).toList());
    assertEquals(List.of("m1", "m2", "n1"), texts(read(0, 1 << 20).entries()));
  }

  @Test
  void storesNothingForABatchItHoldsAlready() {
    append("a1s-1", 1, 5, KEEP_ALL, "m1");
    var again = append("a1s-1", 1, 5, KEEP_ALL, "m1");
    assertEquals(new Appended(5), again.reply());
    assertTrue(again.hasNoEvents(), "a re-sent batch is not stored twice");
    assertEquals(1, published.size(), "nor published twice");
    assertEquals(1, again.state().head());
  }

  @Test
  void answersWhatItHoldsWhenABatchOverlapsOneItStored() {
    append("a1s-1", 1, 3, KEEP_ALL, "m1");
    // after a crash the trigger's head batch grew: 1..5, of which 1..3 are here already
    var overlapping = append("a1s-1", 1, 5, KEEP_ALL, "m1+");
    assertEquals(new Appended(3), overlapping.reply(), "the trigger re-sends 4..5 alone");
    assertTrue(overlapping.hasNoEvents());
    var rest = append("a1s-1", 4, 5, KEEP_ALL, "m2");
    assertEquals(new Appended(5), rest.reply());
    assertEquals(List.of("m1", "m2"), texts(read(0, 1 << 20).entries()));
  }

  @Test
  void keepsAtMostMaxMessagesAndReportsTheOldestKept() {
    HistorySettings five = new HistorySettings(5, Duration.ofHours(1));
    for (int n = 1; n <= 10; n++) {
      append("a1s-1", n, n, five, "m" + n);
    }
    Entries all = read(0, 1 << 20);
    assertEquals(10, all.head());
    assertEquals(6, all.firstRetained());
    assertEquals(List.of(6L, 7L, 8L, 9L, 10L), positions(all.entries()));
    assertEquals(List.of(9L, 10L), positions(read(8, 1 << 20).entries()));
    assertEquals(List.of(), read(10, 1 << 20).entries(), "nothing after the head");
  }

  @Test
  void keepsNothingWithMaxMessagesZeroButStillNumbersMessages() {
    HistorySettings none = new HistorySettings(0, Duration.ofHours(1));
    append("a1s-1", 1, 1, none, "m1");
    var second = append("a1s-1", 2, 2, none, "m2");
    assertEquals(2, second.state().head());
    Entries entries = read(0, 1 << 20);
    assertEquals(3, entries.firstRetained());
    assertEquals(List.of(), entries.entries());
    assertEquals(2, published.size(), "messages still go out");
  }

  @Test
  void dropsMessagesOlderThanMaxAgeFromReads() {
    HistorySettings minute = new HistorySettings(1000, Duration.ofMinutes(1));
    append("a1s-1", 1, 1, minute, "old");
    clock.advance(Duration.ofSeconds(45));
    append("a1s-1", 2, 2, minute, "newer");
    clock.advance(Duration.ofSeconds(30));
    Entries entries = read(0, 1 << 20);
    assertEquals(List.of("newer"), texts(entries.entries()));
    assertEquals(2, entries.firstRetained());
  }

  @Test
  void readsInPagesOfAtMostMaxBytesButAlwaysOneMessage() {
    IntStream.rangeClosed(1, 6).forEach(n -> append("a1s-1", n, n, KEEP_ALL, "0123456789"));
    assertEquals(List.of(1L, 2L, 3L), positions(read(0, 35).entries()));
    assertEquals(List.of(4L), positions(read(3, 5).entries()), "one message even when it is larger than the page");
  }

  @Test
  void recoversPositionsRetentionAndOrdinalsAndAnnouncesItsHead() {
    append("a1s-1", 1, 2, KEEP_ALL, "m1", "m2");
    append("a1s-2", 1, 1, KEEP_ALL, "n1");
    published.clear();
    log.restart();
    assertEquals(List.of(new Published(path, List.of(), 3)), published, "a recovered log announces its head");
    assertEquals(new Appended(2), append("a1s-1", 1, 2, KEEP_ALL, "m1", "m2").reply(), "ordinals survive");
    var next = append("a1s-1", 3, 3, KEEP_ALL, "m3");
    assertEquals(4, next.state().head());
    assertEquals(List.of("m1", "m2", "n1", "m3"), texts(read(0, 1 << 20).entries()));
  }

  @Test
  void deletesOldJournalEntriesOnceSnapshotted() {
    log = logWith(new PathLog.Settings(3, Duration.ofMinutes(2)));
    HistorySettings two = new HistorySettings(2, Duration.ofHours(1));
    for (int n = 1; n <= 12; n++) {
      append("a1s-1", n, n, two, "m" + n);
    }
    String pid = PathLog.ENTITY_KEY.name() + "|" + PathLog.entityId(path);
    // deleted once the snapshot is stored, which the last command does not wait for
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (log.persistenceTestKit().persistedInStorage(pid).size() > 6 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    int kept = log.persistenceTestKit().persistedInStorage(pid).size();
    assertTrue(kept <= 6, "journal kept " + kept + " of 12 events");
    log.restart();
    Entries entries = read(0, 1 << 20);
    assertEquals(12, entries.head());
    assertEquals(List.of("m11", "m12"), texts(entries.entries()));
  }

  @Test
  void announcesItsHeadASecondAfterStoring() {
    append("a1s-1", 1, 1, KEEP_ALL, "m1");
    assertEquals(1, publishes.receiveMessage(Duration.ofSeconds(5)).entries().size(), "the message itself");
    assertEquals(new Published(path, List.of(), 1), publishes.receiveMessage(Duration.ofSeconds(5)),
        "then, a second later, its head");
  }

  @Test
  void passivatesItselfWhenIdle() {
    log = logWith(new PathLog.Settings(500, Duration.ofMillis(100)));
    append("a1s-1", 1, 1, KEEP_ALL, "m1");
    assertInstanceOf(ClusterSharding.Passivate.class, shard.receiveMessage(Duration.ofSeconds(5)));
  }
}

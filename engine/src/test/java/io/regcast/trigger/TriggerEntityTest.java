package io.regcast.trigger;

import static io.regcast.trigger.CrEvents.OTHER_REGISTRY;
import static io.regcast.trigger.CrEvents.REGISTRY;
import static io.regcast.trigger.CrEvents.numbered;
import static io.regcast.trigger.CrEvents.numberedRange;
import static io.regcast.trigger.CrEvents.sequenced;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.regcast.broadcast.Broadcaster;
import io.regcast.delivery.Delivery;
import io.regcast.gateway.PathKey;
import io.regcast.metrics.Metrics;
import io.regcast.testing.InMemoryPersistence;
import io.regcast.testing.ManualClock;
import io.regcast.testing.PrometheusText;
import io.regcast.model.BatchSettings;
import io.regcast.model.BroadcastTarget;
import io.regcast.model.ContainerRegistryRule;
import io.regcast.model.CrEvent;
import io.regcast.model.EventType;
import io.regcast.model.Samples;
import io.regcast.model.Trigger;
import io.regcast.model.TriggerStatus;
import io.regcast.trigger.TriggerEntity.Applied;
import io.regcast.trigger.TriggerEntity.BatchFlushed;
import io.regcast.trigger.TriggerEntity.Sent;
import io.regcast.trigger.TriggerEntity.Command;
import io.regcast.trigger.TriggerEntity.Configure;
import io.regcast.trigger.TriggerEntity.Configured;
import io.regcast.trigger.TriggerEntity.Deliver;
import io.regcast.trigger.TriggerEntity.Event;
import io.regcast.trigger.TriggerEntity.EventsReceived;
import io.regcast.trigger.TriggerEntity.Remove;
import io.regcast.trigger.TriggerEntity.Removed;
import io.regcast.trigger.TriggerEntity.Runtime;
import io.regcast.trigger.TriggerState;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResult;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The trigger entity on the in-memory journal of the persistence testkit, with every command,
 * event and state checked through the configured (Jackson) serializer. The shard is a probe; the
 * registry side and the broadcaster record what they are asked; the clock is the test's.
 */
class TriggerEntityTest {

  /** No message is expected within this; kept short so the whole class stays fast. */
  private static final Duration QUIET = Duration.ofMillis(150);
  /** Generous bound for what a timer should bring (CI machines can be slow). */
  private static final Duration DEADLINE = Duration.ofSeconds(5);
  private static final AtomicInteger IDS = new AtomicInteger();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int LIMIT = 128 * 1024;

  private static final TriggerEntity.Settings SETTINGS = new TriggerEntity.Settings(LIMIT, Duration.ofSeconds(2), 100);
  /** A registry side that accepts every subscription at once. */
  private static final Delivery.ToRegistry REGISTRIES =
      new Delivery.ToRegistry() {
        @Override
        public CompletionStage<Done> subscribe(String registryId, String triggerId) {
          return CompletableFuture.completedFuture(Done.getInstance());
        }

        @Override
        public CompletionStage<Done> unsubscribe(String registryId, String triggerId) {
          return CompletableFuture.completedFuture(Done.getInstance());
        }
      };

  /** One message of an append: the trigger's events {@code firstOrdinal..lastOrdinal} it is part of. */
  record Published(PathKey path, long firstOrdinal, long lastOrdinal, byte[] payload) {
    JsonNode json() {
      try {
        return JSON.readTree(payload);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + new String(payload, java.nio.charset.StandardCharsets.UTF_8), e);
      }
    }

    /** The event ids of the message, in order (checking its {"messages":[…]} shape). */
    List<String> eventIds() {
      JsonNode root = json();
      assertEquals(1, root.size(), "only the messages key");
      List<String> ids = new ArrayList<>();
      root.get("messages").forEach(m -> ids.add(m.get("event_metadata").get("event_id").asText()));
      return ids;
    }
  }

  /**
   * A path's log as the trigger sees it: each append is answered by {@link #answer} (by default
   * stored and confirmed up to its last ordinal); what is stored is recorded (thread-safe) and
   * forwarded to a probe, to await it with a deadline.
   */
  static class RecordingBroadcaster implements Broadcaster {
    final List<Published> published = new CopyOnWriteArrayList<>();
    final TestProbe<Published> probe;

    RecordingBroadcaster(TestProbe<Published> probe) {
      this.probe = probe;
    }

    @Override
    public CompletionStage<Long> append(
        PathKey path, String triggerId, long firstOrdinal, long lastOrdinal, List<byte[]> messages, long ingestedAtMillis) {
      return answer(path, firstOrdinal, lastOrdinal, messages);
    }

    CompletionStage<Long> answer(PathKey path, long firstOrdinal, long lastOrdinal, List<byte[]> messages) {
      store(path, firstOrdinal, lastOrdinal, messages);
      return CompletableFuture.completedFuture(lastOrdinal);
    }

    final void store(PathKey path, long firstOrdinal, long lastOrdinal, List<byte[]> messages) {
      for (byte[] message : messages) {
        Published p = new Published(path, firstOrdinal, lastOrdinal, message.clone());
        published.add(p);
        probe.getRef().tell(p);
      }
    }

    // Still declared by Broadcaster; a trigger sends through append only.
    public void publish(PathKey path, boolean text, byte[] payload, long ingestedAtMillis) {
      throw new AssertionError("a trigger publishes through append only");
    }
  }

  /** A log that is not reached by the first append of each batch: it fails as an ask that timed out. */
  static final class FirstSendLostBroadcaster extends RecordingBroadcaster {
    private final java.util.Set<Long> tried = ConcurrentHashMap.newKeySet();

    FirstSendLostBroadcaster(TestProbe<Published> probe) {
      super(probe);
    }

    @Override
    CompletionStage<Long> answer(PathKey path, long firstOrdinal, long lastOrdinal, List<byte[]> messages) {
      if (tried.add(firstOrdinal)) {
        return CompletableFuture.failedFuture(new java.util.concurrent.TimeoutException("Ask timed out"));
      }
      return super.answer(path, firstOrdinal, lastOrdinal, messages);
    }
  }

  /** A log whose appends are answered when the test says so, in order. */
  static final class HeldBroadcaster extends RecordingBroadcaster {
    record Held(long firstOrdinal, long lastOrdinal, CompletableFuture<Long> answer) {}

    final java.util.concurrent.BlockingQueue<Held> held = new java.util.concurrent.LinkedBlockingQueue<>();

    HeldBroadcaster(TestProbe<Published> probe) {
      super(probe);
    }

    @Override
    CompletionStage<Long> answer(PathKey path, long firstOrdinal, long lastOrdinal, List<byte[]> messages) {
      CompletableFuture<Long> answer = new CompletableFuture<>();
      held.add(new Held(firstOrdinal, lastOrdinal, answer));
      store(path, firstOrdinal, lastOrdinal, messages);
      return answer;
    }

    /** The append in flight, once it has come. */
    Held next() throws InterruptedException {
      Held next = held.poll(DEADLINE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      assertNotNull(next, "no append came");
      return next;
    }
  }

  /** A (un)subscription the trigger asked its registry side for. */
  record Call(String op, String registryId, String triggerId) {}

  /** A registry side accepting every subscription at once, recording the calls. */
  static final class RecordingRegistries implements Delivery.ToRegistry {
    final List<Call> calls = new CopyOnWriteArrayList<>();
    final TestProbe<Call> probe;

    RecordingRegistries(TestProbe<Call> probe) {
      this.probe = probe;
    }

    private CompletionStage<Done> record(Call call) {
      calls.add(call);
      probe.getRef().tell(call);
      return CompletableFuture.completedFuture(Done.getInstance());
    }

    @Override
    public CompletionStage<Done> subscribe(String registryId, String triggerId) {
      return record(new Call("subscribe", registryId, triggerId));
    }

    @Override
    public CompletionStage<Done> unsubscribe(String registryId, String triggerId) {
      return record(new Call("unsubscribe", registryId, triggerId));
    }
  }

  /**
   * A registry side whose subscriptions complete when the test says so (or fail the first
   * {@code failFirst} times); unsubscriptions complete at once. Every call is recorded.
   */
  static final class ControlledRegistries implements Delivery.ToRegistry {
    final Map<String, CompletableFuture<Done>> pending = new ConcurrentHashMap<>();
    final TestProbe<Call> probe;
    final boolean manual;
    final AtomicInteger failFirst;

    ControlledRegistries(TestProbe<Call> probe, boolean manual, int failFirst) {
      this.probe = probe;
      this.manual = manual;
      this.failFirst = new AtomicInteger(failFirst);
    }

    @Override
    public CompletionStage<Done> subscribe(String registryId, String triggerId) {
      if (failFirst.getAndDecrement() > 0) {
        probe.getRef().tell(new Call("subscribe", registryId, triggerId));
        return CompletableFuture.failedFuture(new IllegalStateException("registry not reachable"));
      }
      if (!manual) {
        probe.getRef().tell(new Call("subscribe", registryId, triggerId));
        return CompletableFuture.completedFuture(Done.getInstance());
      }
      CompletableFuture<Done> future = new CompletableFuture<>();
      // pending before the call is seen: a test confirms as soon as it sees the call
      pending.put(registryId, future);
      probe.getRef().tell(new Call("subscribe", registryId, triggerId));
      return future;
    }

    @Override
    public CompletionStage<Done> unsubscribe(String registryId, String triggerId) {
      probe.getRef().tell(new Call("unsubscribe", registryId, triggerId));
      return CompletableFuture.completedFuture(Done.getInstance());
    }

    void confirm(String registryId) {
      pending.remove(registryId).complete(Done.getInstance());
    }
  }

  private static ActorTestKit testKit;

  private String triggerId;
  private TestProbe<ClusterSharding.ShardCommand> shard;
  private TestProbe<Published> publishes;
  private RecordingBroadcaster broadcaster;
  private TestProbe<Call> registryCalls;
  private RecordingRegistries registries;
  private TestProbe<Delivery.Ack> acks;
  private ManualClock clock;
  private Metrics metrics;
  private EventSourcedBehaviorTestKit<Command, Event, TriggerState> entity;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("TriggerEntityTest", InMemoryPersistence.config());
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void freshEntity() {
    triggerId = "a1s-test-" + IDS.incrementAndGet();
    shard = testKit.createTestProbe(ClusterSharding.ShardCommand.class);
    publishes = testKit.createTestProbe(Published.class);
    broadcaster = new RecordingBroadcaster(publishes);
    registryCalls = testKit.createTestProbe(Call.class);
    registries = new RecordingRegistries(registryCalls);
    acks = testKit.createTestProbe(Delivery.Ack.class);
    clock = new ManualClock(Samples.T0);
    metrics = new Metrics(new Metrics.Settings(false));
    entity =
        EventSourcedBehaviorTestKit.create(
            testKit.system(), TriggerEntity.create(triggerId, shard.getRef(), SETTINGS, registries, broadcaster,
                TriggerEntity.BroadcastPermission.ALWAYS, metrics, clock));
    entity.clear();
  }

  /** A fresh entity of this test's trigger sending through {@code log}. */
  private EventSourcedBehaviorTestKit<Command, Event, TriggerState> entityWith(RecordingBroadcaster log) {
    return EventSourcedBehaviorTestKit.create(
        testKit.system(), TriggerEntity.create(triggerId, shard.getRef(), SETTINGS, registries, log,
            TriggerEntity.BroadcastPermission.ALWAYS, metrics, clock));
  }

  private Trigger revision(long revision) {
    return new Trigger(
        triggerId,
        "b1g-1",
        Samples.T0,
        Samples.definition("rev-" + revision),
        revision % 2 == 0 ? TriggerStatus.PAUSED : TriggerStatus.ACTIVE,
        revision);
  }

  /** This test's trigger at {@code revision}, with {@code status} and {@code rule}. */
  private Trigger trigger(long revision, TriggerStatus status, ContainerRegistryRule rule) {
    return new Trigger(triggerId, "b1g-1", Samples.T0, Samples.definition("registry-trigger", rule), status, revision);
  }

  private static Trigger trigger(String id, long revision, TriggerStatus status, ContainerRegistryRule rule) {
    return new Trigger(id, "b1g-1", Samples.T0, Samples.definition("registry-trigger", rule), status, revision);
  }

  /** The entity as a plain actor (for what the behaviour testkit cannot do: tell without waiting). */
  private ActorRef<Command> spawn(String id, Delivery.ToRegistry registrySide, TriggerEntity.Settings settings) {
    return testKit.spawn(TriggerEntity.create(id, shard.getRef(), settings, registrySide, broadcaster,
        TriggerEntity.BroadcastPermission.ALWAYS, metrics, clock));
  }

  private Trigger active(long revision, int size, Duration cutoff) {
    return trigger(revision, TriggerStatus.ACTIVE, CrEvents.rule(size, cutoff));
  }

  private CommandResultWithReply<Command, Event, TriggerState, Applied> configure(Trigger trigger) {
    return entity.runCommand(replyTo -> new Configure(trigger, replyTo));
  }

  private CommandResultWithReply<Command, Event, TriggerState, Applied> remove(long revision) {
    return entity.runCommand(replyTo -> new Remove(triggerId, revision, replyTo));
  }

  /** A delivery as a registry sends it when the trigger has acknowledged what comes before it. */
  private CommandResult<Command, Event, TriggerState> deliver(String registryId, List<Delivery.Sequenced> events) {
    return deliver(registryId, events.get(0).seq() - 1, events);
  }

  /** A delivery from a registry that counts everything up to {@code held} as this trigger's. */
  private CommandResult<Command, Event, TriggerState> deliver(String registryId, long held, List<Delivery.Sequenced> events) {
    return entity.runCommand(new Deliver(registryId, held, events, acks.getRef()));
  }

  private CommandResult<Command, Event, TriggerState> deliver(int fromSeq, int toSeq) {
    return deliver(REGISTRY, sequenced(fromSeq, toSeq));
  }

  /** This entity's count of events its filter made {@code result} of, as /metrics shows it. */
  private long filtered(String result) {
    var samples = PrometheusText.parse(new String(metrics.scrape("").body(), java.nio.charset.StandardCharsets.UTF_8));
    return samples.getOrDefault("regcast_events_filtered_total{result=\"" + result + "\"}", 0.0).longValue();
  }

  private String persistenceId() {
    return PersistenceId.of(TriggerEntity.ENTITY_KEY.name(), triggerId).id();
  }

  /** The journal of this entity, after everything it is doing now has been stored. */
  private List<Object> journal() {
    entity.getState(); // answered only once a persist in progress is done
    return entity.persistenceTestKit().persistedInStorage(persistenceId());
  }

  private Object lastJournaled() {
    List<Object> all = journal();
    return all.get(all.size() - 1);
  }

  /** Waits (with a deadline) for {@code expected} to be the last journal entry: a confirmation is stored just after the send. */
  private void awaitLastJournaled(Object expected) {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!expected.equals(lastJournaled())) {
      assertTrue(System.nanoTime() < deadline, "never journaled " + expected + "; last is " + lastJournaled());
      Thread.onSpinWait();
    }
  }

  /** An append as held, without its answer: to compare what was asked. */
  private static HeldBroadcaster.Held withoutAnswer(HeldBroadcaster.Held held) {
    return new HeldBroadcaster.Held(held.firstOrdinal(), held.lastOrdinal(), null);
  }

  /** The outbox holding {@code closed} (then nothing open), with events up to {@code sentUpTo} confirmed. */
  private static Outbox closedOnly(long sentUpTo, Outbox.Closed... closed) {
    return new Outbox(sentUpTo, List.of(closed), List.of(), null);
  }

  private static List<String> ids(List<CrEvent> events) {
    return events.stream().map(CrEvent::eventId).toList();
  }

  private static List<String> ids(int from, int to) {
    return ids(numberedRange(from, to));
  }

  private static final PathKey WS = new PathKey("d4e00000000000000001", "/ws");

  @Test
  void aNewEntityHoldsNothing() {
    CommandResultWithReply<Command, Event, TriggerState, Runtime> result =
        entity.runCommand(TriggerEntity.GetRuntime::new);
    assertEquals(new Runtime(triggerId, null, 0, false, 0, Map.of()), result.reply());
    assertTrue(result.hasNoEvents());
  }

  @Test
  void configuringRevisionOnePersistsConfiguredAndAcknowledgesIt() {
    Trigger trigger = revision(1);
    var result = configure(trigger);
    assertEquals(new Configured(trigger, false), result.event());
    assertEquals(1, result.events().size());
    assertEquals(new Applied(triggerId, 1), result.reply());
    assertEquals(new TriggerState(trigger, 1, false, Map.of(), Outbox.EMPTY), result.state());
    shard.expectNoMessage(QUIET);
  }

  @Test
  void aNewerRevisionReplacesTheHeldOne() {
    configure(revision(1));
    Trigger second = revision(2);
    var result = configure(second);
    assertEquals(new Configured(second, false), result.event());
    assertEquals(new Applied(triggerId, 2), result.reply());
    assertEquals(new TriggerState(second, 2, false, Map.of(), Outbox.EMPTY), result.state());
  }

  @Test
  void aRevisionMayBeSkipped() {
    configure(revision(1));
    var result = configure(revision(5));
    assertEquals(new Applied(triggerId, 5), result.reply());
    assertEquals(5, result.state().revision());
  }

  @Test
  void resendingTheHeldRevisionPersistsNothingAndAcknowledgesIt() {
    Trigger trigger = revision(1);
    configure(trigger);
    var result = configure(trigger);
    assertTrue(result.hasNoEvents());
    assertEquals(new Applied(triggerId, 1), result.reply());
    assertEquals(new TriggerState(trigger, 1, false, Map.of(), Outbox.EMPTY), result.state());
  }

  @Test
  void anOlderRevisionPersistsNothingAndAcknowledgesTheHeldOne() {
    Trigger third = revision(3);
    configure(third);
    var result = configure(revision(2));
    assertTrue(result.hasNoEvents());
    assertEquals(new Applied(triggerId, 3), result.reply());
    assertEquals(new TriggerState(third, 3, false, Map.of(), Outbox.EMPTY), result.state());
  }

  @Test
  void anOlderRevisionWithADifferentDefinitionDoesNotOverwriteTheHeldOne() {
    Trigger held = revision(2);
    configure(held);
    Trigger stale =
        new Trigger(triggerId, "b1g-1", Samples.T0, Samples.definition("stale"),
            TriggerStatus.ACTIVE, 2);
    var result = configure(stale);
    assertTrue(result.hasNoEvents());
    assertEquals(held, result.state().trigger());
  }

  @Test
  void removePersistsRemovedPassivatesAndAcknowledges() {
    configure(revision(1));
    var result = remove(2);
    assertEquals(new Removed(triggerId, 2), result.event());
    assertEquals(new Applied(triggerId, 2), result.reply());
    assertEquals(new TriggerState(null, 2, true, Map.of(), Outbox.EMPTY), result.state());
    ClusterSharding.Passivate<?> passivate = shard.expectMessageClass(ClusterSharding.Passivate.class);
    assertNotNull(passivate.entity());
  }

  @Test
  void aRemovedTriggerIgnoresAnOlderConfigureAndAcknowledgesTheTombstone() {
    configure(revision(1));
    remove(2);
    shard.expectMessageClass(ClusterSharding.Passivate.class);

    var result = configure(revision(1));
    assertTrue(result.hasNoEvents());
    assertEquals(new Applied(triggerId, 2), result.reply());
    assertEquals(new TriggerState(null, 2, true, Map.of(), Outbox.EMPTY), result.state());

    var sameRevision = configure(revision(2));
    assertTrue(sameRevision.hasNoEvents());
    assertTrue(sameRevision.state().removed());
  }

  @Test
  void removeBeforeAnyConfigureStillLeavesATombstone() {
    var result = remove(3);
    assertEquals(new Removed(triggerId, 3), result.event());
    assertEquals(new TriggerState(null, 3, true, Map.of(), Outbox.EMPTY), result.state());
    shard.expectMessageClass(ClusterSharding.Passivate.class);
    assertTrue(configure(revision(2)).hasNoEvents());
  }

  @Test
  void aStaleRemovePersistsNothingAndAcknowledgesTheHeldRevision() {
    Trigger held = revision(4);
    configure(held);
    var result = remove(3);
    assertTrue(result.hasNoEvents());
    assertEquals(new Applied(triggerId, 4), result.reply());
    assertEquals(new TriggerState(held, 4, false, Map.of(), Outbox.EMPTY), result.state());
    shard.expectNoMessage(QUIET);
  }

  @Test
  void aResentRemovePersistsNothingAndAcknowledgesTheTombstone() {
    configure(revision(1));
    remove(2);
    shard.expectMessageClass(ClusterSharding.Passivate.class);
    var result = remove(2);
    assertTrue(result.hasNoEvents());
    assertEquals(new Applied(triggerId, 2), result.reply());
  }

  @Test
  void aRemovedTriggerWokenByAResentRemovePassivatesAgain() {
    configure(revision(1));
    remove(2);
    shard.expectMessageClass(ClusterSharding.Passivate.class);
    remove(2);
    shard.expectMessageClass(ClusterSharding.Passivate.class);
  }

  @Test
  void aRestartRecoversTheConfiguredTrigger() {
    configure(revision(1));
    Trigger second = revision(2);
    configure(second);
    assertEquals(new TriggerState(second, 2, false, Map.of(), Outbox.EMPTY), entity.restart().state());
    // and still refuses what it held before the restart
    assertTrue(configure(revision(2)).hasNoEvents());
  }

  @Test
  void aRestartRecoversTheTombstone() {
    configure(revision(1));
    remove(2);
    assertEquals(new TriggerState(null, 2, true, Map.of(), Outbox.EMPTY), entity.restart().state());
    var result = configure(revision(1));
    assertTrue(result.hasNoEvents());
    assertEquals(new Applied(triggerId, 2), result.reply());
  }

  @Test
  void getRuntimeShowsWhatIsHeld() {
    Trigger trigger = revision(3);
    configure(trigger);
    CommandResultWithReply<Command, Event, TriggerState, Runtime> result =
        entity.runCommand(TriggerEntity.GetRuntime::new);
    assertEquals(new Runtime(triggerId, trigger, 3, false, 0, Map.of()), result.reply());
    assertTrue(result.hasNoEvents());

    remove(4);
    Runtime afterRemove = entity.<Runtime>runCommand(TriggerEntity.GetRuntime::new).reply();
    assertNull(afterRemove.trigger());
    assertEquals(4, afterRemove.revision());
    assertTrue(afterRemove.removed());
  }

  @Test
  void eachEntityKeepsItsOwnJournal() {
    configure(revision(3));
    var other =
        EventSourcedBehaviorTestKit.<Command, Event, TriggerState>create(
            testKit.system(), TriggerEntity.create(triggerId + "-other", shard.getRef(), SETTINGS, REGISTRIES,
                new RecordingBroadcaster(testKit.createTestProbe()), TriggerEntity.BroadcastPermission.ALWAYS, metrics,
                Clock.systemUTC()));
    assertEquals(0, other.getState().revision());
    assertFalse(other.getState().removed());
  }

  @Test
  void repliesSurviveSerialization() {
    SerializationTestKit serialization = new SerializationTestKit(testKit.system());
    serialization.verifySerialization(new Applied(triggerId, 7), true);
    serialization.verifySerialization(new Runtime(triggerId, revision(7), 7, false, 0, Map.of()), true);
    serialization.verifySerialization(new Runtime(triggerId, null, 8, true, 0, Map.of()), true);
  }

  // ---- delivery, watermark, acknowledgement ----

  @Test
  void deliveredEventsJoinTheBatchAndAreAcknowledgedUpToTheLastSequence() {
    configure(active(1, 10, Duration.ofSeconds(60)));

    var result = deliver(1, 3);

    assertEquals(List.of(new EventsReceived(REGISTRY, 3, numberedRange(1, 3), Samples.T0)), result.events());
    assertEquals(new Delivery.Ack(triggerId, 3), acks.receiveMessage());
    assertEquals(numberedRange(1, 3), result.state().outbox().open());
    assertEquals(Samples.T0, result.state().outbox().openedAt());
    assertEquals(Map.of(REGISTRY, 3L), result.state().watermarks());
    publishes.expectNoMessage(QUIET);
  }

  @Test
  void theBatchOpensWhenItsFirstEventArrivesNotWhenLaterOnesDo() {
    configure(active(1, 10, Duration.ofSeconds(60)));
    deliver(1, 1);
    clock.advance(Duration.ofSeconds(7));
    var result = deliver(2, 2);
    assertEquals(Samples.T0, result.state().outbox().openedAt());
    assertEquals(numberedRange(1, 2), result.state().outbox().open());
  }

  @Test
  void redeliveredEventsAtOrBelowTheWatermarkAreDroppedButAcknowledged() {
    configure(active(1, 10, Duration.ofSeconds(60)));
    deliver(1, 3);
    assertEquals(new Delivery.Ack(triggerId, 3), acks.receiveMessage());

    var again = deliver(2, 3);
    assertTrue(again.hasNoEvents());
    assertEquals(new Delivery.Ack(triggerId, 3), acks.receiveMessage());
    assertEquals(numberedRange(1, 3), again.state().outbox().open());

    var overlapping = deliver(1, 5);
    assertEquals(List.of(new EventsReceived(REGISTRY, 5, numberedRange(4, 5), Samples.T0)), overlapping.events());
    assertEquals(new Delivery.Ack(triggerId, 5), acks.receiveMessage());
    assertEquals(numberedRange(1, 5), overlapping.state().outbox().open());

    var older = deliver(1, 2);
    assertTrue(older.hasNoEvents());
    assertEquals(new Delivery.Ack(triggerId, 5), acks.receiveMessage(), "acknowledged up to what it holds");
    assertEquals(Map.of(REGISTRY, 5L), older.state().watermarks());
    assertEquals(5, filtered("matched"), "each event counted once, however often it is delivered");
    publishes.expectNoMessage(QUIET);
  }

  /**
   * A registry sends what is new after its last delivery without waiting for the acknowledgement,
   * so when a delivery is lost — a trigger entity stopping for a hand-over discards what arrives
   * while its last write is in flight, and the next delivery reaches its new incarnation — the next
   * one does not follow the watermark. Storing it moved the watermark past the lost events, which
   * were then acknowledged and never sent again (ClusterFailoverIT's rolling restart).
   */
  @Test
  void aDeliveryAfterALostOneIsNotStoredUntilTheMissingEventsAreSentAgain() {
    configure(active(1, 10, Duration.ofSeconds(60)));
    deliver(1, 2);
    assertEquals(new Delivery.Ack(triggerId, 2), acks.receiveMessage());
    entity.restart(); // the hand-over; the delivery of 3 went to the stopping incarnation and was dropped

    var afterGap = deliver(REGISTRY, 2, sequenced(4, 5));
    assertTrue(afterGap.hasNoEvents(), "nothing stored past the gap");
    assertEquals(Map.of(REGISTRY, 2L), afterGap.state().watermarks());
    acks.expectNoMessage(QUIET); // nothing acknowledged: the registry's redelivery tick sends 3.. again

    var redelivered = deliver(REGISTRY, 2, sequenced(3, 5));
    assertEquals(List.of(new EventsReceived(REGISTRY, 5, numberedRange(3, 5), Samples.T0)), redelivered.events());
    assertEquals(new Delivery.Ack(triggerId, 5), acks.receiveMessage());
    assertEquals(numberedRange(1, 5), redelivered.state().outbox().open());
  }

  @Test
  void theFirstDeliveryAfterTheSubscriptionMayStartAfterWhatTheRegistryCountsAsHeldButNotLater() {
    configure(active(1, 10, Duration.ofSeconds(60)));
    // subscribed when the registry was at 10: events 1..10 are not this trigger's; 11..12 were lost
    var afterGap = deliver(REGISTRY, 10, sequenced(13, 14));
    assertTrue(afterGap.hasNoEvents());
    acks.expectNoMessage(QUIET);

    var result = deliver(REGISTRY, 10, sequenced(11, 14));
    assertEquals(List.of(new EventsReceived(REGISTRY, 14, numberedRange(11, 14), Samples.T0)), result.events());
    assertEquals(new Delivery.Ack(triggerId, 14), acks.receiveMessage());
  }

  @Test
  void eventsNotMatchingTheFilterDoNotJoinButAreAcknowledged() {
    ContainerRegistryRule rule = CrEvents.rule(
        List.of(EventType.CREATE_IMAGE, EventType.CREATE_IMAGE_TAG), "ubuntu", "latest",
        new BatchSettings(10, Duration.ofSeconds(60)), CrEvents.target());
    configure(trigger(1, TriggerStatus.ACTIVE, rule));
    CrEvent match = CrEvents.event(EventType.CREATE_IMAGE_TAG, "ubuntu", "latest", List.of());
    CrEvent otherImage = CrEvents.event(EventType.CREATE_IMAGE_TAG, "debian", "latest", List.of());
    CrEvent otherTag = CrEvents.event(EventType.CREATE_IMAGE_TAG, "ubuntu", "v1", List.of());
    CrEvent otherType = CrEvents.event(EventType.DELETE_IMAGE_TAG, "ubuntu", "latest", List.of());
    CrEvent createImage = CrEvents.event(EventType.CREATE_IMAGE, "ubuntu", "latest", List.of());

    var result = deliver(REGISTRY, List.of(
        new Delivery.Sequenced(1, match), new Delivery.Sequenced(2, otherImage), new Delivery.Sequenced(3, otherTag),
        new Delivery.Sequenced(4, otherType), new Delivery.Sequenced(5, createImage)));

    assertEquals(List.of(new EventsReceived(REGISTRY, 5, List.of(match, createImage), Samples.T0)), result.events());
    assertEquals(new Delivery.Ack(triggerId, 5), acks.receiveMessage());
    assertEquals(List.of(match, createImage), result.state().outbox().open());
    assertEquals(2, filtered("matched"));
    assertEquals(3, filtered("rejected"));
  }

  @Test
  void aDeliveryWithNothingMatchingAdvancesTheWatermarkAndOpensNoBatch() {
    ContainerRegistryRule rule = CrEvents.rule(List.of(EventType.DELETE_IMAGE), "", "",
        new BatchSettings(1, Duration.ofSeconds(1)), CrEvents.target());
    configure(trigger(1, TriggerStatus.ACTIVE, rule));

    var result = deliver(1, 2);

    assertEquals(List.of(new EventsReceived(REGISTRY, 2, List.of(), Samples.T0)), result.events());
    assertEquals(new Delivery.Ack(triggerId, 2), acks.receiveMessage());
    assertEquals(List.of(), result.state().outbox().open());
    assertNull(result.state().outbox().openedAt());
    assertEquals(Map.of(REGISTRY, 2L), result.state().watermarks());
    publishes.expectNoMessage(Duration.ofMillis(1300)); // past the 1 s cutoff: no empty batch is sent
  }

  @Test
  void aPausedTriggerDropsEventsButAcknowledgesThemAndAdvancesTheWatermark() {
    configure(trigger(1, TriggerStatus.PAUSED, CrEvents.rule(1, Duration.ofSeconds(1))));

    var result = deliver(1, 2);

    assertEquals(List.of(new EventsReceived(REGISTRY, 2, List.of(), Samples.T0)), result.events());
    assertEquals(new Delivery.Ack(triggerId, 2), acks.receiveMessage());
    assertEquals(List.of(), result.state().outbox().open());
    assertEquals(Map.of(REGISTRY, 2L), result.state().watermarks());
    assertEquals(2, filtered("paused"));
    assertEquals(0, filtered("rejected"), "a pause is no filter");
    publishes.expectNoMessage(QUIET);
  }

  @Test
  void afterResumeNewEventsJoinAgainWhileThoseDroppedWhilePausedStayDropped() {
    configure(trigger(1, TriggerStatus.PAUSED, CrEvents.rule(10, Duration.ofSeconds(60))));
    deliver(1, 2);
    configure(trigger(2, TriggerStatus.ACTIVE, CrEvents.rule(10, Duration.ofSeconds(60))));

    var result = deliver(1, 3);

    assertEquals(List.of(new EventsReceived(REGISTRY, 3, List.of(numbered(3)), Samples.T0)), result.events());
    assertEquals(List.of(numbered(3)), result.state().outbox().open());
  }

  @Test
  void aDeliveryFromARegistryTheTriggerIsNotConfiguredForIsAcknowledgedAndUnsubscribed() {
    configure(active(1, 1, Duration.ofSeconds(1)));
    assertEquals(new Call("subscribe", REGISTRY, triggerId), registryCalls.receiveMessage());

    var result = deliver(OTHER_REGISTRY, sequenced(7, 9));

    assertTrue(result.hasNoEvents());
    assertEquals(new Delivery.Ack(triggerId, 9), acks.receiveMessage());
    assertEquals(new Call("unsubscribe", OTHER_REGISTRY, triggerId), registryCalls.receiveMessage());
    assertEquals(Map.of(), result.state().watermarks());
    assertEquals(List.of(), result.state().outbox().open());
    publishes.expectNoMessage(QUIET);
  }

  @Test
  void aDeliveryToARemovedTriggerIsAcknowledgedAndUnsubscribed() {
    configure(active(1, 1, Duration.ofSeconds(1)));
    remove(2);
    registryCalls.receiveMessage(); // subscribe
    assertEquals(new Call("unsubscribe", REGISTRY, triggerId), registryCalls.receiveMessage());

    var result = deliver(1, 4);

    assertTrue(result.hasNoEvents());
    assertEquals(new Delivery.Ack(triggerId, 4), acks.receiveMessage());
    assertEquals(new Call("unsubscribe", REGISTRY, triggerId), registryCalls.receiveMessage());
    publishes.expectNoMessage(QUIET);
  }

  @Test
  void aDeliveryBeforeAnyConfigureIsAcknowledgedAndStoresNothing() {
    var result = deliver(1, 2);
    assertTrue(result.hasNoEvents());
    assertEquals(new Delivery.Ack(triggerId, 2), acks.receiveMessage());
  }

  @Test
  void configuringSubscribesToTheRegistryAndMovingToAnotherUnsubscribesTheOldOne() {
    configure(active(1, 1, Duration.ofSeconds(1)));
    assertEquals(new Call("subscribe", REGISTRY, triggerId), registryCalls.receiveMessage());

    ContainerRegistryRule moved = new ContainerRegistryRule(CrEvents.ALL_TYPES, OTHER_REGISTRY, "", "",
        new BatchSettings(1, Duration.ofSeconds(1)), CrEvents.target());
    configure(trigger(2, TriggerStatus.ACTIVE, moved));

    assertEquals(new Call("subscribe", OTHER_REGISTRY, triggerId), registryCalls.receiveMessage(DEADLINE));
    assertEquals(new Call("unsubscribe", REGISTRY, triggerId), registryCalls.receiveMessage(DEADLINE));
    registryCalls.expectNoMessage(QUIET);
  }

  // ---- size flush ----

  @Test
  void aBatchOfSizeThreeIsSentAsOneMessageToTheTriggersPathWhenTheThirdEventArrives() {
    configure(active(1, 3, Duration.ofSeconds(60)));
    deliver(1, 2);
    publishes.expectNoMessage(QUIET);

    deliver(3, 3);

    Published sent = publishes.receiveMessage(DEADLINE);
    assertEquals(WS, sent.path());
    assertEquals(1, sent.firstOrdinal());
    assertEquals(3, sent.lastOrdinal());
    assertEquals(ids(1, 3), sent.eventIds());
    assertArrayEquals(MessageRenderer.render(numberedRange(1, 3), LIMIT).get(0), sent.payload());
    awaitLastJournaled(new Sent(3, Samples.T0));
    TriggerState state = entity.getState();
    assertEquals(List.of(), state.outbox().open());
    assertNull(state.outbox().openedAt());
    publishes.expectNoMessage(QUIET);
    assertEquals(1, broadcaster.published.size());
  }

  @Test
  void threeEventsInOneDeliveryOfASizeThreeTriggerGoOutAsExactlyOneMessage() {
    configure(active(1, 3, Duration.ofSeconds(60)));

    deliver(1, 3);

    assertEquals(ids(1, 3), publishes.receiveMessage(DEADLINE).eventIds());
    awaitLastJournaled(new Sent(3, Samples.T0));
    List<Object> journal = journal();
    assertEquals(
        List.of(new EventsReceived(REGISTRY, 3, numberedRange(1, 3), Samples.T0), new Sent(3, Samples.T0)),
        journal.subList(journal.size() - 2, journal.size()));
    assertEquals(List.of(), entity.getState().outbox().open());
    publishes.expectNoMessage(QUIET);
    assertEquals(1, broadcaster.published.size());
  }

  @Test
  void withSizeOneEveryEventIsItsOwnMessageInOrderAndABacklogSharesOneAppend() {
    configure(active(1, 1, Duration.ofSeconds(60)));

    deliver(1, 3);

    assertEquals(List.of("crtev000000000000001"), publishes.receiveMessage(DEADLINE).eventIds());
    assertEquals(List.of("crtev000000000000002"), publishes.receiveMessage(DEADLINE).eventIds());
    assertEquals(List.of("crtev000000000000003"), publishes.receiveMessage(DEADLINE).eventIds());
    publishes.expectNoMessage(QUIET);
    awaitLastJournaled(new Sent(3, Samples.T0));
    List<Object> journal = journal();
    assertEquals(
        List.of(new EventsReceived(REGISTRY, 3, numberedRange(1, 3), Samples.T0), new Sent(3, Samples.T0)),
        journal.subList(journal.size() - 2, journal.size()),
        "the three due batches went in one append, confirmed at once");
    assertEquals(List.of(), entity.getState().outbox().open());

    deliver(4, 4);
    assertEquals(List.of("crtev000000000000004"), publishes.receiveMessage(DEADLINE).eventIds());
  }

  @Test
  void aBacklogLargerThanOneAppendGoesInSeveralEachWithinTheAppendLimitAndNothingMissing() {
    configure(active(1, 1000, Duration.ofSeconds(60)));

    deliver(1, 1000); // ~0.5 MB of messages: over three appends' worth
    deliver(1001, 2000);

    List<String> ids = new ArrayList<>();
    java.util.Map<Long, Integer> bytesPerAppend = new java.util.TreeMap<>();
    while (ids.size() < 2000) {
      Published p = publishes.receiveMessage(DEADLINE);
      ids.addAll(p.eventIds());
      bytesPerAppend.merge(p.firstOrdinal(), p.payload().length, Integer::sum);
    }
    assertEquals(numberedRange(1, 2000).stream().map(CrEvent::eventId).toList(), ids, "every event once, in order");
    assertTrue(bytesPerAppend.size() > 2, "several appends: " + bytesPerAppend);
    bytesPerAppend.forEach((first, bytes) ->
        assertTrue(bytes <= BatchAppender.APPEND_BYTES || bytes <= LIMIT, "append at " + first + ": " + bytes + " B"));
    awaitLastJournaled(new Sent(2000, Samples.T0));
  }

  @Test
  void aDeliveryOverfillingTheBatchSendsTheFirstSizeEventsAndKeepsTheRestOpen() {
    configure(active(1, 3, Duration.ofSeconds(60)));

    deliver(1, 5);

    assertEquals(ids(1, 3), publishes.receiveMessage(DEADLINE).eventIds());
    awaitLastJournaled(new Sent(3, Samples.T0));
    assertEquals(numberedRange(4, 5), entity.getState().outbox().open());
    publishes.expectNoMessage(QUIET);
    deliver(6, 6);
    Published rest = publishes.receiveMessage(DEADLINE);
    assertEquals(ids(4, 6), rest.eventIds());
    assertEquals(4, rest.firstOrdinal(), "ordinals run on over the trigger's life");
    assertEquals(6, rest.lastOrdinal());
  }

  @Test
  void aSizeThousandTriggerHolds999AndSendsAllAtTheThousandthSplitAt128KiBInOrder() {
    configure(active(1, 1000, Duration.ofSeconds(60)));

    var held = deliver(1, 999);
    assertEquals(999, held.state().outbox().open().size());
    assertEquals(new Delivery.Ack(triggerId, 999), acks.receiveMessage());
    publishes.expectNoMessage(QUIET);

    deliver(1000, 1000);

    List<String> received = new ArrayList<>();
    while (received.size() < 1000) {
      Published sent = publishes.receiveMessage(DEADLINE);
      assertEquals(WS, sent.path());
      assertTrue(sent.payload().length <= LIMIT, sent.payload().length + " bytes");
      received.addAll(sent.eventIds());
    }
    assertEquals(ids(1, 1000), received);
    assertTrue(broadcaster.published.size() > 1, "1000 events do not fit in 128 KiB");
    awaitLastJournaled(new Sent(1000, Samples.T0));
    assertEquals(List.of(), entity.getState().outbox().open());
    publishes.expectNoMessage(QUIET);
  }

  // ---- cutoff flush ----

  @Test
  void aBatchBelowItsSizeIsSentWhenTheCutoffHasPassed() {
    configure(active(1, 3, Duration.ofSeconds(1)));
    long start = System.nanoTime();

    deliver(1, 1);
    publishes.expectNoMessage(QUIET);

    Published sent = publishes.receiveMessage(DEADLINE);
    assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(Duration.ofMillis(900)) >= 0,
        "not before the cutoff");
    assertEquals(WS, sent.path());
    assertEquals(ids(1, 1), sent.eventIds());
    awaitLastJournaled(new Sent(1, Samples.T0));
    assertEquals(List.of(), entity.getState().outbox().open());
    publishes.expectNoMessage(QUIET);
  }

  @Test
  void aSizeFlushCancelsTheCutoffOfTheBatchItSent() {
    configure(active(1, 2, Duration.ofSeconds(1)));
    deliver(1, 1);
    deliver(2, 2);
    assertEquals(ids(1, 2), publishes.receiveMessage(DEADLINE).eventIds());
    publishes.expectNoMessage(Duration.ofMillis(1300));
    assertEquals(1, broadcaster.published.size());
  }

  @Test
  void theRestOfAnOverfilledBatchWaitsItsOwnFullCutoff() {
    // size 3, cutoff 2 s: e1 opens a batch at 0 s; e2..e5 arrive at ~1 s: e1..e3 go at once, and
    // e4, e5 form a new batch that opened at ~1 s, so it is due at ~3 s, not at e1's 2 s.
    configure(active(1, 3, Duration.ofSeconds(2)));
    deliver(1, 1);
    publishes.expectNoMessage(Duration.ofSeconds(1));
    deliver(2, 5);
    long restOpened = System.nanoTime();
    assertEquals(ids(1, 3), publishes.receiveMessage(DEADLINE).eventIds());

    Published rest = publishes.receiveMessage(DEADLINE);
    Duration waited = Duration.ofNanos(System.nanoTime() - restOpened);
    assertEquals(ids(4, 5), rest.eventIds());
    assertTrue(waited.compareTo(Duration.ofMillis(1800)) >= 0,
        "the rest went out " + waited.toMillis() + " ms after it was left open; its cutoff is 2000 ms");
  }

  // ---- pause, retarget, rebatch, remove: flush first ----

  @Test
  void pausingClosesTheOpenBatchAndRecordsItSentOnlyOnceConfirmedThenDropsNewEvents() throws InterruptedException {
    HeldBroadcaster log = new HeldBroadcaster(publishes);
    entity = entityWith(log);
    configure(active(1, 3, Duration.ofSeconds(60)));
    deliver(1, 2);
    Trigger paused = trigger(2, TriggerStatus.PAUSED, CrEvents.rule(3, Duration.ofSeconds(60)));

    var result = configure(paused);

    assertEquals(List.of(new Configured(paused, true)), result.events());
    assertEquals(new Applied(triggerId, 2), result.reply());
    assertEquals(closedOnly(0, new Outbox.Closed(CrEvents.target(), 3, numberedRange(1, 2))), result.state().outbox());
    Published sent = publishes.receiveMessage(DEADLINE);
    assertEquals(WS, sent.path());
    assertEquals(ids(1, 2), sent.eventIds());
    HeldBroadcaster.Held append = log.next();
    assertEquals(new Configured(paused, true), lastJournaled(), "nothing recorded before the log confirms");
    append.answer().complete(2L);
    awaitLastJournaled(new Sent(2, Samples.T0));
    assertTrue(entity.getState().outbox().drained());

    var dropped = deliver(3, 5);
    assertEquals(List.of(new EventsReceived(REGISTRY, 5, List.of(), Samples.T0)), dropped.events());
    publishes.expectNoMessage(QUIET);
  }

  @Test
  void pausingDeliversTheOpenBatchEvenWhenItsFirstSendIsLost() {
    entity = entityWith(new FirstSendLostBroadcaster(publishes));
    configure(active(1, 3, Duration.ofSeconds(60)));
    deliver(1, 2);
    Trigger paused = trigger(2, TriggerStatus.PAUSED, CrEvents.rule(3, Duration.ofSeconds(60)));

    var result = configure(paused);

    assertEquals(new Applied(triggerId, 2), result.reply());
    assertEquals(List.of(new Configured(paused, true)), result.events(), "nothing recorded as sent with the pause");
    assertEquals(2, result.state().outbox().pending());
    Published sent = publishes.receiveMessage(DEADLINE); // the second try: the first was lost
    assertEquals(ids(1, 2), sent.eventIds());
    assertEquals(1, sent.firstOrdinal());
    assertEquals(2, sent.lastOrdinal());
    awaitLastJournaled(new Sent(2, Samples.T0));
    List<Object> journal = journal();
    assertEquals(List.of(new Configured(paused, true), new Sent(2, Samples.T0)), journal.subList(journal.size() - 2, journal.size()));
    assertTrue(entity.getState().outbox().drained());
    publishes.expectNoMessage(QUIET);
  }

  @Test
  void aBatchTheLogPartlyHeldAlreadyIsSentAgainFromWhereTheLogStops() throws InterruptedException {
    HeldBroadcaster log = new HeldBroadcaster(publishes);
    entity = entityWith(log);
    configure(active(1, 3, Duration.ofSeconds(60)));

    deliver(1, 3);
    HeldBroadcaster.Held first = log.next();
    assertEquals(new HeldBroadcaster.Held(1, 3, null), withoutAnswer(first));
    publishes.receiveMessage(DEADLINE);
    // The log held event 1 already (appended by an incarnation that crashed before recording it): it stores nothing.
    first.answer().complete(1L);

    awaitLastJournaled(new Sent(1, Samples.T0));
    HeldBroadcaster.Held rest = log.next();
    assertEquals(new HeldBroadcaster.Held(2, 3, null), withoutAnswer(rest));
    assertEquals(ids(2, 3), publishes.receiveMessage(DEADLINE).eventIds(), "re-rendered without what the log holds");
    rest.answer().complete(3L);
    awaitLastJournaled(new Sent(3, Samples.T0));
    assertTrue(entity.getState().outbox().drained());
  }

  @Test
  void aBatchClosedWhileItsFirstPartIsOnItsWayLosesOnlyThatPartWhenConfirmed() throws InterruptedException {
    HeldBroadcaster log = new HeldBroadcaster(publishes);
    entity = entityWith(log);
    configure(active(1, 3, Duration.ofSeconds(60)));
    deliver(1, 4);
    HeldBroadcaster.Held first = log.next();
    assertEquals(ids(1, 3), publishes.receiveMessage(DEADLINE).eventIds());
    BroadcastTarget elsewhere = new BroadcastTarget("d4e00000000000000002", "/events", "aje00000000000000001");
    Trigger retargeted = trigger(2, TriggerStatus.ACTIVE, CrEvents.rule(CrEvents.ALL_TYPES, "", "",
        new BatchSettings(3, Duration.ofSeconds(60)), elsewhere));

    var result = configure(retargeted);

    assertEquals(List.of(new Configured(retargeted, true)), result.events());
    assertEquals(closedOnly(0, new Outbox.Closed(CrEvents.target(), 3, numberedRange(1, 4))), result.state().outbox());
    publishes.expectNoMessage(QUIET); // one append at a time
    first.answer().complete(3L);
    awaitLastJournaled(new Sent(3, Samples.T0));
    Published rest = publishes.receiveMessage(DEADLINE);
    assertEquals(WS, rest.path(), "the closed rest goes where it was meant to");
    assertEquals(ids(4, 4), rest.eventIds());
    assertEquals(4, rest.firstOrdinal());
    log.next().answer().complete(4L);
    awaitLastJournaled(new Sent(4, Samples.T0));
    assertTrue(entity.getState().outbox().drained());
  }

  @Test
  void aBatchTheServiceAccountMayNotSendIsDroppedCountedAndRecordedAsSent() {
    entity = EventSourcedBehaviorTestKit.create(testKit.system(), TriggerEntity.create(triggerId, shard.getRef(),
        SETTINGS, registries, broadcaster, (serviceAccountId, gatewayId) -> false, metrics, clock));
    configure(active(1, 2, Duration.ofSeconds(60)));

    var result = deliver(1, 2);

    assertEquals(new EventsReceived(REGISTRY, 2, numberedRange(1, 2), Samples.T0), result.events().get(0));
    awaitLastJournaled(new Sent(2, Samples.T0));
    assertTrue(entity.getState().outbox().drained());
    publishes.expectNoMessage(QUIET);
    var samples = PrometheusText.parse(new String(metrics.scrape("").body(), java.nio.charset.StandardCharsets.UTF_8));
    assertEquals(1.0, samples.get("regcast_access_errors_total"));
  }

  @Test
  void pausingWithNoOpenBatchSendsNothing() {
    configure(active(1, 3, Duration.ofSeconds(60)));
    var result = configure(trigger(2, TriggerStatus.PAUSED, CrEvents.rule(3, Duration.ofSeconds(60))));
    assertEquals(1, result.events().size());
    publishes.expectNoMessage(QUIET);
  }

  @Test
  void changingTheTargetFlushesTheOpenBatchToTheOldTargetFirst() {
    configure(active(1, 3, Duration.ofSeconds(60)));
    deliver(1, 2);
    BroadcastTarget elsewhere = new BroadcastTarget("d4e00000000000000002", "/events", "aje00000000000000001");
    Trigger retargeted = trigger(2, TriggerStatus.ACTIVE, CrEvents.rule(CrEvents.ALL_TYPES, "", "",
        new BatchSettings(3, Duration.ofSeconds(60)), elsewhere));

    var result = configure(retargeted);

    assertEquals(new Configured(retargeted, true), result.events().get(0), "closed with the change, confirmed after it");
    Published sent = publishes.receiveMessage(DEADLINE);
    assertEquals(WS, sent.path());
    assertEquals(ids(1, 2), sent.eventIds());
    awaitLastJournaled(new Sent(2, Samples.T0));

    deliver(3, 5);
    Published next = publishes.receiveMessage(DEADLINE);
    assertEquals(new PathKey("d4e00000000000000002", "/events"), next.path());
    assertEquals(ids(3, 5), next.eventIds());
  }

  @Test
  void changingOnlyThePathFlushesToTheOldPath() {
    configure(active(1, 3, Duration.ofSeconds(60)));
    deliver(1, 1);
    Trigger moved = trigger(2, TriggerStatus.ACTIVE, CrEvents.rule(CrEvents.ALL_TYPES, "", "",
        new BatchSettings(3, Duration.ofSeconds(60)), CrEvents.target("/other")));

    var result = configure(moved);

    assertEquals(new Configured(moved, true), result.events().get(0), "closed with the change, confirmed after it");
    assertEquals(WS, publishes.receiveMessage(DEADLINE).path());
    awaitLastJournaled(new Sent(1, Samples.T0));
  }

  @Test
  void changingTheBatchSizeFlushesTheOpenBatchFirst() {
    configure(active(1, 3, Duration.ofSeconds(60)));
    deliver(1, 2);
    Trigger bigger = active(2, 5, Duration.ofSeconds(60));

    var result = configure(bigger);

    assertEquals(new Configured(bigger, true), result.events().get(0), "closed with the change, confirmed after it");
    assertEquals(ids(1, 2), publishes.receiveMessage(DEADLINE).eventIds());
    awaitLastJournaled(new Sent(2, Samples.T0));

    deliver(3, 6);
    publishes.expectNoMessage(QUIET); // 4 < 5 now
    deliver(7, 7);
    assertEquals(ids(3, 7), publishes.receiveMessage(DEADLINE).eventIds());
  }

  @Test
  void changingTheCutoffFlushesTheOpenBatchFirst() {
    configure(active(1, 3, Duration.ofSeconds(60)));
    deliver(1, 1);
    Trigger sooner = active(2, 3, Duration.ofSeconds(30));

    var result = configure(sooner);

    assertEquals(new Configured(sooner, true), result.events().get(0), "closed with the change, confirmed after it");
    assertEquals(ids(1, 1), publishes.receiveMessage(DEADLINE).eventIds());
    awaitLastJournaled(new Sent(1, Samples.T0));
  }

  @Test
  void aResentOrOlderRevisionFlushesNothing() {
    Trigger held = active(3, 3, Duration.ofSeconds(60));
    configure(held);
    deliver(1, 2);
    assertTrue(configure(held).hasNoEvents());
    assertTrue(configure(trigger(2, TriggerStatus.PAUSED, CrEvents.rule(3, Duration.ofSeconds(60)))).hasNoEvents());
    assertEquals(numberedRange(1, 2), entity.getState().outbox().open());
    publishes.expectNoMessage(QUIET);
  }

  @Test
  void removeClosesTheOpenBatchAndPassivatesOnlyOnceItIsConfirmed() throws InterruptedException {
    HeldBroadcaster log = new HeldBroadcaster(publishes);
    entity = entityWith(log);
    configure(active(1, 3, Duration.ofSeconds(60)));
    deliver(1, 2);

    var result = remove(2);

    assertEquals(List.of(new Removed(triggerId, 2)), result.events());
    assertEquals(new Applied(triggerId, 2), result.reply());
    assertEquals(new TriggerState(null, 2, true, Map.of(),
        closedOnly(0, new Outbox.Closed(CrEvents.target(), 3, numberedRange(1, 2)))), result.state());
    Published sent = publishes.receiveMessage(DEADLINE);
    assertEquals(WS, sent.path());
    assertEquals(ids(1, 2), sent.eventIds());
    HeldBroadcaster.Held append = log.next();
    shard.expectNoMessage(QUIET); // still draining
    append.answer().complete(2L);
    shard.expectMessageClass(ClusterSharding.Passivate.class);
    assertEquals(new Sent(2, Samples.T0), lastJournaled());
    publishes.expectNoMessage(QUIET);
  }

  // ---- recovery ----

  @Test
  void afterARestartTheOpenBatchIsSentAtItsOriginalCutoff() {
    configure(active(1, 3, Duration.ofSeconds(60)));
    deliver(1, 1);
    clock.advance(Duration.ofSeconds(59)); // one second of the cutoff left

    TriggerState recovered = entity.restart().state();
    assertEquals(numberedRange(1, 1), recovered.outbox().open());
    assertEquals(Samples.T0, recovered.outbox().openedAt());

    publishes.expectNoMessage(Duration.ofMillis(300)); // re-armed for what is left, not fired at once
    Published sent = publishes.receiveMessage(DEADLINE); // and not for a fresh 60 s
    assertEquals(ids(1, 1), sent.eventIds());
    awaitLastJournaled(new Sent(1, Samples.T0.plusSeconds(59)));
  }

  @Test
  void afterARestartAShortCutoffStillSendsTheOpenBatch() {
    configure(active(1, 3, Duration.ofSeconds(1)));
    deliver(1, 2);
    entity.restart();
    assertEquals(ids(1, 2), publishes.receiveMessage(DEADLINE).eventIds());
    publishes.expectNoMessage(QUIET);
  }

  @Test
  void anOverdueBatchIsSentAtOnceAfterRecovery() {
    configure(active(1, 3, Duration.ofSeconds(60)));
    deliver(1, 2);
    clock.advance(Duration.ofSeconds(61));

    entity.restart();

    assertEquals(ids(1, 2), publishes.receiveMessage(DEADLINE).eventIds());
    awaitLastJournaled(new Sent(2, Samples.T0.plusSeconds(61)));
    assertEquals(List.of(), entity.getState().outbox().open());
  }

  @Test
  void aFullBatchRecoveredUnsentIsSentAtOnceAfterRecovery() {
    // A crash between storing the size-th event and storing its flush leaves a full batch behind.
    Trigger trigger = active(1, 3, Duration.ofSeconds(60));
    entity.initialize(new Configured(trigger, false), new EventsReceived(REGISTRY, 3, numberedRange(1, 3), Samples.T0));

    assertEquals(ids(1, 3), publishes.receiveMessage(DEADLINE).eventIds());
    // recorded as sent once the publish is confirmed, a moment after it
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!entity.getState().outbox().open().isEmpty()) {
      assertTrue(System.nanoTime() < deadline, "the sent batch was never recorded");
      Thread.onSpinWait();
    }
  }

  @Test
  void aRecoveredTombstoneWithAClosedBatchSendsItThenPassivates() {
    Trigger trigger = active(1, 3, Duration.ofSeconds(60));
    entity.initialize(new Configured(trigger, false),
        new EventsReceived(REGISTRY, 2, numberedRange(1, 2), Samples.T0), new Removed(triggerId, 2));

    assertEquals(ids(1, 2), publishes.receiveMessage(DEADLINE).eventIds());
    shard.expectMessageClass(ClusterSharding.Passivate.class);
    assertEquals(new Sent(2, Samples.T0), lastJournaled());
    assertEquals(new TriggerState(null, 2, true, Map.of(), new Outbox(2, List.of(), List.of(), null)), entity.getState());
  }

  @Test
  void aJournalOfBatchFlushedRecordsRecoversWhatWasSentAndNumbersOnFromThere() {
    Trigger trigger = active(1, 2, Duration.ofSeconds(60));
    entity.initialize(new Configured(trigger, false),
        new EventsReceived(REGISTRY, 3, numberedRange(1, 3), Samples.T0), new BatchFlushed(2, Samples.T0));
    TriggerState recovered = entity.getState();
    assertEquals(new Outbox(2, List.of(), numberedRange(3, 3), Samples.T0), recovered.outbox());

    deliver(4, 4);

    Published sent = publishes.receiveMessage(DEADLINE);
    assertEquals(ids(3, 4), sent.eventIds());
    assertEquals(3, sent.firstOrdinal());
    awaitLastJournaled(new Sent(4, Samples.T0));
  }

  @Test
  void aRecoveredWatermarkStillDropsRedeliveries() {
    configure(active(1, 10, Duration.ofSeconds(60)));
    deliver(1, 4);
    entity.restart();
    var again = deliver(1, 4);
    assertTrue(again.hasNoEvents());
    acks.receiveMessage();
    assertEquals(new Delivery.Ack(triggerId, 4), acks.receiveMessage());
    assertEquals(numberedRange(1, 4), again.state().outbox().open());
  }

  @Test
  void aRecoveredTombstonePassivatesItself() {
    configure(active(1, 3, Duration.ofSeconds(60)));
    remove(2);
    shard.expectMessageClass(ClusterSharding.Passivate.class);
    entity.restart();
    shard.expectMessageClass(ClusterSharding.Passivate.class);
  }

  // ---- races a plain actor shows ----

  @Test
  void aPauseRightBehindAnOverfillingDeliveryStillSendsBatchesOfAtMostSize() {
    String id = triggerId + "-race";
    ActorRef<Command> ref = spawn(id, registries, SETTINGS);
    TestProbe<Applied> applied = testKit.createTestProbe(Applied.class);
    ref.tell(new Configure(trigger(id, 1, TriggerStatus.ACTIVE, CrEvents.rule(3, Duration.ofSeconds(60))), applied.getRef()));
    assertEquals(new Applied(id, 1), applied.receiveMessage(DEADLINE));

    ref.tell(new Deliver(REGISTRY, 0, sequenced(1, 4), acks.getRef()));
    ref.tell(new Configure(trigger(id, 2, TriggerStatus.PAUSED, CrEvents.rule(3, Duration.ofSeconds(60))), applied.getRef()));

    List<List<String>> messages = new ArrayList<>();
    int received = 0;
    while (received < 4) {
      Published sent = publishes.receiveMessage(DEADLINE);
      assertEquals(WS, sent.path());
      messages.add(sent.eventIds());
      received += sent.eventIds().size();
    }
    assertEquals(List.of(ids(1, 3), ids(4, 4)), messages);
  }

  @Test
  void aLateConfirmationFromThePreviousRegistryDoesNotUnsubscribeTheCurrentOne() {
    String id = triggerId + "-late";
    TestProbe<Call> calls = testKit.createTestProbe(Call.class);
    ControlledRegistries controlled = new ControlledRegistries(calls, true, 0);
    ActorRef<Command> ref = spawn(id, controlled, SETTINGS);
    TestProbe<Applied> applied = testKit.createTestProbe(Applied.class);
    ContainerRegistryRule other = new ContainerRegistryRule(CrEvents.ALL_TYPES, OTHER_REGISTRY, "", "",
        new BatchSettings(1, Duration.ofSeconds(1)), CrEvents.target());

    ref.tell(new Configure(trigger(id, 1, TriggerStatus.ACTIVE, CrEvents.rule(1, Duration.ofSeconds(1))), applied.getRef()));
    assertEquals(new Call("subscribe", REGISTRY, id), calls.receiveMessage(DEADLINE));
    ref.tell(new Configure(trigger(id, 2, TriggerStatus.ACTIVE, other), applied.getRef()));
    assertEquals(new Call("subscribe", OTHER_REGISTRY, id), calls.receiveMessage(DEADLINE));

    controlled.confirm(OTHER_REGISTRY);
    controlled.confirm(REGISTRY); // late: the trigger has moved on

    assertEquals(new Call("unsubscribe", REGISTRY, id), calls.receiveMessage(DEADLINE));
    calls.expectNoMessage(QUIET);
  }

  @Test
  void aFailedSubscriptionIsRetriedAndTheConfigureIsStillAnswered() {
    String id = triggerId + "-retry";
    TestProbe<Call> calls = testKit.createTestProbe(Call.class);
    ActorRef<Command> ref = spawn(id, new ControlledRegistries(calls, false, 1),
        new TriggerEntity.Settings(LIMIT, Duration.ofMillis(200), 100));
    TestProbe<Applied> applied = testKit.createTestProbe(Applied.class);

    ref.tell(new Configure(trigger(id, 1, TriggerStatus.ACTIVE, CrEvents.rule(1, Duration.ofSeconds(1))), applied.getRef()));

    assertEquals(new Applied(id, 1), applied.receiveMessage(DEADLINE));
    assertEquals(new Call("subscribe", REGISTRY, id), calls.receiveMessage(DEADLINE));
    assertEquals(new Call("subscribe", REGISTRY, id), calls.receiveMessage(DEADLINE));
    calls.expectNoMessage(Duration.ofMillis(400)); // confirmed now: no more retries
  }

  // ---- serialization of the new protocol, events and state ----

  @Test
  void theDeliveryEventsAndStateSurviveSerialization() {
    SerializationTestKit serialization = new SerializationTestKit(testKit.system());
    CrEvent plain = numbered(1);
    CrEvent traced = new CrEvent("crtpk611000000000002", EventType.CREATE_IMAGE, REGISTRY, CrEvents.FOLDER,
        CrEvents.CLOUD, "team/app", CrEvents.DIGEST, CrEvents.IMAGE_ID, "latest", List.of(),
        Instant.parse("2024-05-01T10:15:30.123456789Z"), CrEvents.TRACE, null);
    CrEvent deleted = CrEvents.event(EventType.DELETE_IMAGE, "ubuntu", "", List.of("v1", "latest"));

    serialization.verifySerialization(plain, true);
    serialization.verifySerialization(traced, true);
    serialization.verifySerialization(deleted, true);
    serialization.verifySerialization(CrEvents.TRACE, true);
    serialization.verifySerialization(new Delivery.Sequenced(42, traced), true);
    serialization.verifySerialization(new Delivery.Ack(triggerId, 42), true);
    serialization.verifySerialization(new Deliver(REGISTRY, 0, List.of(new Delivery.Sequenced(1, plain),
        new Delivery.Sequenced(2, traced)), acks.getRef()), true);
    serialization.verifySerialization(new EventsReceived(REGISTRY, 3, List.of(plain, traced, deleted), Samples.T0), true);
    serialization.verifySerialization(new EventsReceived(REGISTRY, 3, List.of(), Samples.T0), true);
    serialization.verifySerialization(new BatchFlushed(3, Samples.T0), true);
    serialization.verifySerialization(new Sent(3, Samples.T0), true);
    serialization.verifySerialization(new Configured(active(1, 3, Duration.ofMillis(1500)), false), true);
    serialization.verifySerialization(new Removed(triggerId, 4), true);
    serialization.verifySerialization(
        new TriggerState(active(1, 3, Duration.ofSeconds(20)), 1, false, Map.of(REGISTRY, 3L, OTHER_REGISTRY, 9L),
            new Outbox(4, List.of(new Outbox.Closed(CrEvents.target("/old"), 2, List.of(plain))),
                List.of(traced, deleted), Samples.T0)), true);
    serialization.verifySerialization(new TriggerState(null, 0, false, Map.of(), Outbox.EMPTY), true);
    serialization.verifySerialization(
        new Runtime(triggerId, active(1, 3, Duration.ofSeconds(20)), 1, false, 2, Map.of(REGISTRY, 3L)), true);
  }

  @Test
  void aTracedEventIsStoredAndRecoveredWithItsTrace() {
    configure(active(1, 10, Duration.ofSeconds(60)));
    CrEvent traced = new CrEvent("crtpk611000000000002", EventType.CREATE_IMAGE, REGISTRY, CrEvents.FOLDER,
        CrEvents.CLOUD, "ubuntu", CrEvents.DIGEST, CrEvents.IMAGE_ID, "latest", List.of(), Samples.T0, CrEvents.TRACE, null);
    deliver(REGISTRY, List.of(new Delivery.Sequenced(1, numbered(1)), new Delivery.Sequenced(2, traced)));
    assertEquals(List.of(numbered(1), traced), entity.restart().state().outbox().open());
  }
}

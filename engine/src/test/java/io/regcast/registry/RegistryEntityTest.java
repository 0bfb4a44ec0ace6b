package io.regcast.registry;

import static io.regcast.model.EventType.CREATE_IMAGE;
import static io.regcast.model.EventType.CREATE_IMAGE_TAG;
import static io.regcast.model.EventType.DELETE_IMAGE;
import static io.regcast.model.EventType.DELETE_IMAGE_TAG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.regcast.delivery.Delivery;
import io.regcast.metrics.Metrics;
import io.regcast.model.CrEvent;
import io.regcast.model.EventType;
import io.regcast.model.Ids;
import io.regcast.model.TraceContext;
import io.regcast.registry.RegistryEntity.Accepted;
import io.regcast.registry.RegistryEntity.AcksRecorded;
import io.regcast.registry.RegistryEntity.Command;
import io.regcast.registry.RegistryEntity.Event;
import io.regcast.registry.RegistryEntity.Ingest;
import io.regcast.registry.RegistryEntity.Inspect;
import io.regcast.registry.RegistryEntity.OpsAccepted;
import io.regcast.registry.RegistryEntity.Settings;
import io.regcast.registry.RegistryEntity.Subscribe;
import io.regcast.registry.RegistryEntity.TriggerSubscribed;
import io.regcast.registry.RegistryEntity.TriggerUnsubscribed;
import io.regcast.registry.RegistryEntity.Unsubscribe;
import io.regcast.registry.RegistryEntity.View;
import io.regcast.testing.InMemoryPersistence;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.persistence.testkit.JournalOperation;
import org.apache.pekko.persistence.testkit.ProcessingPolicy;
import org.apache.pekko.persistence.testkit.ProcessingResult;
import org.apache.pekko.persistence.testkit.ProcessingSuccess;
import org.apache.pekko.persistence.testkit.SnapshotMeta;
import org.apache.pekko.persistence.testkit.WriteEvents;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The registry entity on the persistence testkit's in-memory journal and snapshot store, with
 * every command and event checked through the configured (Jackson) serializer; one test restarts
 * from a store that holds the serialized forms. Triggers are a recorder the test acknowledges from.
 */
class RegistryEntityTest {
  /** No message is expected within this. */
  private static final Duration QUIET = Duration.ofMillis(200);
  /** A message that is expected arrives within this. */
  private static final Duration WITHIN = Duration.ofSeconds(3);
  /** A redeliver interval that never fires during a test. */
  private static final Duration NEVER = Duration.ofHours(1);
  private static final Duration TICK = Duration.ofMillis(150);
  private static final Settings QUIET_SETTINGS = new Settings(1000, 1000, NEVER, 100);
  private static final EventSourcedBehaviorTestKit.SerializationSettings SERIALIZATION =
      // the live state is not serialized (the snapshot adapter stores RegistryState.Snapshot, checked below)
      EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyState(false);

  private static final String REPO = "team/app";
  private static final String D1 = "sha256:" + "1".repeat(64);
  private static final String D2 = "sha256:" + "2".repeat(64);
  private static final String D3 = "sha256:" + "3".repeat(64);
  private static final Instant T1 = Instant.parse("2026-11-28T13:55:53.043627551Z");
  private static final Instant T2 = Instant.parse("2026-11-28T13:56:03.32002582Z");
  /** When the ingest requests of these tests were taken. */
  private static final Instant INGESTED = Instant.parse("2026-11-28T13:56:04Z");
  private static final Metrics.Settings NO_JVM = new Metrics.Settings(false);
  private static final TraceContext TRACE = new TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
  private static final String TRIGGER = "a1s-trigger-1";
  private static final String OTHER_TRIGGER = "a1s-trigger-2";
  private static final AtomicInteger IDS = new AtomicInteger();

  private static ActorTestKit testKit;
  private static PersistenceTestKit journal;

  private String registryId;
  private RegistryInfo info;
  private RecordingTriggers triggers;
  private ScriptedReader reader;
  private EventSourcedBehaviorTestKit<Command, Event, RegistryState> entity;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("RegistryEntityTest", InMemoryPersistence.config());
    journal = PersistenceTestKit.create(testKit.system());
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void freshRegistry() {
    registryId = "crt-test-" + IDS.incrementAndGet();
    info = new RegistryInfo(registryId, "b1g-folder", "b1c-cloud");
    triggers = new RecordingTriggers();
    reader = new ScriptedReader();
    entity = entity(QUIET_SETTINGS);
  }

  @AfterEach
  void resetJournal() {
    journal.resetPolicy();
  }

  /**
   * A fresh entity with other settings: on a registry of its own, since two live actors must not
   * share a persistence id (the one @BeforeEach started would answer the same subscriptions).
   */
  private EventSourcedBehaviorTestKit<Command, Event, RegistryState> withSettings(Settings settings) {
    useAnotherRegistry();
    return entity(settings);
  }

  private EventSourcedBehaviorTestKit<Command, Event, RegistryState> entity(Settings settings) {
    return EventSourcedBehaviorTestKit.create(
        testKit.system(), RegistryEntity.create(registryId, settings, triggers, reader, new Metrics(NO_JVM)), SERIALIZATION);
  }

  /** Leaves the entity of this test alone (its actor keeps its persistence id) and uses a new registry. */
  private void useAnotherRegistry() {
    registryId = registryId + "-other";
    info = new RegistryInfo(registryId, "b1g-folder", "b1c-cloud");
  }

  private String persistenceId() {
    return PersistenceId.of(RegistryEntity.ENTITY_KEY.name(), registryId).id();
  }

  // ---- the fake trigger side ----

  /** One delivery to a trigger, with the ref to acknowledge it to. */
  record Delivered(
      String triggerId, String registryId, long held, List<Delivery.Sequenced> events, ActorRef<Delivery.Ack> ackTo) {
    List<Long> seqs() {
      return events.stream().map(Delivery.Sequenced::seq).toList();
    }

    void ack(long upToSeq) {
      ackTo.tell(new Delivery.Ack(triggerId, upToSeq));
    }
  }

  /** Records every delivery (called on the entity's thread, read on the test's). */
  static final class RecordingTriggers implements Delivery.ToTrigger {
    private final LinkedBlockingQueue<Delivered> deliveries = new LinkedBlockingQueue<>();

    @Override
    public void deliver(
        String triggerId, String registryId, long held, List<Delivery.Sequenced> events, ActorRef<Delivery.Ack> ackTo) {
      deliveries.add(new Delivered(triggerId, registryId, held, List.copyOf(events), ackTo));
    }

    Delivered next() {
      try {
        Delivered d = deliveries.poll(WITHIN.toMillis(), TimeUnit.MILLISECONDS);
        if (d == null) {
          fail("no delivery within " + WITHIN);
        }
        return d;
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }

    /** The next {@code n} deliveries, by trigger (each trigger at most once). */
    Map<String, Delivered> nextPerTrigger(int n) {
      Map<String, Delivered> out = new HashMap<>();
      for (int i = 0; i < n; i++) {
        Delivered d = next();
        assertNull(out.put(d.triggerId(), d), "two deliveries to " + d.triggerId());
      }
      return out;
    }

    void expectNone(Duration within) {
      try {
        Delivered d = deliveries.poll(within.toMillis(), TimeUnit.MILLISECONDS);
        assertNull(d, "unexpected delivery");
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }

    void clear() {
      deliveries.clear();
    }
  }

  // ---- the registry a reconcile reads ----

  private static final io.regcast.model.RegistryEndpoint ENDPOINT =
      new io.regcast.model.RegistryEndpoint("http://registry.test:5000", null, null);

  /** A reader whose reads the test answers (or fails), so it can act while a read is in flight. */
  static final class ScriptedReader implements RegistryReader {
    record Read(Map<String, java.util.Set<String>> known, java.util.concurrent.CompletableFuture<RegistryObservation> answer) {}

    private final LinkedBlockingQueue<Read> reads = new LinkedBlockingQueue<>();

    @Override
    public java.util.concurrent.CompletionStage<RegistryObservation> observe(
        io.regcast.model.RegistryEndpoint endpoint, Map<String, java.util.Set<String>> known) {
      assertEquals(ENDPOINT, endpoint);
      var answer = new java.util.concurrent.CompletableFuture<RegistryObservation>();
      reads.add(new Read(known, answer));
      return answer;
    }

    Read next() throws InterruptedException {
      Read read = reads.poll(WITHIN.toMillis(), TimeUnit.MILLISECONDS);
      if (read == null) {
        fail("the registry was not read within " + WITHIN);
      }
      return read;
    }
  }

  /** A registry holding {@code tags} (repository → tag → digest) and none of the known digests in {@code gone}. */
  private static RegistryObservation shows(Map<String, Map<String, String>> tags, String... goneInRepo) {
    return new RegistryObservation(tags, goneInRepo.length == 0 ? Map.of() : Map.of(REPO, java.util.Set.of(goneInRepo)));
  }

  private TestProbe<RegistryEntity.ReconcileOutcome> reconcile() {
    TestProbe<RegistryEntity.ReconcileOutcome> probe = testKit.createTestProbe(RegistryEntity.ReconcileOutcome.class);
    entity.runCommand(new RegistryEntity.Reconcile(info, ENDPOINT, probe.ref()));
    return probe;
  }

  // ---- operations and expected events ----

  private static RegistryOp push(String sourceId, String digest, String tag) {
    return new RegistryOp.ManifestPushed(sourceId, T1, REPO, digest, tag, null);
  }

  private CrEvent event(RegistryOp op, int position, EventType type, String digest, String tag, String... imageTags) {
    return new CrEvent(
        Ids.derived("crt", registryId, op.sourceId(), Integer.toString(position)),
        type, registryId, "b1g-folder", "b1c-cloud", REPO, digest,
        Ids.derived("crt", registryId, REPO, digest), tag, List.of(imageTags), op.at(), op.trace(), INGESTED);
  }

  private CommandResultWithReply<Command, Event, RegistryState, Accepted> ingest(RegistryOp... ops) {
    return entity.runCommand(replyTo -> new Ingest(info, List.of(ops), INGESTED, replyTo));
  }

  private View view() {
    return entity.<View>runCommand(Inspect::new).reply();
  }

  private void subscribe(String triggerId) {
    assertEquals(Done.getInstance(), entity.<Done>runCommand(r -> new Subscribe(triggerId, r)).reply());
  }

  private static Map<String, List<String>> images(Object... digestThenTags) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (int i = 0; i < digestThenTags.length; i += 2) {
      @SuppressWarnings("unchecked")
      List<String> tags = (List<String>) digestThenTags[i + 1];
      out.put((String) digestThenTags[i], tags);
    }
    return out;
  }

  // ---- reconcile ----

  @Test
  void aReconcileDerivesTheMissingEventsDeliversThemAndASecondFindsNothing() throws Exception {
    RegistryOp first = push("s1", D1, "v1");
    ingest(first, push("s2", D2, "old"));
    subscribe(TRIGGER);
    var outcome = reconcile();
    var read = reader.next();
    assertEquals(Map.of(REPO, java.util.Set.of(D1, D2)), read.known(), "asks about every known digest");
    // while regcast was down: v1 moved to D3, D2 deleted, D1 tagged latest
    read.answer().complete(shows(Map.of(REPO, Map.of("v1", D3, "latest", D1)), D2));
    var done = outcome.expectMessageClass(RegistryEntity.Reconciled.class, WITHIN);
    assertEquals(
        List.of("deleted " + REPO + "@" + D2, "tagged " + REPO + ":v1 → " + D3, "tagged " + REPO + ":latest → " + D1),
        done.changes());
    assertEquals(List.of(), done.skippedRepositories());
    var events = triggers.next().events().stream().map(e -> e.event().type() + " " + e.event().imageDigest() + " " + e.event().tag()).toList();
    assertEquals(
        List.of(DELETE_IMAGE + " " + D2 + " ", DELETE_IMAGE_TAG + " " + D2 + " old",
            CREATE_IMAGE + " " + D3 + " v1", DELETE_IMAGE_TAG + " " + D1 + " v1", CREATE_IMAGE_TAG + " " + D3 + " v1",
            CREATE_IMAGE_TAG + " " + D1 + " latest"),
        events);
    assertEquals(Map.of(REPO, images(D1, List.of("latest"), D3, List.of("v1"))), view().index());

    var again = reconcile();
    reader.next().answer().complete(shows(Map.of(REPO, Map.of("v1", D3, "latest", D1))));
    assertEquals(new RegistryEntity.Reconciled(List.of(), List.of()), again.expectMessageClass(RegistryEntity.Reconciled.class, WITHIN));
    triggers.expectNone(QUIET);
  }

  @Test
  void aRepositoryChangedWhileTheRegistryIsReadIsLeftForTheNextReconcile() throws Exception {
    ingest(push("s1", D1, "v1"));
    var outcome = reconcile();
    var read = reader.next();
    ingest(push("s2", D2, "v2")); // a webhook arrives after the read began: the read may predate it
    read.answer().complete(shows(Map.of(REPO, Map.of("v1", D1))));
    var done = outcome.expectMessageClass(RegistryEntity.Reconciled.class, WITHIN);
    assertEquals(new RegistryEntity.Reconciled(List.of(), List.of(REPO)), done);
    assertEquals(Map.of(REPO, images(D1, List.of("v1"), D2, List.of("v2"))), view().index(), "v2 was not deleted");
  }

  @Test
  void oneReconcileAtATimeAndAFailedReadIsReportedWithItsProblem() throws Exception {
    var outcome = reconcile();
    var read = reader.next();
    var second = reconcile();
    var refused = second.expectMessageClass(RegistryEntity.ReconcileFailed.class, WITHIN);
    assertEquals(io.regcast.model.Problem.Kind.ABORTED, refused.problem().kind());
    io.regcast.model.Problem unreachable =
        io.regcast.model.Problem.of(io.regcast.model.Problem.Kind.UPSTREAM_FAILED, "GET http://registry.test:5000/v2/_catalog answered 401");
    read.answer().completeExceptionally(unreachable.toException());
    assertEquals(new RegistryEntity.ReconcileFailed(unreachable), outcome.expectMessageClass(RegistryEntity.ReconcileFailed.class, WITHIN));
    var third = reconcile(); // free again
    reader.next().answer().complete(shows(Map.of()));
    assertEquals(new RegistryEntity.Reconciled(List.of(), List.of()), third.expectMessageClass(RegistryEntity.Reconciled.class, WITHIN));
  }

  // ---- ingest ----

  @Test
  void ingestPersistsOpsAcceptedAndRepliesWithTheNumberAccepted() {
    RegistryOp first = push("s1", D1, "v1");
    RegistryOp second = push("s2", D1, "latest");
    var result = ingest(first, second);
    assertEquals(List.of(new OpsAccepted(info, List.of(first, second), INGESTED)), result.events());
    assertEquals(new Accepted(2, 0), result.reply());
    assertEquals(new View(Map.of(REPO, images(D1, List.of("v1", "latest"))), 3, Map.of(), 0), view());
    assertEquals(List.of(new OpsAccepted(info, List.of(first, second), INGESTED)), journal.persistedInStorage(persistenceId()));
  }

  @Test
  void aRequestWithNoOperationsIsAnsweredWithoutAWrite() {
    var result = ingest();
    assertTrue(result.hasNoEvents());
    assertEquals(new Accepted(0, 0), result.reply());
  }

  @Test
  void aSourceIdRepeatedInOneRequestIsPersistedOnceAndCountedAsADuplicate() {
    RegistryOp op = push("s1", D1, "v1");
    RegistryOp resent = push("s1", D1, "v1");
    var result = ingest(op, resent);
    assertEquals(List.of(new OpsAccepted(info, List.of(op), INGESTED)), result.events());
    assertEquals(new Accepted(1, 1), result.reply());
  }

  @Test
  void aSourceIdSeenInAnEarlierRequestIsNotPersistedAgain() {
    RegistryOp op = push("s1", D1, "v1");
    ingest(op);
    var again = ingest(op);
    assertTrue(again.hasNoEvents());
    assertEquals(new Accepted(0, 1), again.reply());

    RegistryOp fresh = push("s2", D2, "v2");
    var mixed = ingest(op, fresh);
    assertEquals(List.of(new OpsAccepted(info, List.of(fresh), INGESTED)), mixed.events());
    assertEquals(new Accepted(1, 1), mixed.reply());
    assertEquals(4, view().lastSeq());
  }

  @Test
  void aDuplicateIsRecognisedByItsSourceIdAloneEvenIfItsContentDiffers() {
    ingest(push("s1", D1, "v1"));
    var result = ingest(push("s1", D2, "v2"));
    assertTrue(result.hasNoEvents());
    assertEquals(new Accepted(0, 1), result.reply());
    assertEquals(Map.of(REPO, images(D1, List.of("v1"))), view().index());
  }

  @Test
  void theDedupeWindowForgetsTheOldestSourceIdsFirst() {
    entity = withSettings(new Settings(2, 1000, NEVER, 100));
    ingest(push("s1", D1, "v1"));
    ingest(push("s2", D1, "v1"));
    ingest(push("s3", D1, "v1")); // window now s2, s3
    assertEquals(new Accepted(0, 1), ingest(push("s3", D1, "v1")).reply());
    var evicted = ingest(push("s1", D1, "v1"));
    assertEquals(new Accepted(1, 0), evicted.reply());
    assertEquals(1, evicted.events().size()); // persisted again (it derives nothing: the image and tag are known)
    assertEquals(new Accepted(1, 0), ingest(push("s2", D1, "v1")).reply()); // evicted by s1
  }

  @Test
  void theDedupeWindowAndItsOrderSurviveARestartFromASnapshot() {
    entity = withSettings(new Settings(3, 1, NEVER, 100)); // a snapshot after every event
    ingest(push("s1", D1, "v1"));
    ingest(push("s2", D1, "v1"));
    ingest(push("s3", D1, "v1"));
    entity.restart();
    assertEquals(new Accepted(0, 1), ingest(push("s3", D1, "v1")).reply());
    assertEquals(new Accepted(1, 0), ingest(push("s4", D1, "v1")).reply()); // window s2, s3, s4
    assertEquals(new Accepted(0, 1), ingest(push("s2", D1, "v1")).reply());
    assertEquals(new Accepted(1, 0), ingest(push("s1", D1, "v1")).reply()); // window s3, s4, s1
    assertEquals(new Accepted(1, 0), ingest(push("s2", D1, "v1")).reply());
  }

  // ---- durability and group commit (a journal whose first write is held) ----

  /** Holds the first write of one persistence id until released; records every write's size. */
  static final class HeldFirstWrite implements ProcessingPolicy<JournalOperation> {
    private final String persistenceId;
    final List<Integer> writes = new CopyOnWriteArrayList<>();
    final CountDownLatch firstWriteStarted = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    HeldFirstWrite(String persistenceId) {
      this.persistenceId = persistenceId;
    }

    @Override
    public ProcessingResult tryProcess(String pid, JournalOperation op) {
      if (persistenceId.equals(pid) && op instanceof WriteEvents write) {
        writes.add(write.getBatch().size());
        if (writes.size() == 1) {
          firstWriteStarted.countDown();
          try {
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }
      return ProcessingSuccess.getInstance();
    }
  }

  private HeldFirstWrite holdFirstWrite() {
    useAnotherRegistry(); // the entity spawned below must not share a persistence id with the testkit's
    HeldFirstWrite held = new HeldFirstWrite(persistenceId());
    journal.withPolicy(held);
    return held;
  }

  private static void awaitLatch(CountDownLatch latch) throws InterruptedException {
    assertTrue(latch.await(WITHIN.toMillis(), TimeUnit.MILLISECONDS), "the journal write did not start");
  }

  @Test
  void acceptedIsAnsweredOnlyOnceTheWriteIsDurable() throws InterruptedException {
    HeldFirstWrite held = holdFirstWrite();
    try {
      ActorRef<Command> ref = testKit.spawn(RegistryEntity.create(registryId, QUIET_SETTINGS, triggers, reader, new Metrics(NO_JVM)));
      TestProbe<Accepted> replies = testKit.createTestProbe(Accepted.class);
      RegistryOp op = push("s1", D1, "v1");
      ref.tell(new Ingest(info, List.of(op), INGESTED, replies.getRef()));
      awaitLatch(held.firstWriteStarted);
      replies.expectNoMessage(QUIET);
      held.release.countDown();
      replies.expectMessage(WITHIN, new Accepted(1, 0));
      assertEquals(List.of(new OpsAccepted(info, List.of(op), INGESTED)), journal.persistedInStorage(persistenceId()));
      testKit.stop(ref);
    } finally {
      held.release.countDown();
    }
  }

  @Test
  void requestsArrivingDuringAWriteArePersistedTogetherInOneWriteAndEachIsAnswered() throws InterruptedException {
    HeldFirstWrite held = holdFirstWrite();
    try {
      ActorRef<Command> ref = testKit.spawn(RegistryEntity.create(registryId, QUIET_SETTINGS, triggers, reader, new Metrics(NO_JVM)));
      TestProbe<Accepted> replies = testKit.createTestProbe(Accepted.class);
      RegistryOp s1 = push("s1", D1, "v1");
      RegistryOp s2 = push("s2", D1, "v2");
      RegistryOp s3 = push("s3", D2, "v3");
      ref.tell(new Ingest(info, List.of(s1), INGESTED, replies.getRef()));
      awaitLatch(held.firstWriteStarted);
      ref.tell(new Ingest(info, List.of(s2), INGESTED, replies.getRef()));
      ref.tell(new Ingest(info, List.of(s3, s2), INGESTED, replies.getRef())); // s2 is a duplicate of the queued request
      ref.tell(new Ingest(info, List.of(s1), INGESTED, replies.getRef())); // s1 is a duplicate of the write in flight
      replies.expectNoMessage(QUIET);
      held.release.countDown();

      assertEquals(new Accepted(1, 0), replies.receiveMessage(WITHIN));
      assertEquals(new Accepted(1, 0), replies.receiveMessage(WITHIN));
      assertEquals(new Accepted(1, 1), replies.receiveMessage(WITHIN));
      assertEquals(new Accepted(0, 1), replies.receiveMessage(WITHIN));
      assertEquals(
          List.of(new OpsAccepted(info, List.of(s1), INGESTED), new OpsAccepted(info, List.of(s2), INGESTED), new OpsAccepted(info, List.of(s3), INGESTED)),
          journal.persistedInStorage(persistenceId()));
      // four requests, two writes: the three queued requests went in one
      assertEquals(List.of(1, 2), held.writes);

      TestProbe<View> views = testKit.createTestProbe(View.class);
      ref.tell(new Inspect(views.getRef()));
      assertEquals(
          new View(Map.of(REPO, images(D1, List.of("v1", "v2"), D2, List.of("v3"))), 5, Map.of(), 0),
          views.receiveMessage(WITHIN));
      testKit.stop(ref);
    } finally {
      held.release.countDown();
    }
  }

  // ---- subscriptions and delivery ----

  @Test
  void subscribingPersistsTriggerSubscribedOnceAndStartsAfterTheLastEvent() {
    ingest(push("s0", D1, "v1")); // seq 1, 2: before the subscription
    var result = entity.<Done>runCommand(r -> new Subscribe(TRIGGER, r));
    assertEquals(List.of(new TriggerSubscribed(TRIGGER)), result.events());
    assertEquals(Done.getInstance(), result.reply());
    var again = entity.<Done>runCommand(r -> new Subscribe(TRIGGER, r));
    assertTrue(again.hasNoEvents());
    assertEquals(Done.getInstance(), again.reply());
    assertEquals(Map.of(TRIGGER, 2L), view().subscribers());
    triggers.expectNone(QUIET);
  }

  @Test
  void eventsAfterASubscriptionAreDeliveredWithIncreasingSequenceNumbersAndDeterministicIds() {
    ingest(push("s0", D1, "v1"));
    subscribe(TRIGGER);
    RegistryOp moved = new RegistryOp.ManifestPushed("s1", T2, REPO, D2, "v1", TRACE);
    ingest(moved);
    Delivered first = triggers.next();
    assertEquals(TRIGGER, first.triggerId());
    assertEquals(registryId, first.registryId());
    assertEquals(
        List.of(
            new Delivery.Sequenced(3, event(moved, 0, CREATE_IMAGE, D2, "v1")),
            new Delivery.Sequenced(4, event(moved, 1, DELETE_IMAGE_TAG, D1, "v1")),
            new Delivery.Sequenced(5, event(moved, 2, CREATE_IMAGE_TAG, D2, "v1"))),
        first.events());
    assertEquals(T2, first.events().get(0).event().createdAt());
    assertEquals(TRACE, first.events().get(0).event().trace());

    RegistryOp delete = new RegistryOp.ManifestDeleted("s2", T1, REPO, D2, null);
    ingest(delete);
    Delivered second = triggers.next();
    assertEquals(
        List.of(
            new Delivery.Sequenced(6, event(delete, 0, DELETE_IMAGE, D2, "", "v1")),
            new Delivery.Sequenced(7, event(delete, 1, DELETE_IMAGE_TAG, D2, "v1"))),
        second.events());
    triggers.expectNone(QUIET);
  }

  @Test
  void anIngestThatDerivesNothingDeliversNothing() {
    subscribe(TRIGGER);
    ingest(push("s1", D1, "v1"));
    triggers.next();
    ingest(push("s2", D1, "v1"), new RegistryOp.ManifestDeleted("s3", T1, REPO, D3, null));
    triggers.expectNone(QUIET);
    assertEquals(2, view().lastSeq());
  }

  @Test
  void acknowledgingPartOfADeliverySendsTheNextPartAtOnce() {
    entity = withSettings(new Settings(1000, 1000, NEVER, 2));
    subscribe(TRIGGER);
    ingest(push("s1", D1, "a"), push("s2", D2, "b"), push("s3", D3, "c"));
    Delivered first = triggers.next();
    assertEquals(List.of(1L, 2L), first.seqs());
    triggers.expectNone(QUIET);
    first.ack(2);
    Delivered second = triggers.next();
    assertEquals(List.of(3L, 4L), second.seqs());
    second.ack(4);
    assertEquals(List.of(5L, 6L), triggers.next().seqs());
    triggers.expectNone(QUIET);
  }

  /**
   * Each delivery carries what the trigger has acknowledged (or is not owed: what came before its
   * subscription), so that a trigger receiving a delivery that does not follow it knows an earlier
   * one was lost, and waits for the redelivery instead of storing past the gap.
   */
  @Test
  void eachDeliveryCarriesWhatTheTriggerHolds() {
    ingest(push("s0", D1, "v1")); // seq 1, 2: before the subscription
    subscribe(TRIGGER);
    ingest(push("s1", D2, "a"));
    Delivered first = triggers.next();
    assertEquals(List.of(3L, 4L), first.seqs());
    assertEquals(2, first.held(), "what came before the subscription");
    ingest(push("s2", D3, "b"));
    Delivered second = triggers.next(); // sent without waiting for the first's acknowledgement
    assertEquals(List.of(5L, 6L), second.seqs());
    assertEquals(2, second.held(), "3..4 are not acknowledged: a trigger that lost them can tell");

    first.ack(4);
    ingest(push("s3", D1, "c"));
    Delivered third = triggers.next();
    assertEquals(List.of(7L), third.seqs());
    assertEquals(4, third.held());
    triggers.expectNone(QUIET);
  }

  @Test
  void unacknowledgedEventsAreSentAgainOnTheRedeliverTickAndAcknowledgedOnesAreNot() throws Exception {
    entity = withSettings(new Settings(1000, 1000, TICK, 100));
    subscribe(TRIGGER);
    RegistryOp op = push("s1", D1, "v1");
    ingest(op);
    Delivered first = triggers.next();
    assertEquals(List.of(1L, 2L), first.seqs());
    Delivered again = triggers.next(); // nothing acknowledged: the tick sends it again
    assertEquals(first.events(), again.events());

    again.ack(2);
    // the acknowledgement is recorded on a tick, and what everyone has is forgotten
    testKit.createTestProbe().awaitAssert(WITHIN, () -> {
      View v = view();
      assertEquals(Map.of(TRIGGER, 2L), v.subscribers());
      assertEquals(0, v.unacknowledged());
      return null;
    });
    assertTrue(journal.persistedInStorage(persistenceId()).contains(new AcksRecorded(Map.of(TRIGGER, 2L))));
    triggers.clear();
    triggers.expectNone(TICK.multipliedBy(4));

    // and a restart does not send it again either
    entity.restart();
    triggers.expectNone(TICK.multipliedBy(2));
  }

  @Test
  void anEventIsKeptUntilEverySubscriberHasAcknowledgedIt() {
    entity = withSettings(new Settings(1000, 1000, TICK, 100));
    subscribe(TRIGGER);
    subscribe(OTHER_TRIGGER);
    ingest(push("s1", D1, "v1"));
    Map<String, Delivered> both = triggers.nextPerTrigger(2);
    assertEquals(List.of(1L, 2L), both.get(TRIGGER).seqs());
    assertEquals(both.get(TRIGGER).events(), both.get(OTHER_TRIGGER).events());

    both.get(TRIGGER).ack(2);
    testKit.createTestProbe().awaitAssert(WITHIN, () -> {
      assertEquals(Map.of(TRIGGER, 2L, OTHER_TRIGGER, 0L), view().subscribers());
      return null;
    });
    assertEquals(2, view().unacknowledged());
    // only the trigger that has not acknowledged gets it again
    triggers.clear();
    Delivered resent = triggers.next();
    assertEquals(OTHER_TRIGGER, resent.triggerId());
    assertEquals(List.of(1L, 2L), resent.seqs());

    resent.ack(2);
    testKit.createTestProbe().awaitAssert(WITHIN, () -> {
      assertEquals(0, view().unacknowledged());
      return null;
    });
  }

  @Test
  void unsubscribingPersistsTriggerUnsubscribedAndStopsDelivery() {
    subscribe(TRIGGER);
    subscribe(OTHER_TRIGGER);
    ingest(push("s1", D1, "v1"));
    triggers.nextPerTrigger(2);

    var result = entity.<Done>runCommand(r -> new Unsubscribe(TRIGGER, r));
    assertEquals(List.of(new TriggerUnsubscribed(TRIGGER)), result.events());
    assertEquals(Done.getInstance(), result.reply());
    ingest(push("s2", D2, "v2"));
    Delivered only = triggers.next();
    assertEquals(OTHER_TRIGGER, only.triggerId());
    assertEquals(List.of(3L, 4L), only.seqs());
    triggers.expectNone(QUIET);
    assertEquals(Map.of(OTHER_TRIGGER, 0L), view().subscribers());

    var unknown = entity.<Done>runCommand(r -> new Unsubscribe("a1s-unknown", r));
    assertTrue(unknown.hasNoEvents());
    assertEquals(Done.getInstance(), unknown.reply());
  }

  @Test
  void whenTheLastSubscriberLeavesNothingIsKeptForDelivery() {
    subscribe(TRIGGER);
    ingest(push("s1", D1, "v1"));
    triggers.next();
    assertEquals(2, view().unacknowledged());
    entity.<Done>runCommand(r -> new Unsubscribe(TRIGGER, r));
    assertEquals(new View(Map.of(REPO, images(D1, List.of("v1"))), 2, Map.of(), 0), view());
    ingest(push("s2", D2, "v2"));
    assertEquals(0, view().unacknowledged());
    triggers.expectNone(QUIET);
  }

  @Test
  void aTriggerSubscribedAgainAfterLeavingStartsAfterTheLastEvent() {
    subscribe(TRIGGER);
    ingest(push("s1", D1, "v1"));
    triggers.next();
    entity.<Done>runCommand(r -> new Unsubscribe(TRIGGER, r));
    ingest(push("s2", D2, "v2"));
    subscribe(TRIGGER);
    assertEquals(Map.of(TRIGGER, 4L), view().subscribers());
    triggers.expectNone(QUIET);
    ingest(push("s3", D3, "v3"));
    assertEquals(List.of(5L, 6L), triggers.next().seqs());
  }

  // ---- recovery ----

  @Test
  void aRestartRecoversTheIndexAndSubscribersAndResendsWhatWasNotRecordedAsAcknowledged() {
    subscribe(TRIGGER);
    ingest(push("s1", D1, "v1"));
    Delivered first = triggers.next();
    first.ack(2); // received, but recorded only on a tick that never comes here
    ingest(push("s2", D2, "v2"));
    assertEquals(List.of(3L, 4L), triggers.next().seqs());
    View before = view();
    assertEquals(new View(Map.of(REPO, images(D1, List.of("v1"), D2, List.of("v2"))), 4, Map.of(TRIGGER, 0L), 4), before);

    entity.restart();
    Delivered resent = triggers.next();
    assertEquals(TRIGGER, resent.triggerId());
    assertEquals(List.of(1L, 2L, 3L, 4L), resent.seqs()); // at least once: the unrecorded ack is lost
    assertNotEquals(first.ackTo(), resent.ackTo());
    assertEquals(before, view());
    triggers.expectNone(QUIET);
  }

  @Test
  void aRestartResendsOnlyWhatFollowsTheRecordedAcknowledgement() {
    RegistryOp s1 = push("s1", D1, "v1");
    RegistryOp s2 = push("s2", D2, "v2");
    entity.initialize(new TriggerSubscribed(TRIGGER), new OpsAccepted(info, List.of(s1, s2), INGESTED), new AcksRecorded(Map.of(TRIGGER, 2L)));
    Delivered resent = triggers.next();
    assertEquals(
        List.of(
            new Delivery.Sequenced(3, event(s2, 0, CREATE_IMAGE, D2, "v2")),
            new Delivery.Sequenced(4, event(s2, 1, CREATE_IMAGE_TAG, D2, "v2"))),
        resent.events());
    triggers.expectNone(QUIET);
    resent.ack(4);
    ingest(push("s3", D3, "v3"));
    assertEquals(List.of(5L, 6L), triggers.next().seqs());
  }

  @Test
  void aRestartFromASnapshotKeepsTagOrderSubscribersAndPendingEvents() {
    entity = withSettings(new Settings(1000, 2, NEVER, 100)); // a snapshot every 2 events
    ingest(push("s1", D2, "zeta"));
    ingest(push("s2", D2, "alpha"));
    ingest(push("s3", D1, "mid"));
    subscribe(TRIGGER);
    ingest(push("s4", D2, "beta"));
    triggers.next();
    View before = view();

    List<Pair<SnapshotMeta, Object>> snapshots = entity.snapshotTestKit().orElseThrow().persistedInStorage(persistenceId());
    assertFalse(snapshots.isEmpty(), "no snapshot was taken");
    assertInstanceOf(RegistryState.Snapshot.class, snapshots.get(snapshots.size() - 1).second());

    entity.restart();
    assertEquals(List.of(6L), triggers.next().seqs()); // the pending event, sent again on recovery
    View after = view();
    assertEquals(before, after);
    assertEquals(List.of(D2, D1), List.copyOf(after.index().get(REPO).keySet()));
    assertEquals(List.of("zeta", "alpha", "beta"), after.index().get(REPO).get(D2));

    RegistryOp delete = new RegistryOp.ManifestDeleted("s5", T2, REPO, D2, null);
    ingest(delete);
    assertEquals(
        List.of(
            new Delivery.Sequenced(7, event(delete, 0, DELETE_IMAGE, D2, "", "zeta", "alpha", "beta")),
            new Delivery.Sequenced(8, event(delete, 1, DELETE_IMAGE_TAG, D2, "zeta")),
            new Delivery.Sequenced(9, event(delete, 2, DELETE_IMAGE_TAG, D2, "alpha")),
            new Delivery.Sequenced(10, event(delete, 3, DELETE_IMAGE_TAG, D2, "beta"))),
        triggers.next().events());
  }

  @Test
  void aRestartFromSerializedEventsAndSnapshotsRecoversTheSameRegistry() {
    ActorTestKit serializing = ActorTestKit.create("RegistryEntityTestSerializing", InMemoryPersistence.serializingConfig());
    try {
      var stored =
          EventSourcedBehaviorTestKit.<Command, Event, RegistryState>create(
              serializing.system(), RegistryEntity.create(registryId, new Settings(3, 2, NEVER, 100), triggers, reader, new Metrics(NO_JVM)), SERIALIZATION);
      stored.<Accepted>runCommand(r -> new Ingest(info, List.of(push("s1", D2, "zeta"), push("s2", D2, "alpha")), INGESTED, r));
      stored.<Done>runCommand(r -> new Subscribe(TRIGGER, r));
      stored.<Accepted>runCommand(r -> new Ingest(info, List.of(push("s3", D1, "mid")), INGESTED, r));
      stored.<Accepted>runCommand(r -> new Ingest(info, List.of(new RegistryOp.TagDeleted("s4", T2, REPO, "zeta", TRACE)), INGESTED, r));
      assertEquals(List.of(4L, 5L), triggers.next().seqs());
      assertEquals(List.of(6L), triggers.next().seqs());
      View before = stored.<View>runCommand(Inspect::new).reply();
      assertEquals(new View(Map.of(REPO, images(D2, List.of("alpha"), D1, List.of("mid"))), 6, Map.of(TRIGGER, 3L), 3), before);
      List<Pair<SnapshotMeta, Object>> snapshots = stored.snapshotTestKit().orElseThrow().persistedInStorage(persistenceId());
      assertFalse(snapshots.isEmpty(), "no snapshot was taken");

      stored.restart();
      Delivered resent = triggers.next();
      assertEquals(List.of(4L, 5L, 6L), resent.seqs());
      assertEquals(TRACE, resent.events().get(2).event().trace());
      View after = stored.<View>runCommand(Inspect::new).reply();
      assertEquals(before, after);
      assertEquals(List.of(D2, D1), List.copyOf(after.index().get(REPO).keySet()));
      // the dedupe window (s2, s3, s4) came back in order
      assertEquals(new Accepted(0, 1), stored.<Accepted>runCommand(r -> new Ingest(info, List.of(push("s2", D3, "x")), INGESTED, r)).reply());
      assertEquals(new Accepted(1, 0), stored.<Accepted>runCommand(r -> new Ingest(info, List.of(push("s1", D2, "alpha")), INGESTED, r)).reply());
    } finally {
      serializing.shutdownTestKit();
    }
  }

  @Test
  void aRedeliveredNotificationIsProcessedOnce() throws java.io.IOException {
    subscribe(TRIGGER);
    List<RegistryOp> ops = io.regcast.ingest.IngestFormats.distributionEnvelope(ImageIndexTest.capture("push-manifest-v1"), null);
    assertEquals(new Accepted(1, 0), ingest(ops.toArray(RegistryOp[]::new)).reply());
    assertEquals(List.of(1L, 2L), triggers.next().seqs());
    var again = ingest(ops.toArray(RegistryOp[]::new));
    assertTrue(again.hasNoEvents());
    assertEquals(new Accepted(0, 1), again.reply());
    triggers.expectNone(QUIET);
  }

  @Test
  void eachRegistryKeepsItsOwnJournal() {
    ingest(push("s1", D1, "v1"));
    useAnotherRegistry();
    var other = entity(QUIET_SETTINGS);
    assertEquals(new View(Map.of(), 0, Map.of(), 0), other.<View>runCommand(Inspect::new).reply());
    // the same source id is new there
    assertEquals(new Accepted(1, 0), other.<Accepted>runCommand(r -> new Ingest(info, List.of(push("s1", D1, "v1")), INGESTED, r)).reply());
  }

  // ---- serialization ----

  @Test
  void eventsRepliesAndCommandsSurviveSerialization() {
    SerializationTestKit serialization = new SerializationTestKit(testKit.system());
    List<RegistryOp> everyOp =
        List.of(
            new RegistryOp.ManifestPushed("s1", T1, REPO, D1, "v1", TRACE),
            new RegistryOp.ManifestPushed("s2", T2, REPO, D1, "", null),
            new RegistryOp.ManifestDeleted("s3", T1, REPO, D1, TRACE),
            new RegistryOp.TagDeleted("s4", T1, REPO, "v1", null),
            new RegistryOp.Native("s5", T1, CREATE_IMAGE, REPO, D1, "v1", TRACE),
            new RegistryOp.Native("s6", T1, CREATE_IMAGE_TAG, REPO, D1, "v1", null),
            new RegistryOp.Native("s7", T1, DELETE_IMAGE_TAG, REPO, D1, "v1", null),
            new RegistryOp.Native("s8", T1, DELETE_IMAGE, REPO, D1, "", null));
    serialization.verifySerialization(new OpsAccepted(info, everyOp, INGESTED), true);
    for (RegistryOp op : everyOp) {
      serialization.verifySerialization(new OpsAccepted(info, List.of(op), INGESTED), true);
    }
    serialization.verifySerialization(new TriggerSubscribed(TRIGGER), true);
    serialization.verifySerialization(new TriggerUnsubscribed(TRIGGER), true);
    serialization.verifySerialization(new AcksRecorded(Map.of(TRIGGER, 7L, OTHER_TRIGGER, 0L)), true);
    serialization.verifySerialization(new Accepted(3, 1), true);
    serialization.verifySerialization(new View(Map.of(REPO, images(D2, List.of("b", "a"), D1, List.of())), 9, Map.of(TRIGGER, 4L), 5), true);
    serialization.verifySerialization(info, true);

    TestProbe<Object> probe = testKit.createTestProbe();
    serialization.verifySerialization(new Ingest(info, everyOp, INGESTED, probe.getRef().narrow()), true);
    serialization.verifySerialization(new Subscribe(TRIGGER, probe.getRef().narrow()), true);
    serialization.verifySerialization(new Unsubscribe(TRIGGER, probe.getRef().narrow()), true);
    serialization.verifySerialization(new Inspect(probe.getRef().narrow()), true);

    CrEvent event = event(everyOp.get(0), 0, CREATE_IMAGE, D1, "v1");
    serialization.verifySerialization(new Delivery.Sequenced(12, event), true);
    serialization.verifySerialization(new Delivery.Ack(TRIGGER, 12), true);
  }

  @Test
  void aViewKeepsDigestAndTagOrderThroughSerialization() {
    SerializationTestKit serialization = new SerializationTestKit(testKit.system());
    View view = new View(Map.of(REPO, images(D3, List.of("z", "a"), D1, List.of("m"), D2, List.of())), 9, Map.of(), 0);
    View back = serialization.verifySerialization(view, true);
    assertEquals(List.of(D3, D1, D2), List.copyOf(back.index().get(REPO).keySet()));
  }

  @Test
  void aSnapshotSurvivesSerializationWithItsOrdersAndPendingEvents() {
    SerializationTestKit serialization = new SerializationTestKit(testKit.system());
    RegistryState state = new RegistryState(10);
    state.subscribe(TRIGGER);
    state.accept(info, List.of(
        new RegistryOp.ManifestPushed("s1", T1, REPO, D3, "zeta", TRACE),
        new RegistryOp.ManifestPushed("s2", T2, REPO, D3, "alpha", null),
        new RegistryOp.ManifestPushed("s3", T1, REPO, D1, "", null),
        new RegistryOp.ManifestPushed("s4", T1, "other/app", D2, "v1", null)), INGESTED);
    state.acknowledged(Map.of(TRIGGER, 1L));
    RegistryState.Snapshot snapshot = state.snapshot();
    assertEquals(List.of("s1", "s2", "s3", "s4"), snapshot.seen());
    assertEquals(5, snapshot.unacknowledged().size());

    RegistryState.Snapshot back = serialization.verifySerialization(snapshot, true);
    assertEquals(List.of(D3, D1), List.copyOf(back.index().get(REPO).keySet()));
    assertEquals(List.of("zeta", "alpha"), back.index().get(REPO).get(D3));
    assertEquals(List.of("s1", "s2", "s3", "s4"), back.seen());

    RegistryState restored = RegistryState.restore(10, back);
    assertEquals(snapshot, restored.snapshot());
    assertEquals(List.of(2L, 3L, 4L, 5L, 6L), restored.after(1, 100).stream().map(Delivery.Sequenced::seq).toList());
    assertTrue(restored.seen("s4"));
  }
}

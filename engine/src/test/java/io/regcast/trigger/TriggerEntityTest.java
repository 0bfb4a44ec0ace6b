package io.regcast.trigger;

import io.regcast.delivery.Delivery;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.regcast.model.Samples;
import io.regcast.model.Trigger;
import io.regcast.model.TriggerStatus;
import io.regcast.trigger.TriggerEntity.Applied;
import io.regcast.trigger.TriggerEntity.Command;
import io.regcast.trigger.TriggerEntity.Configure;
import io.regcast.trigger.TriggerEntity.Configured;
import io.regcast.trigger.TriggerEntity.Event;
import io.regcast.trigger.TriggerEntity.Remove;
import io.regcast.trigger.TriggerEntity.Removed;
import io.regcast.trigger.TriggerEntity.Runtime;
import io.regcast.trigger.TriggerEntity.State;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The trigger entity on the in-memory journal of the persistence testkit, with every command,
 * event and state checked through the configured (Jackson) serializer. The shard is a probe.
 */
class TriggerEntityTest {

  /** No message is expected within this; kept short so the whole class stays fast. */
  private static final Duration QUIET = Duration.ofMillis(150);
  private static final AtomicInteger IDS = new AtomicInteger();

  private static final TriggerEntity.Settings SETTINGS = new TriggerEntity.Settings(128 * 1024, Duration.ofSeconds(2), 100);
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

  private static ActorTestKit testKit;

  private String triggerId;
  private TestProbe<ClusterSharding.ShardCommand> shard;
  private EventSourcedBehaviorTestKit<Command, Event, State> entity;

  @BeforeAll
  static void start() {
    // The testkit's journal must win over application.conf's JDBC journal; no cluster needed.
    testKit =
        ActorTestKit.create(
            "TriggerEntityTest",
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(EventSourcedBehaviorTestKit.config())
                .withFallback(ConfigFactory.load()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void freshEntity() {
    triggerId = "a1s-test-" + IDS.incrementAndGet();
    shard = testKit.createTestProbe(ClusterSharding.ShardCommand.class);
    entity =
        EventSourcedBehaviorTestKit.create(
            testKit.system(), TriggerEntity.create(triggerId, shard.getRef(), SETTINGS, REGISTRIES, (path, text, payload) -> {}, Clock.systemUTC()));
    entity.clear();
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

  private CommandResultWithReply<Command, Event, State, Applied> configure(Trigger trigger) {
    return entity.runCommand(replyTo -> new Configure(trigger, replyTo));
  }

  private CommandResultWithReply<Command, Event, State, Applied> remove(long revision) {
    return entity.runCommand(replyTo -> new Remove(triggerId, revision, replyTo));
  }

  @Test
  void aNewEntityHoldsNothing() {
    CommandResultWithReply<Command, Event, State, Runtime> result =
        entity.runCommand(TriggerEntity.GetRuntime::new);
    assertEquals(new Runtime(triggerId, null, 0, false, 0, Map.of()), result.reply());
    assertTrue(result.hasNoEvents());
  }

  @Test
  void configuringRevisionOnePersistsConfiguredAndAcknowledgesIt() {
    Trigger trigger = revision(1);
    var result = configure(trigger);
    assertEquals(new Configured(trigger), result.event());
    assertEquals(1, result.events().size());
    assertEquals(new Applied(triggerId, 1), result.reply());
    assertEquals(new State(trigger, 1, false, Map.of(), List.of(), null), result.state());
    shard.expectNoMessage(QUIET);
  }

  @Test
  void aNewerRevisionReplacesTheHeldOne() {
    configure(revision(1));
    Trigger second = revision(2);
    var result = configure(second);
    assertEquals(new Configured(second), result.event());
    assertEquals(new Applied(triggerId, 2), result.reply());
    assertEquals(new State(second, 2, false, Map.of(), List.of(), null), result.state());
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
    assertEquals(new State(trigger, 1, false, Map.of(), List.of(), null), result.state());
  }

  @Test
  void anOlderRevisionPersistsNothingAndAcknowledgesTheHeldOne() {
    Trigger third = revision(3);
    configure(third);
    var result = configure(revision(2));
    assertTrue(result.hasNoEvents());
    assertEquals(new Applied(triggerId, 3), result.reply());
    assertEquals(new State(third, 3, false, Map.of(), List.of(), null), result.state());
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
    assertEquals(new State(null, 2, true, Map.of(), List.of(), null), result.state());
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
    assertEquals(new State(null, 2, true, Map.of(), List.of(), null), result.state());

    var sameRevision = configure(revision(2));
    assertTrue(sameRevision.hasNoEvents());
    assertTrue(sameRevision.state().removed());
  }

  @Test
  void removeBeforeAnyConfigureStillLeavesATombstone() {
    var result = remove(3);
    assertEquals(new Removed(triggerId, 3), result.event());
    assertEquals(new State(null, 3, true, Map.of(), List.of(), null), result.state());
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
    assertEquals(new State(held, 4, false, Map.of(), List.of(), null), result.state());
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
    assertEquals(new State(second, 2, false, Map.of(), List.of(), null), entity.restart().state());
    // and still refuses what it held before the restart
    assertTrue(configure(revision(2)).hasNoEvents());
  }

  @Test
  void aRestartRecoversTheTombstone() {
    configure(revision(1));
    remove(2);
    assertEquals(new State(null, 2, true, Map.of(), List.of(), null), entity.restart().state());
    var result = configure(revision(1));
    assertTrue(result.hasNoEvents());
    assertEquals(new Applied(triggerId, 2), result.reply());
  }

  @Test
  void getRuntimeShowsWhatIsHeld() {
    Trigger trigger = revision(3);
    configure(trigger);
    CommandResultWithReply<Command, Event, State, Runtime> result =
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
        EventSourcedBehaviorTestKit.<Command, Event, State>create(
            testKit.system(), TriggerEntity.create(triggerId + "-other", shard.getRef(), SETTINGS, REGISTRIES, (path, text, payload) -> {}, Clock.systemUTC()));
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
}

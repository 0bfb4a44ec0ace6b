package io.regcast.trigger;

import static io.regcast.trigger.CrEvents.numberedRange;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.regcast.model.BroadcastTarget;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The batching arithmetic of a trigger, without actors. */
class OutboxTest {

  private static final Instant OPENED = Instant.parse("2024-05-01T10:00:00Z");
  private static final Instant LATER = OPENED.plusSeconds(5);
  private static final BroadcastTarget OLD = CrEvents.target("/old");
  private static final BroadcastTarget NOW = CrEvents.target("/now");

  private static Outbox openWith(int from, int to) {
    return Outbox.EMPTY.received(numberedRange(from, to), OPENED);
  }

  @Test
  void receivedEventsJoinTheOpenBatchWhichOpensWithTheFirst() {
    Outbox outbox = openWith(1, 2).received(numberedRange(3, 3), LATER);
    assertEquals(new Outbox(0, List.of(), numberedRange(1, 3), OPENED), outbox);
    assertEquals(3, outbox.pending());
  }

  @Test
  void nothingMatchedOpensNoBatch() {
    assertSame(Outbox.EMPTY, Outbox.EMPTY.received(List.of(), OPENED));
  }

  @Test
  void anOpenBatchBelowItsSizeIsDueOnlyOnceItsCutoffIsReached() {
    Outbox outbox = openWith(1, 2);
    assertEquals(Optional.empty(), outbox.next(NOW, 3, false, 1));
    assertEquals(Optional.of(new Outbox.Batch(NOW, 1, numberedRange(1, 2), 3)), outbox.next(NOW, 3, true, 1));
  }

  @Test
  void aFullOpenBatchIsDueWithItsFirstSizeEvents() {
    assertEquals(Optional.of(new Outbox.Batch(NOW, 1, numberedRange(1, 3), 3)), openWith(1, 5).next(NOW, 3, false, 1));
  }

  @Test
  void aBacklogOfFullBatchesIsDueTogetherUpToMaxBatches() {
    Outbox backlog = openWith(1, 8);
    assertEquals(Optional.of(new Outbox.Batch(NOW, 1, numberedRange(1, 6), 3)), backlog.next(NOW, 3, false, 10),
        "the two full batches; the rest waits for its cutoff");
    assertEquals(Optional.of(new Outbox.Batch(NOW, 1, numberedRange(1, 8), 3)), backlog.next(NOW, 3, true, 10));
    assertEquals(Optional.of(new Outbox.Batch(NOW, 1, numberedRange(1, 3), 3)), backlog.next(NOW, 3, true, 1));
  }

  @Test
  void aClosedBatchIsDueWholeUpToMaxBatchesOfItsSize() {
    Outbox outbox = openWith(1, 5).closeOpen(OLD, 2);
    assertEquals(Optional.of(new Outbox.Batch(OLD, 1, numberedRange(1, 5), 2)), outbox.nextClosed(10));
    assertEquals(Optional.of(new Outbox.Batch(OLD, 1, numberedRange(1, 4), 2)), outbox.nextClosed(2));
  }

  @Test
  void anEmptyOutboxHasNothingDueEvenAtTheCutoff() {
    assertEquals(Optional.empty(), Outbox.EMPTY.next(NOW, 1, true, 1));
    assertTrue(Outbox.EMPTY.drained());
  }

  @Test
  void closingKeepsTheTargetAndSizeAndTheClosedEventsGoFirstInBatchesOfThatSize() {
    Outbox outbox = openWith(1, 5).closeOpen(OLD, 2).received(numberedRange(6, 9), LATER);

    assertEquals(List.of(new Outbox.Closed(OLD, 2, numberedRange(1, 5))), outbox.closed());
    assertEquals(numberedRange(6, 9), outbox.open());
    assertEquals(LATER, outbox.openedAt());
    assertEquals(Optional.of(new Outbox.Batch(OLD, 1, numberedRange(1, 2), 2)), outbox.next(NOW, 3, true, 1));
    assertEquals(Optional.of(new Outbox.Batch(OLD, 1, numberedRange(1, 2), 2)), outbox.nextClosed(1));
  }

  @Test
  void closingAnEmptyOpenBatchChangesNothing() {
    Outbox outbox = openWith(1, 2).sent(2, LATER);
    assertSame(outbox, outbox.closeOpen(OLD, 3));
  }

  @Test
  void aBatchsOrdinalsFollowWhatWasConfirmed() {
    Outbox outbox = openWith(1, 5).sent(3, LATER);
    Outbox.Batch next = outbox.next(NOW, 3, true, 1).orElseThrow();
    assertEquals(4, next.firstOrdinal());
    assertEquals(5, next.lastOrdinal());
  }

  @Test
  void aConfirmationPopsFromTheFrontAcrossClosedBatchesIntoTheOpenOne() {
    Outbox outbox = openWith(1, 2).closeOpen(OLD, 3).received(numberedRange(3, 4), OPENED).closeOpen(NOW, 3)
        .received(numberedRange(5, 7), OPENED);

    Outbox popped = outbox.sent(5, LATER);

    assertEquals(new Outbox(5, List.of(), numberedRange(6, 7), LATER), popped, "the rest of the open batch opens anew");
  }

  @Test
  void aPartlyConfirmedClosedBatchKeepsTheRestWithItsTargetAndSize() {
    Outbox outbox = openWith(1, 5).closeOpen(OLD, 3).received(numberedRange(6, 6), OPENED);

    Outbox popped = outbox.sent(3, LATER);

    assertEquals(new Outbox(3, List.of(new Outbox.Closed(OLD, 3, numberedRange(4, 5))), numberedRange(6, 6), OPENED),
        popped, "the open batch was not touched: it keeps its opening time");
  }

  @Test
  void confirmingEverythingLeavesNoOpeningTime() {
    Outbox popped = openWith(1, 3).sent(3, LATER);
    assertTrue(popped.drained());
    assertNull(popped.openedAt());
    assertEquals(3, popped.sentUpTo());
  }

  @Test
  void aConfirmationAtOrBelowWhatWasConfirmedPopsNothing() {
    Outbox outbox = openWith(1, 5).sent(2, LATER);
    assertSame(outbox, outbox.sent(2, LATER));
    assertSame(outbox, outbox.sent(1, LATER));
  }

  @Test
  void aConfirmationBeyondWhatIsPendingPopsOnlyWhatIsPending() {
    Outbox popped = openWith(1, 2).sent(9, LATER);
    assertEquals(2, popped.sentUpTo());
    assertTrue(popped.drained());
  }

  @Test
  void onlyAConfirmationReachingPastTheClosedEventsPopsTheOpenBatch() {
    Outbox outbox = openWith(1, 2).closeOpen(OLD, 3).received(numberedRange(3, 4), OPENED);
    assertFalse(outbox.popsOpen(2));
    assertTrue(outbox.popsOpen(3));
    assertFalse(openWith(1, 2).closeOpen(OLD, 3).popsOpen(2), "no open batch to pop");
  }
}

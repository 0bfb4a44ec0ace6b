package io.regcast.broadcast;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.regcast.gateway.StreamEntry;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class PathSequenceTest {

  private static List<StreamEntry> entries(long... positions) {
    return LongStream.of(positions).mapToObj(p -> new StreamEntry(p, new byte[] {(byte) p}, 0)).toList();
  }

  private static List<Long> positions(List<StreamEntry> entries) {
    return entries.stream().map(StreamEntry::position).toList();
  }

  @Test
  void startsWithTheFirstPositionItGetsAndPassesContiguousOnesAtOnce() {
    PathSequence s = new PathSequence();
    assertEquals(List.of(7L, 8L), positions(s.accept(entries(7, 8))));
    assertEquals(List.of(9L), positions(s.accept(entries(9))));
    assertEquals(-1, s.missingAfter());
  }

  @Test
  void dropsPositionsItHandedOnAlready() {
    PathSequence s = new PathSequence();
    s.accept(entries(1, 2, 3));
    assertEquals(List.of(4L), positions(s.accept(entries(2, 3, 4))));
  }

  @Test
  void holdsAnEarlyPositionUntilTheMissingOnesAreReadFromTheLog() {
    PathSequence s = new PathSequence();
    s.accept(entries(1));
    assertEquals(List.of(), s.accept(entries(4, 5)));
    assertEquals(1, s.missingAfter());
    assertEquals(List.of(2L, 3L, 4L, 5L), positions(s.filled(1, 5, entries(2, 3))));
    assertEquals(-1, s.missingAfter());
  }

  @Test
  void readsTheLogWhenItsHeadIsAheadOfWhatArrived() {
    PathSequence s = new PathSequence();
    s.accept(entries(1, 2));
    s.announced(4);
    assertEquals(2, s.missingAfter(), "the last messages were stored but never sent");
    assertEquals(List.of(3L, 4L), positions(s.filled(1, 4, entries(3, 4))));
    assertEquals(-1, s.missingAfter());
  }

  @Test
  void ignoresAnnouncementsBeforeItHasAStart() {
    PathSequence s = new PathSequence();
    s.announced(10);
    assertEquals(-1, s.missingAfter());
  }

  @Test
  void givesUpPositionsTheLogNoLongerKeeps() {
    PathSequence s = new PathSequence();
    s.accept(entries(1));
    s.accept(entries(10));
    assertEquals(List.of(8L, 9L, 10L), positions(s.filled(8, 10, entries(8, 9))));
    assertEquals(10, s.last());
  }

  @Test
  void givesUpAHoleTheLogCannotFill() {
    PathSequence s = new PathSequence();
    s.accept(entries(1));
    s.accept(entries(5));
    assertEquals(List.of(5L), positions(s.filled(1, 3, entries())));
    assertEquals(-1, s.missingAfter());
  }

  @Test
  void readsPageByPageUntilTheHead() {
    PathSequence s = new PathSequence();
    s.accept(entries(1));
    s.accept(entries(6));
    assertEquals(List.of(2L, 3L), positions(s.filled(1, 6, entries(2, 3))));
    assertEquals(3, s.missingAfter());
    assertEquals(List.of(4L, 5L, 6L), positions(s.filled(1, 6, entries(4, 5))));
  }
}

package io.regcast.e2e;

import java.util.ArrayList;
import java.util.List;

/**
 * What the step 8 contract promises a regcast.v1 client about ids: each message has one, ids are
 * the path's positions (1, 2, 3, … per path), and a client that resumes after the last id it got
 * continues where it stopped — so over all its connections the ids it receives are consecutive:
 * none twice (a duplicate), none skipped (a hole), and no gap notice while the path still retains
 * what it missed.
 */
final class Positions {
  private Positions() {}

  /**
   * The contract's breaches in {@code messages} (one client's, its connections in order): a
   * message without an id, a gap notice, an id that is not one more than the one before. Empty
   * when the ids are consecutive.
   */
  static List<String> problems(List<BroadcastClient.Message> messages) {
    List<String> problems = new ArrayList<>();
    long previous = -1;
    for (BroadcastClient.Message m : messages) {
      if (m.gap() != null) {
        problems.add("a gap notice " + m.text());
        continue;
      }
      long position;
      try {
        position = m.position();
      } catch (AssertionError notAPosition) {
        problems.add(notAPosition.getMessage());
        continue;
      }
      if (previous >= 0 && position != previous + 1) {
        problems.add((position <= previous ? "id " + position + " again or backwards" : "a hole") + " after id " + previous
            + " (" + (position - previous - 1) + " positions skipped)");
      }
      previous = Math.max(previous, position);
    }
    return problems;
  }

  /** The ids of {@code messages} (null for one without). */
  static List<String> ids(List<BroadcastClient.Message> messages) {
    return messages.stream().map(BroadcastClient.Message::id).toList();
  }
}

package io.regcast.gateway;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Paths' logs for tests: each keeps its newest {@code retained} messages and answers resumes from
 * them, with a gap when the client's id is older than the oldest; when {@link #failing}, it
 * answers that it is unavailable. Answers from another thread, as a real log would.
 */
final class ListHistory implements StreamHistory {
  private final Map<PathKey, List<StreamEntry>> logs = new ConcurrentHashMap<>();
  private final Map<PathKey, Integer> retained = new ConcurrentHashMap<>();
  private final AtomicInteger asked = new AtomicInteger();
  volatile boolean failing;

  void append(PathKey path, StreamEntry entry) {
    List<StreamEntry> log = logs.computeIfAbsent(path, k -> new ArrayList<>());
    synchronized (log) {
      log.add(entry);
      while (log.size() > retained.getOrDefault(path, Integer.MAX_VALUE)) {
        log.remove(0);
      }
    }
  }

  /** From now on {@code path}'s log keeps only its newest {@code messages}. */
  void retain(PathKey path, int messages) {
    retained.put(path, messages);
  }

  int asked() {
    return asked.get();
  }

  @Override
  public void resume(PathKey path, String lastEventId, Target target) {
    asked.incrementAndGet();
    List<StreamEntry> log = logs.getOrDefault(path, List.of());
    List<StreamEntry> snapshot;
    synchronized (log) {
      snapshot = List.copyOf(log);
    }
    java.util.concurrent.CompletableFuture.runAsync(() -> {
      if (failing) {
        target.unavailable("log offline");
        return;
      }
      long after = Encoding.positionOf(lastEventId);
      List<StreamEntry> missed = snapshot.stream().filter(e -> e.position() > after).toList();
      long first = missed.isEmpty() ? after + 1 : missed.get(0).position();
      ResumeGap gap = after < 0 || first > after + 1 ? new ResumeGap(lastEventId, Long.toString(first - 1)) : null;
      target.replay(gap, missed);
    });
  }
}

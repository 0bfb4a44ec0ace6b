package io.regcast.e2e;

import static io.regcast.e2e.DistributionEvents.digest;
import static io.regcast.e2e.DistributionEvents.envelope;
import static io.regcast.e2e.DistributionEvents.push;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A registry's webhook in a hurry, on a thread of its own: notifications {@code 0 … count-1}, each
 * a push by digest ({@link DistributionEvents#digest}{@code (i)}, no tag: one CreateImage event),
 * one after the other as fast as the node answers. It records when each was sent and what came
 * back, and stops at the first request that gets no answer (the node was killed) or when told to.
 */
final class IngestBurst {
  /** Event number → when its request was sent (System.nanoTime). */
  final Map<Long, Long> sent = new ConcurrentHashMap<>();
  /** Event number → when its 202 came. */
  final Map<Long, Long> accepted = new ConcurrentHashMap<>();
  /** Event number → why its request got no answer. */
  final Map<Long, String> unanswered = new ConcurrentHashMap<>();
  /** Event number → its status, if not 202. */
  final Map<Long, Integer> refused = new ConcurrentHashMap<>();

  private final JsonHttp api;
  private final String registryId;
  private final String repository;
  private final int count;
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile CountDownLatch awaited = new CountDownLatch(0);
  private volatile int watched;
  private volatile long startedAt;

  IngestBurst(JsonHttp api, String registryId, String repository, int count) {
    this.api = api;
    this.registryId = registryId;
    this.repository = repository;
    this.count = count;
  }

  /** Starts sending; {@link #awaitAccepted} then waits for {@code watch} accepted notifications. */
  IngestBurst start(int watch) {
    watched = watch;
    awaited = new CountDownLatch(watch);
    startedAt = System.nanoTime();
    Thread thread = new Thread(this::run, "ingest-burst");
    thread.setDaemon(true);
    thread.start();
    return this;
  }

  private void run() {
    try {
      Instant t0 = Instant.now();
      for (long i = 0; i < count && !stopping.get(); i++) {
        sent.put(i, System.nanoTime());
        try {
          JsonHttp.Response r =
              DistributionEvents.notify(api, registryId, envelope(push(repository, digest(i), null, t0.plusMillis(i))));
          if (r.status() == 202) {
            accepted.put(i, System.nanoTime());
            awaited.countDown();
          } else {
            refused.put(i, r.status());
          }
        } catch (UncheckedIOException | IllegalStateException noAnswer) {
          unanswered.put(i, String.valueOf(noAnswer.getCause()));
          return;
        }
      }
    } finally {
      stopped.countDown();
      while (awaited.getCount() > 0) {
        awaited.countDown(); // the sender is done: whoever waits looks at what was accepted
      }
    }
  }

  /** When {@link #start} was called (System.nanoTime). */
  long startedAt() {
    return startedAt;
  }

  /** How many requests were sent (the last one may have got no answer). */
  long sent() {
    return sent.size();
  }

  long sentAt(long event) {
    Long at = sent.get(event);
    if (at == null) {
      throw new AssertionError("event " + event + " was never sent (" + sent.size() + " were)");
    }
    return at;
  }

  /** Waits until the number given to {@link #start} were accepted; fails if the sender stopped first. */
  void awaitAccepted(Duration deadline) throws InterruptedException {
    assertTrue(awaited.await(deadline.toMillis(), TimeUnit.MILLISECONDS), "the burst is too slow: " + this);
    assertTrue(accepted.size() >= watched, () -> "the burst ended with fewer than " + watched + " accepted: " + this);
  }

  /** Sends nothing more (the request in flight, if any, still completes or fails). */
  void stop() {
    stopping.set(true);
  }

  void awaitStopped(Duration deadline) throws InterruptedException {
    assertTrue(stopped.await(deadline.toMillis(), TimeUnit.MILLISECONDS), "the burst's sender did not stop");
  }

  @Override
  public String toString() {
    return sent.size() + " sent, " + accepted.size() + " accepted, refused " + refused + ", unanswered " + unanswered;
  }
}

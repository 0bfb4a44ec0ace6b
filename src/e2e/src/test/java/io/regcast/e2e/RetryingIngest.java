package io.regcast.e2e;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * A registry's webhook through a cluster's failures: notifications numbered from 1 (one push by
 * digest each, {@link ClusterScene#notification}), each posted — the same envelope, so the same
 * source event id — until it gets a 2xx, as a registry re-sends what was not acknowledged; the
 * node to post to is asked of {@code target} at every attempt (a node that was killed or is
 * leaving is left for another). A notification gives up after {@code giveUpAfter}.
 *
 * <p>Either a burst ({@link #burst}: {@code senders} threads, each posting the next number as soon
 * as its previous one was accepted) or a steady rate ({@link #steady}: one new notification every
 * period, each on a pool thread of its own so that one being retried does not hold the others).
 * Records per notification when it was first sent, when (and after how many attempts) it was
 * accepted, and the failed attempts.
 */
final class RetryingIngest implements AutoCloseable {
  /** One numbered notification. */
  static final class Sent {
    final long n;
    final long firstSentAt;
    volatile long acceptedAt;
    volatile int attempts;
    volatile boolean gaveUp;
    final List<String> failures = new CopyOnWriteArrayList<>();

    Sent(long n, long firstSentAt) {
      this.n = n;
      this.firstSentAt = firstSentAt;
    }

    boolean accepted() {
      return acceptedAt != 0;
    }
  }

  private static final Duration RETRY_EVERY = Duration.ofMillis(100);

  final Map<Long, Sent> sent = new ConcurrentSkipListMap<>();
  private final String registryId;
  private final IntFunction<JsonHttp> target;
  private final Duration giveUpAfter;
  private final AtomicLong next = new AtomicLong(1);
  private final AtomicInteger acceptedCount = new AtomicInteger();
  private volatile boolean stopping;
  private ExecutorService senders;
  private ScheduledExecutorService ticker;

  /**
   * @param target the node's API to post to, given the attempt number (1, 2, …) of the notification
   */
  RetryingIngest(String registryId, IntFunction<JsonHttp> target, Duration giveUpAfter) {
    this.registryId = registryId;
    this.target = target;
    this.giveUpAfter = giveUpAfter;
  }

  /** {@code threads} senders, each posting the next notification once its previous one was accepted. */
  RetryingIngest burst(int threads) {
    senders = Executors.newFixedThreadPool(threads, daemon("burst"));
    for (int i = 0; i < threads; i++) {
      senders.execute(() -> {
        while (!stopping) {
          send(next.getAndIncrement());
        }
      });
    }
    return this;
  }

  /** One new notification every {@code 1/perSecond} s, each retried on a thread of its own (at most {@code maxInFlight}). */
  RetryingIngest steady(double perSecond, int maxInFlight) {
    senders = Executors.newFixedThreadPool(maxInFlight, daemon("steady"));
    ticker = Executors.newSingleThreadScheduledExecutor(daemon("steady-ticker"));
    long period = Math.round(1e9 / perSecond);
    ticker.scheduleAtFixedRate(
        () -> {
          if (!stopping) {
            long n = next.getAndIncrement();
            senders.execute(() -> send(n));
          }
        },
        0, period, TimeUnit.NANOSECONDS);
    return this;
  }

  private void send(long n) {
    Sent s = new Sent(n, System.nanoTime());
    sent.put(n, s);
    ObjectNode notification = ClusterScene.notification(n);
    long giveUpAt = s.firstSentAt + giveUpAfter.toNanos();
    while (true) {
      s.attempts++;
      try {
        JsonHttp.Response response = DistributionEvents.notify(target.apply(s.attempts), registryId, notification);
        if (response.status() / 100 == 2) {
          s.acceptedAt = System.nanoTime();
          acceptedCount.incrementAndGet();
          return;
        }
        s.failures.add(response.status() + " " + response.body().path("message").asText());
      } catch (UncheckedIOException e) {
        s.failures.add(String.valueOf(e.getCause()));
      } catch (IllegalStateException interrupted) {
        s.failures.add("interrupted");
        s.gaveUp = true;
        return;
      }
      if (System.nanoTime() > giveUpAt) {
        s.gaveUp = true;
        return;
      }
      try {
        TimeUnit.NANOSECONDS.sleep(RETRY_EVERY.toNanos()); // a registry's retry interval, shortened
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        s.gaveUp = true;
        return;
      }
    }
  }

  /** How many notifications were accepted so far. */
  int accepted() {
    return acceptedCount.get();
  }

  /** Waits until {@code count} notifications were accepted; AssertionError after the deadline. */
  void awaitAccepted(int count, Duration deadline) throws InterruptedException {
    long until = System.nanoTime() + deadline.toNanos();
    while (accepted() < count) {
      if (System.nanoTime() > until) {
        throw new AssertionError("fewer than " + count + " notifications accepted within " + deadline + ": " + this);
      }
      TimeUnit.MILLISECONDS.sleep(10); // polling interval
    }
  }

  /** Waits until a notification first sent after {@code since} (System.nanoTime) was accepted; when it was. */
  long awaitAcceptedSentAfter(long since, Duration deadline) throws InterruptedException {
    long until = System.nanoTime() + deadline.toNanos();
    while (true) {
      for (Sent s : sent.values()) {
        if (s.firstSentAt > since && s.accepted()) {
          return s.acceptedAt;
        }
      }
      if (System.nanoTime() > until) {
        throw new AssertionError("nothing sent after the moment given was accepted within " + deadline + ": " + this);
      }
      TimeUnit.MILLISECONDS.sleep(10); // polling interval
    }
  }

  /** Starts no new notification; those in flight go on until accepted or given up. Waits for them. */
  void stopAndAwait(Duration deadline) throws InterruptedException {
    stopping = true;
    if (ticker != null) {
      ticker.shutdown();
      ticker.awaitTermination(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }
    senders.shutdown();
    if (!senders.awaitTermination(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("notifications still being retried " + deadline + " after the stop: " + this);
    }
  }

  @Override
  public void close() {
    stopping = true;
    if (ticker != null) {
      ticker.shutdownNow();
    }
    if (senders != null) {
      senders.shutdownNow();
    }
  }

  @Override
  public String toString() {
    long accepted = sent.values().stream().filter(Sent::accepted).count();
    long retried = sent.values().stream().filter(s -> s.attempts > 1).count();
    long gaveUp = sent.values().stream().filter(s -> s.gaveUp).count();
    return sent.size() + " sent, " + accepted + " accepted, " + retried + " needed more than one attempt, " + gaveUp
        + " gave up";
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicInteger count = new AtomicInteger();
    return body -> {
      Thread thread = new Thread(body, name + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}

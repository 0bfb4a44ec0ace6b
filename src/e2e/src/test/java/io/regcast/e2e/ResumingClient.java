package io.regcast.e2e;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One regcast.v1 client of a gateway path across its connections, as an application would write
 * it: when a connection ends (its node was killed or closed it), it connects again at once — to
 * the node the test names ({@link #resumeOn}) — with {@code Last-Event-ID}: the id of the last
 * message it got, so the server sends what it missed first. Its messages are those of all its
 * connections, in order ({@link #messages}); each connection is a {@link BroadcastClient}.
 *
 * <p>A background thread watches the current connection; it keeps connecting until {@link
 * #close}, pausing {@value #PAUSE_MS} ms after a connection that ended without a message (the
 * server may close a resuming connection whose history it cannot read yet, e.g. while the path's
 * log moves to another node).
 */
final class ResumingClient implements AutoCloseable {
  private static final long PAUSE_MS = 100;
  /** How long one reconnection may keep trying (a node may still be learning of the gateway). */
  private static final Duration RECONNECT_DEADLINE = Duration.ofSeconds(60);

  private final String name;
  private final List<BroadcastClient> sessions = new CopyOnWriteArrayList<>();
  private final Thread watcher;
  private volatile Supplier<URI> target;
  private volatile boolean closed;
  private volatile Throwable failure;

  /** Wraps {@code first}, a v1 connection to {@code url}; later connections go to {@code url} until {@link #resumeOn}. */
  ResumingClient(String name, BroadcastClient first, URI url) {
    if (!BroadcastClient.V1.equals(first.handshake().subprotocol())) {
      throw new IllegalArgumentException(name + ": a resuming client speaks " + BroadcastClient.V1);
    }
    this.name = name;
    this.target = () -> url;
    sessions.add(first);
    watcher = new Thread(this::watch, "resuming-" + name);
    watcher.setDaemon(true);
    watcher.start();
  }

  String name() {
    return name;
  }

  /** Where the next connections go (e.g. a surviving node), from now on. */
  void resumeOn(Supplier<URI> target) {
    this.target = target;
  }

  /** The connection open now, or the last one. */
  BroadcastClient current() {
    return sessions.get(sessions.size() - 1);
  }

  List<BroadcastClient> sessions() {
    return List.copyOf(sessions);
  }

  /** Connections after the first. */
  int resumes() {
    return sessions.size() - 1;
  }

  /** Every message of every connection, in order. */
  List<BroadcastClient.Message> messages() {
    List<BroadcastClient.Message> all = new ArrayList<>();
    for (BroadcastClient session : sessions) {
      all.addAll(session.messages());
    }
    return all;
  }

  /** The id of the last message that had one, or null. */
  String lastId() {
    for (int i = sessions.size() - 1; i >= 0; i--) {
      String id = sessions.get(i).lastId(null);
      if (id != null) {
        return id;
      }
    }
    return null;
  }

  /** Waits until some message holds event {@code n}; when it arrived. AssertionError after the deadline. */
  long awaitNumber(long n, Duration deadline) throws InterruptedException {
    long until = System.nanoTime() + deadline.toNanos();
    while (true) {
      for (BroadcastClient.Message m : messages()) {
        if (ClusterScene.numbers(m).contains(n)) {
          return m.nanos();
        }
      }
      long left = until - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(name + ": event " + n + " did not arrive within " + deadline + "; " + this);
      }
      requireWatching();
      current().poll(Duration.ofNanos(Math.min(left, Duration.ofMillis(100).toNanos())));
    }
  }

  /**
   * Waits until none of {@code clients} has received anything for {@code quiet}: whatever else was
   * coming (a batch sent again) has arrived. Blocks on the first client's connection, counts all.
   */
  static void awaitQuiet(List<ResumingClient> clients, Duration quiet) throws InterruptedException {
    while (true) {
      int before = clients.stream().mapToInt(c -> c.messages().size()).sum();
      clients.get(0).current().poll(quiet);
      if (clients.stream().mapToInt(c -> c.messages().size()).sum() == before) {
        return;
      }
    }
  }

  /** When the first message of connection {@code session} (0 = the first) arrived, or 0 if none did. */
  long firstMessageOf(int session) {
    List<BroadcastClient> all = sessions();
    if (session >= all.size() || all.get(session).messages().isEmpty()) {
      return 0;
    }
    return all.get(session).messages().get(0).nanos();
  }

  /** Whether the watcher gave up reconnecting (an AssertionError naming why). */
  void requireWatching() {
    Throwable failed = failure;
    if (failed != null) {
      throw new AssertionError(name + " could not reconnect: " + failed, failed);
    }
  }

  /** Per client, the event numbers it received (warm-up ones left out), all connections in order. */
  static Map<String, List<Long>> sequences(Collection<ResumingClient> clients) {
    Map<String, List<Long>> out = new LinkedHashMap<>();
    for (ResumingClient client : clients) {
      List<Long> numbers = new ArrayList<>();
      for (BroadcastClient.Message m : client.messages()) {
        ClusterScene.numbers(m).stream().filter(n -> n < ClusterScene.WARM_UP).forEach(numbers::add);
      }
      out.put(client.name(), numbers);
    }
    return out;
  }

  /** Per client, its breaches of the id contract ({@link Positions#problems}); only clients with some. */
  static Map<String, List<String>> positionProblems(Collection<ResumingClient> clients) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (ResumingClient client : clients) {
      List<String> problems = Positions.problems(client.messages());
      if (!problems.isEmpty()) {
        out.put(client.name(), problems);
      }
    }
    return out;
  }

  private void watch() {
    try {
      while (!closed) {
        BroadcastClient session = current();
        if (!session.awaitEnd(Duration.ofMillis(200))) {
          continue; // still open; looked at again so that close() ends this loop
        }
        if (closed) {
          return;
        }
        if (session.messages().isEmpty()) {
          TimeUnit.MILLISECONDS.sleep(PAUSE_MS); // a retry interval, not a wait for an outcome
        }
        String last = lastId();
        BroadcastClient.Handshake handshake =
            last == null ? BroadcastClient.Handshake.V1 : BroadcastClient.Handshake.V1.resumingAfter(last);
        BroadcastClient next =
            BroadcastClient.connectRetrying(
                name + "#" + (sessions.size() + 1), target.get(), "regcast-resuming-" + UUID.randomUUID(),
                RECONNECT_DEADLINE, handshake);
        synchronized (sessions) {
          if (closed) {
            next.close();
            return;
          }
          sessions.add(next);
        }
      }
    } catch (InterruptedException e) {
      // closed
    } catch (RuntimeException | AssertionError e) {
      failure = e;
    }
  }

  @Override
  public void close() {
    synchronized (sessions) {
      closed = true;
    }
    watcher.interrupt();
    sessions.forEach(BroadcastClient::close);
  }

  @Override
  public String toString() {
    return name + ": " + messages().size() + " messages over " + sessions.size() + " connections "
        + sessions.stream().map(s -> s.handshake() + (s.ending() == null ? " (open)" : " (" + s.ending() + ")")).toList();
  }
}

package io.regcast.e2e;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Many light regcast.v1 WebSocket clients of one gateway path across the cluster (the JDK's {@link
 * WebSocket}, one shared {@link HttpClient}): each keeps the event numbers it received with their
 * arrival time and the message's id (read from the message text, not parsed as JSON: hundreds of
 * clients share the test JVM's cores) and its sessions — on which node, from when to when. A
 * client whose connection ends (its node closes it with 1001 on SIGTERM, or dies) reconnects at
 * once to another node the test marks as eligible ({@link #eligible}), as a client of a load
 * balancer would, and resumes: its upgrade carries {@code Last-Event-ID} with the id of the last
 * message it got. Each client notes where its ids break the contract ({@link Client#problems}):
 * an id that is not one more than the one before, a gap notice, a message without an id.
 */
final class RoamingClients implements AutoCloseable {
  private static final Pattern DIGEST = Pattern.compile("\"image_digest\"\\s*:\\s*\"sha256:([0-9a-f]{64})\"");
  /** A v1 message starts with its id: {@code {"id":"42","message":{…}}}. */
  private static final Pattern ID = Pattern.compile("^\\{\\s*\"id\"\\s*:\\s*\"([^\"]*)\"\\s*,\\s*\"message\"\\s*:");
  private static final Duration RETRY_EVERY = Duration.ofMillis(100);

  /** One connection of a client to one node: open from {@code openedAt} until {@code endedAt} (0 while open). */
  static final class Session {
    final int node;
    final long openedAt;
    volatile long endedAt;
    volatile String ending;

    Session(int node, long openedAt) {
      this.node = node;
      this.openedAt = openedAt;
    }
  }

  /** One received event: its number, when its message arrived, and the message's id (its position). */
  record Received(long number, long at, long position) {}

  static final class Client {
    final String name;
    final List<Session> sessions = new CopyOnWriteArrayList<>();
    final List<Received> received = Collections.synchronizedList(new ArrayList<>());
    /** Where the ids broke the contract: not one more than the one before, a gap notice, no id. */
    final List<String> problems = new CopyOnWriteArrayList<>();
    volatile WebSocket webSocket;
    volatile int failedAttempts;
    /** The id of the last message, sent as Last-Event-ID when it reconnects (null: none yet). */
    volatile String lastId;
    private long lastPosition = -1;

    Client(String name) {
      this.name = name;
    }

    boolean isOpen() {
      return !sessions.isEmpty() && sessions.get(sessions.size() - 1).endedAt == 0;
    }

    List<Received> received() {
      synchronized (received) {
        return List.copyOf(received);
      }
    }

    @Override
    public String toString() {
      return name + ": " + received.size() + " events, sessions on nodes "
          + sessions.stream().map(s -> (s.node + 1) + (s.endedAt == 0 ? "(open)" : "")).toList();
    }
  }

  final List<Client> clients = new ArrayList<>();
  /** 1 = clients may connect to node i. */
  final AtomicIntegerArray eligible = new AtomicIntegerArray(TestCluster.SIZE);
  private final URI[] urls = new URI[TestCluster.SIZE];
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ScheduledExecutorService retries =
      Executors.newSingleThreadScheduledExecutor(
          body -> {
            Thread thread = new Thread(body, "roaming-clients-retry");
            thread.setDaemon(true);
            return thread;
          });
  private volatile boolean closing;

  /** {@code count} clients (not connected yet); every node eligible. Node URLs are fixed: nodes restart on their ports. */
  RoamingClients(TestCluster cluster, String gatewayId, String path, String prefix, int count) {
    for (int i = 0; i < TestCluster.SIZE; i++) {
      urls[i] = cluster.wsUrl(i, gatewayId, path);
      eligible.set(i, 1);
    }
    for (int i = 0; i < count; i++) {
      clients.add(new Client(prefix + "-" + (i + 1)));
    }
  }

  /** Connects client i to node i mod SIZE and waits until every one is open. */
  void connectAll(Duration deadline) throws InterruptedException {
    for (int i = 0; i < clients.size(); i++) {
      connect(clients.get(i), i % TestCluster.SIZE);
    }
    long until = System.nanoTime() + deadline.toNanos();
    while (!clients.stream().allMatch(Client::isOpen)) {
      if (System.nanoTime() > until) {
        throw new AssertionError(
            clients.stream().filter(c -> !c.isOpen()).count() + " clients not connected within " + deadline);
      }
      TimeUnit.MILLISECONDS.sleep(20); // polling interval
    }
  }

  /** Whether every client has received event {@code n}, waiting at most {@code deadline}. */
  boolean awaitEveryoneHas(long n, Duration deadline) throws InterruptedException {
    long until = System.nanoTime() + deadline.toNanos();
    while (true) {
      boolean all = true;
      for (Client c : clients) {
        if (!has(c, n)) {
          all = false;
          break;
        }
      }
      if (all) {
        return true;
      }
      if (System.nanoTime() > until) {
        return false;
      }
      TimeUnit.MILLISECONDS.sleep(20); // polling interval
    }
  }

  static boolean has(Client c, long n) {
    synchronized (c.received) {
      for (Received r : c.received) {
        if (r.number() == n) {
          return true;
        }
      }
    }
    return false;
  }

  private void connect(Client client, int node) {
    if (closing) {
      return;
    }
    WebSocket.Builder builder =
        http.newWebSocketBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .header("User-Agent", "regcast-roaming-" + client.name)
            .subprotocols(BroadcastClient.V1);
    String lastId = client.lastId;
    if (lastId != null) {
      builder.header("Last-Event-ID", lastId);
    }
    builder
        .buildAsync(urls[node], new Listener(client, node))
        .whenComplete(
            (ws, failure) -> {
              if (failure != null) {
                client.failedAttempts++;
                retries.schedule(() -> connect(client, pick(node)), RETRY_EVERY.toMillis(), TimeUnit.MILLISECONDS);
              } else {
                client.webSocket = ws;
                if (closing) {
                  ws.abort();
                }
              }
            });
  }

  /** An eligible node other than {@code lost} if there is one, else any eligible node, else {@code lost}. */
  private int pick(int lost) {
    List<Integer> candidates = new ArrayList<>();
    for (int i = 0; i < TestCluster.SIZE; i++) {
      if (eligible.get(i) == 1 && i != lost) {
        candidates.add(i);
      }
    }
    if (candidates.isEmpty()) {
      return eligible.get(lost) == 1 ? lost : ThreadLocalRandom.current().nextInt(TestCluster.SIZE);
    }
    return candidates.get(ThreadLocalRandom.current().nextInt(candidates.size()));
  }

  @Override
  public void close() {
    closing = true;
    retries.shutdownNow();
    for (Client c : clients) {
      WebSocket ws = c.webSocket;
      if (ws != null) {
        ws.abort();
      }
    }
  }

  private final class Listener implements WebSocket.Listener {
    private final Client client;
    private final int node;
    private final StringBuilder text = new StringBuilder();
    private Session session;

    Listener(Client client, int node) {
      this.client = client;
      this.node = node;
    }

    @Override
    public void onOpen(WebSocket ws) {
      session = new Session(node, System.nanoTime());
      client.sessions.add(session);
      ws.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        long now = System.nanoTime();
        long position = position(text);
        Matcher m = DIGEST.matcher(text);
        while (m.find()) {
          client.received.add(new Received(Long.parseLong(m.group(1), 16), now, position));
        }
        text.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      ended("close " + statusCode + " " + reason);
      return null; // the JDK echoes the close
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      ended("error " + error);
    }

    /** The message's id as a position (noting where it breaks the contract); -1 for a message without one. */
    private long position(CharSequence message) {
      Matcher id = ID.matcher(message);
      if (!id.find()) {
        client.problems.add((message.toString().startsWith("{\"gap\"") ? "a gap notice " : "a message without an id: ")
            + message.subSequence(0, Math.min(200, message.length())));
        return -1;
      }
      client.lastId = id.group(1);
      long position;
      try {
        position = Long.parseLong(id.group(1));
      } catch (NumberFormatException e) {
        client.problems.add("an id that is not a position: " + id.group(1));
        return -1;
      }
      if (client.lastPosition >= 0 && position != client.lastPosition + 1) {
        client.problems.add("id " + position + " after id " + client.lastPosition + " (node " + (node + 1) + ")");
      }
      client.lastPosition = Math.max(client.lastPosition, position);
      return position;
    }

    private void ended(String how) {
      if (session != null && session.endedAt == 0) {
        session.ending = how;
        session.endedAt = System.nanoTime();
        connect(client, pick(node));
      }
    }
  }
}

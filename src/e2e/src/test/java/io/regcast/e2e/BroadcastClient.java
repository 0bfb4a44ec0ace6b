package io.regcast.e2e;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A WebSocket client of a gateway path (the JDK's {@link java.net.http.WebSocket}) that keeps
 * every message a trigger broadcast — {@code {"messages":[event, …]}} — with the moment it arrived
 * ({@link System#nanoTime}), and the moment its connection ended. It answers the server's pings
 * (the JDK does) and sends nothing else.
 */
final class BroadcastClient implements AutoCloseable {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  /** How long {@link #connectRetrying} waits between attempts. */
  private static final Duration RETRY_EVERY = Duration.ofMillis(25);

  /** One message: when it arrived, its events in order, and its text. */
  record Message(long nanos, List<JsonNode> events, String text) {}

  private final String name;
  private final String userAgent;
  private final long openedNanos;
  private final int attempts;
  private final Listener listener;
  private final WebSocket webSocket;

  private BroadcastClient(String name, String userAgent, Listener listener, WebSocket webSocket, int attempts) {
    this.name = name;
    this.userAgent = userAgent;
    this.listener = listener;
    this.webSocket = webSocket;
    this.openedNanos = listener.openedNanos;
    this.attempts = attempts;
  }

  /** Connects once; fails (AssertionError) if the upgrade is refused or takes over {@code timeout}. */
  static BroadcastClient connect(String name, URI url, String userAgent, Duration timeout) {
    try {
      return attempt(name, url, userAgent, timeout, 1);
    } catch (Exception e) {
      throw new AssertionError(name + ": cannot open " + url + ": " + e, e);
    }
  }

  /** What starts a node (it may throw), for {@link #connectWhileStarting}. */
  @FunctionalInterface
  interface Start {
    void run() throws Exception;
  }

  /**
   * Runs {@code start} (a node's launch) while, from the same moment, a client keeps trying to
   * connect to {@code url} ({@link #connectRetrying}); the client once {@code start} has returned
   * and the client is connected (within {@code wait} of that).
   */
  static BroadcastClient connectWhileStarting(String name, URI url, String userAgent, Start start, Duration wait)
      throws Exception {
    java.util.concurrent.ExecutorService reconnecting = java.util.concurrent.Executors.newSingleThreadExecutor(body -> {
      Thread t = new Thread(body, "reconnect");
      t.setDaemon(true);
      return t;
    });
    java.util.concurrent.CompletableFuture<BroadcastClient> reconnect =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> {
              try {
                return connectRetrying(name, url, userAgent, NodeProcess.START_DEADLINE);
              } catch (InterruptedException e) {
                throw new IllegalStateException("reconnecting was interrupted", e);
              }
            },
            reconnecting);
    try {
      start.run();
      return reconnect.get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception | Error e) {
      reconnecting.shutdownNow();
      reconnect.thenAccept(BroadcastClient::close);
      throw e;
    } finally {
      reconnecting.shutdown();
    }
  }

  /**
   * Tries to connect every 25 ms until it works or {@code deadline} has passed — for a node that
   * is starting on a known port: attempts fail with "connection refused" until its gateway listens
   * and with 404 until it knows its gateways.
   */
  static BroadcastClient connectRetrying(String name, URI url, String userAgent, Duration deadline)
      throws InterruptedException {
    long until = System.nanoTime() + deadline.toNanos();
    Exception last = null;
    for (int attempt = 1; ; attempt++) {
      long left = until - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            name + ": could not open " + url + " within " + deadline + " (" + (attempt - 1) + " attempts; last: "
                + describe(last) + ")", last);
      }
      try {
        Duration timeout = Duration.ofNanos(Math.min(left, Duration.ofSeconds(5).toNanos()));
        return attempt(name, url, userAgent, timeout, attempt);
      } catch (ExecutionException | TimeoutException e) {
        last = e.getCause() instanceof Exception cause ? cause : e;
      }
      TimeUnit.NANOSECONDS.sleep(Math.min(RETRY_EVERY.toNanos(), Math.max(0, until - System.nanoTime())));
    }
  }

  private static BroadcastClient attempt(String name, URI url, String userAgent, Duration timeout, int attempt)
      throws ExecutionException, TimeoutException, InterruptedException {
    Listener listener = new Listener();
    var future = HTTP.newWebSocketBuilder()
        .connectTimeout(timeout)
        .header("User-Agent", userAgent)
        .buildAsync(url, listener);
    try {
      WebSocket ws = future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      return new BroadcastClient(name, userAgent, listener, ws, attempt);
    } catch (TimeoutException e) {
      future.cancel(true);
      future.thenAccept(WebSocket::abort);
      throw e;
    }
  }

  /** A failed attempt, e.g. "HTTP 404" while the node does not know the gateway yet. */
  private static String describe(Throwable failure) {
    return failure instanceof WebSocketHandshakeException refused
        ? "HTTP " + refused.getResponse().statusCode()
        : String.valueOf(failure);
  }

  String name() {
    return name;
  }

  String userAgent() {
    return userAgent;
  }

  /** When the upgrade was answered (System.nanoTime). */
  long openedNanos() {
    return openedNanos;
  }

  /** How many attempts {@link #connectRetrying} made (1 for {@link #connect}). */
  int attempts() {
    return attempts;
  }

  /** The next message, waiting at most {@code deadline}; an AssertionError if none comes. */
  Message next(Duration deadline) throws InterruptedException {
    Message m = poll(deadline);
    if (m == null) {
      throw new AssertionError(name + ": no message within " + deadline + "; " + this);
    }
    return m;
  }

  /** The next message, or null if none arrives within {@code deadline}. */
  Message poll(Duration deadline) throws InterruptedException {
    return listener.arrived.poll(Math.max(0, deadline.toNanos()), TimeUnit.NANOSECONDS);
  }

  /** Every message received so far, in order (including those {@link #next} returned). */
  List<Message> messages() {
    return List.copyOf(listener.all);
  }

  /** When the connection ended (System.nanoTime), or 0 while it is open. */
  long endedNanos() {
    return listener.endedNanos;
  }

  /** How the connection ended (close code or error), or null while it is open. */
  String ending() {
    return listener.ending;
  }

  /** Waits until the connection has ended (e.g. its node was killed); false if it is still open. */
  boolean awaitEnd(Duration deadline) throws InterruptedException {
    return listener.ended.await(deadline.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public void close() {
    webSocket.abort();
  }

  @Override
  public String toString() {
    return name + " (" + userAgent + "): " + listener.all.size() + " messages"
        + (listener.ending == null ? ", open" : ", ended: " + listener.ending);
  }

  private static final class Listener implements WebSocket.Listener {
    final BlockingQueue<Message> arrived = new LinkedBlockingQueue<>();
    final List<Message> all = new CopyOnWriteArrayList<>();
    final CountDownLatch ended = new CountDownLatch(1);
    final StringBuilder text = new StringBuilder();
    volatile long openedNanos;
    volatile long endedNanos;
    volatile String ending;

    @Override
    public void onOpen(WebSocket ws) {
      openedNanos = System.nanoTime();
      ws.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        long now = System.nanoTime();
        String whole = text.toString();
        text.setLength(0);
        Message m = new Message(now, events(whole), whole);
        all.add(m);
        arrived.add(m);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      Message m = new Message(System.nanoTime(), List.of(), "binary message of " + data.remaining() + " bytes");
      all.add(m);
      arrived.add(m);
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket ws, ByteBuffer message) {
      ws.request(1); // the JDK answers with the pong itself
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      end("close " + statusCode + " " + reason);
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      end("error " + error);
    }

    private void end(String how) {
      if (ending == null) {
        endedNanos = System.nanoTime();
        ending = how;
      }
      ended.countDown();
    }

    /** The events of a trigger's message; an empty list for a text that is not one. */
    private static List<JsonNode> events(String text) {
      List<JsonNode> events = new ArrayList<>();
      try {
        JsonNode message = JsonHttp.JSON.readTree(text);
        if (message != null && message.size() == 1 && message.path("messages").isArray()) {
          message.path("messages").forEach(events::add);
        }
      } catch (JsonProcessingException notJson) {
        // kept as text: the test names it
      }
      return events;
    }
  }
}

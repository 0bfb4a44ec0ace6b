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
 *
 * <p>It speaks the plain protocol ({@link Handshake#PLAIN}: the reference's bytes) or {@value
 * #V1} ({@link Handshake#V1}: each message {@code {"id":"<position>","message":{…}}}, and may
 * resume after an id it got before: {@link Handshake#resumingAfter}); a v1 message's events are
 * those of its {@code message}, its id is {@link Message#id}, and a gap the server reports is a
 * message of its own ({@link Message#gap}).
 */
final class BroadcastClient implements AutoCloseable {
  /** The subprotocol of positioned messages and resuming. */
  static final String V1 = "regcast.v1";

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  /** How long {@link #connectRetrying} waits between attempts. */
  private static final Duration RETRY_EVERY = Duration.ofMillis(25);

  /**
   * One message: when it arrived, its events in order, and its text; for {@value #V1}, also its
   * {@code id} (null for a plain message or a gap) and, for the server's gap notice {@code
   * {"gap":{"lastEventId":…,"resumedAfter":…}}}, the {@code gap} object (else null).
   */
  record Message(long nanos, List<JsonNode> events, String text, String id, JsonNode gap) {
    /** The id as the path's position: ids are positions 1, 2, 3, … (an AssertionError if not). */
    long position() {
      if (id == null) {
        throw new AssertionError("a message without an id: " + text);
      }
      try {
        return Long.parseLong(id);
      } catch (NumberFormatException e) {
        throw new AssertionError("an id that is not a position: " + text, e);
      }
    }
  }

  /**
   * What the upgrade request asks for: a subprotocol (null: none) and a {@code lastEventId} to
   * resume after (null: none), sent as the {@code Last-Event-ID} header or, {@code inQuery}, as
   * the query parameter {@code ?lastEventId=}.
   */
  record Handshake(String subprotocol, String lastEventId, boolean inQuery) {
    static final Handshake PLAIN = new Handshake(null, null, false);
    static final Handshake V1 = new Handshake(BroadcastClient.V1, null, false);

    /** The same, resuming after {@code id} (header Last-Event-ID). */
    Handshake resumingAfter(String id) {
      return new Handshake(subprotocol, id, false);
    }

    /** The same, resuming after {@code id} (query parameter lastEventId). */
    Handshake resumingAfterInQuery(String id) {
      return new Handshake(subprotocol, id, true);
    }

    URI target(URI url) {
      if (lastEventId == null || !inQuery) {
        return url;
      }
      String query = "lastEventId=" + java.net.URLEncoder.encode(lastEventId, java.nio.charset.StandardCharsets.UTF_8);
      return URI.create(url + (url.getRawQuery() == null ? "?" : "&") + query);
    }

    @Override
    public String toString() {
      return (subprotocol == null ? "plain" : subprotocol)
          + (lastEventId == null ? "" : ", resuming after " + lastEventId + (inQuery ? " (query)" : " (header)"));
    }
  }

  private final String name;
  private final String userAgent;
  private final long openedNanos;
  private final int attempts;
  private final Listener listener;
  private final WebSocket webSocket;
  private final Handshake handshake;

  private BroadcastClient(
      String name, String userAgent, Handshake handshake, Listener listener, WebSocket webSocket, int attempts) {
    this.name = name;
    this.handshake = handshake;
    this.userAgent = userAgent;
    this.listener = listener;
    this.webSocket = webSocket;
    this.openedNanos = listener.openedNanos;
    this.attempts = attempts;
  }

  /**
   * A text message as this client reads it (a trigger's message, a v1 message around one, or a
   * gap notice), e.g. one an external client reported; {@code nanos} is when it arrived.
   */
  static Message parse(long nanos, String text) {
    return Listener.message(nanos, text);
  }

  /** Connects once; fails (AssertionError) if the upgrade is refused or takes over {@code timeout}. */
  static BroadcastClient connect(String name, URI url, String userAgent, Duration timeout) {
    return connect(name, url, userAgent, timeout, Handshake.PLAIN);
  }

  /** {@link #connect(String, URI, String, Duration)} with this handshake (e.g. {@link Handshake#V1}). */
  static BroadcastClient connect(String name, URI url, String userAgent, Duration timeout, Handshake handshake) {
    try {
      return attempt(name, url, userAgent, timeout, 1, handshake);
    } catch (Exception e) {
      throw new AssertionError(name + " (" + handshake + "): cannot open " + url + ": " + describe(e), e);
    }
  }

  /**
   * The HTTP status an upgrade with this handshake is refused with (e.g. 400), or an
   * AssertionError if it is accepted.
   */
  static int refusal(URI url, Duration timeout, Handshake handshake) throws InterruptedException {
    try {
      BroadcastClient accepted = attempt("refused", url, "regcast-e2e-refused", timeout, 1, handshake);
      accepted.close();
      throw new AssertionError("an upgrade with " + handshake + " to " + url + " was accepted (subprotocol '"
          + accepted.subprotocol() + "')");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof WebSocketHandshakeException refused) {
        return refused.getResponse().statusCode();
      }
      throw new AssertionError("the upgrade with " + handshake + " failed without an HTTP answer: " + e.getCause(), e);
    } catch (TimeoutException e) {
      throw new AssertionError("no answer to an upgrade with " + handshake + " within " + timeout, e);
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
    return connectRetrying(name, url, userAgent, deadline, Handshake.PLAIN);
  }

  /** {@link #connectRetrying(String, URI, String, Duration)} with this handshake. */
  static BroadcastClient connectRetrying(String name, URI url, String userAgent, Duration deadline, Handshake handshake)
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
        return attempt(name, url, userAgent, timeout, attempt, handshake);
      } catch (ExecutionException | TimeoutException e) {
        last = e.getCause() instanceof Exception cause ? cause : e;
      }
      TimeUnit.NANOSECONDS.sleep(Math.min(RETRY_EVERY.toNanos(), Math.max(0, until - System.nanoTime())));
    }
  }

  private static BroadcastClient attempt(
      String name, URI url, String userAgent, Duration timeout, int attempt, Handshake handshake)
      throws ExecutionException, TimeoutException, InterruptedException {
    Listener listener = new Listener();
    WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(timeout).header("User-Agent", userAgent);
    if (handshake.subprotocol() != null) {
      builder.subprotocols(handshake.subprotocol());
    }
    if (handshake.lastEventId() != null && !handshake.inQuery()) {
      builder.header("Last-Event-ID", handshake.lastEventId());
    }
    var future = builder.buildAsync(handshake.target(url), listener);
    try {
      WebSocket ws = future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      return new BroadcastClient(name, userAgent, handshake, listener, ws, attempt);
    } catch (TimeoutException e) {
      future.cancel(true);
      future.thenAccept(WebSocket::abort);
      throw e;
    }
  }

  /** A failed attempt, e.g. "HTTP 404" while the node does not know the gateway yet. */
  private static String describe(Throwable failure) {
    if (failure instanceof ExecutionException && failure.getCause() != null) {
      failure = failure.getCause();
    }
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

  /** What the upgrade asked for. */
  Handshake handshake() {
    return handshake;
  }

  /** The subprotocol the server chose in its 101 ("" for none). */
  String subprotocol() {
    return webSocket.getSubprotocol();
  }

  /** The id of the last message that had one, or {@code orElse} if none had. */
  String lastId(String orElse) {
    List<Message> all = listener.all;
    for (int i = all.size() - 1; i >= 0; i--) {
      if (all.get(i).id() != null) {
        return all.get(i).id();
      }
    }
    return orElse;
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
    return name + " (" + userAgent + ", " + handshake + "): " + listener.all.size() + " messages"
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
        Message m = message(now, whole);
        all.add(m);
        arrived.add(m);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      Message m =
          new Message(System.nanoTime(), List.of(), "binary message of " + data.remaining() + " bytes", null, null);
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

    /**
     * A text message: a trigger's {@code {"messages":[…]}}, a v1 {@code {"id":…,"message":{…}}}
     * around one, or a v1 gap notice; anything else keeps its text only (the test names it).
     */
    static Message message(long nanos, String text) {
      JsonNode parsed;
      try {
        parsed = JsonHttp.JSON.readTree(text);
      } catch (JsonProcessingException notJson) {
        return new Message(nanos, List.of(), text, null, null);
      }
      if (parsed == null || !parsed.isObject()) {
        return new Message(nanos, List.of(), text, null, null);
      }
      if (parsed.size() == 1 && parsed.path("gap").isObject()) {
        return new Message(nanos, List.of(), text, null, parsed.path("gap"));
      }
      String id = null;
      JsonNode message = parsed;
      if (parsed.size() == 2 && parsed.path("id").isTextual() && parsed.has("message")) {
        id = parsed.path("id").asText();
        message = parsed.path("message");
      }
      return new Message(nanos, events(message), text, id, null);
    }

    /** The events of a trigger's message; an empty list for a JSON value that is not one. */
    private static List<JsonNode> events(JsonNode message) {
      List<JsonNode> events = new ArrayList<>();
      if (message.isObject() && message.size() == 1 && message.path("messages").isArray()) {
        message.path("messages").forEach(events::add);
      }
      return events;
    }
  }
}

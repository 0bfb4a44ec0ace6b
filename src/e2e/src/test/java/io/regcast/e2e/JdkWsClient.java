package io.regcast.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * The JDK's {@link java.net.http.WebSocket}, reporting the same events as the external clients. It
 * answers pings itself and echoes the server's close. It cannot see the upgrade's response headers,
 * so its open event has {@code "connectionId": null}; it sends a {@code User-Agent} of the test's
 * choosing instead, by which the connection is found in the connections API.
 */
public final class JdkWsClient implements WsClient {
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();

  private final ClientEvents events = new ClientEvents(kind(), () -> "");
  private final CompletableFuture<WebSocket> webSocket;

  private JdkWsClient(URI url, String userAgent) {
    webSocket =
        HTTP.newWebSocketBuilder()
            .connectTimeout(CONNECT_TIMEOUT)
            .header("User-Agent", userAgent)
            .buildAsync(url, new Listener());
    webSocket.whenComplete(
        (ws, failure) -> {
          if (failure != null) {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            ObjectNode error = event("error").put("message", String.valueOf(cause));
            if (cause instanceof WebSocketHandshakeException refused) {
              error.put("status", refused.getResponse().statusCode());
              error.put("body", String.valueOf(refused.getResponse().body()));
            } else {
              error.putNull("status");
            }
            events.add(error);
          }
        });
  }

  /** Starts connecting; the outcome is the first event (open or error). */
  public static JdkWsClient connect(URI url, String userAgent) {
    return new JdkWsClient(url, userAgent);
  }

  @Override
  public String kind() {
    return "JDK java.net.http.WebSocket";
  }

  @Override
  public JsonNode next(Duration deadline) {
    return events.next(deadline);
  }

  @Override
  public void awaitPings(int count, Duration deadline) {
    events.awaitPings(count, deadline);
  }

  @Override
  public void close() {
    webSocket.cancel(true);
    webSocket.thenAccept(WebSocket::abort);
  }

  private static ObjectNode event(String name) {
    return JsonHttp.JSON.createObjectNode().put("event", name);
  }

  /** Turns callbacks into events; whole messages only (parts are joined). */
  private final class Listener implements WebSocket.Listener {
    private final StringBuilder text = new StringBuilder();
    private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

    @Override
    public void onOpen(WebSocket ws) {
      events.add(event("open").putNull("connectionId"));
      ws.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        events.add(event("message").put("type", "text").put("data", text.toString()));
        text.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      byte[] bytes = new byte[data.remaining()];
      data.get(bytes);
      binary.writeBytes(bytes);
      if (last) {
        String base64 = Base64.getEncoder().encodeToString(binary.toByteArray());
        events.add(event("message").put("type", "binary").put("data", base64));
        binary.reset();
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket ws, ByteBuffer message) {
      events.add(event("ping")); // the JDK sends the pong itself, whatever the listener does
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      events.add(event("close").put("code", statusCode).put("reason", reason));
      return null; // the JDK then echoes the close with the same code
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      events.add(event("error").putNull("status").put("message", String.valueOf(error)));
    }
  }
}

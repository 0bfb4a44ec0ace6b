package io.regcast.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;

/**
 * A WebSocket client under test, seen through the events it reports — the JSON lines the clients
 * in {@code src/e2e/clients/} print, one object per event:
 *
 * <ul>
 *   <li>{@code {"event":"open","connectionId":"…"}} (null when the client cannot see the header)
 *   <li>{@code {"event":"message","type":"text","data":"…"}} / {@code "type":"binary"}, data base64
 *   <li>{@code {"event":"close","code":1000,"reason":"…"}}
 *   <li>{@code {"event":"error","status":404,"message":"…"}} — the upgrade was refused (status) or
 *       failed (status null)
 *   <li>{@code {"event":"ping"}} — a ping arrived (the client's library answers it with a pong);
 *       counted, never returned by {@link #next}
 * </ul>
 *
 * {@link #close} ends the client whatever its state (kills its process, aborts its socket).
 */
public interface WsClient extends AutoCloseable {

  /** e.g. "node ws" — for failure messages. */
  String kind();

  /**
   * The next event other than a ping, waiting at most {@code deadline}; an AssertionError naming
   * what came so far if none.
   */
  JsonNode next(Duration deadline);

  /** Waits until the client has received at least {@code count} pings since it connected. */
  void awaitPings(int count, Duration deadline);

  /** The next event, after asserting it is a {@code event} event. */
  default JsonNode expect(String event, Duration deadline) {
    JsonNode next = next(deadline);
    if (!event.equals(next.path("event").asText())) {
      throw new AssertionError(kind() + ": expected a '" + event + "' event, got " + next + details());
    }
    return next;
  }

  /** Whatever helps a failure message (e.g. the process's stderr), starting with a newline; or "". */
  default String details() {
    return "";
  }

  @Override
  void close();
}

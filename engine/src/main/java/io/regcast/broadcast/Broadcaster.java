package io.regcast.broadcast;

import io.regcast.gateway.GatewayDirectory;
import io.regcast.gateway.PathKey;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;

/** How a trigger sends a batch: to the path's log, which numbers, stores and broadcasts it. */
@FunctionalInterface
public interface Broadcaster {
  /**
   * Appends a trigger's batch, rendered as {@code messages}, to the path's log: each message gets
   * the path's next position, is stored, then goes out to every node. The batch holds the
   * trigger's events {@code firstOrdinal..lastOrdinal} (its own running count of batched events).
   * Completes with the highest ordinal of this trigger the log holds for the path: {@code
   * lastOrdinal} once stored, or what it held already when the batch (or a part of it) was
   * appended before — a trigger that re-sends after a crash creates no duplicate. {@code
   * ingestedAtMillis} (epoch; 0 = none): when the ingest request of the oldest event was taken.
   */
  CompletionStage<Long> append(
      PathKey path, String triggerId, long firstOrdinal, long lastOrdinal, List<byte[]> messages, long ingestedAtMillis);

  /** Appending to the path's {@link PathLog} entity, with the gateway's retention as this node knows it. */
  static Broadcaster toLogs(ActorSystem<?> system, GatewayDirectory directory, Duration timeout) {
    return (path, triggerId, firstOrdinal, lastOrdinal, messages, ingestedAtMillis) ->
        PathLog.ref(system, path)
            .<PathLog.Appended>ask(
                replyTo -> new PathLog.Append(triggerId, firstOrdinal, lastOrdinal, messages, ingestedAtMillis,
                    directory.history(path.gatewayId()), replyTo),
                timeout)
            .thenApply(PathLog.Appended::upToOrdinal);
  }
}

package io.regcast.broadcast;

import io.regcast.gateway.PathKey;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Sends one message to every connection on a gateway path, cluster-wide. {@code ingestedAtMillis}
 * (epoch; 0 = none) is when the ingest request of the message's oldest event was taken: the start
 * of the ingest-to-socket latency.
 */
@FunctionalInterface
public interface Broadcaster {
  void publish(PathKey path, boolean text, byte[] payload, long ingestedAtMillis);

  /**
   * Publishes, completing once the message is in this node's connections' write queues and on
   * its way to the other nodes: what a trigger waits for before it records a batch as sent.
   */
  default CompletionStage<Done> publishConfirmed(PathKey path, boolean text, byte[] payload, long ingestedAtMillis) {
    publish(path, text, payload, ingestedAtMillis);
    return CompletableFuture.completedFuture(Done.getInstance());
  }

  /**
   * Appends a trigger's batch, rendered as {@code messages}, to the path's log: each message gets
   * the path's next position, is stored, then goes out to every node. The batch holds the
   * trigger's events {@code firstOrdinal..lastOrdinal} (its own running count of batched events).
   * Completes with the highest ordinal of this trigger the log holds for the path: {@code
   * lastOrdinal} once stored, or what it held already when the batch (or a part of it) was
   * appended before — a trigger that re-sends after a crash creates no duplicate.
   */
  default CompletionStage<Long> append(
      PathKey path, String triggerId, long firstOrdinal, long lastOrdinal, List<byte[]> messages, long ingestedAtMillis) {
    List<CompletableFuture<Done>> sent = messages.stream()
        .map(m -> publishConfirmed(path, true, m, ingestedAtMillis).toCompletableFuture())
        .toList();
    return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).thenApply(v -> lastOrdinal);
  }

  /** Publishing through this node's hub. */
  static Broadcaster via(ActorSystem<?> system, ActorRef<PathHub.Command> hub, Duration timeout) {
    return new Broadcaster() {
      @Override
      public void publish(PathKey path, boolean text, byte[] payload, long ingestedAtMillis) {
        hub.tell(new PathHub.Publish(path, text, payload, ingestedAtMillis, null));
      }

      @Override
      public CompletionStage<Done> publishConfirmed(PathKey path, boolean text, byte[] payload, long ingestedAtMillis) {
        return AskPattern.ask(
            hub, r -> new PathHub.Publish(path, text, payload, ingestedAtMillis, r), timeout, system.scheduler());
      }
    };
  }
}

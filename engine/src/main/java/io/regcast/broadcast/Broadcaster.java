package io.regcast.broadcast;

import io.regcast.gateway.PathKey;
import java.time.Duration;
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

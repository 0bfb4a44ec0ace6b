package io.regcast.broadcast;

import io.regcast.gateway.PathKey;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/** Sends one message to every connection on a gateway path, cluster-wide. */
@FunctionalInterface
public interface Broadcaster {
  void publish(PathKey path, boolean text, byte[] payload);

  /**
   * Publishes, completing once the message is in this node's connections' write queues and on
   * its way to the other nodes: what a trigger waits for before it records a batch as sent.
   */
  default CompletionStage<Done> publishConfirmed(PathKey path, boolean text, byte[] payload) {
    publish(path, text, payload);
    return CompletableFuture.completedFuture(Done.getInstance());
  }

  /** Publishing through this node's hub. */
  static Broadcaster via(ActorSystem<?> system, ActorRef<PathHub.Command> hub, Duration timeout) {
    return new Broadcaster() {
      @Override
      public void publish(PathKey path, boolean text, byte[] payload) {
        hub.tell(new PathHub.Publish(path, text, payload, null));
      }

      @Override
      public CompletionStage<Done> publishConfirmed(PathKey path, boolean text, byte[] payload) {
        return AskPattern.ask(hub, r -> new PathHub.Publish(path, text, payload, r), timeout, system.scheduler());
      }
    };
  }
}

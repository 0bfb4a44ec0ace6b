package io.regcast.broadcast;

import io.regcast.gateway.PathKey;
import org.apache.pekko.actor.typed.ActorRef;

/** Sends one message to every connection on a gateway path, cluster-wide (fire and forget). */
@FunctionalInterface
public interface Broadcaster {
  void publish(PathKey path, boolean text, byte[] payload);

  /** Publishing through this node's hub. */
  static Broadcaster via(ActorRef<PathHub.Command> hub) {
    return (path, text, payload) -> hub.tell(new PathHub.Publish(path, text, payload));
  }
}

package io.regcast.delivery;

import io.regcast.model.CrEvent;
import io.regcast.model.JsonSerializable;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;

/** The messages and the two ports of the delivery protocol. */
public final class Delivery {
  private Delivery() {}

  /** An event with its registry-wide sequence number. */
  public record Sequenced(long seq, CrEvent event) implements JsonSerializable {}

  /** The trigger holds every event of the registry up to {@code upToSeq}. */
  public record Ack(String triggerId, long upToSeq) implements JsonSerializable {}

  /** How a registry hands events to a trigger (the node wires it to the trigger's entity). */
  public interface ToTrigger {
    /**
     * Sends {@code events} (consecutive sequence numbers) to a trigger. {@code held} is what the
     * registry knows the trigger holds or is not owed: every event up to it was acknowledged by
     * the trigger or came before its subscription. The events need not follow {@code held} at
     * once — a registry sends what is new after its last delivery without waiting for the ack —
     * so a trigger that holds neither {@code held} nor its own watermark right before the first
     * event has missed an earlier delivery (see the trigger's gap check).
     */
    void deliver(String triggerId, String registryId, long held, List<Sequenced> events, ActorRef<Ack> ackTo);
  }

  /** How a trigger (un)subscribes from a registry (the node wires it to the registry's entity). */
  public interface ToRegistry {
    CompletionStage<Done> subscribe(String registryId, String triggerId);

    CompletionStage<Done> unsubscribe(String registryId, String triggerId);
  }
}

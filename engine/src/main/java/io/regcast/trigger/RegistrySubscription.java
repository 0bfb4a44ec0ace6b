package io.regcast.trigger;

import io.regcast.delivery.Delivery;
import io.regcast.trigger.TriggerEntity.Applied;
import io.regcast.trigger.TriggerEntity.Command;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * A trigger entity's subscription to the registry of its current definition (not persisted: made
 * again at start). Asked for on a change and retried until the registry confirms; configures that
 * changed the registry are answered then, so events ingested after the answer reach the trigger.
 */
final class RegistrySubscription {
  private final String triggerId;
  private final Delivery.ToRegistry registries;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final Duration retry;
  /** The registry with a confirmed subscription. */
  private String subscribedTo;
  private final List<ActorRef<Applied>> awaiting = new ArrayList<>();

  RegistrySubscription(String triggerId, Delivery.ToRegistry registries, ActorContext<Command> context,
      TimerScheduler<Command> timers, Duration retry) {
    this.triggerId = triggerId;
    this.registries = registries;
    this.context = context;
    this.timers = timers;
    this.retry = retry;
  }

  boolean confirmed(String registryId) {
    return registryId.equals(subscribedTo);
  }

  /** Makes sure {@code registryId} sends its events here; {@code replyTo} is answered once it does. */
  void subscribe(String registryId, ActorRef<Applied> replyTo) {
    awaiting.add(replyTo);
    subscribe(registryId);
  }

  void subscribe(String registryId) {
    if (confirmed(registryId)) {
      return;
    }
    context.pipeToSelf(
        registries.subscribe(registryId, triggerId),
        (done, failure) -> new TriggerEntity.SubscriptionChanged(registryId, failure == null, String.valueOf(failure)));
  }

  /** A registry answered; {@code current} is the definition's registry now (null once removed). */
  void changed(TriggerEntity.SubscriptionChanged changed, String current, long revision) {
    if (!changed.registryId().equals(current)) {
      // A late answer for a registry the trigger has moved away from.
      if (changed.subscribed()) {
        registries.unsubscribe(changed.registryId(), triggerId);
      }
      return;
    }
    // Answer waiting configures either way: the definition is stored, and subscribing goes on.
    answerWaiting(revision);
    if (changed.subscribed()) {
      String previous = subscribedTo;
      subscribedTo = current;
      if (previous != null && !previous.equals(current)) {
        registries.unsubscribe(previous, triggerId);
      }
    } else {
      context.getLog().warn("Trigger {} could not subscribe to registry {} ({}); retrying in {}",
          triggerId, changed.registryId(), changed.failure(), retry);
      timers.startSingleTimer(TriggerEntity.Resubscribe.INSTANCE, retry);
    }
  }

  /** The trigger was removed at {@code revision}: its registry stops sending, nobody waits any more. */
  void release(long revision) {
    timers.cancel(TriggerEntity.Resubscribe.INSTANCE);
    if (subscribedTo != null) {
      registries.unsubscribe(subscribedTo, triggerId);
      subscribedTo = null;
    }
    answerWaiting(revision);
  }

  private void answerWaiting(long revision) {
    awaiting.forEach(r -> r.tell(new Applied(triggerId, revision)));
    awaiting.clear();
  }
}

package io.regcast.trigger;

import io.regcast.broadcast.Broadcaster;
import io.regcast.gateway.PathKey;
import io.regcast.metrics.Metrics;
import io.regcast.model.BroadcastTarget;
import io.regcast.model.CrEvent;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;

/**
 * Renders a trigger's batch and appends it to its path's log — unless the service account lost
 * the right to broadcast: then the batch is dropped (the one documented loss), counted, logged once
 * until access returns, and answered as held so the outbox moves on.
 */
final class BatchAppender {
  /** The log holds the trigger's events up to {@code upTo}; {@code messages} is 0 for a dropped batch. */
  record Answer(long upTo, int messages) {}

  private final String triggerId;
  private final Broadcaster broadcaster;
  private final TriggerEntity.BroadcastPermission permission;
  private final Metrics metrics;
  private final int maxMessageBytes;
  private final Logger log;
  private boolean accessDenied;

  BatchAppender(String triggerId, Broadcaster broadcaster, TriggerEntity.BroadcastPermission permission,
      Metrics metrics, int maxMessageBytes, Logger log) {
    this.triggerId = triggerId;
    this.broadcaster = broadcaster;
    this.permission = permission;
    this.metrics = metrics;
    this.maxMessageBytes = maxMessageBytes;
    this.log = log;
  }

  CompletionStage<Answer> append(Outbox.Batch batch) {
    BroadcastTarget target = batch.target();
    if (!mayBroadcast(target)) {
      metrics.batchRefused();
      return CompletableFuture.completedFuture(new Answer(batch.lastOrdinal(), 0));
    }
    List<byte[]> messages = MessageRenderer.render(batch.events(), maxMessageBytes);
    return broadcaster
        .append(new PathKey(target.gatewayId(), target.path()), triggerId, batch.firstOrdinal(), batch.lastOrdinal(),
            messages, oldestIngest(batch.events()))
        .thenApply(upTo -> new Answer(upTo, messages.size()));
  }

  private boolean mayBroadcast(BroadcastTarget target) {
    boolean allowed = permission.allows(target.serviceAccountId(), target.gatewayId());
    if (allowed == accessDenied) {
      accessDenied = !allowed;
      if (allowed) {
        log.info("Trigger {}: service account {} may broadcast again", triggerId, target.serviceAccountId());
      } else {
        log.warn("Trigger {}: service account {} may not broadcast to gateway {} (api-gateway.websocketBroadcaster);"
                + " its batches are dropped until the role is granted again",
            triggerId, target.serviceAccountId(), target.gatewayId());
      }
    }
    return allowed;
  }

  /** When the ingest request of the batch's oldest event was taken (epoch ms; 0 when none is known). */
  private static long oldestIngest(List<CrEvent> events) {
    return events.stream().map(CrEvent::ingestedAt).filter(Objects::nonNull).mapToLong(Instant::toEpochMilli)
        .min().orElse(0);
  }
}

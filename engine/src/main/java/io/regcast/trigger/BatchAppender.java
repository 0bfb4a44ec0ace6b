package io.regcast.trigger;

import io.regcast.broadcast.Broadcaster;
import io.regcast.gateway.PathKey;
import io.regcast.metrics.Metrics;
import io.regcast.model.BroadcastTarget;
import io.regcast.model.CrEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;

/**
 * Renders a trigger's due batches and appends them to their path's log — unless the service
 * account lost the right to broadcast: then they are dropped (the one documented loss), counted,
 * logged once until access returns, and answered as held so the outbox moves on.
 *
 * <p>One append carries the messages of several due batches (a backlog shares one commit), up to
 * {@link #APPEND_BYTES}: an append crosses nodes in one remoting frame. It takes at least one
 * message; what does not fit goes in the next append.
 */
final class BatchAppender {
  /** Most batches rendered for one append. */
  static final int MAX_BATCHES = 100;
  /** Most message bytes in one append (but at least one message). */
  static final int APPEND_BYTES = 160 * 1024;

  /**
   * The log holds the trigger's events up to {@code upTo} after an append of {@code
   * firstOrdinal..lastOrdinal} ({@code messages} messages; 0 for a dropped batch).
   */
  record Answer(long firstOrdinal, long lastOrdinal, long upTo, int messages) {}

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

  CompletionStage<Answer> append(Outbox.Batch due) {
    BroadcastTarget target = due.target();
    if (!mayBroadcast(target)) {
      metrics.batchRefused();
      return CompletableFuture.completedFuture(new Answer(due.firstOrdinal(), due.lastOrdinal(), due.lastOrdinal(), 0));
    }
    List<byte[]> messages = new ArrayList<>();
    List<int[]> batches = new ArrayList<>(); // events and messages of each batch (or part) taken
    int bytes = 0;
    int covered = 0;
    List<CrEvent> events = due.events();
    fill:
    for (int from = 0; from < events.size(); from += due.size()) {
      int inBatch = 0;
      int messagesBefore = messages.size();
      for (MessageRenderer.Rendered m : MessageRenderer.renderCounted(
          events.subList(from, Math.min(events.size(), from + due.size())), maxMessageBytes)) {
        if (!messages.isEmpty() && bytes + m.bytes().length > APPEND_BYTES) {
          batches.add(new int[] {inBatch, messages.size() - messagesBefore});
          break fill;
        }
        messages.add(m.bytes());
        bytes += m.bytes().length;
        inBatch += m.events();
        covered += m.events();
      }
      batches.add(new int[] {inBatch, messages.size() - messagesBefore});
    }
    long first = due.firstOrdinal();
    long last = first + covered - 1;
    return broadcaster
        .append(new PathKey(target.gatewayId(), target.path()), triggerId, first, last, messages,
            oldestIngest(events.subList(0, covered)))
        .thenApply(upTo -> {
          if (upTo >= last) {
            batches.stream().filter(b -> b[0] > 0).forEach(b -> metrics.batchSent(b[0], b[1]));
          }
          return new Answer(first, last, upTo, messages.size());
        });
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

package io.regcast.trigger;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.regcast.model.ContainerRegistryRule;
import io.regcast.model.CrEvent;
import io.regcast.model.JsonSerializable;
import io.regcast.model.Trigger;
import io.regcast.model.TriggerStatus;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A trigger entity's state: the trigger (null before its first definition and after removal), its
 * watermark per registry, and what it has batched and not had confirmed ({@link Outbox}).
 */
public record TriggerState(Trigger trigger, long revision, boolean removed, Map<String, Long> watermarks, Outbox outbox)
    implements JsonSerializable {
  static final TriggerState EMPTY = new TriggerState(null, 0, false, Map.of(), Outbox.EMPTY);

  public TriggerState {
    watermarks = Map.copyOf(watermarks);
  }

  /**
   * From a snapshot; one written before the outbox holds {@code batch} and {@code batchOpenedAt}
   * instead: the open batch, of which nothing was sent yet.
   */
  @JsonCreator
  static TriggerState fromSnapshot(
      @JsonProperty("trigger") Trigger trigger,
      @JsonProperty("revision") long revision,
      @JsonProperty("removed") boolean removed,
      @JsonProperty("watermarks") Map<String, Long> watermarks,
      @JsonProperty("outbox") Outbox outbox,
      @JsonProperty("batch") List<CrEvent> batch,
      @JsonProperty("batchOpenedAt") Instant batchOpenedAt) {
    Outbox pending = outbox != null ? outbox
        : batch == null || batch.isEmpty() ? Outbox.EMPTY
        : new Outbox(0, List.of(), batch, batchOpenedAt);
    return new TriggerState(trigger, revision, removed, watermarks == null ? Map.of() : watermarks, pending);
  }

  boolean unconfigured() {
    return trigger == null && !removed;
  }

  boolean active() {
    return trigger != null && trigger.status() == TriggerStatus.ACTIVE;
  }

  boolean paused() {
    return trigger != null && trigger.status() == TriggerStatus.PAUSED;
  }

  long watermark(String registryId) {
    return watermarks.getOrDefault(registryId, 0L);
  }

  /** The batch to send now, if any: without a definition only closed batches are left. */
  Optional<Outbox.Batch> nextBatch(boolean cutoffReached) {
    return trigger == null
        ? outbox.nextClosed(BatchAppender.MAX_BATCHES)
        : outbox.next(rule().target(), rule().batchSettings().size(), cutoffReached, BatchAppender.MAX_BATCHES);
  }

  ContainerRegistryRule rule() {
    return trigger.definition().rule();
  }

  TriggerState configured(TriggerEntity.Configured e) {
    return new TriggerState(e.trigger(), e.trigger().revision(), false, watermarks,
        e.closesOpenBatch() ? closedOpenBatch() : outbox);
  }

  TriggerState afterRemoval(TriggerEntity.Removed e) {
    return new TriggerState(null, e.revision(), true, Map.of(), closedOpenBatch());
  }

  /** An open batch exists only under a definition: it is closed with that one's target and size. */
  private Outbox closedOpenBatch() {
    return outbox.open().isEmpty() ? outbox : outbox.closeOpen(rule().target(), rule().batchSettings().size());
  }

  TriggerState received(TriggerEntity.EventsReceived e) {
    Map<String, Long> marks = new HashMap<>(watermarks);
    marks.merge(e.registryId(), e.upToSeq(), Math::max);
    return new TriggerState(trigger, revision, removed, marks, outbox.received(e.matched(), e.at()));
  }

  TriggerState sent(long upTo, Instant at) {
    return new TriggerState(trigger, revision, removed, watermarks, outbox.sent(upTo, at));
  }
}

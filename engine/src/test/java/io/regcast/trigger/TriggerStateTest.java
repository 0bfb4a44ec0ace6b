package io.regcast.trigger;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.model.CrEvent;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TriggerStateTest {
  private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules();

  @Test
  void readsASnapshotWrittenBeforeTheOutboxAsAnOpenBatchNothingOfWhichWasSent() throws Exception {
    List<CrEvent> batch = List.of(CrEvents.numbered(1), CrEvents.numbered(2));
    Instant opened = Instant.parse("2026-11-30T10:00:00Z");
    ObjectNode old = JSON.createObjectNode();
    old.putNull("trigger");
    old.put("revision", 3);
    old.put("removed", false);
    old.putObject("watermarks").put(CrEvents.REGISTRY, 7);
    old.set("batch", JSON.valueToTree(batch));
    old.put("batchOpenedAt", opened.toString());

    TriggerState state = JSON.treeToValue(old, TriggerState.class);

    assertEquals(new TriggerState(null, 3, false, Map.of(CrEvents.REGISTRY, 7L), new Outbox(0, List.of(), batch, opened)),
        state);
  }

  @Test
  void roundTripsAStateWithAnOutbox() throws Exception {
    TriggerState state = new TriggerState(null, 2, true, Map.of(),
        new Outbox(4, List.of(new Outbox.Closed(CrEvents.target(), 5, List.of(CrEvents.numbered(5)))), List.of(), null));
    assertEquals(state, JSON.readValue(JSON.writeValueAsBytes(state), TriggerState.class));
  }
}

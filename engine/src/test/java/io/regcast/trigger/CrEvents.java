package io.regcast.trigger;

import io.regcast.delivery.Delivery;
import io.regcast.model.BatchSettings;
import io.regcast.model.BroadcastTarget;
import io.regcast.model.ContainerRegistryRule;
import io.regcast.model.CrEvent;
import io.regcast.model.EventType;
import io.regcast.model.TraceContext;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** CR events, rules and targets for the trigger tests; each test changes the part it is about. */
final class CrEvents {
  private CrEvents() {}

  static final String REGISTRY = "crt2504s000000000001";
  static final String OTHER_REGISTRY = "crt2504s000000000002";
  static final String FOLDER = "b1g88tfl000000000001";
  static final String CLOUD = "b1gvlrnl000000000001";
  static final String IMAGE_ID = "crti2c9b000000000001";
  static final String DIGEST = "sha256:45f8c2a3e6b1d0f9a8c7b6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5";
  static final Instant AT = Instant.parse("2020-09-07T11:09:14Z");
  /** The W3C trace-context example: trace id and parent span id. */
  static final TraceContext TRACE =
      new TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");

  static final List<EventType> ALL_TYPES = List.of(EventType.values());

  static BroadcastTarget target(String path) {
    return new BroadcastTarget("d4e00000000000000001", path, "aje00000000000000001");
  }

  static BroadcastTarget target() {
    return target("/ws");
  }

  /** Every event type of {@link #REGISTRY}, no image or tag filter, sent to {@link #target()}. */
  static ContainerRegistryRule rule(int size, Duration cutoff) {
    return rule(ALL_TYPES, "", "", new BatchSettings(size, cutoff), target());
  }

  static ContainerRegistryRule rule(
      List<EventType> types, String imageName, String tag, BatchSettings batch, BroadcastTarget target) {
    return new ContainerRegistryRule(types, REGISTRY, imageName, tag, batch, target);
  }

  /** An event of {@link #REGISTRY} with everything else fixed. */
  static CrEvent event(EventType type, String repository, String tag, List<String> imageTags) {
    return new CrEvent(
        "crtpk611000000000001", type, REGISTRY, FOLDER, CLOUD, repository, DIGEST, IMAGE_ID, tag,
        imageTags, AT, null, null);
  }

  /** The n-th {@code CreateImageTag} of ubuntu:latest: its own event id and time. */
  static CrEvent numbered(int n) {
    return new CrEvent(
        String.format("crtev%015d", n), EventType.CREATE_IMAGE_TAG, REGISTRY, FOLDER, CLOUD, "ubuntu",
        DIGEST, IMAGE_ID, "latest", List.of(), AT.plusSeconds(n), null, null);
  }

  /** Events numbered {@code from}..{@code to}, sequenced with their number. */
  static List<Delivery.Sequenced> sequenced(int from, int to) {
    List<Delivery.Sequenced> out = new ArrayList<>();
    for (int n = from; n <= to; n++) {
      out.add(new Delivery.Sequenced(n, numbered(n)));
    }
    return out;
  }

  static List<CrEvent> numberedRange(int from, int to) {
    return sequenced(from, to).stream().map(Delivery.Sequenced::event).toList();
  }
}

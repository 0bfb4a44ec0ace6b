package io.regcast.model;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Valid values to start from; each test changes the one part it is about. */
public final class Samples {
  private Samples() {}

  public static final Instant T0 = Instant.parse("2024-05-01T10:15:30.123456789Z");

  public static BroadcastTarget target() {
    return new BroadcastTarget("d4e00000000000000001", "/ws", "aje00000000000000001");
  }

  public static ContainerRegistryRule rule() {
    return rule("crt00000000000000001", target());
  }

  public static ContainerRegistryRule rule(String registryId, BroadcastTarget target) {
    return new ContainerRegistryRule(
        List.of(EventType.CREATE_IMAGE, EventType.CREATE_IMAGE_TAG),
        registryId,
        "ubuntu",
        "latest",
        new BatchSettings(3, Duration.ofSeconds(20)),
        target);
  }

  public static TriggerDefinition definition(String name) {
    return new TriggerDefinition(name, "a trigger", Map.of("env", "prod"), rule());
  }

  public static TriggerDefinition definition(String name, ContainerRegistryRule rule) {
    return new TriggerDefinition(name, "", Map.of(), rule);
  }
}

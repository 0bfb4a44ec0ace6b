package io.regcast.model;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What a trigger listens to (event types of one registry, optionally one image name and tag) and
 * where it sends the batches. {@code imageName} and {@code tag} are empty when not filtered.
 */
public record ContainerRegistryRule(
    List<EventType> eventTypes,
    String registryId,
    String imageName,
    String tag,
    BatchSettings batchSettings,
    BroadcastTarget target)
    implements JsonSerializable {

  /** Docker's repository name grammar (path components, optionally prefixed with the registry id). */
  private static final Pattern IMAGE_NAME =
      Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  private static final int MAX_IMAGE_NAME = 255;

  public ContainerRegistryRule {
    imageName = imageName == null ? "" : imageName;
    tag = tag == null ? "" : tag;
    batchSettings = batchSettings == null ? BatchSettings.DEFAULT : batchSettings;
    eventTypes = eventTypes == null ? List.of() : List.copyOf(new LinkedHashSet<>(eventTypes));
    Violations v = new Violations();
    check(v, eventTypes, registryId, imageName, tag);
    v.check(target != null, "gatewayWebsocketBroadcast", "is required");
    v.throwIfAny();
  }

  /** The rules for the rule's own fields (batch settings and target check themselves). */
  public static void check(
      Violations v, List<EventType> eventTypes, String registryId, String imageName, String tag) {
    v.check(!eventTypes.isEmpty(), "eventType", "must name at least one event type");
    Ids.checkReference(v, "registryId", registryId);
    v.check(
        imageName.isEmpty()
            || (imageName.length() <= MAX_IMAGE_NAME && IMAGE_NAME.matcher(imageName).matches()),
        "imageName",
        "must be a repository name such as \"ubuntu\" or \"team/app\" (lowercase, at most 255"
            + " characters)");
    v.check(
        tag.isEmpty() || TAG.matcher(tag).matches(),
        "tag",
        "must be a tag such as \"latest\" (letters, digits, '_', '.', '-', at most 128 characters)");
  }
}

package io.regcast.trigger;

import io.regcast.model.ContainerRegistryRule;
import io.regcast.model.CrEvent;
import io.regcast.model.EventType;

/**
 * Which events a trigger's rule lets through, as in the reference: its event types, and when set
 * (both must match) the image name — with or without the {@code <registryId>/} prefix — and the
 * tag. A {@code CreateImage} matches by the tag it was pushed with; a {@code DeleteImage} by any
 * tag the image had when it was deleted.
 */
final class TriggerFilter {
  private TriggerFilter() {}

  static boolean matches(ContainerRegistryRule rule, CrEvent event) {
    if (!rule.eventTypes().contains(event.type())) {
      return false;
    }
    String image = rule.imageName();
    if (!image.isEmpty()
        && !image.equals(event.repository())
        && !image.equals(event.repositoryName())) {
      return false;
    }
    String tag = rule.tag();
    if (tag.isEmpty()) {
      return true;
    }
    return event.type() == EventType.DELETE_IMAGE ? event.imageTags().contains(tag) : tag.equals(event.tag());
  }
}

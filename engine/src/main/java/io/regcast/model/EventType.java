package io.regcast.model;

import java.util.Arrays;
import java.util.Optional;

/** The four container registry event types, with their API, CLI and message names. */
public enum EventType {
  CREATE_IMAGE("CreateImage"),
  DELETE_IMAGE("DeleteImage"),
  CREATE_IMAGE_TAG("CreateImageTag"),
  DELETE_IMAGE_TAG("DeleteImageTag");

  private static final String API_PREFIX = "CONTAINER_REGISTRY_EVENT_TYPE_";
  private final String messageType;

  EventType(String shortName) {
    this.messageType = "yandex.cloud.events.containerregistry." + shortName;
  }

  /** The API enum value, e.g. {@code CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE}. */
  public String apiName() {
    return API_PREFIX + name();
  }

  /** The {@code event_type} written in messages. */
  public String messageType() {
    return messageType;
  }

  public static Optional<EventType> fromApiName(String value) {
    return Arrays.stream(values()).filter(t -> t.apiName().equals(value)).findFirst();
  }
}

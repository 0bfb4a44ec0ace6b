package io.regcast.gateway;

import io.regcast.model.JsonSerializable;

/** A WebSocket path of a gateway: where a broadcast goes. */
public record PathKey(String gatewayId, String path) implements JsonSerializable {}

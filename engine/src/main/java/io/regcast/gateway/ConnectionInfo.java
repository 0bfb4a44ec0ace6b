package io.regcast.gateway;

import io.regcast.model.JsonSerializable;
import java.time.Instant;

/** A connection as the connections API shows it (the reference's fields), from any node. */
public record ConnectionInfo(
    String id,
    String gatewayId,
    String path,
    String sourceIp,
    String userAgent,
    Instant connectedAt,
    Instant lastActiveAt)
    implements JsonSerializable {}

package io.regcast.gateway;

import io.regcast.model.JsonSerializable;
import java.time.Instant;

/** A connection as the connections API shows it (PRODUCT.md §7), from whichever node holds it. */
public record ConnectionInfo(
    String id,
    String gatewayId,
    String path,
    String sourceIp,
    String userAgent,
    Instant connectedAt,
    Instant lastActiveAt)
    implements JsonSerializable {}

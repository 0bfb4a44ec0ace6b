package io.regcast.model;

import java.time.Instant;

/**
 * An API key: only the SHA-256 of its secret is kept (the secret is a 256-bit random value shown
 * once, at creation).
 */
public record ApiKey(String id, Subject subject, String description, String secretHash, Instant createdAt)
    implements JsonSerializable {

  public static final String ID_PREFIX = "ajk";
}

package io.regcast.gateway;

/**
 * One message of a gateway path's stream: its position (contiguous and increasing per path, the
 * id resuming clients see) and the reference message bytes; {@code appendedAtMillis} (epoch) is
 * when the path's log stored it, which retention by age goes by.
 */
public record StreamEntry(long position, byte[] payload, long appendedAtMillis) {}

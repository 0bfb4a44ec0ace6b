package io.regcast.model;

/**
 * Marker for every message, event, state and reply that crosses nodes or reaches the journal;
 * bound to Jackson JSON in {@code serialization.conf}.
 */
public interface JsonSerializable {}

package io.regcast.model;

/** One reason a request was refused, naming the JSON field (dotted path) it concerns. */
public record FieldViolation(String field, String reason) implements JsonSerializable {}

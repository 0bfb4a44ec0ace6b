package io.regcast.model;

/** A role given to a subject on a resource (the resource is where the binding is stored). */
public record AccessBinding(Role roleId, Subject subject) implements JsonSerializable {}

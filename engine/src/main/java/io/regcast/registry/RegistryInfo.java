package io.regcast.registry;

import io.regcast.model.JsonSerializable;

/** Where a registry lives: what its events carry as {@code folder_id} and {@code cloud_id}. */
public record RegistryInfo(String registryId, String folderId, String cloudId) implements JsonSerializable {}

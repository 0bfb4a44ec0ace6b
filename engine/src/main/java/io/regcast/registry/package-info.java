/**
 * Registries: one sharded, event-sourced {@link io.regcast.registry.RegistryEntity} per registry
 * keeps its image index, turns raw registry operations into the four CR event types, and delivers
 * them at least once to every trigger subscribed to the registry.
 */
package io.regcast.registry;

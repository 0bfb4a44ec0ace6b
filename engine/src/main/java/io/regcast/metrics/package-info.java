/**
 * One node's metrics: every counter and histogram regcast records, defined in one place, kept in
 * a registry of the node's own (several nodes may share a JVM in tests), and rendered as
 * Prometheus text for {@code GET /metrics}. README's "Metrics" section lists them.
 */
package io.regcast.metrics;

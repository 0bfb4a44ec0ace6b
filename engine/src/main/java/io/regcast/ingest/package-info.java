/**
 * Ingest: what a registry sends, turned into raw registry operations. CNCF Distribution
 * notification envelopes (manifest pushes and deletes, tag deletes; blob, pull and mount events are
 * ignored) and already-typed CR events. Parsing is strict about what it uses and reports every bad
 * field at once; nothing is half-applied.
 */
package io.regcast.ingest;

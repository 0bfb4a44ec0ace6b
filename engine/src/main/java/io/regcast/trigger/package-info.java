/**
 * The trigger's runtime, one sharded, event-sourced, remembered entity per trigger. It holds the
 * definition and status the catalog hands it (newest revision wins); batching and delivery build
 * on it.
 */
package io.regcast.trigger;

/**
 * The node: reads and validates settings, prepares the journal's schema, starts the actor system
 * as a cluster member, starts sharding and the API, and stops it all in order.
 */
package io.regcast.node;

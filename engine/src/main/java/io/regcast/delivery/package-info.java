/**
 * The registry → trigger at-least-once protocol: a registry numbers its derived events and sends
 * them to each subscribed trigger until the trigger acknowledges them; the trigger drops what is
 * at or below its watermark. The two sides reach each other only through the interfaces here,
 * wired by the node, so neither package depends on the other.
 */
package io.regcast.delivery;

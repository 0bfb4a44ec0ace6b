/**
 * The admin API over Pekko HTTP: routes per resource, the JSON shape of every resource (defined
 * once, here), and the one mapping from problems to HTTP statuses and error bodies.
 */
package io.regcast.api;

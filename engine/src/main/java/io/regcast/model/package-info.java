/**
 * Immutable domain values shared by every other package: resource and trigger definitions, ids,
 * event types, operations and problems. Validation of a value lives in its constructor, so an
 * instance that exists is valid; field names in violations are the API's JSON field names.
 */
package io.regcast.model;

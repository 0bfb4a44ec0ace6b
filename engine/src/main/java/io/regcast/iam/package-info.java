/**
 * Identity and access: API key secrets (generated, hashed), the node's mirror of the catalog's
 * keys, bindings and resource tree ({@link io.regcast.iam.AccessView}), and the role checks (the
 * reference's roles and what they include) answered from it without asking the catalog.
 */
package io.regcast.iam;

/**
 * The catalog: the one owner of every resource definition (clouds, folders, registries, gateways,
 * service accounts, triggers), of name uniqueness and of references between resources, and of the
 * operations log. It hands each trigger's definition to that trigger's own entity and makes sure
 * the entity got it.
 */
package io.regcast.catalog;

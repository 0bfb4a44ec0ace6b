package io.regcast.iam;

import io.regcast.catalog.CatalogEntity;

/**
 * This node's copy of the catalog's access data, replaced whole with every copy the node's access
 * feed ({@link io.regcast.catalog.CatalogFeed#ACCESS}) hands it; read without locking.
 */
public final class AccessMirror {
  private volatile AccessView view = AccessView.EMPTY;
  private volatile boolean loaded;

  public AccessView view() {
    return view;
  }

  /** Whether the catalog's data has arrived at least once. */
  public boolean loaded() {
    return loaded;
  }

  public void update(CatalogEntity.Access access) {
    view = new AccessView(access.snapshot());
    loaded = true;
  }
}

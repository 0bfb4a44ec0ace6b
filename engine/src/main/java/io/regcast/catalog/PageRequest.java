package io.regcast.catalog;

import io.regcast.model.JsonSerializable;

/** One page of a list: at most {@code size} items after the item whose id is {@code afterId}. */
public record PageRequest(int size, String afterId) implements JsonSerializable {

  public PageRequest {
    if (size < 1) {
      throw new IllegalArgumentException("page size must be positive");
    }
    afterId = afterId == null ? "" : afterId;
  }
}

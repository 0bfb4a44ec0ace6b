package io.regcast.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Collects every violation of a value before refusing it, so a caller learns all that is wrong in
 * one answer. Nested values are built through {@link #nested}, which prefixes their field names.
 */
public final class Violations {
  private final List<FieldViolation> found = new ArrayList<>();

  public Violations add(String field, String reason) {
    found.add(new FieldViolation(field, reason));
    return this;
  }

  /** Records {@code reason} for {@code field} unless {@code ok}; returns {@code ok}. */
  public boolean check(boolean ok, String field, String reason) {
    if (!ok) {
      add(field, reason);
    }
    return ok;
  }

  /** Builds a nested value; on failure records its violations under {@code prefix} and returns null. */
  public <T> T nested(String prefix, Supplier<T> build) {
    try {
      return build.get();
    } catch (ProblemException e) {
      e.problem().details().forEach(d -> found.add(d.prefixed(prefix)));
      return null;
    }
  }

  public boolean isEmpty() {
    return found.isEmpty();
  }

  public void throwIfAny() {
    if (!found.isEmpty()) {
      throw Problem.invalid(found).toException();
    }
  }
}

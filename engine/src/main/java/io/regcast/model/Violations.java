package io.regcast.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Collects every violation of a value before refusing it, so a caller learns all that is wrong in
 * one answer (one reason per field: the first found). {@link #under} gives a view that records
 * into the same list with a field prefix, for nested values.
 */
public final class Violations {
  private final List<FieldViolation> found;
  private final String prefix;

  public Violations() {
    this(new ArrayList<>(), "");
  }

  private Violations(List<FieldViolation> found, String prefix) {
    this.found = found;
    this.prefix = prefix;
  }

  /** A view recording into the same list, with field names under {@code path}. */
  public Violations under(String path) {
    return new Violations(found, join(prefix, path));
  }

  public Violations add(String field, String reason) {
    String name = join(prefix, field);
    if (found.stream().noneMatch(f -> f.field().equals(name))) {
      found.add(new FieldViolation(name, reason));
    }
    return this;
  }

  /** Records {@code reason} for {@code field} unless {@code ok}; returns {@code ok}. */
  public boolean check(boolean ok, String field, String reason) {
    if (!ok) {
      add(field, reason);
    }
    return ok;
  }

  /** Builds a value; on failure records its violations (under this view's prefix) and returns null. */
  public <T> T attempt(Supplier<T> build) {
    try {
      return build.get();
    } catch (ProblemException e) {
      e.problem().details().forEach(d -> add(d.field(), d.reason()));
      return null;
    }
  }

  public boolean isEmpty() {
    return found.isEmpty();
  }

  public void throwIfAny() {
    if (!found.isEmpty()) {
      throw Problem.invalid(List.copyOf(found)).toException();
    }
  }

  private static String join(String parent, String field) {
    if (parent.isEmpty()) {
      return field;
    }
    return field.isEmpty() ? parent : field.startsWith("[") ? parent + field : parent + "." + field;
  }
}

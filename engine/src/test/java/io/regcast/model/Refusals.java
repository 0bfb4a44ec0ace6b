package io.regcast.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/** Test helpers: catch the {@link Problem} a constructor refuses with and name its violations. */
public final class Refusals {
  private Refusals() {}

  /** The problem {@code build} refuses with; fails the test when it builds a value instead. */
  public static Problem refusal(Supplier<?> build) {
    Object built;
    try {
      built = build.get();
    } catch (ProblemException e) {
      return e.problem();
    }
    return fail("expected a refusal, but built " + built);
  }

  /** Asserts the problem is INVALID_ARGUMENT and holds exactly one violation of that field. */
  public static FieldViolation assertSingleViolation(Problem problem, String field, String reason) {
    assertEquals(Problem.Kind.INVALID_ARGUMENT, problem.kind(), problem::toString);
    assertEquals(1, problem.details().size(), () -> "violations: " + describe(problem.details()));
    return assertViolation(problem, field, reason);
  }

  /** Asserts the problem holds a violation of {@code field} whose reason contains {@code reason}. */
  public static FieldViolation assertViolation(Problem problem, String field, String reason) {
    return problem.details().stream()
        .filter(d -> d.field().equals(field) && d.reason().contains(reason))
        .findFirst()
        .orElseGet(
            () ->
                fail(
                    "no violation of "
                        + field
                        + " containing \""
                        + reason
                        + "\"; got "
                        + describe(problem.details())));
  }

  public static void assertFields(Problem problem, String... fields) {
    assertEquals(
        List.of(fields).stream().sorted().toList(),
        problem.details().stream().map(FieldViolation::field).sorted().toList(),
        () -> describe(problem.details()));
  }

  public static void assertMessageContains(Problem problem, String part) {
    assertTrue(problem.message().contains(part), () -> "message: " + problem.message());
  }

  public static String describe(List<FieldViolation> details) {
    return details.stream()
        .map(d -> d.field() + " (" + d.reason() + ")")
        .collect(Collectors.joining("; ", "[", "]"));
  }

  public static String repeat(char c, int n) {
    return String.valueOf(c).repeat(n);
  }
}

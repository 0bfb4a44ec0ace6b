package io.regcast.model;

import static io.regcast.model.Refusals.assertSingleViolation;
import static io.regcast.model.Refusals.refusal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ViolationsTest {

  private static Problem thrown(Violations v) {
    return refusal(() -> { v.throwIfAny(); return "nothing thrown"; });
  }

  private static List<String> fields(Problem problem) {
    return problem.details().stream().map(FieldViolation::field).toList();
  }

  @Test
  void noViolationsMeansNothingIsThrown() {
    Violations v = new Violations();
    assertTrue(v.check(true, "name", "unused"));
    assertTrue(v.isEmpty());
    v.throwIfAny();
  }

  @Test
  void checkReturnsWhetherTheConditionHeld() {
    Violations v = new Violations();
    assertFalse(v.check(false, "name", "is required"));
    assertFalse(v.isEmpty());
  }

  @Test
  void collectsSeveralViolationsInTheOrderFoundAndThrowsThemAsOneInvalidArgument() {
    Violations v = new Violations();
    v.check(false, "name", "is required");
    v.check(true, "description", "unused");
    v.add("labels.env", "value must be short");
    v.check(false, "rule", "is required");

    ProblemException e = assertThrows(ProblemException.class, v::throwIfAny);
    assertEquals(Problem.Kind.INVALID_ARGUMENT, e.problem().kind());
    assertEquals(
        List.of(
            new FieldViolation("name", "is required"),
            new FieldViolation("labels.env", "value must be short"),
            new FieldViolation("rule", "is required")),
        e.problem().details());
    assertEquals("the request has 3 invalid fields", e.problem().message());
    assertEquals(e.problem().message(), e.getMessage());
  }

  @Test
  void keepsOnlyTheFirstReasonForAField() {
    Violations v = new Violations();
    v.add("name", "is required");
    v.add("name", "must be 3-63 characters");
    assertEquals(List.of(new FieldViolation("name", "is required")), thrown(v).details());
  }

  @Test
  void aSingleViolationIsTheMessageItself() {
    Violations v = new Violations();
    v.add("name", "is required");
    assertEquals("name: is required", thrown(v).message());
  }

  @Test
  void aSingleViolationWithoutFieldIsJustTheReason() {
    assertEquals("body is empty", Problem.invalid("", "body is empty").message());
  }

  @Test
  void aViewUnderAPathPrefixesItsFieldsAndRecordsIntoTheSameList() {
    Violations v = new Violations();
    v.add("name", "is required");
    Violations target = v.under("rule").under("containerRegistry").under("gatewayWebsocketBroadcast");
    BroadcastTarget.check(target, null, "ws", "aje1");

    Problem problem = thrown(v);
    assertEquals(3, problem.details().size());
    Refusals.assertViolation(problem, "name", "is required");
    Refusals.assertViolation(
        problem, "rule.containerRegistry.gatewayWebsocketBroadcast.gatewayId", "is required");
    Refusals.assertViolation(
        problem, "rule.containerRegistry.gatewayWebsocketBroadcast.path", "absolute path");
    assertFalse(target.isEmpty());
  }

  @Test
  void indexesJoinWithoutADot() {
    Violations v = new Violations();
    v.under("websocketPaths").add("[2]", "is bad");
    v.under("labels").add("", "too many");
    assertEquals(List.of("websocketPaths[2]", "labels"), fields(thrown(v)));
  }

  @Test
  void attemptRecordsTheViolationsOfAFailedValueUnderTheViewsPrefix() {
    Violations v = new Violations();
    Object built =
        v.under("rule.containerRegistry")
            .attempt(() -> new ContainerRegistryRule(List.of(), "crt1", "", "", null, null));
    assertNull(built);
    assertEquals(
        List.of("rule.containerRegistry.eventType", "rule.containerRegistry.gatewayWebsocketBroadcast"),
        fields(thrown(v)));
  }

  @Test
  void attemptReturnsTheValueWhenItIsValid() {
    Violations v = new Violations();
    BroadcastTarget target = Samples.target();
    assertSame(target, v.under("x").attempt(() -> target));
    assertTrue(v.isEmpty());
  }

  @Test
  void attemptWithoutPrefixLeavesFieldsAlone() {
    Violations v = new Violations();
    v.attempt(() -> new BroadcastTarget("d4e1", "/ws", ""));
    assertSingleViolation(thrown(v), "serviceAccountId", "is required");
  }

  @Test
  void attemptDoesNotSwallowOtherExceptions() {
    Violations v = new Violations();
    assertThrows(
        IllegalStateException.class,
        () -> v.attempt(() -> { throw new IllegalStateException("boom"); }));
    assertTrue(v.isEmpty());
  }

  @Test
  void theThrownProblemIsASnapshotNotAffectedByLaterViolations() {
    Violations v = new Violations();
    v.add("a", "b");
    Problem first = thrown(v);
    v.add("c", "d");
    assertEquals(1, first.details().size());
  }

  @Test
  void problemDetailsAreCopiedAndImmutable() {
    List<FieldViolation> details = new ArrayList<>();
    details.add(new FieldViolation("a", "b"));
    Problem problem = Problem.invalid(details);
    details.clear();
    assertEquals(1, problem.details().size());
    assertThrows(UnsupportedOperationException.class, () -> problem.details().clear());
  }
}

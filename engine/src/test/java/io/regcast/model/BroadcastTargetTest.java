package io.regcast.model;

import static io.regcast.model.Refusals.assertFields;
import static io.regcast.model.Refusals.assertSingleViolation;
import static io.regcast.model.Refusals.refusal;
import static io.regcast.model.Refusals.repeat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BroadcastTargetTest {

  private static final String GATEWAY = "d4e00000000000000001";
  private static final String ACCOUNT = "aje00000000000000001";
  /** 256 characters: "/" and 255 letters. */
  static final String PATH_256 = "/" + repeat('p', 255);

  static Stream<Arguments> acceptedPaths() {
    return Stream.of(
        Arguments.of("/"),
        Arguments.of("/ws"),
        Arguments.of("/a/b/c"),
        Arguments.of("/a%20b"),
        Arguments.of("/.well-known"),
        Arguments.of("/..."),
        Arguments.of("/v1.0/ws"),
        Arguments.of("/a-b_c~d!$&'()*+,;=:@"),
        Arguments.of(PATH_256));
  }

  @ParameterizedTest(name = "accepts path {0}")
  @MethodSource("acceptedPaths")
  void acceptsAbsolutePathsUpToTheirLimit(String path) {
    assertEquals(path, new BroadcastTarget(GATEWAY, path, ACCOUNT).path());
  }

  static Stream<Arguments> refusedPaths() {
    return Stream.of(
        Arguments.of(null, "is required"),
        Arguments.of("", "is required"),
        Arguments.of("ws", "absolute path"),
        Arguments.of("/ws?token=1", "no query"),
        Arguments.of("/ws#top", "fragment"),
        Arguments.of("/a/./b", "dot segments"),
        Arguments.of("/a/../b", "dot segments"),
        Arguments.of("/a/.", "dot segments"),
        Arguments.of("/a/..", "dot segments"),
        Arguments.of("/.", "dot segments"),
        Arguments.of("/..", "dot segments"),
        Arguments.of("//ws", "empty"),
        Arguments.of("/ws/", "empty"),
        Arguments.of("/w s", "absolute path"),
        Arguments.of("http://host/ws", "absolute path"),
        Arguments.of(PATH_256 + "p", "at most 256"));
  }

  @ParameterizedTest(name = "refuses path {0}")
  @MethodSource("refusedPaths")
  void refusesPathsThatAreNotCleanAbsolutePaths(String path, String reason) {
    assertSingleViolation(
        refusal(() -> new BroadcastTarget(GATEWAY, path, ACCOUNT)), "path", reason);
  }

  static Stream<Arguments> references() {
    return Stream.of(
        Arguments.of("gatewayId", null, "is required"),
        Arguments.of("gatewayId", "", "is required"),
        Arguments.of("gatewayId", repeat('g', 51), "at most 50"),
        Arguments.of("serviceAccountId", null, "is required"),
        Arguments.of("serviceAccountId", "", "is required"),
        Arguments.of("serviceAccountId", repeat('s', 51), "at most 50"));
  }

  @ParameterizedTest(name = "refuses {0} = {1}")
  @MethodSource("references")
  void refusesAbsentOrOverlongIds(String field, String id, String reason) {
    Problem problem =
        refusal(
            () ->
                field.equals("gatewayId")
                    ? new BroadcastTarget(id, "/ws", ACCOUNT)
                    : new BroadcastTarget(GATEWAY, "/ws", id));
    assertSingleViolation(problem, field, reason);
  }

  @Test
  void acceptsIdsOf50Characters() {
    BroadcastTarget target = new BroadcastTarget(repeat('g', 50), "/ws", repeat('s', 50));
    assertEquals(50, target.gatewayId().length());
    assertEquals(50, target.serviceAccountId().length());
  }

  @Test
  void reportsAllThreeMissingPartsTogether() {
    assertFields(
        refusal(() -> new BroadcastTarget(null, null, null)),
        "gatewayId", "path", "serviceAccountId");
  }
}

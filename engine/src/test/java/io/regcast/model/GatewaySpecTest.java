package io.regcast.model;

import static io.regcast.model.Refusals.assertFields;
import static io.regcast.model.Refusals.assertSingleViolation;
import static io.regcast.model.Refusals.assertViolation;
import static io.regcast.model.Refusals.refusal;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.regcast.model.ResourceSpec.GatewaySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class GatewaySpecTest {

  private static final String FOLDER = "b1g00000000000000001";

  private static GatewaySpec withPaths(List<String> paths) {
    return new GatewaySpec(FOLDER, "my-gateway", "", paths);
  }

  private static List<String> paths(int count) {
    return IntStream.range(0, count).mapToObj(i -> "/ws" + i).toList();
  }

  static Stream<Arguments> accepted() {
    return Stream.of(
        Arguments.of("one path", List.of("/ws")),
        Arguments.of("the root path", List.of("/")),
        Arguments.of("100 paths", paths(100)),
        Arguments.of("a path of 256 characters", List.of(BroadcastTargetTest.PATH_256)),
        Arguments.of("nested paths", List.of("/a", "/a/b", "/a/b/c")));
  }

  @ParameterizedTest(name = "accepts {0}")
  @MethodSource("accepted")
  void acceptsPathListsWithinTheirLimits(String title, List<String> paths) {
    GatewaySpec spec = withPaths(paths);
    assertEquals(paths, spec.websocketPaths());
    Gateway gateway = (Gateway) spec.toResource("d4e00000000000000001", Samples.T0);
    assertEquals(paths, gateway.websocketPaths());
  }

  static Stream<Arguments> refused() {
    List<String> duplicated = new ArrayList<>(paths(3));
    duplicated.add("/ws1");
    return Stream.of(
        Arguments.of("no path", List.of(), "websocketPaths", "at least one path"),
        Arguments.of("absent paths", null, "websocketPaths", "at least one path"),
        Arguments.of("101 paths", paths(101), "websocketPaths", "at most 100 paths"),
        Arguments.of("a path listed twice", duplicated, "websocketPaths", "twice"),
        Arguments.of("a relative path", List.of("/ok", "ws"), "websocketPaths[1]", "absolute"),
        Arguments.of("a path with a query", List.of("/ws?x=1"), "websocketPaths[0]", "no query"),
        Arguments.of("a path with a fragment", List.of("/ws#f"), "websocketPaths[0]", "fragment"),
        Arguments.of("a path with a dot segment",
            List.of("/a", "/b", "/a/../b"), "websocketPaths[2]", "dot segments"),
        Arguments.of("a path ending in a dot segment",
            List.of("/a/."), "websocketPaths[0]", "dot segments"),
        Arguments.of("a path of 257 characters",
            List.of(BroadcastTargetTest.PATH_256 + "x"), "websocketPaths[0]", "at most 256"));
  }

  @ParameterizedTest(name = "refuses {0}")
  @MethodSource("refused")
  void refusesPathListsPastTheirLimitsNamingTheField(
      String title, List<String> paths, String field, String reason) {
    assertSingleViolation(refusal(() -> withPaths(paths)), field, reason);
  }

  @Test
  void namesEachBadPathByItsIndexAndStillReportsDuplicates() {
    Problem problem = refusal(() -> withPaths(List.of("/ok", "bad", "/ok", "/x?y")));
    assertFields(problem, "websocketPaths[1]", "websocketPaths[3]", "websocketPaths");
    assertViolation(problem, "websocketPaths", "twice");
  }

  @Test
  void theListIsCopiedSoLaterChangesToTheCallersListDoNotLeakIn() {
    List<String> paths = new ArrayList<>(List.of("/ws"));
    GatewaySpec spec = withPaths(paths);
    paths.add("/other");
    assertEquals(List.of("/ws"), spec.websocketPaths());
  }
}

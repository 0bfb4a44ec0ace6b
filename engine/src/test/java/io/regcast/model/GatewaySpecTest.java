package io.regcast.model;

import static io.regcast.model.Refusals.assertFields;
import static io.regcast.model.Refusals.assertSingleViolation;
import static io.regcast.model.Refusals.assertViolation;
import static io.regcast.model.Refusals.refusal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.regcast.model.ResourceSpec.GatewaySpec;
import java.time.Duration;
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

  private static GatewaySpec withOrigins(List<String> origins) {
    return new GatewaySpec(FOLDER, "my-gateway", "", List.of("/ws"), false, null, origins);
  }

  private static List<String> origins(int count) {
    return IntStream.range(0, count).mapToObj(i -> "https://h" + i + ".example").toList();
  }

  @Test
  void withoutHistoryOrOriginsTheGatewayFollowsTheNodeDefaultsAndAllowsAnyOrigin() {
    Gateway gateway = (Gateway) withPaths(List.of("/ws")).toResource("d4e00000000000000001", Samples.T0);
    assertNull(gateway.history());
    assertEquals(List.of("*"), gateway.allowedOrigins());
  }

  @Test
  void itsOwnHistoryAndOriginsReachTheGateway() {
    HistorySettings history = new HistorySettings(0, Duration.ofDays(30));
    Gateway gateway = (Gateway) new GatewaySpec(FOLDER, "my-gateway", "", List.of("/ws"), true, history,
        List.of("https://a.example")).toResource("d4e00000000000000001", Samples.T0);
    assertEquals(history, gateway.history());
    assertEquals(List.of("https://a.example"), gateway.allowedOrigins());
  }

  static Stream<Arguments> acceptedOrigins() {
    return Stream.of(
        Arguments.of(List.of("*")),
        Arguments.of(List.of("https://example.com")),
        Arguments.of(List.of("http://localhost:8080", "https://a.b-c.example:8443")),
        Arguments.of(List.of("http://127.0.0.1:3000", "http://[::1]:3000", "https://xn--bcher-kva.example")),
        Arguments.of(origins(100)));
  }

  @ParameterizedTest(name = "accepts {0}")
  @MethodSource("acceptedOrigins")
  void acceptsOriginListsWithinTheirLimits(List<String> origins) {
    assertEquals(origins, withOrigins(origins).allowedOrigins());
  }

  @Test
  void originsAreLowerCasedAsBrowsersSendThem() {
    assertEquals(List.of("https://app.example.com"), withOrigins(List.of("HTTPS://App.Example.COM")).allowedOrigins());
  }

  static Stream<Arguments> refusedOrigins() {
    return Stream.of(
        Arguments.of("an empty list", List.of(), "allowedOrigins", "at least one origin"),
        Arguments.of("101 origins", origins(101), "allowedOrigins", "at most 100 origins"),
        Arguments.of("a trailing slash", List.of("https://a.example/"), "allowedOrigins[0]", "trailing slash"),
        Arguments.of("a path", List.of("https://a.example/app"), "allowedOrigins[0]", "no path"),
        Arguments.of("a query", List.of("https://a.example?x"), "allowedOrigins[0]", "query"),
        Arguments.of("another scheme", List.of("wss://a.example"), "allowedOrigins[0]", "http or https"),
        Arguments.of("no scheme", List.of("a.example"), "allowedOrigins[0]", "such as \"https://example.com\""),
        Arguments.of("user info", List.of("https://u@a.example"), "allowedOrigins[0]", "an origin such as"),
        Arguments.of("the null origin", List.of("null"), "allowedOrigins[0]", "an origin such as"),
        Arguments.of("a wildcard host", List.of("https://*.example"), "allowedOrigins[0]", "an origin such as"),
        Arguments.of("port 0", List.of("http://a.example:0"), "allowedOrigins[0]", "an origin such as"),
        Arguments.of("port 65536", List.of("http://a.example:65536"), "allowedOrigins[0]", "above 65535"),
        Arguments.of("http's default port", List.of("http://a.example:80"), "allowedOrigins[0]", "default port 80"),
        Arguments.of("https's default port", List.of("https://a.example:443"), "allowedOrigins[0]", "default port 443"),
        Arguments.of("* with another origin", List.of("https://a.example", "*"), "allowedOrigins[1]", "the only entry"),
        Arguments.of("an origin twice, in other case",
            List.of("https://a.example", "https://b.example", "https://A.example"),
            "allowedOrigins[2]", "repeats allowedOrigins[0]"),
        Arguments.of("a null entry", java.util.Arrays.asList("https://a.example", null), "allowedOrigins[1]",
            "must be a string"));
  }

  @ParameterizedTest(name = "refuses {0}")
  @MethodSource("refusedOrigins")
  void refusesOriginListsPastTheirLimitsNamingTheEntry(
      String title, List<String> origins, String field, String reason) {
    assertSingleViolation(refusal(() -> withOrigins(origins)), field, reason);
  }

  @Test
  void refusesAHistoryPastTheApisLimitNamingItsMember() {
    HistorySettings tooOld = new HistorySettings(10, Duration.ofDays(31));
    assertSingleViolation(
        refusal(() -> new GatewaySpec(FOLDER, "my-gateway", "", List.of("/ws"), false, tooOld, null)),
        "historySettings.maxAge", "at most 2592000s (30 days)");
  }

  @Test
  void theListIsCopiedSoLaterChangesToTheCallersListDoNotLeakIn() {
    List<String> paths = new ArrayList<>(List.of("/ws"));
    GatewaySpec spec = withPaths(paths);
    paths.add("/other");
    assertEquals(List.of("/ws"), spec.websocketPaths());
  }
}

package io.regcast.model;

import java.util.regex.Pattern;

/** The shape of a WebSocket path on a gateway: absolute, no query, no fragment, no dot segments. */
public final class GatewayPaths {
  public static final int MAX_LENGTH = 256;
  private static final Pattern PATH = Pattern.compile("(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+|/");

  private GatewayPaths() {}

  public static void check(Violations v, String field, String path) {
    if (!v.check(path.length() <= MAX_LENGTH, field, "must be at most 256 characters")) {
      return;
    }
    v.check(
        PATH.matcher(path).matches() && !path.contains("/./") && !path.contains("/../")
            && !path.endsWith("/.") && !path.endsWith("/.."),
        field,
        "must be an absolute path such as \"/ws\" (no query, fragment, empty or dot segments)");
  }
}

package io.regcast.model;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shape of a gateway's {@code allowedOrigins}: {@code "*"} alone, or origins as browsers send
 * them in the {@code Origin} header ({@code scheme://host[:port]}, http or https, no path).
 */
public final class GatewayOrigins {
  public static final String ANY = "*";
  public static final int MAX_ORIGINS = 100;
  private static final String LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
  private static final Pattern ORIGIN = Pattern.compile(
      "(https?)://(" + LABEL + "(?:\\." + LABEL + ")*|\\[[0-9a-f:.]{2,45}\\])(?::([1-9][0-9]{0,4}))?");
  private static final int MAX_HOST = 253;

  private GatewayOrigins() {}

  /**
   * Lower-cased, as browsers send scheme and host, so that a list compares with the header by
   * equality; a null entry stays null for {@link #check} to report.
   */
  public static List<String> normalize(List<String> origins) {
    return origins.stream().map(o -> o == null ? null : o.toLowerCase(Locale.ROOT)).toList();
  }

  /** Records what is wrong with a normalized list under {@code field} and {@code field[i]}. */
  public static void check(Violations v, String field, List<String> origins) {
    if (!v.check(!origins.isEmpty(), field, "must list at least one origin (leave it out for \"*\", any origin)")
        || !v.check(origins.size() <= MAX_ORIGINS, field, "must list at most 100 origins")) {
      return;
    }
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < origins.size(); i++) {
      String item = field + "[" + i + "]";
      String origin = origins.get(i);
      if (origin == null) {
        v.add(item, "must be a string");
      } else if (origin.equals(ANY)) {
        v.check(origins.size() == 1, item, "\"*\" allows any origin and must be the only entry");
      } else {
        checkOrigin(v, item, origin);
      }
      Integer first = origin == null ? null : seen.putIfAbsent(origin, i);
      v.check(first == null, item, "repeats " + field + "[" + first + "]");
    }
  }

  private static void checkOrigin(Violations v, String field, String origin) {
    Matcher m = ORIGIN.matcher(origin);
    if (!v.check(m.matches() && m.group(2).length() <= MAX_HOST, field,
        "must be \"*\" or an origin such as \"https://example.com\" or \"http://localhost:8080\""
            + " (http or https, a host, an optional port; no path, query or trailing slash)")) {
      return;
    }
    if (m.group(3) != null) {
      int port = Integer.parseInt(m.group(3));
      int defaultPort = m.group(1).equals("https") ? 443 : 80;
      if (v.check(port <= 65535, field, "has a port above 65535")) {
        v.check(port != defaultPort, field,
            "must leave out the scheme's default port " + defaultPort + " (browsers send the origin without it)");
      }
    }
  }
}

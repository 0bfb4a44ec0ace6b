package io.regcast.model;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Where a registry's Docker Registry HTTP API v2 answers, for reconciling ({@code :reconcile}
 * reads {@code /v2/_catalog}, tags and manifests there). {@code username} and {@code password}
 * (HTTP basic) come together or not at all. The password is kept to call the registry and is
 * never shown by the API.
 */
public record RegistryEndpoint(String url, String username, String password) implements JsonSerializable {
  public static final int MAX_URL = 2048;
  public static final int MAX_CREDENTIAL = 1024;

  public RegistryEndpoint {
    url = url == null ? null : stripTrailingSlash(url);
    username = username == null || username.isEmpty() ? null : username;
    password = password == null || password.isEmpty() ? null : password;
    check(new Violations(), url, username, password).throwIfAny();
  }

  public boolean hasCredentials() {
    return username != null;
  }

  public URI uri() {
    return URI.create(url);
  }

  private static Violations check(Violations v, String url, String username, String password) {
    if (v.check(url != null && !url.isEmpty(), "url", "is required")) {
      checkUrl(v, url);
    }
    v.check(username == null || username.length() <= MAX_CREDENTIAL, "credentials.username",
        "must be at most " + MAX_CREDENTIAL + " characters");
    v.check(password == null || password.length() <= MAX_CREDENTIAL, "credentials.password",
        "must be at most " + MAX_CREDENTIAL + " characters");
    v.check(username != null || password == null, "credentials.username", "is required with a password");
    v.check(password != null || username == null, "credentials.password", "is required with a username");
    return v;
  }

  private static void checkUrl(Violations v, String url) {
    if (!v.check(url.length() <= MAX_URL, "url", "must be at most " + MAX_URL + " characters")) {
      return;
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      v.add("url", "is not a URL: " + e.getReason());
      return;
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (!v.check(scheme.equals("http") || scheme.equals("https"), "url",
        "must be an http:// or https:// URL of the registry (e.g. https://registry.example.com)")) {
      return;
    }
    if (!v.check(uri.getHost() != null, "url", "must name a host")) {
      return;
    }
    if (!v.check(uri.getRawUserInfo() == null, "url", "must not carry credentials: use credentials.username and .password")) {
      return;
    }
    v.check(uri.getRawQuery() == null && uri.getRawFragment() == null, "url", "must not have a query or a fragment");
  }

  private static String stripTrailingSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }
}

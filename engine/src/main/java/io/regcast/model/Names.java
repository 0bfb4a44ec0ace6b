package io.regcast.model;

import java.util.regex.Pattern;

/** The naming rules every resource shares (the reference product's trigger rules). */
public final class Names {
  private static final Pattern NAME = Pattern.compile("[a-z][-a-z0-9]{1,61}[a-z0-9]");
  public static final int MAX_DESCRIPTION = 500;

  private Names() {}

  public static void checkName(Violations v, String name) {
    if (v.check(name != null && !name.isEmpty(), "name", "is required")) {
      v.check(
          NAME.matcher(name).matches(),
          "name",
          "must be 3-63 characters of lowercase letters, digits and '-', start with a letter and"
              + " not end with '-'");
    }
  }

  public static void checkDescription(Violations v, String description) {
    v.check(
        description.length() <= MAX_DESCRIPTION,
        "description",
        "must be at most " + MAX_DESCRIPTION + " characters");
  }
}

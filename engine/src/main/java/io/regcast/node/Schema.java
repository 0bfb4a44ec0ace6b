package io.regcast.node;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Creates the journal and snapshot tables if they are missing. Our own DDL: the plugin's bundled
 * scripts fail when run twice.
 */
public final class Schema {
  private Schema() {}

  public static void create(Settings settings) throws SQLException, IOException {
    String script = settings.persistence().isH2() ? "schema/h2.sql" : "schema/postgres.sql";
    String ddl;
    try (InputStream in = Schema.class.getClassLoader().getResourceAsStream(script)) {
      if (in == null) {
        throw new IOException("missing resource " + script);
      }
      ddl = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    String user = settings.persistence().isH2() ? "" : settings.persistence().user();
    String password = settings.persistence().isH2() ? "" : settings.persistence().password();
    try (Connection connection = DriverManager.getConnection(settings.jdbcUrl(), user, password);
        Statement statement = connection.createStatement()) {
      for (String sql : ddl.replaceAll("(?m)^--.*$", "").split(";")) {
        if (!sql.isBlank()) {
          statement.execute(sql);
        }
      }
    }
  }

  /** Tool entry point for the cluster script: {@code java -cp regcast.jar io.regcast.node.Schema}. */
  public static void main(String[] args) throws Exception {
    create(Settings.from(Node.loadConfig(com.typesafe.config.ConfigFactory.empty())));
    System.out.println("schema ready");
  }
}

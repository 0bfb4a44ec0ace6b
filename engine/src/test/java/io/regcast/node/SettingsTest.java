package io.regcast.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SettingsTest {

  private static Settings settings(Map<String, Object> overrides) {
    return Settings.from(Node.loadConfig(ConfigFactory.parseMap(overrides)));
  }

  @Test
  void defaultsAreALoopbackSingleNodeOnH2InData() {
    Settings s = settings(Map.of());
    assertEquals("127.0.0.1", s.http().host());
    assertEquals(8080, s.http().port());
    assertEquals(Path.of("data").toAbsolutePath(), s.dataDir());
    assertTrue(s.cluster().seedNodes().isEmpty());
    assertTrue(s.jdbcUrl().contains("/data/regcast;WRITE_DELAY=0;"), s.jdbcUrl());
    assertEquals(1024 * 1024, s.http().maxBodySize());
    assertTrue(s.metrics().jvm(), "JVM metrics on by default");
  }

  static Stream<Object[]> invalidSettings() {
    return Stream.of(
        new Object[] {Map.of("regcast.http.port", 70000), "regcast.http.port"},
        new Object[] {Map.of("regcast.cluster.port", -1), "regcast.cluster.port"},
        new Object[] {Map.of("regcast.management.port", 65536), "regcast.management.port"},
        new Object[] {Map.of("regcast.cluster.seed-nodes", "10.0.0.1:25520,nohostport"), "regcast.cluster.seed-nodes"},
        new Object[] {Map.of("regcast.http.ask-timeout", "0s"), "regcast.http.ask-timeout"},
        new Object[] {Map.of("regcast.persistence.database", "mysql"), "regcast.persistence.database"},
        new Object[] {Map.of("regcast.persistence.database", "postgres"), "regcast.persistence.jdbc-url"},
        new Object[] {Map.of("regcast.cluster.seed-nodes", java.util.List.of("nohostport")), "regcast.cluster.seed-nodes"},
        new Object[] {Map.of("regcast.api.default-page-size", 2000), "regcast.api.default-page-size"},
        new Object[] {Map.of("regcast.metrics.jvm", "sometimes"), "regcast.metrics.jvm"},
        new Object[] {Map.of("regcast.persistence.write-parallelism", 0), "regcast.persistence.write-parallelism"});
  }

  @ParameterizedTest
  @MethodSource("invalidSettings")
  void invalidSettingStopsStartUpNamingTheKey(Map<String, Object> overrides, String key) {
    ConfigException e = assertThrows(ConfigException.class, () -> settings(overrides));
    assertTrue(e.getMessage().contains(key), e.getMessage());
  }

  @Test
  void seedNodesBecomePekkoAddresses() {
    Config pekko = settings(Map.of("regcast.cluster.seed-nodes", java.util.List.of("10.0.0.1:25520"))).pekkoOverrides();
    assertEquals(java.util.List.of("pekko://regcast@10.0.0.1:25520"), pekko.getStringList("pekko.cluster.seed-nodes"));
  }

  /** REGCAST_SEED_NODES gives a comma-separated string; it means the same as a list. */
  @Test
  void seedNodesMayBeACommaSeparatedString() {
    Settings s = settings(Map.of("regcast.cluster.seed-nodes", "10.0.0.1:25520, 10.0.0.2:25520"));
    assertEquals(java.util.List.of("10.0.0.1:25520", "10.0.0.2:25520"), s.cluster().seedNodes());
  }

  /** One journal write in flight per node, so that concurrent entities share commits. */
  @Test
  void journalWritesGoOneAtATimeByDefault() {
    assertEquals(1, settings(Map.of()).pekkoOverrides().getInt("jdbc-journal.parallelism"));
    assertEquals(4, settings(Map.of("regcast.persistence.write-parallelism", 4)).pekkoOverrides()
        .getInt("jdbc-journal.parallelism"));
  }

  @Test
  void managementListensOnLoopbackPort7626ByDefault() {
    Settings s = settings(Map.of());
    assertEquals(new Settings.Management("127.0.0.1", 7626), s.management());
  }

  /** Every overlay in cluster-config/ loads and passes validation. */
  @Test
  void everyClusterConfigOverlayIsValid() throws Exception {
    Path dir = Path.of("..", "cluster-config");
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".conf")).toList()) {
        Config overlay = ConfigFactory.parseFile(file.toFile());
        Settings s = Settings.from(ConfigFactory.load(overlay.withFallback(ConfigFactory.defaultApplication())));
        assertTrue(s.http().port() >= 0, file.toString());
      }
    }
  }
}

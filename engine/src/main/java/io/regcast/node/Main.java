package io.regcast.node;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code java -jar regcast.jar}: starts a node; SIGTERM stops it gracefully. */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) {
    try {
      // A node stopped from inside (downed, or left the cluster) must end its JVM too.
      Node.start(ConfigFactory.parseString("pekko.coordinated-shutdown.exit-jvm = on"));
    } catch (ConfigException e) {
      log.error("Invalid configuration: {}", e.getMessage());
      System.exit(2);
    } catch (Exception e) {
      log.error("regcast failed to start: {}", e.toString(), e);
      System.exit(1);
    }
  }
}

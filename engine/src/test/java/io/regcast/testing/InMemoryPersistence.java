package io.regcast.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/**
 * The config of an ActorTestKit for testing an event-sourced entity on the persistence testkit's
 * in-memory journal and snapshot store: they must win over application.conf's JDBC journal, and
 * no cluster is needed.
 */
public final class InMemoryPersistence {
  private InMemoryPersistence() {}

  /** The stores keep the events and snapshots as objects, the testkit's usual setting. */
  public static Config config() {
    return config(false);
  }

  /**
   * The stores keep the serialized forms, as the real ones do, so a recovery reads what the
   * serializer wrote (the testkit warns that this is not its usual setting).
   */
  public static Config serializingConfig() {
    return config(true);
  }

  private static Config config(boolean serializing) {
    return ConfigFactory.parseString(
            "pekko.actor.provider = local\n"
                + "pekko.persistence.testkit.events.serialize = " + serializing + "\n"
                + "pekko.persistence.testkit.snapshots.serialize = " + serializing)
        .withFallback(EventSourcedBehaviorTestKit.config())
        .withFallback(ConfigFactory.load());
  }
}

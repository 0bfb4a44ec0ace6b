package io.regcast.api;

import io.regcast.catalog.CatalogEntity;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/** Asks the catalog; a {@link CatalogEntity.Rejected} answer becomes a failed stage. */
final class CatalogClient {
  private final EntityRef<CatalogEntity.Command> catalog;
  private final Duration timeout;

  CatalogClient(EntityRef<CatalogEntity.Command> catalog, Duration timeout) {
    this.catalog = catalog;
    this.timeout = timeout;
  }

  <R extends CatalogEntity.Reply> CompletionStage<R> ask(
      Function<ActorRef<CatalogEntity.Reply>, CatalogEntity.Command> command, Class<R> expected) {
    return catalog
        .<CatalogEntity.Reply>ask(command::apply, timeout)
        .thenApply(
            reply -> {
              if (reply instanceof CatalogEntity.Rejected rejected) {
                throw rejected.problem().toException();
              }
              return expected.cast(reply);
            });
  }
}

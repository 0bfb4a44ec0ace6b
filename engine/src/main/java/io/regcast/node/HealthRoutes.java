package io.regcast.node;

import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.HealthCheckSettings;
import org.apache.pekko.management.javadsl.CheckResult;
import org.apache.pekko.management.javadsl.HealthChecks;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * Pekko Management's health endpoints ({@code GET /ready}, {@code /alive}, {@code /startup}) with
 * the status orchestrators expect: 200 when every check passes, 503 when one does not (Pekko's
 * own provider answers 500). Replaces it under {@code pekko.management.http.routes.health-checks}.
 */
public final class HealthRoutes extends AllDirectives implements ManagementRouteProvider {
  private final HealthCheckSettings settings;
  private final HealthChecks checks;

  public HealthRoutes(ExtendedActorSystem system) {
    this.settings = HealthCheckSettings.create(system.settings().config().getConfig("pekko.management.health-checks"));
    this.checks = new HealthChecks(system, settings);
  }

  @Override
  public Route routes(ManagementRouteProviderSettings routeSettings) {
    return concat(
        endpoint(settings.readinessPath(), checks::readyResult),
        endpoint(settings.livenessPath(), checks::aliveResult),
        endpoint(settings.startupPath(), checks::startupResult));
  }

  private Route endpoint(String name, Supplier<CompletionStage<CheckResult>> check) {
    return path(name, () -> get(() -> onComplete(check.get(), result -> {
      if (result.isFailure()) {
        return complete(StatusCodes.SERVICE_UNAVAILABLE, "Not Healthy: " + result.failed().get().getMessage());
      }
      CheckResult checked = result.get();
      return checked.isSuccess()
          ? complete(StatusCodes.OK, "OK")
          : complete(StatusCodes.SERVICE_UNAVAILABLE, "Not Healthy: " + checked.failure().orElse("a check failed"));
    })));
  }
}

package io.regcast.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * One scrape of a node's {@code GET /metrics} (Prometheus text format): each sample's name with
 * its labels as written (e.g. {@code regcast_events_filtered_total{result="matched"}}) → value.
 */
record PrometheusScrape(Map<String, Double> samples) {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static PrometheusScrape of(URI nodeBaseUrl) {
    try {
      HttpResponse<String> response = HTTP.send(
          HttpRequest.newBuilder(nodeBaseUrl.resolve("/metrics")).timeout(Duration.ofSeconds(10)).GET().build(),
          HttpResponse.BodyHandlers.ofString(UTF_8));
      if (response.statusCode() != 200) {
        throw new AssertionError("GET /metrics answered " + response.statusCode() + ": " + response.body());
      }
      Map<String, Double> samples = new HashMap<>();
      response.body().lines().filter(line -> !line.isBlank() && !line.startsWith("#")).forEach(line -> {
        int space = line.lastIndexOf(' ');
        samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
      });
      return new PrometheusScrape(Map.copyOf(samples));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The sample's value (its name and labels exactly as written), 0 when absent. */
  double value(String sample) {
    return samples.getOrDefault(sample, 0.0);
  }
}

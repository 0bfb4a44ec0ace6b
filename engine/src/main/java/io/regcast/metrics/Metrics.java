package io.regcast.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One node's metrics. Each recording method names the point where a thing is counted, so that a
 * scrape of every node sums to the cluster's totals (README "Metrics"): an event is counted once,
 * on the node that holds the entity handling it (registry or trigger), and a message once per
 * node and connection that writes it. Counters are {@link java.util.concurrent.atomic.LongAdder}s
 * underneath (no locks, no allocation), without exemplars.
 */
public final class Metrics {
  /** Tuning read from {@code regcast.metrics}. */
  public record Settings(boolean jvm) {}

  /** The entity whose journal write is timed. */
  public enum Journal {
    REGISTRY,
    TRIGGER,
    PATH_LOG
  }

  /** What the open-connections gauge asks at each scrape: how many connections each gateway path has. */
  @FunctionalInterface
  public interface OpenConnections {
    void forEachPath(PathCount each);

    @FunctionalInterface
    interface PathCount {
      void accept(String gatewayId, String path, int open);
    }
  }

  /** A rendered scrape: its content type and body. */
  public record Scrape(String contentType, byte[] body) {}

  /** Latencies from a millisecond to a minute (batch cutoffs reach 60 s). */
  private static final double[] LATENCY_SECONDS = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
  };
  /** Batch sizes run from 1 to 1000 events. */
  private static final double[] BATCH_EVENTS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
  private static final double NANOS_PER_SECOND = 1e9;

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final ExpositionFormats formats = ExpositionFormats.init();

  private final Counter eventsReceived = counter("regcast_events_received",
      "Registry events stored by this node's registry entities: operations of accepted ingest requests that were new (not in the dedupe window)");
  private final Counter eventsDuplicate = counter("regcast_events_duplicate",
      "Registry events of accepted ingest requests that were already in the dedupe window (not stored again)");
  private final Counter eventsDerived = counter("regcast_events_derived",
      "Container registry events derived from the stored registry events by this node's registry entities");
  private final CounterDataPoint filterMatched;
  private final CounterDataPoint filterRejected;
  private final CounterDataPoint filterPaused;
  private final Counter eventsDelivered = counter("regcast_events_delivered",
      "Events in the batches this node's triggers broadcast");
  private final Counter batchesSent = counter("regcast_batches_sent",
      "Batches this node's triggers broadcast (a batch split for size still counts once)");
  private final Histogram batchSize = Histogram.builder()
      .name("regcast_batch_size_events")
      .help("Events per batch broadcast by this node's triggers")
      .classicOnly().classicUpperBounds(BATCH_EVENTS).withoutExemplars()
      .register(registry);
  private final Counter messagesPublished = counter("regcast_messages_published",
      "WebSocket messages this node's triggers broadcast (one per batch, more when a batch is split)");
  private final Counter accessErrors = counter("regcast_access_errors",
      "Batches dropped because the trigger's service account may no longer broadcast to the gateway");
  private final Histogram ingestDuration = latency("regcast_ingest_duration_seconds",
      "Ingest requests answered 202 by this node: from taking the request to the answer (the events are durable)");
  private final Histogram ingestToSocket = latency("regcast_ingest_to_socket_seconds",
      "From the ingest request of a message's oldest event to this node writing the message to a path's connections,"
          + " once per message and event loop");
  private final DistributionDataPoint registryJournalWrite;
  private final DistributionDataPoint triggerJournalWrite;
  private final DistributionDataPoint pathLogJournalWrite;
  private final Counter gatewayBroadcasts = counter("regcast_gateway_broadcasts",
      "Messages this node's gateway received for one of its paths (once per message and node)");
  private final Counter messagesWritten = counter("regcast_gateway_messages_written",
      "WebSocket data messages written to connections on this node (a broadcast counts once per connection)");
  private final Counter socketWrites = counter("regcast_gateway_socket_writes",
      "Writes to connections on this node; one write carries every message queued during an event-loop turn");
  private final Counter messagesDropped = counter("regcast_gateway_messages_dropped",
      "Messages dropped from slow connections' queues (slow-consumer policy drop-oldest)");
  private final Counter slowConsumerDisconnects = counter("regcast_gateway_slow_consumer_disconnects",
      "Connections closed with 1008 because their queue exceeded max-queued-bytes (policy disconnect)");
  private final Counter handshakeTimeouts = counter("regcast_gateway_handshake_timeouts",
      "Connections closed because no complete request came within regcast.gateway.handshake-timeout");
  private final Counter refusedNodeFull = counter("regcast_gateway_refused_node_full",
      "Connections refused with 503: the node had regcast.gateway.max-connections open");
  private final Counter refusedIpFull = counter("regcast_gateway_refused_ip_full",
      "Connections refused with 429: their address had regcast.gateway.max-connections-per-ip open");
  private final Counter connectionsOpened = counter("regcast_gateway_connections_opened",
      "WebSocket connections opened on this node (handshake completed)");

  public Metrics(Settings settings) {
    Counter filtered = Counter.builder()
        .name("regcast_events_filtered")
        .help("Events new to a trigger on this node, by what its filter made of them: matched (joined the batch),"
            + " rejected (type, image or tag did not match) or paused (dropped while paused)")
        .labelNames("result").withoutExemplars()
        .register(registry);
    filterMatched = filtered.labelValues("matched");
    filterRejected = filtered.labelValues("rejected");
    filterPaused = filtered.labelValues("paused");
    Histogram journal = Histogram.builder()
        .name("regcast_journal_write_duration_seconds")
        .help("Journal writes on the event path: from persisting to the write's confirmation, by entity")
        .labelNames("entity")
        .classicOnly().classicUpperBounds(LATENCY_SECONDS).withoutExemplars()
        .register(registry);
    registryJournalWrite = journal.labelValues("registry");
    triggerJournalWrite = journal.labelValues("trigger");
    pathLogJournalWrite = journal.labelValues("path_log");
    if (settings.jvm()) {
      JvmMetrics.builder().register(registry);
    }
  }

  private Counter counter(String name, String help) {
    return Counter.builder().name(name).help(help).withoutExemplars().register(registry);
  }

  private Histogram latency(String name, String help) {
    return Histogram.builder()
        .name(name).help(help)
        .classicOnly().classicUpperBounds(LATENCY_SECONDS).withoutExemplars()
        .register(registry);
  }

  /**
   * The open connections per gateway path, asked at each scrape (the gateway owns the one source;
   * nothing is counted on the connection path).
   */
  public void openConnections(OpenConnections source) {
    GaugeWithCallback.builder()
        .name("regcast_gateway_connections_open")
        .help("WebSocket connections open on this node, by gateway and path")
        .labelNames("gateway_id", "path")
        .callback(gauge -> source.forEachPath((gatewayId, path, open) -> gauge.call(open, gatewayId, path)))
        .register(registry);
  }

  // ---- registry entity ----

  /** A registry entity stored the new operations of its ingest requests and skipped the duplicates. */
  public void eventsStored(long received, long duplicates) {
    eventsReceived.inc(received);
    eventsDuplicate.inc(duplicates);
  }

  public void eventsDerived(long derived) {
    eventsDerived.inc(derived);
  }

  // ---- trigger entity ----

  /** A trigger stored a delivery: of its new events, these matched, these did not, these met a pause. */
  public void eventsFiltered(long matched, long rejected, long paused) {
    filterMatched.inc(matched);
    filterRejected.inc(rejected);
    filterPaused.inc(paused);
  }

  /** A trigger broadcast a batch of {@code events} as {@code messages} messages. */
  public void batchSent(int events, int messages) {
    batchesSent.inc();
    eventsDelivered.inc(events);
    batchSize.observe(events);
    messagesPublished.inc(messages);
  }

  /** A trigger dropped a batch: its service account may not broadcast. */
  public void batchRefused() {
    accessErrors.inc();
  }

  /** A journal write started at {@code startedNanos} ({@link System#nanoTime()}) is confirmed. */
  public void journalWritten(Journal entity, long startedNanos) {
    (switch (entity) {
      case REGISTRY -> registryJournalWrite;
      case TRIGGER -> triggerJournalWrite;
      case PATH_LOG -> pathLogJournalWrite;
    }).observe(secondsSince(startedNanos));
  }

  // ---- ingest ----

  /** An ingest request taken at {@code startedNanos} was answered 202. */
  public void ingestAnswered(long startedNanos) {
    ingestDuration.observe(secondsSince(startedNanos));
  }

  // ---- gateway (event loops: no allocation, one call per loop turn) ----

  public void gatewayBroadcast() {
    gatewayBroadcasts.inc();
  }

  /** {@code messages} messages were written to connections in {@code writes} writes. */
  public void messagesWritten(long messages, long writes) {
    messagesWritten.inc(messages);
    socketWrites.inc(writes);
  }

  public void messagesDropped(long messages) {
    messagesDropped.inc(messages);
  }

  public void slowConsumerDisconnected() {
    slowConsumerDisconnects.inc();
  }

  public void handshakeTimedOut() {
    handshakeTimeouts.inc();
  }

  /** A connection was refused for a connection limit: the node's ({@code nodeFull}) or its address's. */
  public void connectionRefused(boolean nodeFull) {
    (nodeFull ? refusedNodeFull : refusedIpFull).inc();
  }

  public void connectionOpened() {
    connectionsOpened.inc();
  }

  /** A message whose oldest event was ingested at {@code ingestedAtMillis} (epoch) was written at {@code nowMillis}. */
  public void ingestToSocket(long ingestedAtMillis, long nowMillis) {
    ingestToSocket.observe(Math.max(0, nowMillis - ingestedAtMillis) / 1000.0);
  }

  // ---- reading ----

  /**
   * The scrape in the format the {@code Accept} header asks for (OpenMetrics when asked,
   * Prometheus text 0.0.4 otherwise).
   */
  public Scrape scrape(String accept) {
    ExpositionFormatWriter writer = formats.findWriter(accept);
    if (!writer.isAvailable()) {
      writer = formats.getPrometheusTextFormatWriter(); // protobuf needs a module we do not ship
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    try {
      writer.write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Scrape(writer.getContentType(), out.toByteArray());
  }

  /** A counter's value summed over its labels (for the benchmark and tests); 0 if unknown. */
  public long counterValue(String name) {
    String base = name.endsWith("_total") ? name.substring(0, name.length() - "_total".length()) : name;
    long sum = 0;
    for (MetricSnapshot snapshot : registry.scrape(base::equals)) {
      if (snapshot instanceof CounterSnapshot counter) {
        for (var point : counter.getDataPoints()) {
          sum += (long) point.getValue();
        }
      }
    }
    return sum;
  }

  private static double secondsSince(long startedNanos) {
    return (System.nanoTime() - startedNanos) / NANOS_PER_SECOND;
  }
}

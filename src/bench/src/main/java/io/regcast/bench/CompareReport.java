package io.regcast.bench;

import io.regcast.bench.Compare.Row;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/** The compare command's markdown: one table per scenario, then regcast's ratios to each peer per repetition. */
final class CompareReport {
  private static final String REGCAST = "regcast";
  private final List<Row> rows;
  private final Compare.Options options;
  private final Map<String, String> descriptions;
  private final Map<String, String> durableWrites;
  private final List<String> skipped;
  private final List<String> failures;
  private final StringBuilder out = new StringBuilder();

  CompareReport(List<Row> rows, Compare.Options options, Map<String, String> descriptions,
      Map<String, String> durableWrites, List<String> skipped, List<String> failures) {
    this.rows = rows;
    this.options = options;
    this.descriptions = descriptions;
    this.durableWrites = durableWrites;
    this.skipped = skipped;
    this.failures = failures;
  }

  String render(String machine, String load, long wallNanos) {
    line(options.onCluster() ? "# compare --cluster: fan-out on a " + options.cluster() + "-node regcast cluster (scenario 6)"
        : "# compare: regcast and its peers");
    line("");
    line("- " + machine);
    line("- load average at the end: " + load + "; run took " + Math.round(wallNanos / 1e9) + " s");
    line("- command: `java -jar src/bench/target/regcast-bench.jar " + options.commandLine() + "`");
    line("- pinning: " + (options.pin() ? "server" + (options.onCluster() ? " (every node and PostgreSQL)" : "") + " `taskset -c "
        + options.serverCpus() + "`, load client (which also publishes) `taskset -c " + options.clientCpus() + "`" : "none"));
    if (options.onCluster()) {
      String perNode = options.perNode().stream().map(String::valueOf).collect(Collectors.joining(", "));
      line("- cluster: conns = " + options.cluster() + " nodes × " + perNode + " per node; " + options.clientProcs()
          + " load client processes, each connected to one node's gateway (same path); the first publishes into the first "
          + "node's ingest; server CPU% and frames/CPU-s count every node JVM and PostgreSQL's processes");
    }
    line("- load client JVM: " + String.join(" ", options.clientJvmOpts()) + "; one NIO selector thread, connections from "
        + options.sources() + " source address(es)");
    for (Map.Entry<String, String> d : descriptions.entrySet()) {
      line("- **" + d.getKey() + "**: " + d.getValue());
    }
    for (Map.Entry<String, String> d : durableWrites.entrySet()) {
      line("- durable writes of " + d.getKey() + ": " + d.getValue());
    }
    if (!options.onCluster()) {
      line("- the peers write nothing durable");
    }
    for (String s : skipped) {
      line("- skipped: " + s);
    }
    for (String f : failures) {
      line("- **failed**: " + f);
    }
    line("");
    line("CPU% = process CPU time / wall time (100% = one core), server (its processes and children) / client. "
        + "**c** = client-bound (client above 80%): no ratio from it. Latency = publish request sent → frame received "
        + "(ms, HdrHistogram over every connection's every message; at a fixed rate from the time the request was due, "
        + "so a server whose answers hold the publisher back pays for it). frames/CPU-s = delivered frames per second of server CPU. "
        + "ooo = out of order: publish requests in flight together have no defined order at any server, so it is not an error; "
        + "missing and dup are.");
    line("");
    fanOut();
    latency();
    batching();
    footprint();
    resume();
    journal();
    return out.toString();
  }

  private void fanOut() {
    List<Row> fan = of("fan-out");
    if (fan.isEmpty()) {
      return;
    }
    line("## 1. Fan-out (one path, batch size 1)");
    line("");
    line("| conns | publish | server | rep | messages | frames/s | frames/CPU-s | server/client CPU % | p50 | p99 | p999 | publish→answer p50/p99 | missing/dup/ooo | B/msg | GCs n/max ms |");
    line("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (Row r : fan) {
      line(String.format(Locale.ROOT, "| %d | %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %d/%d/%d%s | %.0f | %s |",
          r.connections(), r.mode(), r.server(), r.rep(), r.messages(), num(r.framesPerS()), num(r.framesPerCpuS()),
          cpu(r), ms(r, 50), ms(r, 99), ms(r, 99.9), pub(r), r.missing(), r.duplicates(), r.outOfOrder(),
          r.publishFailures() > 0 ? " (" + r.publishFailures() + " publish failures)" : "", r.payloadAvg(), gc(r)));
    }
    line("");
    ratios("Ratios, regcast ÷ peer, frames per server CPU-second (higher is better for regcast)", fan,
        Row::framesPerCpuS, true);
  }

  private void latency() {
    List<Row> lat = of("latency");
    if (lat.isEmpty()) {
      return;
    }
    line("## 2. Latency at light load");
    line("");
    line("| conns | publish | server | rep | messages | p50 | p99 | p999 | max | publish→answer p50/p99 | server/client CPU % | missing/dup/ooo | GCs n/max ms |");
    line("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (Row r : lat) {
      line(String.format(Locale.ROOT, "| %d | %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %d/%d/%d | %s |",
          r.connections(), r.mode(), r.server(), r.rep(), r.messages(), ms(r, 50), ms(r, 99), ms(r, 99.9), ms(r, 100),
          pub(r), cpu(r), r.missing(), r.duplicates(), r.outOfOrder(), gc(r)));
    }
    line("");
    ratios("Ratios, regcast ÷ peer, p99 latency (lower is better for regcast)", lat,
        r -> r.latency().getValueAtPercentile(99), true);
  }

  private void batching() {
    List<Row> b = of("batching");
    if (b.isEmpty()) {
      return;
    }
    line("## 3. Batching (" + options.batchRate() + " events/s, batches of 100, cutoff 1 s)");
    line("");
    line("regcast's trigger batches the events it is sent one per request; the peers cannot batch, so the publisher "
        + "sends them the same events already in batches of 100 (messages as large as regcast's). Latency is that of "
        + "each message's first (oldest) event; for regcast it includes the wait for the batch to fill.");
    line("");
    line("| conns | publish | server | rep | messages | event deliveries/s (events × conns) | frames/s | server/client CPU % | p50 | p99 | max | publish→answer p50/p99 | missing/dup/ooo | B/msg | GCs n/max ms |");
    line("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (Row r : b) {
      double eventsPerMessage = r.server().equals(REGCAST) ? (r.distinct() == 0 ? 0 : (double) r.messages() / r.distinct()) : 100;
      line(String.format(Locale.ROOT, "| %d | %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %d/%d/%d | %.0f | %s |",
          r.connections(), r.mode(), r.server(), r.rep(), r.distinct(), num(r.framesPerS() * eventsPerMessage),
          num(r.framesPerS()), cpu(r), ms(r, 50), ms(r, 99), ms(r, 100), pub(r), r.missing(), r.duplicates(),
          r.outOfOrder(), r.payloadAvg(), gc(r)));
    }
    line("");
    // Frames per server CPU-second: the phases differ in length (a server that falls behind drains
    // longer), so CPU% alone would not compare the same work.
    ratios("Ratios, regcast ÷ peer, frames (batches of 100 events) per server CPU-second (higher is better for regcast)",
        b, Row::framesPerCpuS, true);
  }

  private void footprint() {
    List<Row> f = of("footprint");
    if (f.isEmpty()) {
      return;
    }
    line("## 4. Footprint and accepts");
    line("");
    line("| conns | server | rep | accepted/s | server/client CPU % while opening | RSS B/conn | heap B/conn (after full GC) | failed |");
    line("|---|---|---|---|---|---|---|---|");
    for (Row r : f) {
      line(String.format(Locale.ROOT, "| %d | %s | %d | %s | %s | %s | %s | %d |", r.connections(), r.server(), r.rep(),
          num(r.acceptedPerS()), cpu(r), num(r.rssPerConn()), Double.isNaN(r.heapPerConn()) ? "–" : num(r.heapPerConn()),
          r.failedOpens()));
    }
    line("");
    line("RSS B/conn is the growth of the server's resident memory while the connections opened: for the JVMs "
        + "(heap reserved and touched up front) and allocators that reuse freed memory it says little; heap B/conn "
        + "(used heap after full GCs, with minus without the connections) is the JVMs' figure. Kernel socket buffers "
        + "are in neither. accepted/s with the client above 80% is the client's limit (a floor for the server).");
    line("");
    ratios("Ratios, regcast ÷ peer, accepted/s (higher is better for regcast)", f, Row::acceptedPerS, true);
    ratios("Ratios, regcast ÷ peer, heap per connection (lower is better for regcast)", f, Row::heapPerConn, false);
  }

  /**
   * The resume storm (regcast.v1): per repetition and variant, the replay's recovered frames next to
   * the live burst of the same connections just before, and the plain fan-out burst at the same
   * size in the same repetition.
   */
  private void resume() {
    List<Row> replays = of("resume").stream().filter(r -> r.mode().startsWith("replay")).toList();
    if (replays.isEmpty()) {
      return;
    }
    line("## Resume storm (regcast.v1, Last-Event-ID)");
    line("");
    line("N regcast.v1 connections receive a live burst of M messages (each keeps the last id), all close, M more "
        + "messages are published, then all N reconnect at once (" + 200 + " handshakes in flight per client process) "
        + "with `Last-Event-ID: <last id>` and must get those M from the node: N × M recovered frames. "
        + "**tail**: one plain connection stayed on the path meanwhile, so the node kept the path's in-memory tail; "
        + "**log**: none stayed; the node keeps a deserted path's tail for regcast.history.memory-tail-linger (10 min), "
        + "so this is answered from memory too unless the linger is shorter than the storm's wait. "
        + "storm s = first reconnect → last frame; seam s = last 101 received → last frame. frames/CPU-s counts the "
        + "server's whole CPU in the storm (handshakes included); \"open alone\" is the server CPU of opening the same N "
        + "connections without a resume in the same variant, and \"w/o open\" divides by the storm's CPU minus that (– when "
        + "the difference is within 10% of the storm's CPU: the replay's own cost is then below what two readings resolve). id errors = an id that is not the previous + 1 on its "
        + "connection (across the seam too); gaps = gap messages.");
    line("");
    line("| conns | behind | variant | rep | recovered frames | storm s | seam s | server CPU s (open alone) | frames/CPU-s | w/o open | server/client CPU % | "
        + "live v1 burst frames/CPU-s | recovered ÷ live | plain burst frames/CPU-s | recovered ÷ plain | missing/dup | id errors | gaps | failed opens | GCs n/max ms |");
    line("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (Row r : replays) {
      String variant = r.resume().variant();
      Optional<Row> live = rows.stream().filter(x -> x.scenario().equals("resume") && x.rep() == r.rep()
          && x.server().equals(r.server()) && x.mode().equals("live burst (" + variant + ")")).findFirst();
      Optional<Row> plain = rows.stream().filter(x -> x.scenario().equals("fan-out") && x.rep() == r.rep()
          && x.server().equals(r.server()) && x.mode().equals("burst") && x.connections() == r.connections()).findFirst();
      // Only when the replay's own share is clear of the noise of two CPU readings.
      double rest = r.serverCpuSeconds() - r.resume().openCpuS();
      double withoutOpen = rest > 0.1 * r.serverCpuSeconds() ? r.frames() / rest : Double.NaN;
      line(String.format(Locale.ROOT, "| %d | %d | %s | %d | %d | %.2f | %.3f | %.2f (%.2f) | %s | %s | %s | %s | %s | %s | %s | %d/%d | %d | %d | %d | %s |",
          r.connections(), r.resume().behind(), variant, r.rep(), r.frames(), r.wallS(), r.resume().seamS(),
          r.serverCpuSeconds(), r.resume().openCpuS(),
          num(r.framesPerCpuS()), num(withoutOpen), cpu(r),
          live.map(l -> num(l.framesPerCpuS())).orElse("–"),
          live.map(l -> String.format(Locale.ROOT, "%.2f", r.framesPerCpuS() / l.framesPerCpuS())).orElse("–"),
          plain.map(l -> num(l.framesPerCpuS())).orElse("–"),
          plain.map(l -> String.format(Locale.ROOT, "%.2f", r.framesPerCpuS() / l.framesPerCpuS())).orElse("–"),
          r.missing(), r.duplicates(), r.resume().idErrors(), r.resume().gaps(), r.failedOpens(), gc(r)));
    }
    line("");
    List<Row> lives = of("resume").stream().filter(r -> r.mode().startsWith("live")).toList();
    if (!lives.isEmpty()) {
      line("The live bursts to the regcast.v1 connections (M messages, " + options.inFlight() + " publish requests in flight):");
      line("");
      line("| conns | publish | rep | frames/s | frames/CPU-s | server/client CPU % | p50 | p99 | missing/dup/ooo | id errors | GCs n/max ms |");
      line("|---|---|---|---|---|---|---|---|---|---|---|");
      for (Row r : lives) {
        line(String.format(Locale.ROOT, "| %d | %s | %d | %s | %s | %s | %s | %s | %d/%d/%d | %d | %s |", r.connections(), r.mode(),
            r.rep(), num(r.framesPerS()), num(r.framesPerCpuS()), cpu(r), ms(r, 50), ms(r, 99), r.missing(), r.duplicates(),
            r.outOfOrder(), r.resume().idErrors(), gc(r)));
      }
      line("");
    }
  }

  /** The node's journal writes in each measured phase of regcast, from its /metrics (regcast_journal_write_duration_seconds). */
  private void journal() {
    List<Row> list = new ArrayList<>();
    for (String scenario : List.of("fan-out", "latency", "batching", "resume")) {
      list.addAll(of(scenario).stream().filter(r -> r.journal() != null).toList());
    }
    if (list.isEmpty()) {
      return;
    }
    line("## Journal writes per phase (regcast's /metrics)");
    line("");
    line("`regcast_journal_write_duration_seconds` by entity over the phase: writes, mean, and the histogram's bucket bounds "
        + "at p50/p99 (its buckets: 1, 2.5, 5, 10, 25, 50, 100 ms, …). path_log is the path's log storing a message with "
        + "its position before it is broadcast.");
    line("");
    line("| scenario | conns | publish | server | rep | registry | trigger | path_log |");
    line("|---|---|---|---|---|---|---|---|");
    for (Row r : list) {
      StringBuilder l = new StringBuilder(String.format(Locale.ROOT, "| %s | %d | %s | %s | %d |", r.scenario(), r.connections(),
          r.mode(), r.server(), r.rep()));
      for (JournalWrites j : r.journal()) {
        l.append(' ').append(j.summary()).append(" |");
      }
      line(l.toString());
    }
    line("");
  }

  /** One table: rows (conns, mode, rep) × peers, regcast's figure divided by the peer's. */
  private void ratios(String title, List<Row> list, ToDoubleFunction<Row> figure, boolean excludeClientBound) {
    Set<String> peers = new LinkedHashSet<>();
    for (Row r : list) {
      if (!r.server().equals(REGCAST)) {
        peers.add(r.server());
      }
    }
    if (peers.isEmpty() || list.stream().noneMatch(r -> r.server().equals(REGCAST))) {
      return;
    }
    line(title + ":");
    line("");
    StringBuilder head = new StringBuilder("| conns | publish | rep |");
    StringBuilder sep = new StringBuilder("|---|---|---|");
    for (String p : peers) {
      head.append(" vs ").append(p).append(" |");
      sep.append("---|");
    }
    line(head.toString());
    line(sep.toString());
    for (Row reg : list) {
      if (!reg.server().equals(REGCAST)) {
        continue;
      }
      StringBuilder l = new StringBuilder(String.format(Locale.ROOT, "| %d | %s | %d |", reg.connections(), reg.mode(), reg.rep()));
      for (String p : peers) {
        Optional<Row> peer = list.stream().filter(r -> r.server().equals(p) && r.rep() == reg.rep()
            && r.connections() == reg.connections() && sameMode(r, reg)).findFirst();
        String cell;
        if (peer.isEmpty()) {
          cell = "–";
        } else if (excludeClientBound && (peer.get().clientBound() || reg.clientBound())) {
          cell = "c (client-bound)";
        } else {
          double a = figure.applyAsDouble(reg);
          double b = figure.applyAsDouble(peer.get());
          cell = b == 0 || Double.isNaN(a) || Double.isNaN(b) ? "–" : String.format(Locale.ROOT, "%.2f", a / b);
        }
        l.append(' ').append(cell).append(" |");
      }
      line(l.toString());
    }
    line("");
  }

  private static boolean sameMode(Row a, Row b) {
    return a.scenario().equals("batching") || a.mode().equals(b.mode());
  }

  private List<Row> of(String scenario) {
    List<Row> l = new ArrayList<>();
    for (Row r : rows) {
      if (r.scenario().equals(scenario)) {
        l.add(r);
      }
    }
    l.sort((x, y) -> {
      int c = Integer.compare(x.connections(), y.connections());
      if (c != 0) {
        return c;
      }
      c = x.mode().compareTo(y.mode());
      if (c != 0) {
        return c;
      }
      c = Integer.compare(x.rep(), y.rep());
      return c != 0 ? c : Integer.compare(order(x.server()), order(y.server()));
    });
    return l;
  }

  private static int order(String server) {
    return switch (server) {
      case REGCAST -> 0;
      case RegcastTarget.NO_HISTORY -> 1;
      case Peers.NCHAN -> 2;
      case Peers.NODE -> 3;
      default -> 4;
    };
  }

  /** The server JVM's GC pauses in the phase: count/longest ms, or "–" for a server that is no JVM. */
  static String gc(Row r) {
    return r.gc() == null ? "–" : String.format(Locale.ROOT, "%d/%.0f", r.gc().count(), r.gc().maxMillis());
  }

  private static String cpu(Row r) {
    return String.format(Locale.ROOT, "%.0f/%.0f%s", r.serverCpu(), r.clientCpu(), r.clientBound() ? " **c**" : "");
  }

  private static String ms(Row r, double p) {
    if (r.latency() == null || r.latency().getTotalCount() == 0) {
      return "–";
    }
    double v = p >= 100 ? r.latency().getMaxValue() / 1000.0 : Histograms.millis(r.latency(), p);
    return String.format(Locale.ROOT, v < 10 ? "%.2f" : "%.1f", v);
  }

  private static String pub(Row r) {
    if (r.publish() == null || r.publish().getTotalCount() == 0) {
      return "–";
    }
    return String.format(Locale.ROOT, "%.2f/%.2f", Histograms.millis(r.publish(), 50), Histograms.millis(r.publish(), 99));
  }

  private static String num(double v) {
    if (Double.isNaN(v)) {
      return "–";
    }
    if (Math.abs(v) >= 1e6) {
      return String.format(Locale.ROOT, "%.2f M", v / 1e6);
    }
    if (Math.abs(v) >= 1e4) {
      return String.format(Locale.ROOT, "%.0f k", v / 1e3);
    }
    return String.format(Locale.ROOT, "%.0f", v);
  }

  private void line(String s) {
    out.append(s).append('\n');
  }
}

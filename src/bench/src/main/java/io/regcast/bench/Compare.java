package io.regcast.bench;

import io.regcast.bench.ServerUnderTest.Flow;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * {@code compare}: regcast side by side with its peers (nginx + Nchan, Node.js ws, a raw NIO
 * fan-out server), the same load client and parameters for each; every server pinned to the
 * server core, the load client (which also publishes) to the other. Per repetition, each server
 * is started fresh, warmed up, then measured: footprint and accepts (scenario 4), fan-out at a
 * fixed rate and as a burst (1), latency at light load (2), batching (3). Prints one markdown
 * table per scenario with the ratios of regcast to each peer from the same repetition.
 */
final class Compare {
  static final String USAGE =
      """
      usage: java -jar regcast-bench.jar compare [options]
        --servers LIST           regcast,nchan,node-ws,raw-nio (all; a peer that is not installed is skipped);
                                 also regcast-nohistory: regcast with a gateway whose historySettings.maxMessages
                                 is 0 (regcast's gateway keeps 1000), its ratio column next to the peers'
        --sizes LIST             connections for fan-out and footprint (1000,10000,18000)
        --reps R                 repetitions: every server started, warmed up and measured R times (2)
        --warmup-seconds S       warm-up per server start: bursts to 1000 connections for S s (30)
        --size BYTES             the peers' message size; regcast's one-event message is about the same (600)
        --rate-frames F          fixed-rate fan-out: F / N messages per second to N connections (200000)
        --rate-seconds S         ... for S seconds (10)
        --burst-frames F         burst: F / N messages (at least 20), K requests in flight (2000000)
        --in-flight K            publish requests in flight in a burst (8)
        --latency-clients N      scenario 2: connections (1000)
        --latency-rate R         ... messages per second (20)
        --latency-seconds S      ... for S seconds (20)
        --batch-clients N        scenario 3: connections (10000; 0 skips it)
        --batch-rate R           ... events per second into the trigger (1000), batches of 100, cutoff 1 s
        --batch-seconds S        ... for S seconds (10)
        --resume-clients N       resume storm (regcast with history only; 0 skips it, the default): N regcast.v1
                                 connections get a live burst, all disconnect, M messages are published, all
                                 reconnect at once with Last-Event-ID and must get the M replayed, ids contiguous
        --resume-messages M      ... messages behind (100)
        --resume-variants LIST   tail: one plain connection stays on the path meanwhile (the node keeps the path's
                                 in-memory tail); log: none stays (the node drops the tail of a path without
                                 connections, so the replay is read from the path's log) (tail,log)
        --sources K              source addresses 127.0.0.1..K for the client's connections (4)
        --client-procs P         load client processes, connections split between them; the first
                                 publishes (1: one process holds 18 000 connections)
        --node-jar PATH          regcast's fat jar (engine/target/regcast.jar)
        --server-cpus LIST       taskset CPU list of the server (0)
        --client-cpus LIST       taskset CPU list of the load client (1)
        --no-pin                 run without taskset
        --regcast-jvm-opts "..." (-Xms1g -Xmx1g)
        --raw-jvm-opts "..."     (-Xms1g -Xmx1g)
        --client-jvm-opts "..."  (-Xms1g -Xmx1g)
        --out FILE               also write the tables (markdown) to FILE
        --quick                  tiny sizes for a smoke run (seconds): sizes 200, 1 rep, 2 s warm-up, ...

      scenario 6, fan-out on a cluster (regcast only):
        --cluster N              start an N-node cluster with cluster-config/local-cluster.sh (nodes and
                                 PostgreSQL pinned to --server-cpus) instead of one node; publishing goes
                                 to the first node's ingest, each client process connects to one node
        --per-node LIST          connections per node, the sizes are N × each (1000,6000,18000; --quick 100)
                                 with --cluster: reps 1, --warmup-seconds 90, --latency-clients 0 and
                                 --batch-clients 0 (skipped),
                                 --regcast-jvm-opts "-Xms512m -Xmx512m -XX:+UseSerialGC", --client-procs
                                 N × ceil(largest per-node / 18000), unless given

      Every figure is one phase of one repetition: frames/s, frames per server CPU-second, latency
      from publish request sent to frame received (HdrHistogram), server and client CPU% (100% = one
      core); a phase with the client above 80% is marked client-bound (c) and gives no ratio.
      """;

  private static final double CLIENT_BOUND = 80.0;
  private static final int BATCH = 100;

  record Options(
      List<String> servers, List<Integer> sizes, int reps, int warmupSeconds, int size, int rateFrames, int rateSeconds,
      int burstFrames, int inFlight, int latencyClients, int latencyRate, int latencySeconds, int batchClients,
      int batchRate, int batchSeconds, int sources, int clientProcs, Optional<Path> nodeJar, String serverCpus, String clientCpus,
      boolean pin, List<String> regcastJvmOpts, List<String> rawJvmOpts, List<String> clientJvmOpts,
      Optional<Path> out, boolean quick, int cluster, List<Integer> perNode, int resumeClients, int resumeMessages,
      List<String> resumeVariants, String commandLine) {
    /** Connections per client process: the machine allows 20 000 open files per process. */
    static final int CONNECTIONS_PER_PROCESS = 18_000;

    boolean onCluster() {
      return cluster > 0;
    }

    static Options parse(String[] args) {
      List<String> servers = List.of("regcast", Peers.NCHAN, Peers.NODE, Peers.RAW);
      List<Integer> sizes = List.of(1000, 10000, 18000);
      int reps = 2;
      int warmup = 30;
      int size = 600;
      int rateFrames = 200_000;
      int rateSeconds = 10;
      int burstFrames = 2_000_000;
      int inFlight = 8;
      int latencyClients = 1000;
      int latencyRate = 20;
      int latencySeconds = 20;
      int batchClients = 10000;
      int batchRate = 1000;
      int batchSeconds = 10;
      int sources = 4;
      int clientProcs = 1;
      Optional<Path> jar = Optional.empty();
      String serverCpus = "0";
      String clientCpus = "1";
      boolean pin = true;
      List<String> regcastJvm = List.of("-Xms1g", "-Xmx1g");
      List<String> rawJvm = List.of("-Xms1g", "-Xmx1g");
      List<String> clientJvm = List.of("-Xms1g", "-Xmx1g");
      Optional<Path> out = Optional.empty();
      boolean quick = Arrays.asList(args).contains("--quick");
      int cluster = 0;
      int resumeClients = 0;
      int resumeMessages = 100;
      List<String> resumeVariants = List.of("tail", "log");
      List<Integer> perNode = quick ? List.of(100) : List.of(1000, 6000, 18000);
      // With --cluster, what a cluster run changes unless the command line says otherwise.
      Set<String> given = new HashSet<>();
      if (quick) {
        sizes = List.of(200);
        reps = 1;
        warmup = 1;
        rateFrames = 20_000;
        rateSeconds = 1;
        burstFrames = 20_000;
        latencyClients = 200;
        latencySeconds = 1;
        batchClients = 200;
        batchSeconds = 1;
        regcastJvm = List.of("-Xms256m", "-Xmx256m");
        rawJvm = List.of("-Xms128m", "-Xmx128m");
        clientJvm = List.of("-Xms128m", "-Xmx128m");
      }
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--quick")) {
          continue;
        }
        if (a.equals("--no-pin")) {
          pin = false;
          continue;
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("missing value after " + a);
        }
        String v = args[++i];
        given.add(a);
        switch (a) {
          case "--cluster" -> cluster = Integer.parseInt(v);
          case "--resume-clients" -> resumeClients = Integer.parseInt(v);
          case "--resume-messages" -> resumeMessages = Integer.parseInt(v);
          case "--resume-variants" -> resumeVariants = Arrays.stream(v.split(",")).map(String::trim).toList();
          case "--per-node" -> perNode = Arrays.stream(v.split(",")).map(s -> Integer.parseInt(s.trim())).toList();
          case "--servers" -> servers = Arrays.stream(v.split(",")).map(String::trim).toList();
          case "--sizes" -> sizes = Arrays.stream(v.split(",")).map(s -> Integer.parseInt(s.trim())).toList();
          case "--reps" -> reps = Integer.parseInt(v);
          case "--warmup-seconds" -> warmup = Integer.parseInt(v);
          case "--size" -> size = Integer.parseInt(v);
          case "--rate-frames" -> rateFrames = Integer.parseInt(v);
          case "--rate-seconds" -> rateSeconds = Integer.parseInt(v);
          case "--burst-frames" -> burstFrames = Integer.parseInt(v);
          case "--in-flight" -> inFlight = Integer.parseInt(v);
          case "--latency-clients" -> latencyClients = Integer.parseInt(v);
          case "--latency-rate" -> latencyRate = Integer.parseInt(v);
          case "--latency-seconds" -> latencySeconds = Integer.parseInt(v);
          case "--batch-clients" -> batchClients = Integer.parseInt(v);
          case "--batch-rate" -> batchRate = Integer.parseInt(v);
          case "--batch-seconds" -> batchSeconds = Integer.parseInt(v);
          case "--sources" -> sources = Integer.parseInt(v);
          case "--client-procs" -> clientProcs = Math.max(1, Integer.parseInt(v));
          case "--node-jar" -> jar = Optional.of(Path.of(v));
          case "--server-cpus" -> serverCpus = v;
          case "--client-cpus" -> clientCpus = v;
          case "--regcast-jvm-opts" -> regcastJvm = words(v);
          case "--raw-jvm-opts" -> rawJvm = words(v);
          case "--client-jvm-opts" -> clientJvm = words(v);
          case "--out" -> out = Optional.of(Path.of(v));
          default -> throw new IllegalArgumentException("unknown option " + a);
        }
      }
      if (cluster > 0) {
        // Scenario 6: regcast alone (the peers have no cluster), fan-out and footprint at N × per-node.
        int nodes = cluster;
        servers = List.of("regcast");
        sizes = perNode.stream().map(p -> p * nodes).toList();
        int largest = perNode.stream().max(Integer::compare).orElse(1);
        if (!given.contains("--client-procs")) {
          clientProcs = nodes * ((largest + CONNECTIONS_PER_PROCESS - 1) / CONNECTIONS_PER_PROCESS);
        }
        if (clientProcs % nodes != 0) {
          throw new IllegalArgumentException("--client-procs must be a multiple of --cluster (each process serves one node)");
        }
        if (!given.contains("--reps")) {
          reps = 1;
        }
        if (!given.contains("--warmup-seconds") && !quick) {
          // N JVMs compile on the one server core: after 30 s the warm-up bursts were still
          // speeding up (37k → 87k frames/s with 3 nodes); 90 s as for ingest --cluster.
          warmup = 90;
        }
        if (!given.contains("--latency-clients")) {
          latencyClients = 0;
        }
        if (!given.contains("--batch-clients")) {
          batchClients = 0;
        }
        if (!given.contains("--regcast-jvm-opts")) {
          regcastJvm = List.of("-Xms512m", "-Xmx512m", "-XX:+UseSerialGC");
        }
      }
      return new Options(servers, sizes, reps, warmup, size, rateFrames, rateSeconds, burstFrames, inFlight,
          latencyClients, latencyRate, latencySeconds, batchClients, batchRate, batchSeconds, sources, clientProcs, jar, serverCpus,
          clientCpus, pin, regcastJvm, rawJvm, clientJvm, out, quick, cluster, perNode, resumeClients, resumeMessages,
          resumeVariants, "compare " + String.join(" ", args));
    }

    private static List<String> words(String value) {
      return Arrays.stream(value.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
    }
  }

  /** One measured phase. */
  record Row(
      String scenario, String server, int rep, int connections, String mode, long messages, long frames, double wallS,
      double serverCpu, double clientCpu, double serverCpuSeconds, Histogram latency, Histogram publish, long missing,
      long duplicates, long outOfOrder, long unexpected, long publishFailures, double payloadAvg, long distinct,
      double acceptedPerS, double rssPerConn, double heapPerConn, long failedOpens, GcLog.Pauses gc,
      Resume resume, List<JournalWrites> journal) {

    double framesPerS() {
      return wallS > 0 ? frames / wallS : 0;
    }

    double framesPerCpuS() {
      return serverCpuSeconds > 0 ? frames / serverCpuSeconds : 0;
    }

    boolean clientBound() {
      return clientCpu > CLIENT_BOUND;
    }

    /**
     * Missing and duplicate frames, failed publishes and opens. Out-of-order frames are counted
     * but are not errors: with several publish requests in flight, requests sent concurrently have
     * no defined order at any server.
     */
    long errors() {
      return missing + duplicates + publishFailures + failedOpens + (resume == null ? 0 : resume.idErrors() + resume.gaps());
    }

    Row withResume(Resume r) {
      return new Row(scenario, server, rep, connections, mode, messages, frames, wallS, serverCpu, clientCpu, serverCpuSeconds,
          latency, publish, missing, duplicates, outOfOrder, unexpected, publishFailures, payloadAvg, distinct, acceptedPerS,
          rssPerConn, heapPerConn, failedOpens, gc, r, journal);
    }
  }

  /**
   * What a resume-storm phase adds (regcast.v1): ids that were not the previous + 1, gap messages,
   * from the last 101 to the last frame (s), and the server CPU of opening as many connections
   * without a resume in the same variant (s), to show the replay's cost without the handshakes.
   */
  record Resume(String variant, long idErrors, long gaps, double seamS, double openCpuS, long behind) {}

  private final Options options;
  private final Path benchDir;
  private final Path tmp;
  private final Optional<String> taskset;
  private final List<Row> rows = new ArrayList<>();
  private final Map<String, String> descriptions = new LinkedHashMap<>();
  private final Map<String, String> durableWrites = new LinkedHashMap<>();
  private final List<String> skipped = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();
  private long nextBase = 1;
  private double regcastBatchBytes = Double.NaN;

  private Compare(Options options, Path benchDir, Path tmp) {
    this.options = options;
    this.benchDir = benchDir;
    this.tmp = tmp;
    this.taskset = options.pin() ? GatewayBench.onPath("taskset") : Optional.empty();
  }

  static int main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println(USAGE);
      return 2;
    }
    Path benchDir = benchDir();
    Path tmp = Files.createTempDirectory("regcast-compare-");
    Compare c = new Compare(options, benchDir, tmp);
    Thread cleanup = new Thread(() -> deleteTree(tmp), "cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    try {
      return c.run();
    } finally {
      deleteTree(tmp);
      Runtime.getRuntime().removeShutdownHook(cleanup);
    }
  }

  /** src/bench: where the peers' files are (from the working directory, or from this jar's place). */
  static Path benchDir() {
    for (Path candidate : new Path[] {Path.of("src", "bench"), Path.of(".")}) {
      if (Files.isDirectory(candidate.resolve("peers"))) {
        return candidate.toAbsolutePath().normalize();
      }
    }
    try {
      Path self = Path.of(Compare.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path dir = self.getParent().getParent();
      if (Files.isDirectory(dir.resolve("peers"))) {
        return dir.toAbsolutePath().normalize();
      }
    } catch (Exception e) {
      // not in the repository
    }
    throw new IllegalStateException("src/bench/peers not found: run from the repository root");
  }

  private int run() throws Exception {
    long wall0 = System.nanoTime();
    System.out.println(machineLine());
    System.out.println("load average at the start: " + loadAverage());
    List<String> servers = new ArrayList<>();
    for (String s : options.servers()) {
      Optional<String> missing = RegcastTarget.isRegcast(s) ? Optional.empty() : Peers.missing(s, benchDir);
      if (missing.isPresent()) {
        skipped.add(s + ": " + missing.get());
        System.out.println("skipping " + s + ": " + missing.get());
      } else {
        servers.add(s);
      }
    }
    for (int rep = 1; rep <= options.reps(); rep++) {
      for (String name : servers) {
        System.out.printf(Locale.ROOT, "%n== %s, repetition %d (load average %s)%n", name, rep, loadAverage());
        try (ServerUnderTest server = start(name)) {
          descriptions.put(name, server.describe());
          durableWrites.put(name, server.durableWrites());
          measure(server, rep);
        } catch (Exception e) {
          String f = name + " rep " + rep + ": " + e;
          failures.add(f);
          System.out.println("FAILED: " + f);
          e.printStackTrace(System.out);
        }
      }
    }
    String report = report(System.nanoTime() - wall0);
    System.out.println();
    System.out.println(report);
    if (options.out().isPresent()) {
      Files.writeString(options.out().get(), report, StandardCharsets.UTF_8);
      System.out.println("written to " + options.out().get());
    }
    boolean ok = failures.isEmpty() && rows.stream().allMatch(r -> r.errors() == 0);
    return ok ? 0 : 1;
  }

  private ServerUnderTest start(String name) throws Exception {
    if (name.equals("regcast") && options.onCluster()) {
      return RegcastTarget.startCluster(nodeJar(), options.cluster(), taskset, options.serverCpus(), options.regcastJvmOpts());
    }
    if (RegcastTarget.isRegcast(name)) {
      return RegcastTarget.start(name, nodeJar(), tmp, taskset, options.serverCpus(), options.regcastJvmOpts());
    }
    return Peers.start(name, benchDir, tmp, taskset, options.serverCpus(), options.rawJvmOpts());
  }

  // ---- the scenarios of one server start ----

  private void measure(ServerUnderTest server, int rep) throws Exception {
    warmUp(server);
    for (int n : options.sizes()) {
      try (Clients clients = clients(server, Flow.SINGLE, n, options.size())) {
        Row open = open(server, rep, clients, n);
        int rate = Math.max(1, options.rateFrames() / n);
        int rateMessages = Math.max(1, rate * options.rateSeconds());
        add(publish(server, rep, "fan-out", clients, n, "rate " + rate + "/s", "publish", rateMessages, rate,
            Math.max(options.inFlight(), 32), 0));
        int burst = Math.max(20, options.burstFrames() / n);
        add(publish(server, rep, "fan-out", clients, n, "burst", "publish", burst, 0, options.inFlight(), 0));
        if (n == options.latencyClients()) {
          latency(server, rep, clients);
        }
        clients.close(server);
        add(open);
      }
    }
    if (options.latencyClients() > 0 && !options.sizes().contains(options.latencyClients())) {
      try (Clients clients = clients(server, Flow.SINGLE, options.latencyClients(), options.size())) {
        clients.open();
        latency(server, rep, clients);
        clients.close(server);
      }
    }
    if (options.batchClients() > 0) {
      batches(server, rep);
    }
    if (options.resumeClients() > 0 && server.name().equals(RegcastTarget.NAME) && server instanceof RegcastTarget regcast
        && !options.onCluster()) {
      for (String variant : options.resumeVariants()) {
        resumeStorm(regcast, rep, variant);
      }
    }
  }

  /**
   * The resume storm: N regcast.v1 connections get a live burst of M messages (each keeps the last
   * id), all disconnect, M more messages are published (into nobody's socket), then all N reconnect
   * at once with their last id and must receive those M from the node: N × M frames, ids contiguous
   * per connection across the seam. Variant {@code tail}: one plain connection stays on the path
   * meanwhile, so the node keeps the path's in-memory tail; {@code log}: none stays, and the node,
   * which drops the stream (and tail) of a path without connections, reads the replay from the
   * path's log.
   */
  private void resumeStorm(RegcastTarget server, int rep, String variant) throws Exception {
    int n = options.resumeClients();
    int m = options.resumeMessages();
    boolean anchored = variant.equals("tail");
    if (!anchored && !variant.equals("log")) {
      throw new IllegalArgumentException("unknown --resume-variants value " + variant + " (tail, log)");
    }
    System.out.printf(Locale.ROOT, "  resume storm (%s): %d regcast.v1 connections, %d messages behind%n", variant, n, m);
    java.net.http.WebSocket anchor = null;
    try (Clients clients = clients(server, Flow.SINGLE, n, options.size(), "regcast.v1")) {
      if (anchored) {
        anchor = java.net.http.HttpClient.newHttpClient().newWebSocketBuilder()
            .buildAsync(java.net.URI.create(server.gatewayBase() + server.subscribePath(Flow.SINGLE)),
                new java.net.http.WebSocket.Listener() {})
            .get(30, java.util.concurrent.TimeUnit.SECONDS);
      }
      quiesce(server);
      long cpu0 = ServerUnderTest.cpuNanos(server.processes());
      String[] opened = clients.open();
      double openCpuS = (ServerUnderTest.cpuNanos(server.processes()) - cpu0) / 1e9;
      if (Integer.parseInt(opened[2]) > 0) {
        failures.add(server.name() + " rep " + rep + " resume (" + variant + "): " + opened[2] + " connections failed to open");
      }
      Resume info = new Resume(variant, 0, 0, Double.NaN, openCpuS, m);
      Row live = publish(server, rep, "resume", clients, n, "live burst (" + variant + ")", "publish", m, 0,
          options.inFlight(), 0);
      add(live.withResume(new Resume(variant, live.resume().idErrors(), live.resume().gaps(), Double.NaN, openCpuS, 0)));
      clients.close(server);
      // Published while every regcast.v1 connection is away: the path's log (and, with the anchor,
      // the tail) holds them; the node's gateway counts each broadcast, also to a path without connections.
      double broadcasts0 = JournalWrites.counter(server.metrics(), "regcast_gateway_broadcasts");
      publish(server, rep, "resume-publish", clients, n, "published, disconnected", "publish", m, 0, options.inFlight(), 0);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (JournalWrites.counter(server.metrics(), "regcast_gateway_broadcasts") < broadcasts0 + m) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the node did not broadcast the " + m + " messages within 60 s");
        }
        java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
      }
      long base = nextBase - m;
      quiesce(server);
      String scrape0 = server.metrics();
      server.gcLog().ifPresent(GcLog::next);
      long c0 = ServerUnderTest.cpuNanos(server.processes());
      long t0 = System.nanoTime();
      String[] done = clients.resume(base, m, Duration.ofSeconds(180));
      long t1 = System.nanoTime();
      long c1 = ServerUnderTest.cpuNanos(server.processes());
      List<JournalWrites> journal = journalSince(server, scrape0);
      long frames = Long.parseLong(done[1]);
      double wall = Long.parseLong(done[17]) / 1e9; // the phase's start (the first reconnect) to the last frame
      double clientCpu = 100.0 * Long.parseLong(done[8]) / Long.parseLong(done[7]);
      long lastOpen = Long.parseLong(done[16]);
      double seam = lastOpen < 0 ? Double.NaN : (Long.parseLong(done[17]) - lastOpen) / 1e9;
      Row r = new Row("resume", server.name(), rep, n, "replay (" + variant + ")", m, frames, wall,
          100.0 * (c1 - c0) / (t1 - t0), clientCpu, (c1 - c0) / 1e9, Histograms.decode(done[10]), null,
          Long.parseLong(done[3]), Long.parseLong(done[4]), Long.parseLong(done[5]), Long.parseLong(done[6]), 0,
          frames == 0 ? 0 : Double.parseDouble(done[12]) / Math.max(1, frames), Long.parseLong(done[13]), 0, 0, 0,
          Long.parseLong(done[18]), server.gcLog().map(GcLog::next).orElse(null),
          new Resume(variant, Long.parseLong(done[14]), Long.parseLong(done[15]), seam, info.openCpuS(), m), journal);
      add(r);
      System.out.printf(Locale.ROOT,
          "  resume   %6d conns %-28s %6d frames: first reconnect → last frame %.2f s, last 101 → last frame %.3f s, "
              + "%9.0f frames/CPU-s (server CPU %.2f s; opening as many without a resume: %.2f s), server/client CPU %3.0f/%3.0f%%, missing %d dup %d, "
              + "id errors %d, gaps %d, failed opens %d, GCs %s%n",
          n, r.mode(), frames, wall, seam, r.framesPerCpuS(), r.serverCpuSeconds(), openCpuS,
          r.serverCpu(), r.clientCpu(), r.missing(), r.duplicates(), r.resume().idErrors(), r.resume().gaps(),
          r.failedOpens(), CompareReport.gc(r));
      clients.close(server);
    } finally {
      if (anchor != null) {
        anchor.abort();
      }
    }
  }

  /** The node's journal writes since {@code before} (a scrape), per entity; null if the server is not regcast. */
  private static List<JournalWrites> journalSince(ServerUnderTest server, String before) {
    if (!(server instanceof RegcastTarget regcast) || before == null) {
      return null;
    }
    String after = regcast.metrics();
    List<JournalWrites> l = new ArrayList<>();
    List<JournalWrites> b = JournalWrites.all(before);
    List<JournalWrites> a = JournalWrites.all(after);
    for (int i = 0; i < a.size(); i++) {
      l.add(a.get(i).minus(b.get(i)));
    }
    return l;
  }

  private void warmUp(ServerUnderTest server) throws Exception {
    if (options.warmupSeconds() <= 0) {
      return;
    }
    long end = System.nanoTime() + Duration.ofSeconds(options.warmupSeconds()).toNanos();
    int n = Math.min(1000, options.sizes().stream().min(Integer::compare).orElse(1000));
    int rounds = 0;
    try (Clients clients = clients(server, Flow.SINGLE, n, options.size())) {
      do {
        clients.open();
        publish(server, 0, "warm-up", clients, n, "burst", "publish", Math.max(20, 200_000 / n), 0, options.inFlight(), 0);
        clients.close(server);
        rounds++;
      } while (System.nanoTime() < end);
    }
    System.out.printf(Locale.ROOT, "  warm-up: %d rounds of open %d, burst, close%n", rounds, n);
  }

  private void latency(ServerUnderTest server, int rep, Clients clients) throws Exception {
    int m = Math.max(1, options.latencyRate() * options.latencySeconds());
    add(publish(server, rep, "latency", clients, clients.n, "rate " + options.latencyRate() + "/s", "publish", m,
        options.latencyRate(), 4, 0));
  }

  private void batches(ServerUnderTest server, int rep) throws Exception {
    int events = Math.max(BATCH, options.batchRate() * options.batchSeconds());
    if (server.batchesItself()) {
      try (Clients clients = clients(server, Flow.BATCHES, options.batchClients(), options.size())) {
        clients.open();
        Row r = publish(server, rep, "batching", clients, clients.n, "trigger: " + options.batchRate() + " events/s",
            "batches", events, options.batchRate(), 16, 1500);
        if (r.frames() > 0) {
          regcastBatchBytes = r.payloadAvg();
        }
        add(r);
        clients.close(server);
      }
    } else {
      // The peers cannot batch: the publisher sends them the same events already batched, in
      // messages as large as regcast's (or 100 of their own messages).
      int bytes = Double.isNaN(regcastBatchBytes) ? BATCH * options.size() : (int) regcastBatchBytes;
      double rate = options.batchRate() / (double) BATCH;
      try (Clients clients = clients(server, Flow.BATCHES, options.batchClients(), bytes)) {
        clients.open();
        add(publish(server, rep, "batching", clients, clients.n, "pre-batched: " + rate + " messages/s of " + bytes + " B",
            "batches", events / BATCH, rate, 16, 1500));
        clients.close(server);
      }
    }
  }

  private Row open(ServerUnderTest server, int rep, Clients clients, int n) throws Exception {
    quiesce(server);
    long rss0 = ServerUnderTest.rssBytes(server.processes());
    long heap0 = heapAfterGc(server.jvmPid());
    long cpu0 = ServerUnderTest.cpuNanos(server.processes());
    long t0 = System.nanoTime();
    String[] opened = clients.open();
    long t1 = System.nanoTime();
    long cpu1 = ServerUnderTest.cpuNanos(server.processes());
    int ok = Integer.parseInt(opened[1]);
    int failed = Integer.parseInt(opened[2]);
    double wall = Long.parseLong(opened[3]) / 1e9;
    double clientCpu = 100.0 * Long.parseLong(opened[4]) / Long.parseLong(opened[3]);
    long rss1 = ServerUnderTest.rssBytes(server.processes());
    long heap1 = heapAfterGc(server.jvmPid());
    Row r = new Row("footprint", server.name(), rep, n, "open", 0, 0, wall, 100.0 * (cpu1 - cpu0) / (t1 - t0), clientCpu,
        (cpu1 - cpu0) / 1e9, null, null, 0, 0, 0, 0, 0, 0, 0, ok / wall, (double) (rss1 - rss0) / Math.max(1, ok),
        heap0 < 0 || heap1 < 0 ? Double.NaN : (double) (heap1 - heap0) / Math.max(1, ok), failed, null, null, null);
    System.out.printf(Locale.ROOT, "  open %d: %d ok, %d failed, %.0f/s, RSS %+.0f B/conn, heap %s B/conn, server/client CPU %.0f/%.0f%%%n",
        n, ok, failed, r.acceptedPerS(), r.rssPerConn(), Double.isNaN(r.heapPerConn()) ? "-" : String.format(Locale.ROOT, "%.0f", r.heapPerConn()),
        r.serverCpu(), r.clientCpu());
    return r;
  }

  /** One publish phase: the client publishes and receives; server CPU over the same time. */
  private Row publish(ServerUnderTest server, int rep, String scenario, Clients clients, int n, String mode, String command,
      int messages, double rate, int inFlight, int quietMs) throws Exception {
    if (!scenario.equals("warm-up")) {
      quiesce(server);
    }
    long base = nextBase;
    nextBase += messages;
    String scrape0 = server instanceof RegcastTarget regcast && !scenario.equals("warm-up") ? regcast.metrics() : null;
    server.gcLog().ifPresent(GcLog::next);
    long cpu0 = ServerUnderTest.cpuNanos(server.processes());
    long t0 = System.nanoTime();
    double expectS = rate > 0 ? messages / rate : messages * (double) n / 200_000;
    Duration timeout = Duration.ofSeconds((long) Math.max(180, expectS * 20));
    String[] done = clients.run(command + " " + base + " " + messages + " " + rate + " " + inFlight
        + (command.equals("batches") ? " " + quietMs : ""),
        (command.equals("batches") ? "receive-batches " : "receive ") + base + " " + messages
        + (command.equals("batches") ? " " + quietMs : ""), timeout);
    long t1 = System.nanoTime();
    long cpu1 = ServerUnderTest.cpuNanos(server.processes());
    long frames = Long.parseLong(done[1]);
    double wall = Long.parseLong(done[7]) / 1e9;
    double clientCpu = 100.0 * Long.parseLong(done[8]) / Long.parseLong(done[7]);
    Row r = new Row(scenario, server.name(), rep, n, mode, messages, frames, wall, 100.0 * (cpu1 - cpu0) / (t1 - t0),
        clientCpu, (cpu1 - cpu0) / 1e9, Histograms.decode(done[10]), Histograms.decode(done[11]),
        Long.parseLong(done[3]), Long.parseLong(done[4]), Long.parseLong(done[5]), Long.parseLong(done[6]),
        Long.parseLong(done[9]), frames == 0 ? 0 : Double.parseDouble(done[12]) / Math.max(1, frames),
        Long.parseLong(done[13]), 0, 0, 0, 0, server.gcLog().map(GcLog::next).orElse(null),
        new Resume("", Long.parseLong(done[14]), Long.parseLong(done[15]), Double.NaN, Double.NaN, 0),
        journalSince(server, scrape0));
    System.out.printf(Locale.ROOT,
        "  %-8s %6d conns %-28s %6d msgs: %9.0f frames/s, %9.0f frames/CPU-s, server/client CPU %3.0f/%3.0f%%%s, "
            + "latency p50 %.1f p99 %.1f p999 %.1f ms, missing %d dup %d ooo %d, publish failures %d, %.0f B/msg, GCs %s%n",
        scenario, n, mode, messages, r.framesPerS(), r.framesPerCpuS(), r.serverCpu(), r.clientCpu(),
        r.clientBound() ? " c" : "", Histograms.millis(r.latency(), 50), Histograms.millis(r.latency(), 99),
        Histograms.millis(r.latency(), 99.9), r.missing(), r.duplicates(), r.outOfOrder(), r.publishFailures(),
        r.payloadAvg(), CompareReport.gc(r));
    if (r.journal() != null && !scenario.startsWith("resume")) {
      System.out.println("           journal writes: " + r.journal().stream().map(j -> j.entity() + " " + j.summary())
          .collect(java.util.stream.Collectors.joining("; ")));
    }
    return r;
  }

  private void add(Row r) {
    rows.add(r);
  }

  // ---- clients ----

  /**
   * The load client process(es) of one phase, connections split between them (each on its
   * server port, round robin); the first publishes, the others receive. Their answers are merged.
   */
  private final class Clients implements AutoCloseable {
    final int n;
    final List<ClientProcess> procs;

    Clients(int n, List<ClientProcess> procs) {
      this.n = n;
      this.procs = procs;
    }

    /** opened OK FAILED WALL CPU: summed, the longest wall. */
    String[] open() throws InterruptedException {
      procs.forEach(p -> p.send("open"));
      long ok = 0;
      long failed = 0;
      long wall = 0;
      long cpu = 0;
      for (ClientProcess p : procs) {
        String[] o = p.expect("opened", Duration.ofSeconds(120));
        ok += Long.parseLong(o[1]);
        failed += Long.parseLong(o[2]);
        wall = Math.max(wall, Long.parseLong(o[3]));
        cpu += Long.parseLong(o[4]);
      }
      return new String[] {"opened", Long.toString(ok), Long.toString(failed), Long.toString(wall), Long.toString(cpu)};
    }

    /** The receivers arm first, then the publisher; returns the merged "done" (LoadClient's format). */
    String[] run(String publish, String receive, Duration timeout) throws InterruptedException {
      for (ClientProcess p : procs.subList(1, procs.size())) {
        p.send(receive);
        p.expect("armed", Duration.ofSeconds(30));
      }
      procs.get(0).send(publish);
      procs.get(0).expect("armed", Duration.ofSeconds(30));
      List<String[]> answers = new ArrayList<>();
      for (ClientProcess p : procs) {
        answers.add(p.expect("done", timeout));
      }
      return merge(answers);
    }

    /** Every process reconnects its connections with Last-Event-ID and expects BASE..BASE+M-1 replayed. */
    String[] resume(long base, int m, Duration timeout) throws InterruptedException {
      for (ClientProcess p : procs) {
        p.send("resume " + base + " " + m);
      }
      for (ClientProcess p : procs) {
        p.expect("armed", Duration.ofSeconds(30));
      }
      List<String[]> answers = new ArrayList<>();
      for (ClientProcess p : procs) {
        answers.add(p.expect("done", timeout));
      }
      return merge(answers);
    }

    /** LoadClient's "done" lines of every process as one: counts summed, times the longest, the first's publish histogram. */
    private String[] merge(List<String[]> answers) {
      long[] sums = new long[19];
      long wall = 0;
      long lastOpen = -1;
      long lastFrame = -1;
      Histogram latency = new Histogram(LoadClient.MAX_LATENCY_MICROS, 3);
      String publishHistogram = "-";
      long distinct = 0;
      for (int i = 0; i < answers.size(); i++) {
        String[] d = answers.get(i);
        for (int f : new int[] {1, 2, 3, 4, 5, 6, 8, 9, 12, 14, 15, 18}) {
          sums[f] += Long.parseLong(d[f]);
        }
        wall = Math.max(wall, Long.parseLong(d[7]));
        lastOpen = Math.max(lastOpen, Long.parseLong(d[16]));
        lastFrame = Math.max(lastFrame, Long.parseLong(d[17]));
        latency.add(Histograms.decode(d[10]));
        if (i == 0) {
          publishHistogram = d[11];
        }
        distinct = Math.max(distinct, Long.parseLong(d[13]));
      }
      return new String[] {"done", Long.toString(sums[1]), Long.toString(sums[2]), Long.toString(sums[3]),
          Long.toString(sums[4]), Long.toString(sums[5]), Long.toString(sums[6]), Long.toString(wall),
          Long.toString(sums[8]), Long.toString(sums[9]), Histograms.encode(latency), publishHistogram,
          Long.toString(sums[12]), Long.toString(distinct), Long.toString(sums[14]), Long.toString(sums[15]),
          Long.toString(lastOpen), Long.toString(lastFrame), Long.toString(sums[18])};
    }

    void close(ServerUnderTest server) throws InterruptedException {
      procs.forEach(p -> p.send("close"));
      for (ClientProcess p : procs) {
        p.expect("closed", Duration.ofSeconds(120));
      }
    }

    @Override
    public void close() {
      procs.forEach(ClientProcess::quit);
    }
  }

  private Clients clients(ServerUnderTest server, Flow flow, int n, int size) throws IOException, InterruptedException {
    return clients(server, flow, n, size, null);
  }

  /** The client processes of one phase; {@code subprotocol} (e.g. regcast.v1) asked on every connection, or null. */
  private Clients clients(ServerUnderTest server, Flow flow, int n, int size, String subprotocol)
      throws IOException, InterruptedException {
    Path spec = Files.createTempFile(tmp, "publish-", ".spec");
    Files.writeString(spec, server.publishSpec(flow, size), StandardCharsets.UTF_8);
    List<Integer> ports = server.wsPorts();
    int procs = Math.max(1, Math.min(options.clientProcs(), n));
    List<ClientProcess> started = new ArrayList<>();
    try {
      for (int i = 0; i < procs; i++) {
        int share = n / procs + (i < n % procs ? 1 : 0);
        LoadClient.Options o = new LoadClient.Options("127.0.0.1", ports.get(i % ports.size()), server.subscribePath(flow),
            share, 200, options.sources(), i == 0 ? spec : null).withSubprotocol(subprotocol);
        started.add(ClientProcess.start(taskset, options.clientCpus(), options.clientJvmOpts(), o, Duration.ofSeconds(60),
            "client" + i));
      }
      for (ClientProcess p : started) {
        p.expect("ready", Duration.ofSeconds(30));
      }
    } catch (IOException | RuntimeException | InterruptedException e) {
      started.forEach(ClientProcess::quit);
      throw e;
    }
    return new Clients(n, started);
  }

  // ---- measurements ----

  /**
   * Waits until the server is quiet (below 10% of a core over two 0.5 s windows in a row, 0.1 s
   * with --quick; at most 30 s), so that a phase does not pay for what the previous one left behind (regcast:
   * acknowledgements, snapshots, compilations). Every server gets the same.
   */
  private void quiesce(ServerUnderTest server) {
    long window = options.quick() ? 100_000_000 : 500_000_000; // the smoke run stays short
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    int quiet = 0;
    while (quiet < 2 && System.nanoTime() < deadline) {
      long c0 = ServerUnderTest.cpuNanos(server.processes());
      long w0 = System.nanoTime();
      java.util.concurrent.locks.LockSupport.parkNanos(window);
      double pct = 100.0 * (ServerUnderTest.cpuNanos(server.processes()) - c0) / (System.nanoTime() - w0);
      quiet = pct < 10 ? quiet + 1 : 0;
    }
    if (quiet < 2) {
      System.out.println("  (server not quiet after 30 s: measuring anyway)");
    }
  }

  /** Used heap after two full GCs (jcmd GC.run, then jstat -gc), in bytes; -1 if not a JVM or unknown. */
  private static long heapAfterGc(OptionalLong pid) {
    if (pid.isEmpty()) {
      return -1;
    }
    Path bin = Path.of(System.getProperty("java.home"), "bin");
    String p = Long.toString(pid.getAsLong());
    exec(List.of(bin.resolve("jcmd").toString(), p, "GC.run"));
    exec(List.of(bin.resolve("jcmd").toString(), p, "GC.run"));
    String out = exec(List.of(bin.resolve("jstat").toString(), "-gc", p));
    String[] lines = out.trim().split("\n");
    if (lines.length < 2) {
      return -1;
    }
    String[] names = lines[0].trim().split("\\s+");
    String[] values = lines[1].trim().split("\\s+");
    double kb = 0;
    for (int i = 0; i < names.length && i < values.length; i++) {
      if (List.of("S0U", "S1U", "EU", "OU").contains(names[i])) {
        kb += Double.parseDouble(values[i]);
      }
    }
    return (long) (kb * 1024);
  }

  private static String exec(List<String> command) {
    try {
      Process proc = new ProcessBuilder(command).redirectErrorStream(true).start();
      try (InputStream in = proc.getInputStream()) {
        String s = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        proc.waitFor();
        return s;
      }
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private Path nodeJar() {
    if (options.nodeJar().isPresent()) {
      return options.nodeJar().get().toAbsolutePath();
    }
    Path[] candidates = {Path.of("engine", "target", "regcast.jar"), benchDir.resolve("../../engine/target/regcast.jar")};
    for (Path p : candidates) {
      if (Files.isRegularFile(p)) {
        return p.toAbsolutePath().normalize();
      }
    }
    throw new IllegalStateException("engine/target/regcast.jar not found (mvn -B -q -DskipTests package), or pass --node-jar");
  }

  static String machineLine() {
    long memKb = 0;
    try {
      for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (l.startsWith("MemTotal:")) {
          memKb = Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    String model = "?";
    try {
      model = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return String.format(Locale.ROOT, "machine: %d CPUs (%s online, %s), %.1f GiB memory, %s %s %s, %s %s",
        Runtime.getRuntime().availableProcessors(), GatewayBench.cpusOnline(), model, memKb / 1024.0 / 1024.0,
        System.getProperty("java.vm.name"), System.getProperty("java.runtime.version"),
        System.getProperty("os.name"), System.getProperty("os.version"), "open files " + exec(List.of("sh", "-c", "ulimit -n")).trim());
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return String.format(Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
  }

  // ---- report ----

  private String report(long wallNanos) {
    CompareReport r = new CompareReport(rows, options, descriptions, durableWrites, skipped, failures);
    return r.render(machineLine(), loadAverage(), wallNanos);
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          // left behind
        }
      });
    } catch (IOException e) {
      System.err.println("could not delete " + root + ": " + e.getMessage());
    }
  }

  static String now() {
    return Instant.now().toString();
  }
}

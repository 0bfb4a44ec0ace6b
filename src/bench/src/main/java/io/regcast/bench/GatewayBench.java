package io.regcast.bench;

import io.regcast.gateway.GatewayDirectory;
import io.regcast.gateway.GatewayServer;
import io.regcast.gateway.GatewaySettings;
import io.regcast.gateway.PathKey;
import io.regcast.metrics.Metrics;
import io.regcast.model.Gateway;
import java.io.File;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

/**
 * {@code gateway}: the WebSocket data plane alone (a {@link GatewayServer}, no actor system) with N
 * local clients held by a separate client JVM ({@link LoadClient}), each pinned to its own core.
 * Per round: connections accepted/s, heap per connection, then M messages broadcast to every
 * connection as fast as the data plane drains them (the producer stays at most a window of
 * messages ahead of the slowest client): delivered frames/s, bytes allocated per delivered frame
 * (by the gateway's event loops and the producer), and both processes' CPU.
 */
final class GatewayBench {
  static final String USAGE =
      """
      usage: java -jar regcast-bench.jar gateway [options]
        --clients N              WebSocket connections (1000)
        --messages M             messages per measured round, broadcast to every connection (20000)
        --size BYTES             message payload size (600)
        --rounds R               measured rounds after the warm-up round (2)
        --warmup-messages M      messages in the warm-up round (5000)
        --warmup-opens K         extra open/close cycles of all clients before the warm-up round (4)
        --window W               the producer stays at most W messages ahead of the slowest client (128)
        --event-loops T          gateway worker threads (1: one per server core)
        --connect-concurrency C  handshakes the client keeps in flight while opening (200)
        --server-cpus LIST       taskset CPU list of the server JVM (0)
        --client-cpus LIST       taskset CPU list of the client JVM (1)
        --no-pin                 run without taskset
        --server-jvm-opts "..."  options of the server JVM (-Xms1g -Xmx1g); e.g. add
                                 -XX:StartFlightRecording=filename=gateway.jfr,settings=profile
        --client-jvm-opts "..."  options of the client JVM (-Xms256m -Xmx256m)

      The command re-executes itself as `taskset -c SERVER_CPUS java SERVER_JVM_OPTS … gateway …` (the
      server JVM), which starts the client as `taskset -c CLIENT_CPUS java … gateway-client …`.
      Figures are for one run: quote them with the CPU% columns; a phase in which the client JVM is
      above 80% CPU is marked client-bound (the figure is the client's limit, not the gateway's).
      """;

  /** Set in the server JVM's environment: "pinned" or "unpinned". */
  private static final String SERVER_ENV = "REGCAST_BENCH_SERVER";
  private static final String GATEWAY_ID = "d4ebenchgateway00001";
  private static final String PATH = "/ws";
  private static final double CLIENT_BOUND = 80.0;
  private static final Duration STALL = Duration.ofSeconds(Long.getLong("regcast.bench.stallSeconds", 30));

  record Options(
      int clients,
      int messages,
      int size,
      int rounds,
      int warmupMessages,
      int warmupOpens,
      int window,
      int eventLoops,
      int connectConcurrency,
      String serverCpus,
      String clientCpus,
      boolean pin,
      List<String> serverJvmOpts,
      List<String> clientJvmOpts) {

    static Options parse(String[] args) {
      int clients = 1000;
      int messages = 20000;
      int size = 600;
      int rounds = 2;
      int warmup = 5000;
      int warmupOpens = 4;
      int window = 128;
      int loops = 1;
      int concurrency = 200;
      String serverCpus = "0";
      String clientCpus = "1";
      boolean pin = true;
      List<String> serverJvm = List.of("-Xms1g", "-Xmx1g");
      List<String> clientJvm = List.of("-Xms256m", "-Xmx256m");
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--no-pin")) {
          pin = false;
          continue;
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("missing value after " + a);
        }
        String v = args[++i];
        switch (a) {
          case "--clients" -> clients = positive(a, v);
          case "--messages" -> messages = positive(a, v);
          case "--size" -> size = positive(a, v);
          case "--rounds" -> rounds = positive(a, v);
          case "--warmup-messages" -> warmup = positive(a, v);
          case "--warmup-opens" -> warmupOpens = Integer.parseInt(v);
          case "--window" -> window = positive(a, v);
          case "--event-loops" -> loops = positive(a, v);
          case "--connect-concurrency" -> concurrency = positive(a, v);
          case "--server-cpus" -> serverCpus = v;
          case "--client-cpus" -> clientCpus = v;
          case "--server-jvm-opts" -> serverJvm = words(v);
          case "--client-jvm-opts" -> clientJvm = words(v);
          default -> throw new IllegalArgumentException("unknown option " + a);
        }
      }
      if (size < Tag.WIDTH + 20) {
        throw new IllegalArgumentException("--size must be at least " + (Tag.WIDTH + 20));
      }
      return new Options(clients, messages, size, rounds, warmup, warmupOpens, window, loops, concurrency, serverCpus,
          clientCpus, pin, serverJvm, clientJvm);
    }

    private static int positive(String name, String value) {
      int n = Integer.parseInt(value);
      if (n <= 0) {
        throw new IllegalArgumentException(name + " must be positive");
      }
      return n;
    }

    private static List<String> words(String value) {
      return Arrays.stream(value.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
    }
  }

  /** One round's figures. */
  record Round(
      String name,
      int connections,
      double acceptsPerSecond,
      double heapPerConnection,
      int messages,
      double framesPerSecond,
      double bytesPerFrame,
      double bytesPerFrameAllThreads,
      double framesPerWrite,
      double serverCpuOpen,
      double clientCpuOpen,
      double serverCpuBroadcast,
      double clientCpuBroadcast,
      int gcs,
      long errors,
      String errorDetail) {}

  private final Options options;
  private final com.sun.management.ThreadMXBean threads =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
  private final PathKey key = new PathKey(GATEWAY_ID, PATH);
  private GatewayServer server;
  /** The server's counters, read as /metrics would show them. */
  private final Metrics metrics = new Metrics(new Metrics.Settings(false));
  private ClientProcess client;

  private GatewayBench(Options options) {
    this.options = options;
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
    String role = System.getenv(SERVER_ENV);
    if (role != null) {
      return new GatewayBench(options).run(role.equals("pinned"));
    }
    // This JVM only launches: the server JVM gets its own options, and its core.
    List<String> command = new ArrayList<>();
    Optional<String> taskset = options.pin() ? onPath("taskset") : Optional.empty();
    if (taskset.isPresent()) {
      command.addAll(List.of(taskset.get(), "-c", options.serverCpus()));
    } else if (options.pin()) {
      System.out.println("taskset not found: running unpinned (server and client share every core)");
    }
    command.add(javaBin());
    command.addAll(options.serverJvmOpts());
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Bench.class.getName(), "gateway"));
    command.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
    pb.environment().put(SERVER_ENV, taskset.isPresent() ? "pinned" : "unpinned");
    return pb.start().waitFor();
  }

  private int run(boolean pinned) throws Exception {
    if (!threads.isThreadAllocatedMemorySupported()) {
      throw new IllegalStateException("this JVM cannot count the bytes each thread allocates");
    }
    threads.setThreadAllocatedMemoryEnabled(true);
    GatewaySettings settings =
        new GatewaySettings(
            "127.0.0.1", 0, "", 32 * 1024, 128 * 1024,
            Duration.ofHours(1), Duration.ofHours(1), Duration.ofHours(24), Duration.ofSeconds(1),
            // Nothing may be cut: a queue far above what the window can put behind a connection
            // (a cut would show as a slow-consumer error in the table).
            GatewaySettings.SlowConsumerPolicy.DISCONNECT, 256L * 1024 * 1024, options.eventLoops(),
            GatewaySettings.Limits.DEFAULT);
    GatewayDirectory directory = new GatewayDirectory("", new io.regcast.model.HistorySettings(1000, java.time.Duration.ofHours(24)));
    directory.replaceAll(List.of(new Gateway(GATEWAY_ID, "b1gbenchfolder000001", "bench", "", List.of(PATH), Instant.now())));
    server = GatewayServer.start(settings, directory, "bench0", metrics);
    boolean ok = true;
    try {
      client = ClientProcess.start(pinned ? onPath("taskset") : Optional.empty(), options.clientCpus(),
          options.clientJvmOpts(), new LoadClient.Options("127.0.0.1", server.address().getPort(),
              "/gateways/" + GATEWAY_ID + PATH, options.clients(), options.connectConcurrency(), 1, null), STALL);
      String[] ready = client.expect("ready", Duration.ofSeconds(30));
      printHeader(pinned, ready);
      // The accept path runs once per connection: give the JIT more of it than one round.
      for (int i = 0; i < options.warmupOpens(); i++) {
        open();
        close();
      }
      List<Round> rounds = new ArrayList<>();
      printRowHeader();
      rounds.add(printRow(round("warm-up", options.warmupMessages())));
      for (int r = 1; r <= options.rounds(); r++) {
        rounds.add(printRow(round(Integer.toString(r), options.messages())));
      }
      ok = rounds.stream().allMatch(r -> r.errors() == 0);
      printSummary(rounds.subList(1, rounds.size()));
    } catch (Exception e) {
      ok = false;
      System.out.println("FAILED: " + e.getMessage());
      e.printStackTrace();
    } finally {
      if (client != null) {
        client.quit();
      }
      server.stop();
    }
    return ok ? 0 : 1;
  }

  // ---- one round ----

  private Round round(String name, int messages) throws Exception {
    // Open N connections: accepted/s, heap per connection.
    long heapBefore = usedHeapAfterGc();
    // The CPU time is read inside the wall time it is divided by (reading it costs CPU too).
    long w0 = System.nanoTime();
    long cpu0 = ProcessCpu.nanos();
    long t0 = System.nanoTime();
    String[] opened = open();
    int ok = Integer.parseInt(opened[1]);
    int failed = Integer.parseInt(opened[2]);
    long t1 = System.nanoTime();
    long cpu1 = ProcessCpu.nanos();
    double acceptsPerSecond = ok / seconds(t1 - t0);
    double serverCpuOpen = percent(cpu1 - cpu0, System.nanoTime() - w0);
    double clientCpuOpen = percent(Long.parseLong(opened[4]), Long.parseLong(opened[3]));
    long heapAfter = usedHeapAfterGc();
    double heapPerConnection = (double) (heapAfter - heapBefore) / ok;

    // Broadcast M messages to all of them.
    long[] measured = measuredThreads();
    long writes0 = metrics.counterValue("regcast_gateway_socket_writes");
    long cuts0 = metrics.counterValue("regcast_gateway_slow_consumer_disconnects");
    long drops0 = metrics.counterValue("regcast_gateway_messages_dropped");
    client.startProgress();
    client.send("bcast " + messages + " " + Math.max(1, options.window() / 8));
    client.expect("armed", Duration.ofSeconds(30));
    int gcs0 = gcCount();
    long allocAll0 = allocated(threads.getAllThreadIds());
    long alloc0 = allocated(measured);
    w0 = System.nanoTime();
    cpu0 = ProcessCpu.nanos();
    t0 = System.nanoTime();
    Payloads payloads = new Payloads(options.size());
    int window = options.window();
    try {
      for (int seq = 0; seq < messages; seq++) {
        if (seq - client.progress() >= window) {
          client.awaitProgress(seq - window + 1);
        }
        server.broadcast(key, true, payloads.render(seq), 0);
      }
      client.awaitProgress(messages);
    } catch (IllegalStateException e) {
      throw new IllegalStateException(e.getMessage() + "; gateway: " + server.connectionsOf(GATEWAY_ID).size()
          + " connections, " + metrics.counterValue("regcast_gateway_broadcasts") + " messages broadcast, "
          + (metrics.counterValue("regcast_gateway_socket_writes") - writes0) + " writes this round, slow-consumer cuts "
          + (metrics.counterValue("regcast_gateway_slow_consumer_disconnects") - cuts0) + ", dropped " + (metrics.counterValue("regcast_gateway_messages_dropped") - drops0), e);
    }
    t1 = System.nanoTime();
    cpu1 = ProcessCpu.nanos();
    long w1 = System.nanoTime();
    long alloc1 = allocated(measured);
    long allocAll1 = allocated(threads.getAllThreadIds());
    int gcs = gcCount() - gcs0;
    String[] done = client.expect("done", Duration.ofSeconds(30));
    long delivered = (long) ok * messages;
    long writes = metrics.counterValue("regcast_gateway_socket_writes") - writes0;
    long frames = Long.parseLong(done[1]);
    long missing = Long.parseLong(done[3]);
    long late = Long.parseLong(done[4]) + Long.parseLong(done[5]);
    long unexpected = Long.parseLong(done[6]);
    long cuts = metrics.counterValue("regcast_gateway_slow_consumer_disconnects") - cuts0;
    long drops = metrics.counterValue("regcast_gateway_messages_dropped") - drops0;

    close();

    long errors = failed + missing + late + unexpected + cuts + drops + (frames == delivered ? 0 : 1);
    String detail = errors == 0 ? "" : String.format(Locale.ROOT,
        "failed handshakes %d, frames %d of %d, missing %d, late %d, unexpected %d, slow-consumer cuts %d, dropped %d",
        failed, frames, delivered, missing, late, unexpected, cuts, drops);
    return new Round(
        name, ok, acceptsPerSecond, heapPerConnection, messages,
        delivered / seconds(t1 - t0),
        (double) (alloc1 - alloc0) / delivered,
        (double) (allocAll1 - allocAll0) / delivered,
        writes == 0 ? 0 : (double) delivered / writes,
        serverCpuOpen, clientCpuOpen,
        percent(cpu1 - cpu0, w1 - w0),
        percent(Long.parseLong(done[8]), Long.parseLong(done[7])),
        gcs, errors, detail);
  }

  /** Opens every client connection; returns once the gateway has registered them all. */
  private String[] open() throws InterruptedException {
    long openedBefore = metrics.counterValue("regcast_gateway_connections_opened");
    client.send("open");
    String[] opened = client.expect("opened", Duration.ofSeconds(60));
    int ok = Integer.parseInt(opened[1]);
    awaitCondition(() -> metrics.counterValue("regcast_gateway_connections_opened") - openedBefore >= ok, "connections registered");
    return opened;
  }

  /** Closes them all (the client starts each close handshake). */
  private void close() throws InterruptedException {
    client.send("close");
    client.expect("closed", Duration.ofSeconds(60));
    awaitCondition(() -> server.connectionsOf(GATEWAY_ID).isEmpty(), "connections gone");
  }

  /** The gateway's event loops (where fan-out runs) and the producer (this thread). */
  private static long[] measuredThreads() {
    List<Long> ids = new ArrayList<>();
    ids.add(Thread.currentThread().getId());
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("gateway-io-")) {
        ids.add(t.getId());
      }
    }
    return ids.stream().mapToLong(Long::longValue).toArray();
  }

  private long allocated(long[] ids) {
    long sum = 0;
    for (long bytes : threads.getThreadAllocatedBytes(ids)) {
      if (bytes > 0) {
        sum += bytes;
      }
    }
    return sum;
  }

  /**
   * Used heap after full collections, once it has settled: closed channels stay reachable until
   * their event loop has deregistered them, which happens shortly after the client saw them close.
   */
  private long usedHeapAfterGc() {
    long previous = -1;
    for (int attempt = 0; attempt < 20; attempt++) {
      System.gc();
      System.gc();
      long used = memory.getHeapMemoryUsage().getUsed();
      if (previous >= 0 && Math.abs(used - previous) < 16 * 1024) {
        return used;
      }
      previous = used;
      LockSupport.parkNanos(20_000_000);
    }
    return previous;
  }

  private static int gcCount() {
    long sum = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      sum += Math.max(0, gc.getCollectionCount());
    }
    return (int) sum;
  }

  /** Waits, without spinning (the server has one core), for the gateway to catch up. */
  private static void awaitCondition(java.util.function.BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + STALL.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      LockSupport.parkNanos(50_000);
    }
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }

  private static double percent(long cpuNanos, long wallNanos) {
    return wallNanos <= 0 ? 0 : 100.0 * cpuNanos / wallNanos;
  }

  // ---- output ----

  private void printHeader(boolean pinned, String[] clientReady) {
    String gcs = ManagementFactory.getGarbageCollectorMXBeans().stream()
        .map(GarbageCollectorMXBean::getName).collect(Collectors.joining(", "));
    System.out.printf(Locale.ROOT, "regcast gateway benchmark: %d clients, %d B text messages, %d per round (warm-up %d), window %d%n",
        options.clients(), options.size(), options.messages(), options.warmupMessages(), options.window());
    System.out.printf(Locale.ROOT, "server JVM: CPUs %s (%d available), %s, %s, %d event loop(s), %s transport, heap max %d MB%n",
        cpusAllowed(), Runtime.getRuntime().availableProcessors(), pinned ? "pinned" : "not pinned",
        System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + " [" + gcs + "]",
        options.eventLoops(), io.netty.channel.epoll.Epoll.isAvailable() ? "epoll" : "NIO",
        memory.getHeapMemoryUsage().getMax() >> 20);
    System.out.printf(Locale.ROOT, "client JVM: CPUs %s (%s available), one NIO selector thread%n", clientReady[1], clientReady[2]);
    System.out.printf(Locale.ROOT, "machine: CPUs %s online, load average %.2f at the start (anything else running shares these cores)%n",
        cpusOnline(), ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    System.out.println("CPU% = process CPU time / wall time, 100% = one core; c = client-bound (client JVM above 80% CPU);");
    System.out.println("  ? = neither JVM above 80% (latency-bound, e.g. a small --window, or other processes took the cores)");
    System.out.println();
  }

  private static final String ROW = "%-8s %6s %11s %10s %8s %10s %8s %9s %9s %11s %11s %4s  %s%n";

  private static void printRowHeader() {
    System.out.printf(Locale.ROOT, ROW, "round", "conns", "accepted/s", "heap B/cn", "messages", "frames/s",
        "B/frame", "B/fr all", "fr/write", "open s/c%", "bcast s/c%", "GCs", "errors");
  }

  private static Round printRow(Round r) {
    String openCpu = String.format(Locale.ROOT, "%.0f/%.0f%s", r.serverCpuOpen(), r.clientCpuOpen(),
        bound(r.serverCpuOpen(), r.clientCpuOpen()));
    String bcastCpu = String.format(Locale.ROOT, "%.0f/%.0f%s", r.serverCpuBroadcast(), r.clientCpuBroadcast(),
        bound(r.serverCpuBroadcast(), r.clientCpuBroadcast()));
    System.out.printf(Locale.ROOT, ROW, r.name(), r.connections(),
        String.format(Locale.ROOT, "%.0f", r.acceptsPerSecond()),
        String.format(Locale.ROOT, "%.0f", r.heapPerConnection()),
        r.messages(),
        String.format(Locale.ROOT, "%.0f", r.framesPerSecond()),
        String.format(Locale.ROOT, "%.1f", r.bytesPerFrame()),
        String.format(Locale.ROOT, "%.1f", r.bytesPerFrameAllThreads()),
        String.format(Locale.ROOT, "%.0f", r.framesPerWrite()),
        openCpu, bcastCpu, r.gcs(), r.errors() == 0 ? "none" : r.errors() + " (" + r.errorDetail() + ")");
    System.out.flush();
    return r;
  }

  /** " c" client-bound; " ?" neither JVM busy: latency-bound, or something else had the cores. */
  private static String bound(double serverCpu, double clientCpu) {
    return clientCpu > CLIENT_BOUND ? " c" : serverCpu < CLIENT_BOUND ? " ?" : "";
  }

  private void printSummary(List<Round> measured) {
    System.out.println();
    System.out.println("columns: accepted/s = connections opened (handshake done, registered) per second;");
    System.out.println("  heap B/cn = server heap after GC with the connections open minus before, per connection;");
    System.out.println("  frames/s = clients x messages / time until the client has every frame;");
    System.out.println("  B/frame = bytes allocated by the gateway-io-* threads and the producer during the broadcast,");
    System.out.println("  per delivered frame (B/fr all: by every thread of the server JVM); fr/write = frames per");
    System.out.println("  channel write (frames published in one event-loop turn are merged into one write).");
    double worst = measured.stream().mapToDouble(Round::bytesPerFrame).max().orElse(Double.NaN);
    System.out.printf(Locale.ROOT, "bytes allocated per delivered frame, worst measured round: %.1f B (target < 100 B): %s%n",
        worst, worst < 100 ? "met" : "NOT met");
    System.out.printf(Locale.ROOT, "load average at the end: %.2f%n", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    boolean clientBound = measured.stream().anyMatch(r -> r.clientCpuBroadcast() > CLIENT_BOUND);
    if (clientBound) {
      System.out.println("note: the client JVM was above 80% CPU while receiving: frames/s is the client's limit here.");
    }
  }

  // ---- helpers ----

  /** The CPUs this process may run on (Linux), or "?" elsewhere. */
  static String cpusAllowed() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Cpus_allowed_list:")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return "?";
  }

  static String cpusOnline() {
    try {
      return Files.readString(Path.of("/sys/devices/system/cpu/online")).trim();
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  static Optional<String> onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      File f = new File(dir, program);
      if (f.isFile() && f.canExecute()) {
        return Optional.of(f.getAbsolutePath());
      }
    }
    return Optional.empty();
  }

  static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** Messages of the given size, {@code {"tag":"e<seq>-<micros>","data":"xxx…"}}: one new array each. */
  private static final class Payloads {
    private final byte[] template;
    private final int at;

    Payloads(int size) {
      String t = Tag.payloadTemplate(size);
      at = t.indexOf(Tag.PLACEHOLDER);
      template = t.replace(Tag.PLACEHOLDER, "e".repeat(Tag.WIDTH)).getBytes(StandardCharsets.US_ASCII);
    }

    byte[] render(int seq) {
      byte[] payload = template.clone();
      Tag.write(payload, at, seq, System.nanoTime() / 1000);
      return payload;
    }
  }
}

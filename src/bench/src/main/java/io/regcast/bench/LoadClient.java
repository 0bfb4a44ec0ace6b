package io.regcast.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The load client, run as its own JVM and shared by every benchmark and every server under test:
 * plain NIO, one selector thread holding every connection of this process (≥ 18 000 fit under the
 * 20 000 open files a process may have here; larger loads use several processes). Connections are
 * spread over source addresses 127.0.0.1…127.0.0.K, so that one server port never runs out of
 * ephemeral ports. It does the HTTP upgrade by hand and parses the server's (unmasked) frames as
 * they stream in, keeping only a payload's first bytes.
 *
 * <p>Every message carries a tag {@code "tag":"e<seq>-<micros>"} somewhere in its payload (see
 * {@link Tag}): the publisher's sequence number and the time it sent the publish request
 * ({@code System.nanoTime() / 1000}: CLOCK_MONOTONIC on Linux, one clock for every process of the
 * machine). Per connection the client counts delivered, missing, duplicate and out-of-order
 * messages (a gap is missing until the message arrives late: then it is out of order; anything
 * else below the next expected number is a duplicate), and records each delivery's latency (now −
 * sent) in an HdrHistogram.
 *
 * <p>With {@code --subprotocol regcast.v1} every connection asks for regcast's v1 subprotocol
 * (the 101 must name it): each message is {@code {"id":"<position>","message":…}}; the client
 * keeps per connection the last id it received and counts an id that is not the previous one + 1
 * as an id error (a hole or a duplicate of the path's stream); a {@code {"gap":…}} message is
 * counted apart. Without it nothing changes: plain WebSocket, no ids.
 *
 * <p>It can also publish ({@link Publisher}): a request template from a file, sent over a few
 * keep-alive HTTP/1.1 connections at a fixed rate or as a burst; the tag goes into the request
 * (for regcast: an ingest request whose event tag ends up in the message).
 *
 * <p>Driven over stdin, one command a line; it answers on stdout:
 *
 * <pre>
 * (start)                    → ready &lt;cpus allowed&gt; &lt;available processors&gt;
 * open                       → opened &lt;ok&gt; &lt;failed&gt; &lt;wall ns&gt; &lt;cpu ns&gt;
 * bcast M STEP               → (the server publishes seq 0..M-1 after "armed") armed, progress K …
 *                              (K = messages every connection has received or lost; every STEP and
 *                              at M), then done …
 * publish BASE M RATE K      → publishes seq BASE..BASE+M-1 (RATE per second, 0 = a burst with K
 *                              requests in flight), receives them; then done …
 * receive BASE M             → receives seq BASE..BASE+M-1 published by another process; done …
 *                              (what has not arrived 10 s after the last frame is missing)
 * receive-batches BASE M QMS → receives batches published by another process; done once no
 *                              frame arrived for QMS ms after the first
 * batches BASE M RATE K QMS  → publishes like publish; the server batches them: each message's
 *                              first tag counts; done once no frame arrived for QMS ms after the
 *                              last answer
 * done &lt;frames&gt; &lt;bytes&gt; &lt;missing&gt; &lt;duplicates&gt; &lt;out-of-order&gt; &lt;unexpected&gt; &lt;wall ns&gt;
 *      &lt;cpu ns&gt; &lt;publish failures&gt; &lt;latency histogram&gt; &lt;publish histogram&gt; &lt;payload bytes&gt;
 *      &lt;distinct messages&gt; (histograms: HdrHistogram, µs, compressed, Base64; "-" if empty)
 *      &lt;id errors&gt; &lt;gap messages&gt; &lt;last handshake at&gt; &lt;last frame at&gt; &lt;failed opens&gt; (the last
 *      five: see {@code resume}; ns since the phase's start, -1 if none)
 * resume BASE M              → every connection of the last open is opened again (new sockets, the
 *                              same count, --concurrency handshakes in flight) with
 *                              {@code Last-Event-ID: <the last id it received>} and must receive seq
 *                              BASE..BASE+M-1 (replayed by the server, nothing published); done …
 * close                      → closed &lt;n&gt; &lt;wall ns&gt; (a close handshake 1000 on every connection)
 * quit                       → bye, and the JVM exits
 * </pre>
 */
final class LoadClient {
  static final String COMMAND = "gateway-client";
  private static final String WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  /** At most this many payload bytes are kept per frame (the tag must lie within). */
  private static final int KEEP_MAX = 4096;
  /** Beyond the farthest tag end seen so far, this many bytes are kept. */
  private static final int KEEP_SLACK = 64;
  static final long MAX_LATENCY_MICROS = TimeUnit.MINUTES.toMicros(10);
  /** After the last publish was answered, no frame for this long: the rest is missing. */
  private static final long SETTLE_NANOS = TimeUnit.SECONDS.toNanos(Long.getLong("regcast.bench.settleSeconds", 10));

  private static final int CONNECTING = 0;
  private static final int HANDSHAKING = 1;
  private static final int OPEN = 2;
  private static final int CLOSING = 3;
  private static final int CLOSED = 4;

  private static final int IDLE = 0;
  /** Every message of [base, base + messages) is expected once per connection. */
  private static final int SEQUENCE = 1;
  /** Messages are batches: each carries its first event's tag; done after a quiet period. */
  private static final int BATCHES = 2;

  /** Options of the client process. */
  record Options(String host, int port, String path, int clients, int concurrency, int sources, Path publishSpec,
      String subprotocol) {
    Options(String host, int port, String path, int clients, int concurrency, int sources, Path publishSpec) {
      this(host, port, path, clients, concurrency, sources, publishSpec, null);
    }

    /** The same, asking every connection for {@code subprotocol} (null: none). */
    Options withSubprotocol(String subprotocol) {
      return new Options(host, port, path, clients, concurrency, sources, publishSpec, subprotocol);
    }

    static Options parse(String[] args) {
      String host = "127.0.0.1";
      int port = 0;
      String path = "/";
      int clients = 1000;
      int concurrency = 200;
      int sources = 1;
      Path spec = null;
      String subprotocol = null;
      for (int i = 0; i + 1 < args.length; i += 2) {
        String v = args[i + 1];
        switch (args[i]) {
          case "--host" -> host = v;
          case "--port" -> port = Integer.parseInt(v);
          case "--path" -> path = v;
          case "--clients" -> clients = Integer.parseInt(v);
          case "--concurrency" -> concurrency = Integer.parseInt(v);
          case "--sources" -> sources = Math.max(1, Integer.parseInt(v));
          case "--publish-spec" -> spec = Path.of(v);
          case "--subprotocol" -> subprotocol = v;
          default -> throw new IllegalArgumentException("unknown client option " + args[i]);
        }
      }
      return new Options(host, port, path, clients, concurrency, sources, spec, subprotocol);
    }

    List<String> args() {
      List<String> a = new ArrayList<>(List.of("--host", host, "--port", Integer.toString(port), "--path", path,
          "--clients", Integer.toString(clients), "--concurrency", Integer.toString(concurrency),
          "--sources", Integer.toString(sources)));
      if (publishSpec != null) {
        a.addAll(List.of("--publish-spec", publishSpec.toString()));
      }
      if (subprotocol != null) {
        a.addAll(List.of("--subprotocol", subprotocol));
      }
      return a;
    }
  }

  private final Options options;
  private final InetSocketAddress address;
  private final InetAddress[] sources;
  private final Selector selector;
  private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(256 * 1024);
  private final LinkedBlockingQueue<String> commands = new LinkedBlockingQueue<>();
  private final PrintStream out = System.out;
  private final String acceptExpected;
  private final byte[] request;
  /** The request without its final CRLF: a resume adds its Last-Event-ID header. */
  private final String requestHead;
  private static final byte[] ID_MARKER = "{\"id\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] GAP_MARKER = "{\"gap\":".getBytes(StandardCharsets.US_ASCII);
  private final Publisher publisher;

  private final List<Conn> conns = new ArrayList<>();
  private boolean running = true;

  // open phase
  private boolean opening;
  private int launched;
  private int inFlight;
  private int opened;
  private int failed;
  private long phaseStart;
  private long phaseCpuStart;

  // receive phase
  private int mode = IDLE;
  private long base;
  private int messages;
  private int step;
  /** counts[s - base]: connections that have received (or definitely lost) message s. */
  private int[] counts = new int[0];
  private int members;
  private int low;
  private int lastReported;
  private long frames;
  private long bytes;
  private long payloadBytes;
  private long missing;
  private long duplicates;
  private long outOfOrder;
  private long unexpected;
  private final Histogram latency = new Histogram(MAX_LATENCY_MICROS, 3);
  private int keep = KEEP_MAX;
  private int farthestTagEnd;
  /** Batches: connections per first sequence number seen. */
  private final Map<Long, int[]> batchFirsts = new HashMap<>();
  private long lastFrameAt;
  private int quietMillis;
  private volatile boolean publishing;

  // v1 ids and resume
  private long idErrors;
  private long gapMessages;
  /** Opening again with Last-Event-ID (resume): the old connections' last ids, in order. */
  private long[] resumeIds;
  private long lastHandshakeAt = -1;
  private int failedInPhase;

  // close phase
  private boolean closing;

  private LoadClient(Options options) throws IOException {
    this.options = options;
    this.address = new InetSocketAddress(options.host(), options.port());
    this.sources = new InetAddress[options.sources()];
    for (int i = 0; i < sources.length; i++) {
      sources[i] = InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (1 + i)});
    }
    this.selector = Selector.open();
    // One key for every connection (the server cannot tell): the client's CPU goes to the
    // measurement, not to SHA-1. The answer is still checked on each connection.
    byte[] keyBytes = new byte[16];
    ThreadLocalRandom.current().nextBytes(keyBytes);
    String key = Base64.getEncoder().encodeToString(keyBytes);
    try {
      acceptExpected = Base64.getEncoder().encodeToString(
          MessageDigest.getInstance("SHA-1").digest((key + WS_GUID).getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    requestHead = "GET " + options.path() + " HTTP/1.1\r\n"
        + "Host: " + options.host() + ":" + options.port() + "\r\n"
        + "Upgrade: websocket\r\n"
        + "Connection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + key + "\r\n"
        + "Sec-WebSocket-Version: 13\r\n"
        + (options.subprotocol() == null ? "" : "Sec-WebSocket-Protocol: " + options.subprotocol() + "\r\n")
        + "User-Agent: regcast-bench\r\n";
    request = (requestHead + "\r\n").getBytes(StandardCharsets.US_ASCII);
    publisher = options.publishSpec() == null ? null : Publisher.fromSpec(options.publishSpec(), () -> selector.wakeup());
  }

  /** {@code gateway-client --host H --port P --path PATH --clients N --concurrency C [--sources K] [--publish-spec FILE]} */
  static void main(String[] args) throws IOException {
    new LoadClient(Options.parse(args)).run();
    System.exit(0);
  }

  private void run() throws IOException {
    Thread stdin = new Thread(this::readCommands, "commands");
    stdin.setDaemon(true);
    stdin.start();
    report("ready " + GatewayBench.cpusAllowed() + " " + Runtime.getRuntime().availableProcessors());
    while (running) {
      if (mode != IDLE) {
        selector.select(this::onReady, 50);
      } else {
        selector.select(this::onReady);
      }
      for (String command; (command = commands.poll()) != null; ) {
        handle(command);
      }
      afterSelect();
    }
  }

  private void readCommands() {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        commands.add(line);
        selector.wakeup();
      }
    } catch (IOException e) {
      // the parent is gone
    }
    commands.add("quit");
    selector.wakeup();
  }

  private void report(String line) {
    synchronized (out) {
      out.println(line);
      out.flush();
    }
  }

  private void handle(String command) throws IOException {
    String[] w = command.trim().split(" ");
    switch (w[0]) {
      case "open" -> startOpen();
      case "bcast" -> startReceive(SEQUENCE, 0, Integer.parseInt(w[1]), Integer.parseInt(w[2]));
      case "receive" -> startReceive(SEQUENCE, Long.parseLong(w[1]), Integer.parseInt(w[2]), Integer.MAX_VALUE);
      case "receive-batches" -> {
        quietMillis = Integer.parseInt(w[3]);
        startReceive(BATCHES, Long.parseLong(w[1]), Integer.parseInt(w[2]), Integer.MAX_VALUE);
      }
      case "publish", "batches" -> {
        if (publisher == null) {
          report("error no --publish-spec: cannot publish");
          return;
        }
        boolean batches = w[0].equals("batches");
        long from = Long.parseLong(w[1]);
        int m = Integer.parseInt(w[2]);
        quietMillis = batches ? Integer.parseInt(w[5]) : 0;
        startReceive(batches ? BATCHES : SEQUENCE, from, m, Integer.MAX_VALUE);
        publishing = true;
        publisher.start(from, m, Double.parseDouble(w[3]), Integer.parseInt(w[4]), () -> {
          publishing = false;
          selector.wakeup();
        });
      }
      case "resume" -> startResume(Long.parseLong(w[1]), Integer.parseInt(w[2]));
      case "close" -> startClose();
      case "stats" -> report("error stats " + stats());
      case "quit" -> {
        for (Conn c : conns) {
          c.ch.close();
        }
        if (publisher != null) {
          publisher.close();
        }
        running = false;
        report("bye");
      }
      default -> report("error unknown command " + command);
    }
  }

  private void markPhase() {
    phaseStart = System.nanoTime();
    phaseCpuStart = ProcessCpu.nanos();
  }

  /** Wall and CPU time since {@link #markPhase}; reading the CPU time counts in both. */
  private String phaseTimes() {
    long cpu = ProcessCpu.nanos() - phaseCpuStart;
    return (System.nanoTime() - phaseStart) + " " + cpu;
  }

  // ---- open ----

  private void startOpen() throws IOException {
    conns.clear();
    resumeIds = null;
    opening = true;
    launched = 0;
    inFlight = 0;
    opened = 0;
    failed = 0;
    markPhase();
    launchMore();
    if (options.clients() == 0) {
      opening = false;
      report("opened 0 0 " + phaseTimes());
    }
  }

  private void launchMore() throws IOException {
    while (opening && inFlight < options.concurrency() && launched < options.clients()) {
      InetAddress source = sources[launched % sources.length];
      launched++;
      inFlight++;
      SocketChannel ch = SocketChannel.open();
      ch.configureBlocking(false);
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      Conn c = new Conn(ch);
      if (resumeIds != null) {
        // A resume: the connection takes the place of the old one, and continues its ids.
        c.lastId = resumeIds[launched - 1];
        c.resumeFrom = c.lastId;
        c.expected = base;
      }
      conns.add(c);
      try {
        if (sources.length > 1) {
          ch.bind(new InetSocketAddress(source, 0));
        }
        if (ch.connect(address)) {
          c.key = ch.register(selector, 0, c);
          connected(c);
        } else {
          c.key = ch.register(selector, SelectionKey.OP_CONNECT, c);
        }
      } catch (IOException e) {
        fail(c, e);
      }
    }
  }

  private void connected(Conn c) throws IOException {
    c.state = HANDSHAKING;
    c.http = new byte[1024];
    c.key.interestOps(SelectionKey.OP_READ);
    send(c, ByteBuffer.wrap(c.resumeFrom >= 0
        ? (requestHead + "Last-Event-ID: " + c.resumeFrom + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII) : request));
  }

  private void handshakeDone(Conn c, boolean ok) throws IOException {
    inFlight--;
    if (ok) {
      opened++;
    } else {
      failed++;
      failedInPhase++;
      if (resumeIds != null) {
        lost(c); // a resume that did not open: everything it should have received is missing
      }
    }
    lastHandshakeAt = System.nanoTime();
    launchMore();
    if (opening && opened + failed == options.clients()) {
      opening = false;
      if (resumeIds == null) {
        report("opened " + opened + " " + failed + " " + phaseTimes());
      }
    }
  }

  private void fail(Conn c, Exception e) throws IOException {
    int was = c.state;
    c.state = CLOSED;
    c.ch.close();
    if (was == CONNECTING || was == HANDSHAKING) {
      report("error handshake failed: " + e.getMessage());
      handshakeDone(c, false);
    } else if (was == OPEN) {
      report("error connection lost: " + e.getMessage());
      lost(c);
    }
  }

  /** The connection ended while open: every message it has not received is missing. */
  private void lost(Conn c) {
    if (mode == SEQUENCE) {
      long end = base + messages;
      for (int g = 0; c.gaps != null && g < c.gapCount; g++) {
        for (long s = c.gaps[g * 2]; s < c.gaps[g * 2 + 1]; s++) {
          counts[(int) (s - base)]++;
          missing++;
        }
      }
      c.gaps = null;
      for (long s = Math.max(c.expected, base); s < end; s++) {
        counts[(int) (s - base)]++;
        missing++;
      }
      c.expected = end;
    } else if (mode == BATCHES) {
      members--;
    }
  }

  /** What the open connections have not received (their gaps and everything after their last). */
  private long stillMissing() {
    long sum = 0;
    for (Conn c : conns) {
      if (c.state != OPEN) {
        continue;
      }
      for (int g = 0; c.gaps != null && g < c.gapCount; g++) {
        sum += c.gaps[g * 2 + 1] - c.gaps[g * 2];
      }
      sum += Math.max(0, base + messages - c.expected);
    }
    return sum;
  }

  private void onHandshakeBytes(Conn c, ByteBuffer data) throws IOException {
    while (data.hasRemaining() && c.state == HANDSHAKING) {
      if (c.httpLength == c.http.length) {
        fail(c, new IOException("response header too long"));
        return;
      }
      byte b = data.get();
      c.http[c.httpLength++] = b;
      int n = c.httpLength;
      if (n >= 4 && b == '\n' && c.http[n - 2] == '\r' && c.http[n - 3] == '\n' && c.http[n - 4] == '\r') {
        String head = new String(c.http, 0, n, StandardCharsets.ISO_8859_1);
        c.http = null;
        String accept = null;
        String protocol = null;
        for (String line : head.split("\r\n")) {
          int colon = line.indexOf(':');
          String name = colon > 0 ? line.substring(0, colon).trim().toLowerCase(Locale.ROOT) : "";
          if (name.equals("sec-websocket-accept")) {
            accept = line.substring(colon + 1).trim();
          } else if (name.equals("sec-websocket-protocol")) {
            protocol = line.substring(colon + 1).trim();
          }
        }
        boolean protocolOk = options.subprotocol() == null ? protocol == null : options.subprotocol().equals(protocol);
        if (!head.startsWith("HTTP/1.1 101") || !acceptExpected.equals(accept) || !protocolOk) {
          fail(c, new IOException("no upgrade: " + head.lines().findFirst().orElse("")));
          return;
        }
        c.state = OPEN;
        handshakeDone(c, true);
      }
    }
    if (c.state == OPEN && data.hasRemaining()) {
      onFrameBytes(c, data);
    }
  }

  // ---- receive ----

  private void startReceive(int mode, long base, int messages, int step) {
    this.mode = mode;
    this.base = base;
    this.messages = messages;
    this.step = Math.max(1, step);
    counts = new int[mode == SEQUENCE ? messages : 0];
    batchFirsts.clear();
    members = 0;
    for (Conn c : conns) {
      c.expected = base;
      c.gaps = null;
      if (c.state == OPEN) {
        members++;
      } else {
        c.expected = base + messages;
      }
    }
    low = 0;
    lastReported = 0;
    frames = bytes = payloadBytes = missing = duplicates = outOfOrder = unexpected = 0;
    idErrors = gapMessages = 0;
    lastHandshakeAt = -1;
    failedInPhase = 0;
    latency.reset();
    if (publisher != null) {
      publisher.reset();
    }
    lastFrameAt = System.nanoTime();
    markPhase();
    // Only now may the server publish: a frame read before this point would not be counted.
    report("armed");
  }

  private void onMessage(Conn c) {
    payloadBytes += c.payloadLength;
    if (options.subprotocol() != null) {
      if (startsWith(c.prefix, c.prefixLength, GAP_MARKER)) {
        gapMessages++;
        unexpected++;
        return;
      }
      if (startsWith(c.prefix, c.prefixLength, ID_MARKER)) {
        long id = 0;
        for (int i = ID_MARKER.length; i < c.prefixLength && c.prefix[i] >= '0' && c.prefix[i] <= '9'; i++) {
          id = id * 10 + (c.prefix[i] - '0');
        }
        if (c.lastId >= 0 && id != c.lastId + 1) {
          idErrors++; // a hole or a duplicate in the path's stream, as this connection saw it
        }
        c.lastId = id;
      }
    }
    int at = Tag.find(c.prefix, c.prefixLength);
    if (mode == IDLE || at < 0) {
      if (at < 0 && c.prefixLength < c.payloadLength && c.prefixLength < KEEP_MAX) {
        keep = KEEP_MAX; // the tag lay beyond what was kept: keep more from now on
      }
      unexpected++;
      return;
    }
    long seq = Tag.seq(c.prefix, at);
    long sentMicros = Tag.micros(c.prefix, at);
    int end = Tag.end(c.prefix, at, c.prefixLength);
    if (end > farthestTagEnd) {
      farthestTagEnd = end;
    }
    keep = Math.min(KEEP_MAX, farthestTagEnd + KEEP_SLACK);
    if (seq < base || seq >= base + messages) {
      unexpected++;
      return;
    }
    frames++;
    lastFrameAt = System.nanoTime();
    if (sentMicros >= 0) {
      latency.recordValue(Math.max(0, Math.min(MAX_LATENCY_MICROS, lastFrameAt / 1000 - sentMicros)));
    }
    if (mode == BATCHES) {
      // Batches skip numbers (a batch of 100 events carries its first one's): the skipped ones are
      // remembered as gaps only to tell a late batch (out of order) from a duplicate.
      if (seq >= c.expected) {
        if (seq > c.expected) {
          c.addGap(c.expected, seq);
        }
        c.expected = seq + 1;
        batchFirsts.computeIfAbsent(seq, k -> new int[1])[0]++;
      } else if (c.fillGap(seq)) {
        outOfOrder++;
        batchFirsts.computeIfAbsent(seq, k -> new int[1])[0]++;
      } else {
        duplicates++;
      }
      return;
    }
    if (seq == c.expected) {
      counts[(int) (seq - base)]++;
      c.expected++;
    } else if (seq > c.expected) {
      // The ones skipped are missing unless they come later (out of order): publishes in flight
      // together have no order. counts[] holds receipts only.
      counts[(int) (seq - base)]++;
      c.addGap(c.expected, seq);
      c.expected = seq + 1;
    } else if (c.fillGap(seq)) {
      counts[(int) (seq - base)]++;
      outOfOrder++;
    } else {
      duplicates++;
    }
  }

  private static boolean startsWith(byte[] b, int length, byte[] marker) {
    if (length < marker.length) {
      return false;
    }
    for (int i = 0; i < marker.length; i++) {
      if (b[i] != marker[i]) {
        return false;
      }
    }
    return true;
  }

  /**
   * Opens every connection of the last open again, each with the last id it received as {@code
   * Last-Event-ID} (none if it received nothing), and expects seq BASE..BASE+M-1 on each: what the
   * server replays. The old connections must be closed (close) before.
   */
  private void startResume(long from, int m) throws IOException {
    long[] ids = new long[conns.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = conns.get(i).lastId;
    }
    startReceive(SEQUENCE, from, m, Integer.MAX_VALUE);
    conns.clear();
    resumeIds = ids;
    members = ids.length;
    opening = true;
    launched = 0;
    inFlight = 0;
    opened = 0;
    failed = 0;
    launchMore();
    if (ids.length == 0) {
      opening = false;
    }
  }

  private void afterSelect() {
    for (Long s; publisher != null && (s = publisher.failedSeqs.poll()) != null; ) {
      // A publish the server refused: no connection will get it.
      if (mode == SEQUENCE && s >= base && s < base + messages) {
        counts[(int) (s - base)] = Integer.MAX_VALUE / 2;
      }
    }
    if (mode == SEQUENCE) {
      while (low < messages && counts[low] >= members) {
        low++;
      }
      if (low > lastReported && (low - lastReported >= step || low == messages)) {
        lastReported = low;
        report("progress " + low);
      }
      if (low == messages && !publishing && !opening) {
        finish(messages);
      } else if (!publishing && !opening && System.nanoTime() - Math.max(lastFrameAt, publishedAt()) > SETTLE_NANOS
          && (publisher == null || publisher.finishedAt() > 0)) {
        // Published, and nothing arrived for a while: what has not arrived by now is missing.
        missing += stillMissing();
        finish(messages);
      }
    } else if (mode == BATCHES && !publishing && (publisher != null ? publisher.finishedAt() > 0 : frames > 0)) {
      long now = System.nanoTime();
      if (now - Math.max(lastFrameAt, publishedAt()) > TimeUnit.MILLISECONDS.toNanos(quietMillis)) {
        for (int[] n : batchFirsts.values()) {
          missing += Math.max(0, members - n[0]);
        }
        finish(batchFirsts.size());
      }
    }
  }

  /** When this process's publisher finished (0 if it has none: another process publishes). */
  private long publishedAt() {
    return publisher == null ? 0 : publisher.finishedAt();
  }

  private void finish(int distinct) {
    mode = IDLE;
    String pubHistogram = publisher == null ? "-" : Histograms.encode(publisher.answers());
    long pubFailures = publisher == null ? 0 : publisher.failures();
    report("done " + frames + " " + bytes + " " + missing + " " + duplicates + " " + outOfOrder + " " + unexpected + " "
        + phaseTimes() + " " + pubFailures + " " + Histograms.encode(latency) + " " + pubHistogram + " " + payloadBytes
        + " " + distinct + " " + idErrors + " " + gapMessages + " " + since(lastHandshakeAt) + " " + since(lastFrameAt)
        + " " + failedInPhase);
  }

  /** ns from the phase's start to {@code at}, or -1 if it is before (nothing happened in the phase). */
  private long since(long at) {
    return at < phaseStart ? -1 : at - phaseStart;
  }

  /** For a stalled round: where the connections are. */
  private String stats() {
    int[] states = new int[5];
    long minExpected = Long.MAX_VALUE;
    long maxExpected = 0;
    int atMin = 0;
    for (Conn c : conns) {
      states[c.state]++;
      if (c.state == OPEN) {
        if (c.expected < minExpected) {
          minExpected = c.expected;
          atMin = 0;
        }
        if (c.expected == minExpected) {
          atMin++;
        }
        maxExpected = Math.max(maxExpected, c.expected);
      }
    }
    return "connections " + conns.size() + " states(connecting,handshaking,open,closing,closed) "
        + Arrays.toString(states) + " members " + members + " low " + low + " of " + messages + " (base " + base
        + ") next expected min " + minExpected + " (" + atMin + " connections) max " + maxExpected
        + " frames " + frames + " missing " + (missing + stillMissing()) + " duplicates " + duplicates + " out-of-order " + outOfOrder
        + " unexpected " + unexpected + (publisher == null ? "" : " publisher " + publisher.status());
  }

  // ---- close ----

  private void startClose() throws IOException {
    closing = true;
    markPhase();
    for (Conn c : conns) {
      if (c.state == OPEN) {
        c.state = CLOSING;
        sendClose(c, 1000);
      }
    }
    checkClosed();
  }

  private void checkClosed() {
    if (!closing) {
      return;
    }
    for (Conn c : conns) {
      if (c.state != CLOSED) {
        return;
      }
    }
    closing = false;
    report("closed " + conns.size() + " " + phaseTimes());
  }

  /** A masked close frame with {@code code}, as a client must send it. */
  private void sendClose(Conn c, int code) throws IOException {
    byte[] mask = new byte[4];
    ThreadLocalRandom.current().nextBytes(mask);
    ByteBuffer frame = ByteBuffer.allocate(8);
    frame.put((byte) 0x88).put((byte) (0x80 | 2)).put(mask);
    frame.put((byte) (((code >> 8) & 0xFF) ^ mask[0])).put((byte) ((code & 0xFF) ^ mask[1]));
    frame.flip();
    send(c, frame);
  }

  /** A masked pong echoing the ping's payload (up to 125 bytes, kept in the prefix). */
  private void sendPong(Conn c) throws IOException {
    int n = (int) Math.min(c.payloadLength, c.prefixLength);
    ByteBuffer frame = ByteBuffer.allocate(6 + n);
    frame.put((byte) 0x8A).put((byte) (0x80 | n)).put(new byte[4]).put(c.prefix, 0, n).flip();
    send(c, frame);
  }

  // ---- I/O ----

  private void send(Conn c, ByteBuffer data) throws IOException {
    if (c.pending != null) {
      ByteBuffer joined = ByteBuffer.allocate(c.pending.remaining() + data.remaining());
      joined.put(c.pending).put(data).flip();
      c.pending = joined;
      return;
    }
    c.ch.write(data);
    if (data.hasRemaining()) {
      c.pending = data;
      c.key.interestOps(c.key.interestOps() | SelectionKey.OP_WRITE);
    }
  }

  private void onReady(SelectionKey key) {
    Conn c = (Conn) key.attachment();
    try {
      if (!key.isValid()) {
        return;
      }
      if (key.isConnectable()) {
        if (c.ch.finishConnect()) {
          connected(c);
        }
        return;
      }
      if (key.isWritable() && c.pending != null) {
        c.ch.write(c.pending);
        if (!c.pending.hasRemaining()) {
          c.pending = null;
          key.interestOps(key.interestOps() & ~SelectionKey.OP_WRITE);
        }
      }
      if (key.isValid() && key.isReadable()) {
        read(c);
      }
    } catch (IOException e) {
      try {
        fail(c, e);
      } catch (IOException ignored) {
        // closing anyway
      }
    } finally {
      checkClosed();
    }
  }

  private void read(Conn c) throws IOException {
    ByteBuffer buf = readBuffer;
    while (true) {
      buf.clear();
      int n = c.ch.read(buf);
      if (n < 0) {
        int was = c.state;
        c.state = CLOSED;
        c.ch.close();
        if (was == OPEN) {
          report("error connection closed by the server");
          lost(c);
        } else if (was == HANDSHAKING) {
          report("error handshake failed: connection closed");
          handshakeDone(c, false);
        }
        return;
      }
      if (n == 0) {
        return;
      }
      bytes += n;
      buf.flip();
      if (c.state == HANDSHAKING) {
        onHandshakeBytes(c, buf);
      } else {
        onFrameBytes(c, buf);
      }
      if (c.state == CLOSED || n < buf.capacity()) {
        return;
      }
    }
  }

  /** Streams through frames: headers byte by byte, a payload's first bytes kept, the rest skipped. */
  private void onFrameBytes(Conn c, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      if (!c.inPayload) {
        c.header[c.headerLength++] = b.get();
        if (c.headerLength < 2) {
          continue;
        }
        int len7 = c.header[1] & 0x7F;
        if ((c.header[1] & 0x80) != 0) {
          fail(c, new IOException("masked frame from the server"));
          return;
        }
        int need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
        if (c.headerLength < need) {
          continue;
        }
        long length = len7;
        if (len7 >= 126) {
          length = 0;
          for (int i = 2; i < need; i++) {
            length = (length << 8) | (c.header[i] & 0xFF);
          }
        }
        c.opcode = c.header[0] & 0x0F;
        if ((c.header[0] & 0x80) == 0 || c.opcode == 0) {
          unexpected++; // every server here sends each message as one final frame
        }
        c.headerLength = 0;
        c.payloadLeft = length;
        c.payloadLength = length;
        c.prefixLength = 0;
        c.keepNow = c.opcode >= 0x8 ? 125 : keep;
        if (c.prefix.length < c.keepNow) {
          c.prefix = new byte[c.keepNow];
        }
        c.inPayload = true;
      } else {
        int n = (int) Math.min(b.remaining(), c.payloadLeft);
        int k = Math.min(n, c.keepNow - c.prefixLength);
        if (k > 0) {
          b.get(c.prefix, c.prefixLength, k);
          c.prefixLength += k;
        }
        b.position(b.position() + n - Math.max(0, k));
        c.payloadLeft -= n;
      }
      if (c.inPayload && c.payloadLeft == 0) {
        c.inPayload = false;
        frameDone(c);
        if (c.state == CLOSED) {
          return;
        }
      }
    }
  }

  private void frameDone(Conn c) throws IOException {
    switch (c.opcode) {
      case 0x1, 0x2 -> onMessage(c);
      case 0x8 -> {
        if (c.state == OPEN) {
          // The server closes (shutdown 1001, or a policy close): answer with its code.
          int code = c.prefixLength >= 2 ? ((c.prefix[0] & 0xFF) << 8) | (c.prefix[1] & 0xFF) : 1000;
          report("error server closed a connection with " + code);
          lost(c);
          c.state = CLOSING;
          sendClose(c, code);
        }
        // CLOSING: the answer to ours; the server ends the TCP connection next.
      }
      case 0x9 -> sendPong(c);
      case 0xA -> { }
      default -> unexpected++;
    }
  }

  /** One connection and its frame parser state. */
  private static final class Conn {
    final SocketChannel ch;
    SelectionKey key;
    int state = CONNECTING;
    byte[] http;
    int httpLength;
    ByteBuffer pending;
    final byte[] header = new byte[10];
    int headerLength;
    boolean inPayload;
    int opcode;
    long payloadLeft;
    long payloadLength;
    byte[] prefix = new byte[128];
    int prefixLength;
    int keepNow;
    long expected;
    /** regcast.v1: the last id received (-1: none yet); resumeFrom: the Last-Event-ID sent (-1: none). */
    long lastId = -1;
    long resumeFrom = -1;
    /** Missing ranges [from, to) of this connection, in pairs; null while there are none. */
    long[] gaps;
    int gapCount;

    Conn(SocketChannel ch) {
      this.ch = ch;
    }

    void addGap(long from, long to) {
      if (gaps == null) {
        gaps = new long[8];
        gapCount = 0;
      }
      if (gapCount * 2 + 2 > gaps.length) {
        gaps = Arrays.copyOf(gaps, gaps.length * 2);
      }
      gaps[gapCount * 2] = from;
      gaps[gapCount * 2 + 1] = to;
      gapCount++;
    }

    /** True if seq was missing (it arrived out of order): it is no longer. */
    boolean fillGap(long seq) {
      for (int i = 0; gaps != null && i < gapCount; i++) {
        long from = gaps[i * 2];
        long to = gaps[i * 2 + 1];
        if (seq >= from && seq < to) {
          if (seq == from) {
            gaps[i * 2] = from + 1;
          } else if (seq == to - 1) {
            gaps[i * 2 + 1] = to - 1;
          } else {
            gaps[i * 2 + 1] = seq;
            addGap(seq + 1, to);
          }
          return true;
        }
      }
      return false;
    }
  }
}

package io.regcast.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The load client of {@code gateway}, run as its own JVM: plain NIO, one selector thread holding
 * every connection. It does the HTTP upgrade by hand, parses the server's (unmasked) frames as they
 * stream in without copying payloads, and checks the sequence number at the start of each message:
 * missing, duplicate and out-of-order messages are counted per connection.
 *
 * <p>Driven over stdin by the server JVM, one command a line; it answers on stdout:
 *
 * <pre>
 * (start)        → ready &lt;cpus allowed&gt; &lt;available processors&gt;
 * open           → opened &lt;ok&gt; &lt;failed&gt; &lt;wall ns&gt; &lt;cpu ns&gt;
 * bcast M STEP   → armed (the server publishes only after it), then progress K … (K = messages
 *                  every connection has received or lost; every STEP
 *                  and at M), then done &lt;frames&gt; &lt;bytes&gt; &lt;missing&gt; &lt;late&gt;
 *                  &lt;unexpected&gt; &lt;wall ns&gt; &lt;cpu ns&gt; (late: a duplicate or out of order)
 * close          → closed &lt;n&gt; &lt;wall ns&gt; (a close handshake 1000 on every connection)
 * quit           → bye, and the JVM exits
 * </pre>
 */
final class LoadClient {
  static final String COMMAND = "gateway-client";
  /** A message starts with {@code {"seq":NNNNNNNNNN,}: ten decimal digits at offset 7. */
  static final int SEQ_OFFSET = 7;
  static final int SEQ_DIGITS = 10;
  private static final int PREFIX = SEQ_OFFSET + SEQ_DIGITS;
  private static final String WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  private static final int CONNECTING = 0;
  private static final int HANDSHAKING = 1;
  private static final int OPEN = 2;
  private static final int CLOSING = 3;
  private static final int CLOSED = 4;

  private final InetSocketAddress address;
  private final int clients;
  private final int concurrency;
  private final Selector selector;
  private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(256 * 1024);
  private final LinkedBlockingQueue<String> commands = new LinkedBlockingQueue<>();
  private final PrintStream out = System.out;
  private final String acceptExpected;
  private final byte[] request;

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

  // broadcast phase
  private boolean broadcasting;
  private int messages;
  private int step;
  /** counts[s]: connections that have received (or definitely lost) message s. */
  private int[] counts = new int[0];
  private int members;
  private int low;
  private int lastReported;
  private long frames;
  private long bytes;
  private long missing;
  /** Below what the connection expected: a duplicate, or one that arrives after its gap was counted. */
  private long late;
  private long unexpected;

  // close phase
  private boolean closing;

  private LoadClient(String host, int port, String path, int clients, int concurrency) throws IOException {
    this.address = new InetSocketAddress(host, port);
    this.clients = clients;
    this.concurrency = concurrency;
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
    request = ("GET " + path + " HTTP/1.1\r\n"
        + "Host: " + host + ":" + port + "\r\n"
        + "Upgrade: websocket\r\n"
        + "Connection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + key + "\r\n"
        + "Sec-WebSocket-Version: 13\r\n"
        + "User-Agent: regcast-bench\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  /** {@code gateway-client HOST PORT PATH CLIENTS CONCURRENCY} */
  static void main(String[] args) throws IOException {
    LoadClient client =
        new LoadClient(args[0], Integer.parseInt(args[1]), args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]));
    client.run();
    System.exit(0);
  }

  private void run() throws IOException {
    Thread stdin = new Thread(this::readCommands, "commands");
    stdin.setDaemon(true);
    stdin.start();
    report("ready " + GatewayBench.cpusAllowed() + " " + Runtime.getRuntime().availableProcessors());
    while (running) {
      selector.select(this::onReady);
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
    out.println(line);
    out.flush();
  }

  private void handle(String command) throws IOException {
    String[] words = command.trim().split(" ");
    switch (words[0]) {
      case "open" -> startOpen();
      case "bcast" -> startBroadcast(Integer.parseInt(words[1]), Integer.parseInt(words[2]));
      case "close" -> startClose();
      case "stats" -> report("error stats " + stats());
      case "quit" -> {
        for (Conn c : conns) {
          c.ch.close();
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
    opening = true;
    launched = 0;
    inFlight = 0;
    opened = 0;
    failed = 0;
    markPhase();
    launchMore();
  }

  private void launchMore() throws IOException {
    while (opening && inFlight < concurrency && launched < clients) {
      launched++;
      inFlight++;
      SocketChannel ch = SocketChannel.open();
      ch.configureBlocking(false);
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      Conn c = new Conn(ch);
      conns.add(c);
      try {
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
    send(c, ByteBuffer.wrap(request));
  }

  private void handshakeDone(Conn c, boolean ok) throws IOException {
    inFlight--;
    if (ok) {
      opened++;
    } else {
      failed++;
    }
    launchMore();
    if (opened + failed == clients) {
      opening = false;
      report("opened " + opened + " " + failed + " " + phaseTimes());
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
      lost(c);
    }
  }

  /** The connection ended while open: every message it has not received is missing. */
  private void lost(Conn c) {
    if (broadcasting) {
      for (int s = (int) Math.min(c.expected, messages); s < messages; s++) {
        counts[s]++;
      }
      missing += Math.max(0, messages - c.expected);
      c.expected = messages;
    }
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
        for (String line : head.split("\r\n")) {
          int colon = line.indexOf(':');
          if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("sec-websocket-accept")) {
            accept = line.substring(colon + 1).trim();
          }
        }
        if (!head.startsWith("HTTP/1.1 101") || !acceptExpected.equals(accept)) {
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

  // ---- broadcast ----

  private void startBroadcast(int messages, int step) {
    this.messages = messages;
    this.step = Math.max(1, step);
    counts = new int[messages];
    members = 0;
    for (Conn c : conns) {
      c.expected = 0;
      if (c.state == OPEN) {
        members++;
      }
    }
    for (Conn c : conns) {
      if (c.state != OPEN) {
        c.expected = messages;
      }
    }
    low = 0;
    lastReported = 0;
    frames = bytes = missing = late = unexpected = 0;
    broadcasting = true;
    markPhase();
    // Only now may the server publish: a frame read before this point would not be counted.
    report("armed");
  }

  private void onMessage(Conn c) {
    if (!broadcasting || c.prefixLength < PREFIX) {
      unexpected++;
      return;
    }
    long seq = 0;
    for (int i = SEQ_OFFSET; i < PREFIX; i++) {
      int d = c.prefix[i] - '0';
      if (d < 0 || d > 9) {
        unexpected++;
        return;
      }
      seq = seq * 10 + d;
    }
    if (seq >= messages) {
      unexpected++;
      return;
    }
    frames++;
    if (seq == c.expected) {
      counts[(int) seq]++;
      c.expected++;
    } else if (seq > c.expected) {
      missing += seq - c.expected;
      for (long s = c.expected; s <= seq; s++) {
        counts[(int) s]++;
      }
      c.expected = seq + 1;
    } else {
      late++;
    }
  }

  private void afterSelect() {
    if (!broadcasting) {
      return;
    }
    while (low < messages && counts[low] >= members) {
      low++;
    }
    if (low > lastReported && (low - lastReported >= step || low == messages)) {
      lastReported = low;
      report("progress " + low);
    }
    if (low == messages) {
      broadcasting = false;
      for (Conn c : conns) {
        if (c.expected < messages) {
          missing += messages - c.expected;
        }
      }
      report("done " + frames + " " + bytes + " " + missing + " " + late + " " + unexpected + " " + phaseTimes());
    }
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
        + Arrays.toString(states) + " members " + members + " low " + low + " of " + messages
        + " next expected min " + minExpected + " (" + atMin + " connections) max " + maxExpected
        + " frames " + frames + " missing " + missing + " late " + late + " unexpected " + unexpected;
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

  /** An empty masked pong (the server's pings are empty). */
  private void sendPong(Conn c) throws IOException {
    send(c, ByteBuffer.wrap(new byte[] {(byte) 0x8A, (byte) 0x80, 0, 0, 0, 0}));
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

  /** Streams through frames: headers byte by byte, the first bytes of a payload kept, the rest skipped. */
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
          unexpected++; // the gateway sends every message as one final frame
        }
        c.headerLength = 0;
        c.payloadLeft = length;
        c.prefixLength = 0;
        c.inPayload = true;
      } else {
        int n = (int) Math.min(b.remaining(), c.payloadLeft);
        int keep = Math.min(n, PREFIX - c.prefixLength);
        if (keep > 0) {
          b.get(c.prefix, c.prefixLength, keep);
          c.prefixLength += keep;
        }
        b.position(b.position() + n - keep);
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
    final byte[] prefix = new byte[PREFIX];
    int prefixLength;
    long expected;

    Conn(SocketChannel ch) {
      this.ch = ch;
    }
  }
}

package io.regcast.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Publishes tagged messages over keep-alive HTTP/1.1 connections, one blocking thread per request
 * in flight: at a fixed rate (request i is due at start + i / rate, whatever the answers before
 * it) or as a burst (K requests in flight, each answer sends the next). The request comes from a
 * spec file:
 *
 * <pre>
 * HOST PORT
 * POST /path HTTP/1.1
 * Header: value
 * …
 * (empty line)
 * body, in which every @TAG@ becomes the message's tag (Tag.token)
 * </pre>
 *
 * Content-Length is added. The tag's time is taken just before the request is written, so latency
 * runs from "publish request sent" for every server alike; at a fixed rate it is the time the
 * request was due (a server whose answers hold the publisher back pays for it in latency).
 */
final class Publisher {
  private final InetSocketAddress address;
  private final byte[] head;
  private final byte[][] bodyParts;
  final ConcurrentLinkedQueue<Long> failedSeqs = new ConcurrentLinkedQueue<>();
  private final Runnable wakeup;
  private final List<Worker> workers = new ArrayList<>();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicInteger reportedErrors = new AtomicInteger();
  private volatile long finishedAt;
  private volatile String status = "idle";

  private Publisher(InetSocketAddress address, byte[] head, byte[][] bodyParts, Runnable wakeup) {
    this.address = address;
    this.head = head;
    this.bodyParts = bodyParts;
    this.wakeup = wakeup;
  }

  static Publisher fromSpec(Path spec, Runnable wakeup) throws IOException {
    String text = Files.readString(spec, StandardCharsets.UTF_8);
    int firstLine = text.indexOf('\n');
    String[] hostPort = text.substring(0, firstLine).trim().split(" ");
    int blank = text.indexOf("\n\n", firstLine);
    String headers = text.substring(firstLine + 1, blank);
    String body = text.substring(blank + 2);
    String headText = String.join("\r\n", headers.split("\n")) + "\r\n";
    String[] parts = body.split(java.util.regex.Pattern.quote(Tag.PLACEHOLDER), -1);
    byte[][] bodyParts = new byte[parts.length][];
    for (int i = 0; i < parts.length; i++) {
      bodyParts[i] = parts[i].getBytes(StandardCharsets.UTF_8);
    }
    return new Publisher(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])),
        headText.getBytes(StandardCharsets.ISO_8859_1), bodyParts, wakeup);
  }

  /** Clears the figures of the last run. */
  void reset() {
    failures.set(0);
    finishedAt = 0;
    for (Worker w : workers) {
      w.answers.reset();
    }
  }

  long failures() {
    return failures.get();
  }

  long finishedAt() {
    return finishedAt;
  }

  String status() {
    return status;
  }

  /** Request → answer times of the last run (µs). */
  Histogram answers() {
    Histogram all = new Histogram(LoadClient.MAX_LATENCY_MICROS, 3);
    for (Worker w : workers) {
      all.add(w.answers);
    }
    return all;
  }

  /** Publishes seq [from, from + m): at {@code rate} per second, or (rate 0) as a burst; K in flight. */
  void start(long from, int m, double rate, int inFlight, Runnable done) {
    while (workers.size() < inFlight) {
      workers.add(new Worker());
    }
    AtomicInteger next = new AtomicInteger();
    AtomicInteger running = new AtomicInteger(inFlight);
    long t0 = System.nanoTime();
    long interval = rate > 0 ? (long) (1e9 / rate) : 0;
    status = "publishing " + m + " from " + from;
    for (int k = 0; k < inFlight; k++) {
      Worker w = workers.get(k);
      Thread t = new Thread(() -> {
        try {
          for (int i; (i = next.getAndIncrement()) < m; ) {
            long due = t0 + i * interval;
            for (long wait; interval > 0 && (wait = due - System.nanoTime()) > 0; ) {
              LockSupport.parkNanos(wait);
            }
            // At a fixed rate the tag carries the time the request was due, not the time it went
            // out: a server that answers late delays the publisher, and that delay is latency too
            // (no coordinated omission). In a burst there is no schedule: the send time.
            w.publish(from + i, interval > 0 ? due : -1);
          }
        } finally {
          if (running.decrementAndGet() == 0) {
            finishedAt = System.nanoTime();
            status = "finished " + m + " from " + from + ", " + failures.get() + " failed";
            done.run();
          }
        }
      }, "publisher-" + k);
      t.setDaemon(true);
      t.start();
    }
  }

  void close() {
    for (Worker w : workers) {
      w.disconnect();
    }
  }

  /** One keep-alive connection. */
  private final class Worker {
    final Histogram answers = new Histogram(LoadClient.MAX_LATENCY_MICROS, 3);
    private Socket socket;
    private OutputStream out;
    private InputStream in;
    private final byte[] line = new byte[8192];

    /** Sends one request; {@code due} (nanoTime) goes into the tag, or the send time if -1. */
    void publish(long seq, long due) {
      long sent = 0;
      try {
        if (socket == null) {
          socket = new Socket();
          socket.setTcpNoDelay(true);
          socket.connect(address, 5000);
          socket.setSoTimeout(60_000);
          out = socket.getOutputStream();
          in = new BufferedInputStream(socket.getInputStream(), 16384);
        }
        sent = System.nanoTime();
        byte[] request = render(seq, (due >= 0 ? due : sent) / 1000);
        out.write(request);
        out.flush();
        int status = readAnswer();
        long took = System.nanoTime() - sent;
        answers.recordValue(Math.min(LoadClient.MAX_LATENCY_MICROS, took / 1000));
        if (status < 200 || status > 299) {
          failed(seq, "HTTP " + status);
        }
      } catch (IOException | RuntimeException e) {
        disconnect();
        failed(seq, e.toString());
      }
    }

    private void failed(long seq, String why) {
      failures.incrementAndGet();
      failedSeqs.add(seq);
      wakeup.run();
      if (reportedErrors.incrementAndGet() <= 5) {
        System.out.println("error publish " + seq + " failed: " + why);
        System.out.flush();
      }
    }

    private byte[] render(long seq, long micros) {
      int bodyLength = 0;
      for (byte[] p : bodyParts) {
        bodyLength += p.length;
      }
      bodyLength += (bodyParts.length - 1) * Tag.WIDTH;
      byte[] cl = ("Content-Length: " + bodyLength + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
      byte[] r = new byte[head.length + cl.length + bodyLength];
      System.arraycopy(head, 0, r, 0, head.length);
      System.arraycopy(cl, 0, r, head.length, cl.length);
      int at = head.length + cl.length;
      for (int i = 0; i < bodyParts.length; i++) {
        System.arraycopy(bodyParts[i], 0, r, at, bodyParts[i].length);
        at += bodyParts[i].length;
        if (i < bodyParts.length - 1) {
          Tag.write(r, at, seq, micros);
          at += Tag.WIDTH;
        }
      }
      return r;
    }

    /** Reads one answer (Content-Length, chunked, or no body); returns its status. */
    private int readAnswer() throws IOException {
      String statusLine = readLine();
      String[] parts = statusLine.split(" ");
      if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
        throw new IOException("bad status line: " + statusLine);
      }
      int status = Integer.parseInt(parts[1]);
      long length = -1;
      boolean chunked = false;
      boolean close = false;
      for (String h; !(h = readLine()).isEmpty(); ) {
        int colon = h.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String name = h.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT);
        String value = h.substring(colon + 1).trim();
        switch (name) {
          case "content-length" -> length = Long.parseLong(value);
          case "transfer-encoding" -> chunked = value.toLowerCase(java.util.Locale.ROOT).contains("chunked");
          case "connection" -> close = value.equalsIgnoreCase("close");
          default -> { }
        }
      }
      if (chunked) {
        while (true) {
          String size = readLine();
          int semi = size.indexOf(';');
          long n = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
          skip(n);
          readLine();
          if (n == 0) {
            break;
          }
        }
      } else if (length > 0) {
        skip(length);
      }
      if (close) {
        disconnect();
      }
      return status;
    }

    private void skip(long n) throws IOException {
      while (n > 0) {
        long s = in.skip(n);
        if (s <= 0) {
          if (in.read() < 0) {
            throw new IOException("connection closed in a body");
          }
          s = 1;
        }
        n -= s;
      }
    }

    private String readLine() throws IOException {
      int n = 0;
      for (int b; (b = in.read()) >= 0; ) {
        if (b == '\n') {
          if (n > 0 && line[n - 1] == '\r') {
            n--;
          }
          return new String(line, 0, n, StandardCharsets.ISO_8859_1);
        }
        if (n < line.length) {
          line[n++] = (byte) b;
        }
      }
      throw new IOException("connection closed by the server");
    }

    void disconnect() {
      if (socket != null) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // gone anyway
        }
        socket = null;
      }
    }
  }
}

package io.regcast.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * {@code raw-server}: the practical fan-out limit of this machine, one thread, plain NIO. It does
 * the WebSocket upgrade on any path and answers {@code POST} (any path) with {@code 204} at once,
 * having encoded the body once as a text frame. At the end of the selector turn, the frames of
 * that turn go to every WebSocket connection: the same bytes, one gathering write per socket (the
 * lever regcast's gateway uses too: one write + flush per channel per event-loop turn), the rest
 * queued on that socket when it is full. No limits, no UTF-8 check, no metrics, no ids, nothing
 * per message beyond that. A client's close frame gets a close back and the socket is closed.
 *
 * <p>Prints {@code listening PORT} once bound; runs until killed.
 */
final class RawFanoutServer {
  static final String COMMAND = "raw-server";
  private static final String WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  private static final byte[] NO_CONTENT =
      "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NOT_FOUND =
      "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final Selector selector;
  private final ServerSocketChannel server;
  private final List<Conn> subscribers = new ArrayList<>();
  private final List<ByteBuffer> turnFrames = new ArrayList<>();
  private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(64 * 1024);
  private final MessageDigest sha1;

  private RawFanoutServer(int port) throws IOException {
    selector = Selector.open();
    server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress("127.0.0.1", port), 4096);
    server.configureBlocking(false);
    server.register(selector, SelectionKey.OP_ACCEPT);
    try {
      sha1 = MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code raw-server [PORT]} (0: a free port). */
  static void main(String[] args) throws IOException {
    RawFanoutServer s = new RawFanoutServer(args.length > 0 ? Integer.parseInt(args[0]) : 0);
    System.out.println("listening " + ((InetSocketAddress) s.server.getLocalAddress()).getPort());
    System.out.flush();
    s.run();
  }

  private void run() throws IOException {
    while (true) {
      selector.select(this::onReady);
      fanOut();
    }
  }

  private void onReady(SelectionKey key) {
    try {
      if (key.isAcceptable()) {
        for (SocketChannel ch; (ch = server.accept()) != null; ) {
          ch.configureBlocking(false);
          ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
          Conn c = new Conn(ch);
          c.key = ch.register(selector, SelectionKey.OP_READ, c);
        }
        return;
      }
      Conn c = (Conn) key.attachment();
      try {
        if (key.isWritable()) {
          flush(c);
        }
        if (key.isValid() && key.isReadable()) {
          read(c);
        }
      } catch (IOException e) {
        close(c);
      }
    } catch (IOException e) {
      // accept failed: try again on the next select
    }
  }

  private void read(Conn c) throws IOException {
    readBuffer.clear();
    int n = c.ch.read(readBuffer);
    if (n < 0) {
      close(c);
      return;
    }
    readBuffer.flip();
    if (c.websocket) {
      // Anything from a subscriber: only a close matters (masked frames; the first byte says which).
      if (n > 0 && (readBuffer.get(0) & 0x0F) == 0x8) {
        enqueue(c, ByteBuffer.wrap(new byte[] {(byte) 0x88, 2, 0x03, (byte) 0xE8}));
        c.closeAfterFlush = true;
        flush(c);
      }
      return;
    }
    if (c.in.remaining() < readBuffer.remaining()) {
      ByteBuffer bigger = ByteBuffer.allocate(Math.max(c.in.capacity() * 2, c.in.position() + readBuffer.remaining()));
      c.in.flip();
      bigger.put(c.in);
      c.in = bigger;
    }
    c.in.put(readBuffer);
    while (!c.websocket && c.ch.isOpen() && request(c)) {
      // one complete request handled; maybe another is pipelined
    }
  }

  /** Handles one complete request in {@code c.in}, if there is one. */
  private boolean request(Conn c) throws IOException {
    byte[] b = c.in.array();
    int len = c.in.position();
    int headEnd = -1;
    for (int i = 3; i < len; i++) {
      if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
        headEnd = i + 1;
        break;
      }
    }
    if (headEnd < 0) {
      return false;
    }
    String head = new String(b, 0, headEnd, StandardCharsets.ISO_8859_1);
    String[] lines = head.split("\r\n");
    String method = lines[0].split(" ")[0];
    String key = null;
    int contentLength = 0;
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon < 0) {
        continue;
      }
      String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = lines[i].substring(colon + 1).trim();
      if (name.equals("sec-websocket-key")) {
        key = value;
      } else if (name.equals("content-length")) {
        contentLength = Integer.parseInt(value);
      }
    }
    if (len < headEnd + contentLength) {
      return false;
    }
    if (method.equals("GET") && key != null) {
      String accept = Base64.getEncoder().encodeToString(sha1.digest((key + WS_GUID).getBytes(StandardCharsets.US_ASCII)));
      enqueue(c, ByteBuffer.wrap(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
      flush(c);
      c.websocket = true;
      c.in = null;
      subscribers.add(c);
      return false;
    }
    if (method.equals("POST")) {
      broadcast(b, headEnd, contentLength);
      enqueue(c, ByteBuffer.wrap(NO_CONTENT));
    } else {
      enqueue(c, ByteBuffer.wrap(NOT_FOUND));
      c.closeAfterFlush = true;
    }
    int consumed = headEnd + contentLength;
    System.arraycopy(b, consumed, b, 0, len - consumed);
    c.in.position(len - consumed);
    flush(c);
    return true;
  }

  /** One frame for everyone: header + payload encoded once; sent at the end of this selector turn. */
  private void broadcast(byte[] body, int offset, int length) {
    int header = length < 126 ? 2 : length < 65536 ? 4 : 10;
    ByteBuffer frame = ByteBuffer.allocateDirect(header + length);
    frame.put((byte) 0x81);
    if (length < 126) {
      frame.put((byte) length);
    } else if (length < 65536) {
      frame.put((byte) 126).putShort((short) length);
    } else {
      frame.put((byte) 127).putLong(length);
    }
    frame.put(body, offset, length).flip();
    turnFrames.add(frame);
  }

  /**
   * The frames published during this selector turn, the same bytes to every socket: one gathering
   * write per socket, the rest queued on it when the socket is full.
   */
  private void fanOut() {
    if (turnFrames.isEmpty()) {
      return;
    }
    int n = turnFrames.size();
    ByteBuffer[] batch = new ByteBuffer[n];
    for (int i = 0; i < subscribers.size(); i++) {
      Conn s = subscribers.get(i);
      for (int f = 0; f < n; f++) {
        batch[f] = turnFrames.get(f).duplicate();
      }
      try {
        if (s.pending.isEmpty()) {
          s.ch.write(batch, 0, n);
          for (int f = 0; f < n; f++) {
            if (batch[f].hasRemaining()) {
              s.pending.add(batch[f]);
            }
          }
          if (!s.pending.isEmpty()) {
            s.key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
          }
        } else {
          s.pending.addAll(Arrays.asList(batch));
        }
      } catch (IOException e) {
        close(s);
        i--;
      }
    }
    turnFrames.clear();
  }

  private static void enqueue(Conn c, ByteBuffer b) {
    c.pending.add(b);
  }

  private void flush(Conn c) throws IOException {
    while (!c.pending.isEmpty()) {
      ByteBuffer[] bufs = c.pending.toArray(new ByteBuffer[0]);
      c.ch.write(bufs, 0, Math.min(bufs.length, 1024));
      while (!c.pending.isEmpty() && !c.pending.peek().hasRemaining()) {
        c.pending.poll();
      }
      if (!c.pending.isEmpty() && c.pending.peek().hasRemaining()) {
        c.key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
        return;
      }
    }
    if (c.key.isValid()) {
      c.key.interestOps(SelectionKey.OP_READ);
    }
    if (c.closeAfterFlush) {
      close(c);
    }
  }

  private void close(Conn c) {
    if (c.websocket) {
      subscribers.remove(c);
      c.websocket = false;
    }
    try {
      c.ch.close();
    } catch (IOException ignored) {
      // closed anyway
    }
  }

  /** One socket: a publisher's HTTP connection or a subscriber. */
  private static final class Conn {
    final SocketChannel ch;
    SelectionKey key;
    ByteBuffer in = ByteBuffer.allocate(2048);
    boolean websocket;
    boolean closeAfterFlush;
    final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>(2);

    Conn(SocketChannel ch) {
      this.ch = ch;
    }
  }
}

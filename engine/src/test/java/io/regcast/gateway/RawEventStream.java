package io.regcast.gateway;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A raw HTTP/1.1 client for event streams: sends one request, reads the response head, then the
 * body chunk by chunk (checking the chunk framing), handing out the stream's blocks (the text up
 * to and including each blank line) exactly as sent.
 */
final class RawEventStream implements AutoCloseable {
  private final Socket socket;
  private final DataInputStream in;
  private final int status;
  private final Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
  private final StringBuilder pending = new StringBuilder();
  private boolean ended;
  private String body = "";

  private RawEventStream(Socket socket, String request) throws IOException {
    this.socket = socket;
    socket.getOutputStream().write(request.getBytes(ISO_8859_1));
    socket.getOutputStream().flush();
    socket.setSoTimeout(10_000);
    in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
    String statusLine = line(in);
    status = Integer.parseInt(statusLine.split(" ")[1]);
    for (String line = line(in); !line.isEmpty(); line = line(in)) {
      int colon = line.indexOf(':');
      headers.computeIfAbsent(line.substring(0, colon).trim(), k -> new ArrayList<>()).add(line.substring(colon + 1).trim());
    }
    String length = header("Content-Length");
    if (length != null) {
      body = new String(in.readNBytes(Integer.parseInt(length)), UTF_8);
    }
  }

  /** {@code method pathAndQuery} with {@code headers} (and Host); Accept: text/event-stream unless given. */
  static RawEventStream open(int port, String method, String pathAndQuery, Map<String, String> headers)
      throws IOException {
    StringBuilder request = new StringBuilder(method + " " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n");
    if (headers.keySet().stream().noneMatch("Accept"::equalsIgnoreCase)) {
      request.append("Accept: text/event-stream\r\n");
    }
    headers.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    try {
      return new RawEventStream(socket, request.append("\r\n").toString());
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  static RawEventStream get(int port, String pathAndQuery, Map<String, String> headers) throws IOException {
    return open(port, "GET", pathAndQuery, headers);
  }

  int status() {
    return status;
  }

  String header(String name) {
    List<String> values = headers.get(name);
    return values == null ? null : values.get(0);
  }

  /** The body of a non-streaming answer. */
  String body() {
    return body;
  }

  /** The next block (e.g. {@code "id: 3\ndata: {}\n\n"}), or null once the stream ended with its last chunk. */
  String nextBlock(Duration wait) throws IOException {
    socket.setSoTimeout(Math.toIntExact(wait.toMillis()));
    while (true) {
      int end = pending.indexOf("\n\n");
      if (end >= 0) {
        String block = pending.substring(0, end + 2);
        pending.delete(0, end + 2);
        return block;
      }
      if (ended) {
        return null;
      }
      readChunk();
    }
  }

  /** The next block that is not a keep-alive comment. */
  String nextEvent(Duration wait) throws IOException {
    String block = nextBlock(wait);
    while (block != null && block.startsWith(":")) {
      block = nextBlock(wait);
    }
    return block;
  }

  /** Whether the server closed the connection after the last chunk. */
  boolean closedByServer(Duration wait) throws IOException {
    socket.setSoTimeout(Math.toIntExact(wait.toMillis()));
    try {
      return in.read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    }
  }

  private void readChunk() throws IOException {
    String sizeLine = line(in);
    int size = Integer.parseInt(sizeLine, 16);
    if (size == 0) {
      if (!line(in).isEmpty()) {
        throw new IOException("trailer after the last chunk");
      }
      ended = true;
      return;
    }
    byte[] data = in.readNBytes(size);
    if (data.length < size || !line(in).isEmpty()) {
      throw new IOException("malformed chunk of " + size + " bytes");
    }
    String text = new String(data, UTF_8);
    if (!text.endsWith("\n\n")) {
      throw new IOException("a chunk that is not whole blocks: " + text);
    }
    pending.append(text);
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b; (b = in.read()) != '\n'; ) {
      if (b < 0) {
        throw new EOFException("connection ended after: " + line.toString(ISO_8859_1));
      }
      line.write(b);
    }
    String text = line.toString(ISO_8859_1);
    return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // already gone
    }
  }
}

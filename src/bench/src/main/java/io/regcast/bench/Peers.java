package io.regcast.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * regcast's peers in the compare command, each a plain broadcast server on loopback, pinned to
 * the server core: nginx + Nchan (one worker), a Node.js {@code ws} server, and the raw Java NIO
 * fan-out server (the machine's practical limit). Publishing is an HTTP POST of the message.
 */
final class Peers {
  private Peers() {}

  static final String NCHAN = "nchan";
  static final String NODE = "node-ws";
  static final String RAW = "raw-nio";

  /** Why a peer cannot run here, or empty. */
  static Optional<String> missing(String name, Path benchDir) {
    return switch (name) {
      case NCHAN -> GatewayBench.onPath("nginx").isEmpty() && !Files.isExecutable(Path.of("/usr/sbin/nginx"))
          ? Optional.of("nginx not installed (apt-get install nginx-light libnginx-mod-nchan)")
          : !Files.exists(Path.of("/usr/lib/nginx/modules/ngx_nchan_module.so"))
              ? Optional.of("the Nchan module is not installed (apt-get install libnginx-mod-nchan)")
              : Optional.empty();
      case NODE -> GatewayBench.onPath("node").isEmpty()
          ? Optional.of("node not installed")
          : !Files.isDirectory(benchDir.resolve("peers/node/node_modules/ws"))
              ? Optional.of("ws not installed (npm ci --prefix " + benchDir.resolve("peers/node") + ")")
              : Optional.empty();
      case RAW -> Optional.empty();
      default -> Optional.of("unknown server " + name);
    };
  }

  static ServerUnderTest start(String name, Path benchDir, Path tmp, Optional<String> taskset, String cpus,
      List<String> javaOpts) throws IOException {
    return switch (name) {
      case NCHAN -> Nchan.start(benchDir, tmp, taskset, cpus);
      case NODE -> NodeWs.start(benchDir, tmp, taskset, cpus);
      case RAW -> Raw.start(tmp, taskset, cpus, javaOpts);
      default -> throw new IllegalArgumentException("unknown server " + name);
    };
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static String plainSpec(int port, String path, int size) {
    return "127.0.0.1 " + port + "\nPOST " + path + " HTTP/1.1\nHost: 127.0.0.1:" + port
        + "\nContent-Type: text/plain\n\n" + Tag.payloadTemplate(size);
  }

  private static String version(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      try (InputStream in = p.getInputStream()) {
        String out = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        p.waitFor();
        return out.lines().findFirst().orElse("?");
      }
    } catch (IOException e) {
      return "?";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "?";
    }
  }

  private abstract static class Simple implements ServerUnderTest {
    final Process process;
    final int port;

    Simple(Process process, int port) {
      this.process = process;
      this.port = port;
    }

    @Override
    public String durableWrites() {
      return "none (memory only)";
    }

    @Override
    public int wsPort() {
      return port;
    }

    @Override
    public String subscribePath(Flow flow) {
      return "/ws";
    }

    @Override
    public String publishSpec(Flow flow, int size) {
      return plainSpec(port, "/pub", size);
    }

    @Override
    public List<ProcessHandle> processes() {
      return List.of(process.toHandle());
    }

    @Override
    public OptionalLong jvmPid() {
      return OptionalLong.empty();
    }

    @Override
    public void close() {
      ServerUnderTest.stop(process);
    }
  }

  /** nginx + Nchan, one worker process, memory store. */
  static final class Nchan extends Simple {
    private Nchan(Process process, int port) {
      super(process, port);
    }

    static Nchan start(Path benchDir, Path tmp, Optional<String> taskset, String cpus) throws IOException {
      Path dir = Files.createDirectories(tmp.resolve("nchan"));
      int port = freePort();
      String template = Files.readString(benchDir.resolve("peers/nchan/nginx.conf.template"), StandardCharsets.UTF_8);
      boolean root = "root".equals(System.getProperty("user.name"));
      Files.writeString(dir.resolve("nginx.conf"), template.replace("@DIR@", dir.toString())
          .replace("@PORT@", Integer.toString(port)).replace("@USER@", root ? "user root;" : ""), StandardCharsets.UTF_8);
      List<String> command = new ArrayList<>();
      taskset.ifPresent(t -> command.addAll(List.of(t, "-c", cpus)));
      command.addAll(List.of(GatewayBench.onPath("nginx").orElse("/usr/sbin/nginx"), "-p", dir.toString(), "-c",
          dir.resolve("nginx.conf").toString()));
      Path log = dir.resolve("stdout.log");
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      ServerUnderTest.awaitPort(port, Duration.ofSeconds(20), p, dir.resolve("error.log"));
      return new Nchan(p, port);
    }

    @Override
    public String name() {
      return NCHAN;
    }

    @Override
    public String describe() {
      return version(List.of(GatewayBench.onPath("nginx").orElse("/usr/sbin/nginx"), "-v")) + " + Nchan "
          + version(List.of("dpkg-query", "-W", "-f=${Version}", "libnginx-mod-nchan"))
          + ", 1 worker, memory store, POST /pub → WebSocket subscribers";
    }
  }

  /** Node.js + ws (peers/node/ws-broadcast.mjs). */
  static final class NodeWs extends Simple {
    private NodeWs(Process process, int port) {
      super(process, port);
    }

    static NodeWs start(Path benchDir, Path tmp, Optional<String> taskset, String cpus) throws IOException {
      List<String> command = new ArrayList<>();
      taskset.ifPresent(t -> command.addAll(List.of(t, "-c", cpus)));
      command.addAll(List.of(GatewayBench.onPath("node").orElseThrow(), "--max-old-space-size=2048",
          benchDir.resolve("peers/node/ws-broadcast.mjs").toString(), "0"));
      Path log = Files.createTempDirectory(tmp, "node-ws-").resolve("node-ws.log");
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      int port = ServerUnderTest.awaitListening(p, log, Duration.ofSeconds(20));
      return new NodeWs(p, port);
    }

    @Override
    public String name() {
      return NODE;
    }

    @Override
    public String describe() {
      return "Node.js " + version(List.of(GatewayBench.onPath("node").orElse("node"), "--version"))
          + " + ws 8.23.0, send() per client, no compression";
    }
  }

  /** The raw NIO fan-out server (RawFanoutServer), its own JVM. */
  static final class Raw extends Simple {
    private final List<String> javaOpts;
    private final GcLog gc;

    private Raw(Process process, int port, List<String> javaOpts, GcLog gc) {
      super(process, port);
      this.javaOpts = javaOpts;
      this.gc = gc;
    }

    static Raw start(Path tmp, Optional<String> taskset, String cpus, List<String> javaOpts) throws IOException {
      List<String> command = new ArrayList<>();
      taskset.ifPresent(t -> command.addAll(List.of(t, "-c", cpus)));
      command.add(GatewayBench.javaBin());
      command.addAll(javaOpts);
      Path dir = Files.createTempDirectory(tmp, "raw-");
      GcLog gc = new GcLog(dir.resolve("gc.log"));
      command.add(gc.option());
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), Bench.class.getName(),
          RawFanoutServer.COMMAND, "0"));
      Path log = dir.resolve("raw.log");
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      int port = ServerUnderTest.awaitListening(p, log, Duration.ofSeconds(20));
      return new Raw(p, port, javaOpts, gc);
    }

    @Override
    public String name() {
      return RAW;
    }

    @Override
    public String describe() {
      return "raw Java NIO fan-out (RawFanoutServer), 1 thread, one pre-encoded frame per message, " + String.join(" ", javaOpts);
    }

    @Override
    public OptionalLong jvmPid() {
      return OptionalLong.of(process.pid());
    }

    @Override
    public Optional<GcLog> gcLog() {
      return Optional.of(gc);
    }
  }
}

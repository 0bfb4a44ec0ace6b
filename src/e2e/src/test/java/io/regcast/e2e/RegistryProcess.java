package io.regcast.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real CNCF Distribution registry ({@code docker-registry serve config.yml}, Debian's
 * docker-registry 2.8) on a free loopback port, with filesystem storage under a directory of the
 * test's, deletes enabled, and one notifications endpoint: a regcast node's
 * {@code /container-registry/v1/registries/{id}/notifications} with an API key in the
 * Authorization header. Also runs skopeo and umoci, the registry's clients here.
 *
 * <p>Use it in try-with-resources: {@link #close} kills the registry.
 */
public final class RegistryProcess implements AutoCloseable {
  public static final Duration START_DEADLINE = Duration.ofSeconds(20);
  /** For one skopeo or umoci command. */
  public static final Duration COMMAND_DEADLINE = Duration.ofSeconds(30);
  private static final Duration STOP_DEADLINE = Duration.ofSeconds(10);
  private static final Path LOG_DIR = Path.of("target", "node-logs");
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();
  /** What a manifest HEAD or GET accepts: OCI and Docker schema 2, images and indexes. */
  public static final String MANIFEST_TYPES =
      String.join(
          ", ",
          "application/vnd.oci.image.manifest.v1+json",
          "application/vnd.oci.image.index.v1+json",
          "application/vnd.docker.distribution.manifest.v2+json",
          "application/vnd.docker.distribution.manifest.list.v2+json");

  private final String name;
  private final Path dir;
  private final StringBuffer output = new StringBuffer();
  private final Thread killOnExit = new Thread(this::destroyQuietly);
  private Process process;
  private Thread drainer;
  private int port;

  /**
   * @param name names the log file ({@code target/node-logs/<name>.log})
   * @param dir a directory of the test's (config, storage)
   */
  public RegistryProcess(String name, Path dir) {
    this.name = name;
    this.dir = dir;
  }

  /** Listens on {@code port} (e.g. a stopped registry's, to restart it) instead of a free one. */
  public RegistryProcess onPort(int port) {
    this.port = port;
    return this;
  }

  /**
   * Writes the config, starts the registry and waits until {@code GET /v2/} answers 200.
   *
   * @param notificationsUrl where the registry posts its events
   * @param apiKey sent as {@code Authorization: Bearer <apiKey>}
   */
  public RegistryProcess start(URI notificationsUrl, String apiKey) throws IOException, InterruptedException {
    if (port == 0) {
      port = NodeProcess.freePorts(1)[0];
    }
    Path storage = Files.createDirectories(dir.resolve("storage"));
    Path config = dir.resolve("config.yml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "version: 0.1",
            "log:",
            "  level: info",
            "  accesslog: {disabled: true}",
            "storage:",
            "  filesystem: {rootdirectory: \"" + storage.toAbsolutePath() + "\"}",
            "  delete: {enabled: true}",
            "  maintenance:",
            "    uploadpurging: {enabled: false}",
            "http:",
            "  addr: 127.0.0.1:" + port,
            "notifications:",
            "  endpoints:",
            "    - name: regcast",
            "      url: " + notificationsUrl,
            "      headers: {Authorization: [\"Bearer " + apiKey + "\"]}",
            "      timeout: 1s",
            "      threshold: 3",
            "      backoff: 1s",
            ""),
        UTF_8);
    ProcessBuilder builder =
        new ProcessBuilder("docker-registry", "serve", config.toAbsolutePath().toString()).redirectErrorStream(true);
    builder.environment().keySet().removeIf(key -> key.startsWith("REGISTRY_"));
    Files.createDirectories(LOG_DIR);
    Writer log = Files.newBufferedWriter(LOG_DIR.resolve(name + ".log"), UTF_8);
    try {
      process = builder.start();
    } catch (IOException e) {
      log.close();
      throw new IOException("cannot start docker-registry (apt-get install docker-registry): " + e.getMessage(), e);
    }
    Runtime.getRuntime().addShutdownHook(killOnExit);
    drainer = new Thread(() -> drain(log), "drain-" + name);
    drainer.setDaemon(true);
    drainer.start();
    try {
      awaitUp();
    } catch (Exception | Error e) {
      close();
      throw e;
    }
    return this;
  }

  private void awaitUp() throws InterruptedException {
    long until = System.nanoTime() + START_DEADLINE.toNanos();
    String last = "no answer yet";
    while (System.nanoTime() < until) {
      if (!process.isAlive()) {
        throw new AssertionError(name + " exited with " + process.exitValue() + outputForMessage());
      }
      try {
        var response =
            HTTP.send(
                HttpRequest.newBuilder(baseUrl().resolve("/v2/")).timeout(Duration.ofSeconds(2)).GET().build(),
                BodyHandlers.discarding());
        if (response.statusCode() == 200) {
          return;
        }
        last = "HTTP " + response.statusCode();
      } catch (IOException e) {
        last = e.toString();
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
    throw new AssertionError(
        name + ": GET /v2/ did not answer 200 within " + START_DEADLINE + " (" + last + ")" + outputForMessage());
  }

  private void drain(Writer log) {
    try (log;
        BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        output.append(line).append('\n');
        log.write(line);
        log.write('\n');
        log.flush();
      }
    } catch (IOException ignored) {
      // the process is gone
    }
  }

  /** {@code http://127.0.0.1:PORT}. */
  public URI baseUrl() {
    return URI.create("http://127.0.0.1:" + port);
  }

  /** {@code 127.0.0.1:PORT}, for skopeo's docker:// references. */
  public String host() {
    return "127.0.0.1:" + port;
  }

  /** {@code docker://127.0.0.1:PORT/<reference>}, e.g. reference {@code demo/hello:v1}. */
  public String docker(String reference) {
    return "docker://" + host() + "/" + reference;
  }

  /** The manifest digest a tag points at ({@code Docker-Content-Digest} of a HEAD). */
  public String digest(String repository, String tag) throws IOException, InterruptedException {
    var response =
        HTTP.send(
            HttpRequest.newBuilder(baseUrl().resolve("/v2/" + repository + "/manifests/" + tag))
                .timeout(Duration.ofSeconds(5))
                .header("Accept", MANIFEST_TYPES)
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .build(),
            BodyHandlers.discarding());
    if (response.statusCode() != 200) {
      throw new AssertionError("HEAD " + repository + ":" + tag + " answered " + response.statusCode());
    }
    return response.headers().firstValue("Docker-Content-Digest")
        .orElseThrow(() -> new AssertionError("HEAD " + repository + ":" + tag + " has no Docker-Content-Digest"));
  }

  /** The manifest's bytes and media type. */
  public record Manifest(byte[] bytes, String mediaType) {}

  public Manifest manifest(String repository, String reference) throws IOException, InterruptedException {
    var response =
        HTTP.send(
            HttpRequest.newBuilder(baseUrl().resolve("/v2/" + repository + "/manifests/" + reference))
                .timeout(Duration.ofSeconds(5))
                .header("Accept", MANIFEST_TYPES)
                .GET()
                .build(),
            BodyHandlers.ofByteArray());
    if (response.statusCode() != 200) {
      throw new AssertionError("GET manifest " + repository + ":" + reference + " answered " + response.statusCode());
    }
    return new Manifest(response.body(), response.headers().firstValue("Content-Type").orElseThrow());
  }

  /**
   * PUTs a manifest under a tag (its blobs must be in the repository already): the registry's
   * quickest push, without skopeo.
   */
  public void putManifest(String repository, String tag, Manifest manifest) throws IOException, InterruptedException {
    var response =
        HTTP.send(
            HttpRequest.newBuilder(baseUrl().resolve("/v2/" + repository + "/manifests/" + tag))
                .timeout(Duration.ofSeconds(5))
                .header("Content-Type", manifest.mediaType())
                .PUT(HttpRequest.BodyPublishers.ofByteArray(manifest.bytes()))
                .build(),
            BodyHandlers.ofString());
    if (response.statusCode() != 201) {
      throw new AssertionError(
          "PUT manifest " + repository + ":" + tag + " answered " + response.statusCode() + ": " + response.body());
    }
  }

  /** skopeo with these arguments; fails unless it exits 0 within {@link #COMMAND_DEADLINE}. */
  public static String skopeo(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("skopeo"));
    command.addAll(List.of(args));
    return run(null, command);
  }

  /** umoci in {@code dir} with these arguments. */
  public static String umoci(Path dir, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("umoci"));
    command.addAll(List.of(args));
    return run(dir, command);
  }

  /**
   * Builds a tiny image in the OCI layout {@code dir/oci} under {@code tag}: an empty base and one
   * layer holding {@code hello.txt} with {@code content}.
   */
  public static void buildImage(Path dir, String tag, String content) throws IOException, InterruptedException {
    if (!Files.exists(dir.resolve("oci").resolve("index.json"))) {
      umoci(dir, "init", "--layout", "oci");
    }
    umoci(dir, "new", "--image", "oci:" + tag);
    Path bundle = dir.resolve("bundle-" + tag);
    umoci(dir, "unpack", "--rootless", "--image", "oci:" + tag, bundle.getFileName().toString());
    Files.writeString(bundle.resolve("rootfs").resolve("hello.txt"), content + "\n", UTF_8);
    umoci(dir, "repack", "--image", "oci:" + tag, bundle.getFileName().toString());
  }

  private static String run(Path dir, List<String> command) throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    if (dir != null) {
      builder.directory(dir.toFile());
    }
    Process p = builder.start();
    p.getOutputStream().close();
    byte[][] out = new byte[1][];
    Thread drain = new Thread(() -> {
      try {
        out[0] = p.getInputStream().readAllBytes();
      } catch (IOException e) {
        out[0] = ("(cannot read: " + e + ")").getBytes(UTF_8);
      }
    });
    drain.setDaemon(true);
    drain.start();
    if (!p.waitFor(COMMAND_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      drain.join(1000);
      throw new AssertionError(String.join(" ", command) + " did not end within " + COMMAND_DEADLINE);
    }
    drain.join(5000);
    String text = out[0] == null ? "" : new String(out[0], UTF_8);
    if (p.exitValue() != 0) {
      throw new AssertionError(String.join(" ", command) + " exited with " + p.exitValue() + ":\n" + text);
    }
    return text;
  }

  /** Everything the registry printed so far. */
  public String output() {
    return output.toString();
  }

  private String outputForMessage() {
    return "\n--- output of " + name + " ---\n" + output;
  }

  private void destroyQuietly() {
    if (process != null) {
      process.destroyForcibly();
    }
  }

  /** Kills the registry (it holds nothing the tests need afterwards) and waits for it to be gone. */
  @Override
  public void close() throws InterruptedException {
    if (process == null) {
      return;
    }
    process.destroyForcibly();
    process.waitFor(STOP_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    if (drainer != null) {
      drainer.join(2000);
    }
    try {
      Runtime.getRuntime().removeShutdownHook(killOnExit);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or about to
    }
  }
}

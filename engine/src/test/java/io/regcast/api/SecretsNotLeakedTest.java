package io.regcast.api;

import static io.regcast.testing.ApiClient.object;
import static io.regcast.testing.ApiClient.uniqueName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.iam.ApiKeySecrets;
import io.regcast.node.Node;
import io.regcast.testing.ApiClient;
import io.regcast.testing.ApiClient.Answer;
import io.regcast.testing.SharedNode;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * No API key — issued, presented, wrong or revoked — appears in the node's log output, in an answer
 * (but the one {@code secret} field of its creation), or in the journal's files: keys of a user and
 * of a service account are issued, used (successfully, refused with 403/404/400, and with wrong
 * variants → 401), one is revoked and used again; then the captured log events and console output,
 * every answer seen, and every file under the node's data directory are scanned for each secret
 * (as text, without its prefix, and as its 32 raw bytes). As a check that the right files were
 * read, the keys' ids and SHA-256 hashes are found in them.
 */
@ExtendWith(SharedNode.class)
class SecretsNotLeakedTest {
  private static final String KEYS = "/iam/v1/apiKeys";
  private static final String REGISTRIES = "/container-registry/v1/registries";
  private static final String CAPTURE_CHECK = "secrets-not-leaked-capture-check";

  /** Copies everything written to {@code out} into {@code copy}. */
  private static PrintStream tee(PrintStream out, ByteArrayOutputStream copy) {
    return new PrintStream(new OutputStream() {
      @Override
      public void write(int b) {
        out.write(b);
        synchronized (copy) {
          copy.write(b);
        }
      }

      @Override
      public void write(byte[] b, int off, int len) {
        out.write(b, off, len);
        synchronized (copy) {
          copy.write(b, off, len);
        }
      }

      @Override
      public void flush() {
        out.flush();
      }
    }, true, StandardCharsets.UTF_8);
  }

  /** Everything a log event carries, as text. */
  private static String render(ILoggingEvent e) {
    StringBuilder out = new StringBuilder();
    out.append(e.getLevel()).append(' ').append(e.getLoggerName()).append(' ').append(e.getThreadName()).append(' ')
        .append(e.getMessage()).append(" | ").append(e.getFormattedMessage());
    if (e.getArgumentArray() != null) {
      out.append(" | args ").append(Arrays.deepToString(e.getArgumentArray()));
    }
    out.append(" | mdc ").append(e.getMDCPropertyMap());
    if (e.getKeyValuePairs() != null) {
      out.append(" | kv ").append(e.getKeyValuePairs());
    }
    for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
      out.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
      for (StackTraceElementProxy frame : t.getStackTraceElementProxyArray()) {
        out.append(' ').append(frame.getSTEAsString());
      }
    }
    return out.toString();
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /** The forms a secret could be stored or printed in. */
  private static List<byte[]> forms(String secret) {
    List<byte[]> out = new ArrayList<>();
    out.add(secret.getBytes(StandardCharsets.UTF_8));
    if (secret.startsWith("rck_")) {
      String body = secret.substring(4);
      out.add(body.getBytes(StandardCharsets.UTF_8));
      try {
        out.add(Base64.getUrlDecoder().decode(body));
      } catch (IllegalArgumentException notBase64) {
        // a wrong variant
      }
    }
    return out;
  }

  /**
   * The test JVM's log output while open: every logback event (an appender on the root logger,
   * io.regcast at DEBUG) and everything written to System.out/err.
   */
  private static final class LogCapture implements AutoCloseable {
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final Logger ours = (Logger) LoggerFactory.getLogger("io.regcast");
    private final Level oursBefore = ours.getLevel();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final PrintStream out = System.out;
    private final PrintStream err = System.err;
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private List<String> events = List.of();
    private byte[] consoleBytes = new byte[0];
    /** The node's asynchronous (Pekko event bus) log, where Pekko HTTP's own warnings go. */
    private final org.apache.pekko.event.LoggingAdapter pekkoLog;

    LogCapture(Node node) {
      pekkoLog = node.system().classicSystem().log();
      logs.start();
      root.addAppender(logs);
      ours.setLevel(Level.DEBUG);
      System.setOut(tee(out, console));
      System.setErr(tee(err, console));
    }

    /**
     * Logs a known line through the asynchronous Pekko log and waits (with a deadline) until it has
     * arrived, so whatever was logged before it has too; then stops capturing and checks the
     * capture worked.
     */
    @Override
    public void close() {
      try {
        LoggerFactory.getLogger(SecretsNotLeakedTest.class).info("capture check {}", CAPTURE_CHECK);
        pekkoLog.info("capture barrier {}", CAPTURE_CHECK);
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
        while (!captured("capture barrier " + CAPTURE_CHECK)) {
          assertTrue(System.nanoTime() < deadline, "the asynchronous log never delivered the barrier line");
          Thread.onSpinWait();
        }
      } finally {
        System.setOut(out);
        System.setErr(err);
        ours.setLevel(oursBefore);
        root.detachAppender(logs);
        logs.stop();
      }
      synchronized (logs) {
        events = logs.list.stream().map(SecretsNotLeakedTest::render).toList();
      }
      synchronized (console) {
        consoleBytes = console.toByteArray();
      }
      assertTrue(events.stream().anyMatch(e -> e.contains(CAPTURE_CHECK)), "log events were captured");
      assertTrue(new String(consoleBytes, StandardCharsets.UTF_8).contains(CAPTURE_CHECK), "the console output was captured");
    }

    private boolean captured(String text) {
      synchronized (logs) {
        return logs.list.stream().anyMatch(e -> e.getFormattedMessage().contains(text));
      }
    }

    /** (a) No form of any of {@code keys} in a log event or on the console. */
    void assertFree(List<String> keys) {
      for (String secret : keys) {
        for (byte[] form : forms(secret)) {
          for (String event : events) {
            assertFalse(contains(event.getBytes(StandardCharsets.UTF_8), form),
                () -> "a key appears in a log event: " + mask(event, keys));
          }
          assertFalse(contains(consoleBytes, form), "a key appears in the console output");
        }
      }
    }
  }

  @Test
  void noKeyAppearsInLogsAnswersOrTheJournal(ApiClient api, Node node) throws Exception {
    List<Answer> answers = new ArrayList<>();
    Map<String, String> secrets = new LinkedHashMap<>(); // secret → key id
    List<String> presented = new ArrayList<>(); // wrong variants
    List<String> headerValues = new ArrayList<>();
    LogCapture capture = new LogCapture(node);
    try (capture) {
      ApiClient.Setup s = api.setup();
      String folder = "/resource-manager/v1/folders/" + s.folderId();
      String registry = REGISTRIES + "/" + s.registryId();
      String user = api.post("/iam/v1/users", object().put("name", uniqueName("leak"))).expect(200).responseId();
      api.grant(user, "userAccount", "editor", folder);
      api.grant(s.serviceAccountId(), "serviceAccount", "container-registry.images.pusher", registry);

      // issued: two user keys, one service-account key by the admin, one more by the user itself
      List<ObjectNode> creates = List.of(
          object().put("userId", user).put("description", "laptop"),
          object().put("userId", user),
          object().put("serviceAccountId", s.serviceAccountId()));
      for (ObjectNode create : creates) {
        issue(api, create, secrets, answers);
      }
      List<String> issued = new ArrayList<>(secrets.keySet());
      String k1 = issued.get(0);
      String k2 = issued.get(1);
      String k3 = issued.get(2);
      ApiClient u1 = api.withKey(k1);
      ApiClient u2 = api.withAuthorization("Api-Key " + k2);
      ApiClient sa = api.withKey(k3);
      issue(u1, object().put("serviceAccountId", s.serviceAccountId()), secrets, answers);
      String k4 = new ArrayList<>(secrets.keySet()).get(3);

      // used successfully
      answers.add(u1.get(folder).expect(200));
      answers.add(u1.post(REGISTRIES, object().put("folderId", s.folderId()).put("name", uniqueName("leak"))).expect(200));
      answers.add(u2.get(registry).expect(200));
      ObjectNode events = object();
      events.putArray("events").addObject().put("eventType", "CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE")
          .put("repositoryName", "leak/app").put("imageDigest", "sha256:" + "ab".repeat(32)).put("tag", "v1");
      answers.add(sa.post(registry + "/events", events).expect(202));
      answers.add(api.withKey(k4).post(registry + "/events", events).expect(202));
      answers.add(u1.get(KEYS + "/" + secrets.get(k1)).expect(200));
      answers.add(u1.get(KEYS + "?userId=" + user).expect(200));
      answers.add(u1.get(KEYS + "?serviceAccountId=" + s.serviceAccountId()).expect(200));

      // refused with a valid key
      answers.add(u1.post("/resource-manager/v1/clouds", object().put("name", uniqueName("leak"))).expect(403));
      answers.add(sa.get(folder).expect(403));
      answers.add(u1.get(REGISTRIES + "/crtnosuchregistry000").expect(404));
      answers.add(u1.post(KEYS, object().put("userId", user).put("description", "x".repeat(300))).expect(400));

      // wrong keys: 401, and not echoed
      char last = k1.charAt(k1.length() - 1);
      presented.add(k1.substring(0, k1.length() - 1) + (last == 'A' ? 'B' : 'A'));
      presented.add(k1 + "x");
      presented.add(k1.substring(0, k1.length() - 1));
      presented.add(k1.toUpperCase());
      presented.add("rck_" + "Q".repeat(43));
      for (String wrong : presented) {
        answers.add(api.withKey(wrong).get(folder).expect(401));
        answers.add(api.withAuthorization("Api-Key " + wrong).post(registry + "/events", events).expect(401));
      }
      answers.add(api.withAuthorization("Basic " + k1).get(folder).expect(401));
      for (String authorization : List.of("Bearer " + presented.get(0), "Basic " + k1)) {
        HttpResponse<String> raw = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create(api.base() + folder)).header("Authorization", authorization).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(401, raw.statusCode());
        raw.headers().map().forEach((name, values) -> values.forEach(v -> headerValues.add(name + ": " + v)));
      }

      // revoked, then presented again
      answers.add(api.delete(KEYS + "/" + secrets.get(k2)).expect(200));
      answers.add(u2.get(folder).expect(401));
      answers.add(api.withKey(k2).get(registry).expect(401));
    }

    List<String> needles = new ArrayList<>(secrets.keySet());
    needles.addAll(presented);
    needles.add(SharedNode.ADMIN_KEY);

    // (a) the log output
    capture.assertFree(needles);

    // (b) every answer (a key's creation without its secret field) and the 401's headers
    assertTrue(answers.size() > 20);
    byte[] answerBytes = (answers.stream().map(Answer::text).reduce("", (a, b) -> a + "\n" + b)
        + "\n" + String.join("\n", headerValues)).getBytes(StandardCharsets.UTF_8);
    for (String secret : needles) {
      for (byte[] form : forms(secret)) {
        assertFalse(contains(answerBytes, form), "a key appears in an answer");
      }
    }

    // (c) the journal: every file under the data directory
    Path dataDir = node.settings().dataDir();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dataDir)) {
      files = walk.filter(Files::isRegularFile).toList();
    }
    assertTrue(files.stream().anyMatch(f -> f.getFileName().toString().endsWith(".db")), "the H2 files: " + files);
    long scanned = 0;
    List<byte[]> contents = new ArrayList<>();
    for (Path file : files) {
      byte[] bytes = Files.readAllBytes(file);
      scanned += bytes.length;
      contents.add(bytes);
      for (String secret : needles) {
        for (byte[] form : forms(secret)) {
          assertFalse(contains(bytes, form), "a key appears in " + file);
        }
      }
    }
    System.out.printf("SecretsNotLeakedTest: %d keys issued, %d wrong variants, %d log events, %d console bytes,"
            + " %d answers, %d files (%d bytes) under %s scanned%n",
        secrets.size(), presented.size(), capture.events.size(), capture.consoleBytes.length, answers.size(), files.size(), scanned, dataDir);

    // the right files: the journal holds each issued key's id and hash
    for (Map.Entry<String, String> key : secrets.entrySet()) {
      byte[] id = key.getValue().getBytes(StandardCharsets.UTF_8);
      byte[] hash = ApiKeySecrets.hash(key.getKey()).getBytes(StandardCharsets.UTF_8);
      assertTrue(contents.stream().anyMatch(c -> contains(c, id)), "key id " + key.getValue() + " is in the journal");
      assertTrue(contents.stream().anyMatch(c -> contains(c, hash)), "the hash of key " + key.getValue() + " is in the journal");
    }
  }

  /**
   * A malformed Authorization header (two tokens, a stray character) is refused with 401 — and its
   * value, the key in it, must not be logged. By default Pekko HTTP logs "Illegal header: Illegal
   * 'authorization' header: … Bearer rck_… rck_…" at WARN; cluster.conf turns that off.
   */
  @Test
  void aMalformedAuthorizationHeaderIsNotLogged(ApiClient api, Node node) throws Exception {
    String user = api.post("/iam/v1/users", object().put("name", uniqueName("leak"))).expect(200).responseId();
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      keys.add(api.post(KEYS, object().put("userId", user)).expect(200).json().get("secret").asText());
    }
    List<Answer> answers = new ArrayList<>();
    LogCapture capture = new LogCapture(node);
    try (capture) {
      for (String malformed : List.of(
          "Bearer " + keys.get(0) + " " + keys.get(1),
          "Bearer " + keys.get(0) + ",",
          "Bearer \"" + keys.get(0) + "\"",
          "Api-Key " + keys.get(0) + " x")) {
        answers.add(api.withAuthorization(malformed).get("/iam/v1/users").expect(401));
      }
    }
    capture.assertFree(keys);
    for (Answer a : answers) {
      keys.forEach(k -> assertFalse(a.text().contains(k), "a key appears in an answer"));
    }
  }

  /** The text with every key replaced by {@code <key>}, for a failure message that leaks nothing itself. */
  private static String mask(String text, List<String> keys) {
    String out = text;
    for (String key : keys) {
      out = out.replace(key, "<key>");
      if (key.startsWith("rck_")) {
        out = out.replace(key.substring(4), "<key body>");
      }
    }
    return out.length() > 2000 ? out.substring(0, 2000) + "…" : out;
  }

  /** Issues a key; its secret appears in the answer's secret field and nowhere else in it. */
  private static void issue(ApiClient as, ObjectNode create, Map<String, String> secrets, List<Answer> answers) {
    Answer created = as.post(KEYS, create).expect(200);
    JsonNode json = created.json();
    String secret = json.get("secret").asText();
    assertTrue(secret.startsWith("rck_") && secret.length() >= 47, "a 256-bit secret");
    ObjectNode withoutSecret = json.deepCopy();
    withoutSecret.remove("secret");
    assertFalse(withoutSecret.toString().contains(secret));
    answers.add(new Answer(created.status(), created.contentType(), withoutSecret.toString(), withoutSecret));
    secrets.put(secret, json.get("apiKey").get("id").asText());
  }
}

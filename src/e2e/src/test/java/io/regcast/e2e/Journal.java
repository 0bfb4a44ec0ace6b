package io.regcast.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What the shared journal (PostgreSQL's {@code event_journal}, read with {@code psql}) holds for a
 * trigger: the authority on what the trigger stored, whatever its clients saw. A trigger's
 * journal is its {@code EventsReceived} (the events that joined its open batch, in the order they
 * joined it) and {@code Sent} (the path's log holds its events up to this ordinal, the trigger's
 * running count of batched events; older journals have {@code BatchFlushed}, a count) — events
 * are kept after snapshots (no {@code withDeleteEventsOnSnapshot}), so the whole history is there.
 * Payloads are Jackson JSON, uncompressed (serialization.conf).
 */
final class Journal {
  private static final String RECEIVED = "io.regcast.trigger.TriggerEntity$EventsReceived";
  private static final String SENT = "io.regcast.trigger.TriggerEntity$Sent";
  private static final String FLUSHED = "io.regcast.trigger.TriggerEntity$BatchFlushed";

  /**
   * The trigger's journal: the event numbers ({@link DistributionEvents#number} of each event's
   * image digest) that joined its batch, in journal order, and how many were recorded as sent.
   */
  record TriggerLog(List<Long> received, long flushed) {
    /** Events stored but not recorded as sent: the open batch. */
    long open() {
      return received.size() - flushed;
    }
  }

  private Journal() {}

  static TriggerLog trigger(LocalPostgres postgres, String triggerId) {
    List<Long> received = new ArrayList<>();
    long flushed = 0;
    String sql =
        "SELECT event_ser_manifest || ' ' || convert_from(event_payload, 'UTF8') FROM event_journal"
            + " WHERE persistence_id = 'Trigger|" + triggerId + "' AND NOT deleted ORDER BY sequence_number";
    for (String row : query(postgres, sql)) {
      int space = row.indexOf(' ');
      String manifest = row.substring(0, space);
      if (!manifest.equals(RECEIVED) && !manifest.equals(SENT) && !manifest.equals(FLUSHED)) {
        continue;
      }
      JsonNode event;
      try {
        event = JsonHttp.JSON.readTree(row.substring(space + 1));
      } catch (IOException e) {
        throw new AssertionError("journal row is not JSON: " + row, e);
      }
      if (manifest.equals(RECEIVED)) {
        for (JsonNode matched : event.path("matched")) {
          received.add(DistributionEvents.number(matched.path("imageDigest").asText()));
        }
      } else if (manifest.equals(SENT)) {
        flushed = Math.max(flushed, event.path("upTo").asLong());
      } else {
        flushed += event.path("count").asLong();
      }
    }
    return new TriggerLog(List.copyOf(received), flushed);
  }

  /**
   * Writes every journal row of {@code persistenceIds} (in write order, with the writing
   * incarnation and its time) to {@code file}, for the post-mortem of a failed test: the cluster's
   * database is removed with it.
   */
  static Path dump(LocalPostgres postgres, List<String> persistenceIds, Path file) {
    String ids = String.join(",", persistenceIds.stream().map(id -> "'" + id + "'").toList());
    String sql =
        "SELECT ordering || ' ' || persistence_id || ' #' || sequence_number || ' ' || writer || ' '"
            + " || to_char(to_timestamp(write_timestamp / 1000.0), 'HH24:MI:SS.MS') || ' '"
            + " || event_ser_manifest || ' ' || convert_from(event_payload, 'UTF8') FROM event_journal"
            + " WHERE persistence_id IN (" + ids + ") ORDER BY ordering";
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.write(file, query(postgres, sql), UTF_8);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One row per line, unaligned, as the regcast role over TCP (the test database trusts loopback). */
  private static List<String> query(LocalPostgres postgres, String sql) {
    try {
      Path out = Files.createTempFile("regcast-journal-", ".out");
      try {
        ProcessBuilder builder =
            new ProcessBuilder(
                    psql(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                    "-p", Integer.toString(postgres.port()), "-U", "regcast", "-d", "regcast", "-c", sql)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile());
        builder.environment().put("PGPASSWORD", "regcast");
        Process process = builder.start();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          throw new AssertionError("psql did not answer within 30 s: " + sql);
        }
        List<String> lines = Files.readAllLines(out, UTF_8);
        if (process.exitValue() != 0) {
          throw new AssertionError("psql failed (exit " + process.exitValue() + "): " + String.join("\n", lines));
        }
        return lines.stream().filter(l -> !l.isBlank()).toList();
      } finally {
        Files.deleteIfExists(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The newest PostgreSQL's psql (Debian keeps it under /usr/lib/postgresql/N/bin), else the one on PATH. */
  private static String psql() throws IOException {
    Path lib = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(lib)) {
      try (Stream<Path> versions = Files.list(lib)) {
        var newest =
            versions
                .map(v -> v.resolve("bin/psql"))
                .filter(Files::isExecutable)
                .max(Comparator.comparing(p -> versionOf(p.getParent().getParent())));
        if (newest.isPresent()) {
          return newest.get().toString();
        }
      }
    }
    return "psql";
  }

  private static int versionOf(Path dir) {
    try {
      return Integer.parseInt(dir.getFileName().toString().replaceAll("\\..*", ""));
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}

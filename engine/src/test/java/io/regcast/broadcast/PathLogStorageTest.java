package io.regcast.broadcast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.regcast.gateway.GatewayDirectory;
import io.regcast.gateway.PathKey;
import io.regcast.model.HistorySettings;
import io.regcast.node.Node;
import io.regcast.testing.SharedNode;
import com.typesafe.config.ConfigFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A path's log on a node's real journal (H2, a node of its own that snapshots logs every 10
 * appends): appending far more than one snapshot interval leaves a bounded number of journal rows,
 * and what is retained survives.
 */
class PathLogStorageTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final int SNAPSHOT_EVERY = 10;

  @TempDir static Path dataDir;
  private static Node node;

  @BeforeAll
  static void start() throws Exception {
    node = Node.start(ConfigFactory.parseMap(Map.of(
        "regcast.data-dir", dataDir.toString(),
        "regcast.http.port", 0,
        "regcast.cluster.port", 0,
        "regcast.gateway.port", 0,
        "regcast.management.port", 0,
        "regcast.iam.admin-key", SharedNode.ADMIN_KEY,
        "regcast.history.snapshot-every", SNAPSHOT_EVERY)));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void keepsItsJournalWithinThreeSnapshotIntervalsWhateverItsTraffic() throws Exception {
    PathKey path = new PathKey("d5dstorage0000000001", "/events");
    int snapshotEvery = SNAPSHOT_EVERY;
    int appends = snapshotEvery * 3 + 17;
    // the directory does not know this gateway: its appends carry the node's default retention
    Broadcaster logs = Broadcaster.toLogs(node.system(), new GatewayDirectory("", new HistorySettings(5, Duration.ofHours(1))), WAIT);
    for (int n = 1; n <= appends; n++) {
      long held = logs.append(path, "a1s-storage", n, n, List.of(("m" + n).getBytes(StandardCharsets.UTF_8)), 0)
          .toCompletableFuture().get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
      assertEquals(n, held);
    }
    String pid = PathLog.ENTITY_KEY.name() + "|" + PathLog.entityId(path);
    long deadline = System.nanoTime() + WAIT.toNanos();
    long rows = journalRows(node, pid);
    // a snapshot deletes what precedes the one before it: at most two intervals, plus what came since
    while (rows > 3L * snapshotEvery && System.nanoTime() < deadline) {
      Thread.onSpinWait(); // deletion follows the snapshot's write, which the last append does not wait for
      rows = journalRows(node, pid);
    }
    assertTrue(rows <= 3L * snapshotEvery, pid + " kept " + rows + " journal rows of " + appends + " appends");
    PathLog.Entries kept = PathLog.ref(node.system(), path)
        .<PathLog.Entries>ask(r -> new PathLog.Read(0, 1 << 20, r), WAIT)
        .toCompletableFuture().get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(appends, kept.head());
    assertEquals(List.of((long) appends - 4, (long) appends - 3, (long) appends - 2, (long) appends - 1, (long) appends),
        kept.entries().stream().map(PathLog.Entry::position).toList());
  }

  private static long journalRows(Node node, String persistenceId) throws Exception {
    try (Connection c = DriverManager.getConnection(node.settings().jdbcUrl(), "", "");
        PreparedStatement q = c.prepareStatement("SELECT COUNT(*) FROM \"event_journal\" WHERE \"persistence_id\" = ?")) {
      q.setString(1, persistenceId);
      try (ResultSet r = q.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    }
  }
}

package io.regcast.node;

import io.regcast.catalog.CatalogEntity;
import io.regcast.iam.ApiKeySecrets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first start on an empty store creates the administrator and its key: the configured one, or
 * a generated one written to {@code <data-dir>/admin-key} readable by the owner only. The key is
 * never logged; its file's location is.
 */
final class Bootstrap {
  static final String KEY_FILE = "admin-key";
  private static final Logger log = LoggerFactory.getLogger(Bootstrap.class);

  private Bootstrap() {}

  static void run(ActorSystem<?> system, Settings settings, Duration timeout) throws Exception {
    boolean configured = !settings.iam().adminKey().isEmpty();
    String secret = configured ? settings.iam().adminKey() : ApiKeySecrets.generate();
    var reply =
        CatalogEntity.ref(system)
            .<CatalogEntity.Reply>ask(
                r -> new CatalogEntity.Bootstrap(settings.iam().adminName(), ApiKeySecrets.hash(secret), r), timeout)
            .toCompletableFuture()
            .get(timeout.toSeconds(), TimeUnit.SECONDS);
    CatalogEntity.Bootstrapped done = (CatalogEntity.Bootstrapped) reply;
    if (!done.created()) {
      return;
    }
    if (configured) {
      log.info("Created administrator {} with the configured key (regcast.iam.admin-key)", done.userId());
    } else {
      Path file = writeOwnerOnly(settings.dataDir().resolve(KEY_FILE), secret);
      log.info("Created administrator {}; its API key is in {} (readable by this user only)", done.userId(), file);
    }
  }

  private static Path writeOwnerOnly(Path file, String secret) throws IOException {
    Files.deleteIfExists(file);
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException notPosix) {
      Files.createFile(file);
    }
    Files.writeString(file, secret + "\n", StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
    return file;
  }
}

package io.regcast.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * The subprocess of a WebSocket client under test ({@link ExternalWsClient}, {@link
 * BrowserWsClient}): stdin closed, each stdout line handed to the client, stderr kept for failure
 * messages. {@link #close} ends it together with the processes it started (a browser's renderers),
 * and so does the JVM's exit if a test never got to close it.
 */
final class ClientProcess implements AutoCloseable {
  private static final Duration EXIT_DEADLINE = Duration.ofSeconds(5);
  /** How often {@link #close} looks whether the process's children are gone. */
  private static final Duration POLL_EVERY = Duration.ofMillis(10);

  private final String kind;
  private final List<String> command;
  private final Process process;
  private final StringBuffer stderr = new StringBuffer();
  private final Thread killOnExit;

  /**
   * Starts {@code builder}'s command; {@code stdoutLine} gets each stdout line (on a thread of its
   * own), then {@code exited} the exit code once stdout has ended and the process is gone.
   */
  ClientProcess(String kind, ProcessBuilder builder, Consumer<String> stdoutLine, IntConsumer exited)
      throws IOException {
    this.kind = kind;
    this.command = List.copyOf(builder.command());
    this.process = builder.redirectInput(ProcessBuilder.Redirect.PIPE).start();
    process.getOutputStream().close();
    killOnExit = new Thread(this::kill);
    Runtime.getRuntime().addShutdownHook(killOnExit);
    daemon("stdout-" + kind, () -> readStdout(stdoutLine, exited)).start();
    daemon("stderr-" + kind, () -> copy(process.getErrorStream(), stderr)).start();
  }

  /** Waits for the process to exit and returns its exit code (an AssertionError after 5 s). */
  int exitCode() {
    try {
      if (!process.waitFor(EXIT_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(kind + " did not exit within " + EXIT_DEADLINE + details());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(kind + ": interrupted", e);
    }
    return process.exitValue();
  }

  /** The command, whether it still runs, and its stderr so far; starts with a newline. */
  String details() {
    return "\n--- " + kind + ": " + String.join(" ", command) + (process.isAlive() ? " (running)" : " (exit code "
        + process.exitValue() + ")") + "; stderr ---\n" + stderr;
  }

  /**
   * Asks the process to stop (SIGTERM), kills it after 5 s, then kills whatever it started that
   * still runs and waits (5 s at most) until all of that has exited: a browser's helpers could
   * otherwise outlive a browser that was killed, or still write into its profile.
   */
  @Override
  public void close() {
    kill();
    try {
      Runtime.getRuntime().removeShutdownHook(killOnExit);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs anyway
    }
  }

  private void kill() {
    // Taken first: once the process is gone, its children belong to init and are not listed.
    List<ProcessHandle> descendants = process.descendants().toList();
    process.destroy();
    try {
      if (!process.waitFor(EXIT_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(EXIT_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
      }
      descendants.stream().filter(child -> !hasExited(child)).forEach(ProcessHandle::destroyForcibly);
      long until = System.nanoTime() + EXIT_DEADLINE.toNanos();
      List<ProcessHandle> running;
      while (!(running = descendants.stream().filter(child -> !hasExited(child)).toList()).isEmpty()) {
        if (System.nanoTime() > until) {
          stderr.append("[test] children of ").append(kind).append(" still running after SIGKILL: ").append(running)
              .append('\n');
          return;
        }
        TimeUnit.MILLISECONDS.sleep(POLL_EVERY.toMillis());
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      descendants.forEach(ProcessHandle::destroyForcibly);
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Whether {@code child} has exited, reaped or not: an orphan waits as a zombie until init
   * collects it, which can take a second in a container, and {@link ProcessHandle#isAlive} counts
   * a zombie as alive. A zombie runs no code, so it writes no more files.
   */
  private static boolean hasExited(ProcessHandle child) {
    if (!child.isAlive()) {
      return true;
    }
    try {
      String stat = Files.readString(Path.of("/proc/" + child.pid() + "/stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) == 'Z'; // "pid (name) STATE ppid …"
    } catch (IOException | RuntimeException gone) {
      return true;
    }
  }

  private void readStdout(Consumer<String> stdoutLine, IntConsumer exited) {
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8))) {
      for (String line; (line = lines.readLine()) != null; ) {
        stdoutLine.accept(line);
      }
    } catch (IOException e) {
      stderr.append("[test] reading stdout failed: ").append(e).append('\n');
    }
    try {
      exited.accept(process.waitFor());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void copy(InputStream from, StringBuffer to) {
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(from, UTF_8))) {
      for (String line; (line = lines.readLine()) != null; ) {
        to.append(line).append('\n');
      }
    } catch (IOException e) {
      to.append("[test] reading stderr failed: ").append(e).append('\n');
    }
  }

  private static Thread daemon(String name, Runnable body) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    return thread;
  }
}

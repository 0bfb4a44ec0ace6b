package io.regcast.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A {@link LoadClient} JVM seen from the process that drives it: commands on its stdin, answers
 * from its stdout (read by one daemon thread; "progress" lines are kept apart, "error" lines go to
 * stderr).
 */
final class ClientProcess {
  private final Process process;
  private final PrintWriter commands;
  private final LinkedBlockingQueue<String[]> answers = new LinkedBlockingQueue<>();
  private final Duration stall;
  private final String name;
  private volatile long progress;
  private volatile long lastProgressAt;
  private volatile Thread waiter;

  private ClientProcess(Process process, Duration stall, String name) {
    this.process = process;
    this.stall = stall;
    this.name = name;
    this.commands = new PrintWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
    Thread reader = new Thread(this::readAnswers, name + "-answers");
    reader.setDaemon(true);
    reader.start();
  }

  /** {@code [taskset -c CPUS] java JVM_OPTS -cp … Bench gateway-client OPTIONS}. */
  static ClientProcess start(Optional<String> taskset, String cpus, List<String> jvmOpts, LoadClient.Options options,
      Duration stall) throws IOException {
    return start(taskset, cpus, jvmOpts, options, stall, "client");
  }

  static ClientProcess start(Optional<String> taskset, String cpus, List<String> jvmOpts, LoadClient.Options options,
      Duration stall, String name) throws IOException {
    List<String> command = new ArrayList<>();
    taskset.ifPresent(t -> command.addAll(List.of(t, "-c", cpus)));
    command.add(GatewayBench.javaBin());
    command.addAll(jvmOpts);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Bench.class.getName(), LoadClient.COMMAND));
    command.addAll(options.args());
    ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().keySet().removeIf(k -> k.startsWith("REGCAST_BENCH"));
    return new ClientProcess(pb.start(), stall, name);
  }

  private void readAnswers() {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        String[] words = line.trim().split(" ");
        switch (words[0]) {
          case "progress" -> {
            progress = Long.parseLong(words[1]);
            lastProgressAt = System.nanoTime();
            Thread w = waiter;
            if (w != null) {
              LockSupport.unpark(w);
            }
          }
          case "error" -> System.err.println(name + ": " + line);
          default -> answers.add(words);
        }
      }
    } catch (IOException e) {
      // the client is gone
    }
    answers.add(new String[] {"exited"});
    Thread w = waiter;
    if (w != null) {
      LockSupport.unpark(w);
    }
  }

  void send(String command) {
    commands.println(command);
  }

  long pid() {
    return process.pid();
  }

  String[] expect(String kind, Duration timeout) throws InterruptedException {
    String[] answer = answers.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (answer == null) {
      send("stats");
      throw new IllegalStateException(name + " did not answer '" + kind + "' within " + timeout.toSeconds() + " s");
    }
    if (!answer[0].equals(kind)) {
      throw new IllegalStateException("expected '" + kind + "' from " + name + ", got: " + String.join(" ", answer));
    }
    return answer;
  }

  void startProgress() {
    progress = 0;
    lastProgressAt = System.nanoTime();
  }

  long progress() {
    return progress;
  }

  /** Parks until every connection has (received or lost) {@code target} messages. */
  void awaitProgress(long target) {
    waiter = Thread.currentThread();
    try {
      while (progress < target) {
        if (!process.isAlive()) {
          throw new IllegalStateException(name + " exited");
        }
        if (System.nanoTime() - lastProgressAt > stall.toNanos()) {
          send("stats");
          throw new IllegalStateException("no progress for " + stall.toSeconds() + " s at " + progress + " of " + target
              + " messages (a connection lost or stalled)");
        }
        LockSupport.parkNanos(this, 10_000_000);
      }
    } finally {
      waiter = null;
    }
  }

  void quit() {
    try {
      send("quit");
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}

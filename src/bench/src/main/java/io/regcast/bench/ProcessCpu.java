package io.regcast.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time of this process in nanoseconds. On Linux, the sum of every thread's time on a CPU from
 * {@code /proc/self/task/}{@code *}{@code /schedstat} (nanosecond precision: the open phase lasts
 * only ~0.1 s, where the 10 ms ticks of {@code OperatingSystemMXBean.getProcessCpuTime} would be
 * ±10 points); elsewhere that MXBean.
 */
final class ProcessCpu {
  private static final Path TASKS = Path.of("/proc/self/task");
  private static final boolean SCHEDSTAT = Files.isReadable(TASKS.resolve(Long.toString(ProcessHandle.current().pid())).resolve("schedstat"));

  private ProcessCpu() {}

  static long nanos() {
    if (SCHEDSTAT) {
      long sum = 0;
      try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
        for (Path task : tasks) {
          try {
            String line = Files.readString(task.resolve("schedstat"));
            sum += Long.parseLong(line.substring(0, line.indexOf(' ')));
          } catch (IOException | RuntimeException e) {
            // the thread ended meanwhile
          }
        }
        return sum;
      } catch (IOException e) {
        // fall through
      }
    }
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /**
   * CPU time of a whole process (every thread, ended ones included; on Linux from
   * {@code /proc/PID/stat}, in clock ticks of 10 ms), in nanoseconds; -1 if unknown. Good for
   * phases of seconds, e.g. a separate node JVM, or this JVM when it starts and ends threads.
   */
  static long nanosOf(ProcessHandle process) {
    return process.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(-1L);
  }
}

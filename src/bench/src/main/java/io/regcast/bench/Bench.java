package io.regcast.bench;

import java.util.Arrays;

/**
 * Benchmark commands: each prints figures and asserts nothing (speed and memory targets live
 * here, never in timed unit tests).
 *
 * <pre>
 * java -jar src/bench/target/regcast-bench.jar gateway --clients 1000 --messages 20000 --size 600
 * java -jar src/bench/target/regcast-bench.jar ingest
 * java -jar src/bench/target/regcast-bench.jar compare [--quick]
 * </pre>
 */
public final class Bench {
  private Bench() {}

  public static void main(String[] args) throws Exception {
    // Before anything logs: the engine's logback.xml would print every INFO line of the gateway.
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "logback-bench.xml");
    }
    String command = args.length == 0 ? "help" : args[0];
    String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
    switch (command) {
      case "gateway" -> System.exit(GatewayBench.main(rest));
      case "ingest" -> System.exit(IngestBench.main(rest));
      case "compare" -> System.exit(Compare.main(rest));
      case LoadClient.COMMAND -> LoadClient.main(rest);
      case RawFanoutServer.COMMAND -> RawFanoutServer.main(rest);
      default -> {
        System.out.println(GatewayBench.USAGE);
        System.out.println(IngestBench.USAGE);
        System.out.println(Compare.USAGE);
        System.exit(command.equals("help") || command.equals("--help") ? 0 : 2);
      }
    }
  }
}

package io.regcast.gateway;

import java.util.concurrent.atomic.LongAdder;

/** Counters of the data plane (exported as metrics later; read by tests and the benchmark). */
public final class GatewayMetrics {
  final LongAdder connectionsOpened = new LongAdder();
  final LongAdder framesWritten = new LongAdder();
  final LongAdder slowConsumerDisconnects = new LongAdder();
  final LongAdder framesDropped = new LongAdder();
  final LongAdder messagesBroadcast = new LongAdder();

  public long connectionsOpened() {
    return connectionsOpened.sum();
  }

  public long framesWritten() {
    return framesWritten.sum();
  }

  public long slowConsumerDisconnects() {
    return slowConsumerDisconnects.sum();
  }

  public long framesDropped() {
    return framesDropped.sum();
  }

  public long messagesBroadcast() {
    return messagesBroadcast.sum();
  }
}

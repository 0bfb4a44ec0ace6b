package io.regcast.bench;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/** HdrHistograms (µs) across processes: compressed, Base64, "-" when empty. */
final class Histograms {
  private Histograms() {}

  static String encode(Histogram h) {
    if (h.getTotalCount() == 0) {
      return "-";
    }
    ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
    int n = h.encodeIntoCompressedByteBuffer(buf);
    byte[] bytes = new byte[n];
    buf.flip();
    buf.get(bytes);
    return Base64.getEncoder().encodeToString(bytes);
  }

  static Histogram decode(String s) {
    if (s.equals("-")) {
      return new Histogram(LoadClient.MAX_LATENCY_MICROS, 3);
    }
    try {
      return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(s)), 0);
    } catch (DataFormatException e) {
      throw new IllegalStateException("bad histogram from the client", e);
    }
  }

  /** The p-th percentile in ms. */
  static double millis(Histogram h, double p) {
    return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(p) / 1000.0;
  }
}

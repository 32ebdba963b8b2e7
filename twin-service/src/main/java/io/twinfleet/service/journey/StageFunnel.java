package io.twinfleet.service.journey;

import io.twinfleet.persistence.readmodel.JourneyRepository.FunnelSlice;
import io.twinfleet.persistence.readmodel.JourneyRepository.JourneyRow;
import io.twinfleet.service.device.Stage;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/**
 * Stage counts and claim-to-activation times per model: of one projection slice while the
 * projection keeps them, or summed over slices (or over some devices' rows) for a query. Counting is
 * by row changes, so it is exact as long as each change is counted once, which the journey read
 * model ensures.
 */
public final class StageFunnel {

  /** Activation times are kept in seconds, up to ten years, to two significant digits (1%). */
  private static final long MAX_SECONDS = Duration.ofDays(3653).toSeconds();

  private final Map<String, long[]> counts = new TreeMap<>();
  private final Map<String, Histogram> activation = new TreeMap<>();

  /** The claim-to-activation times of one model, in seconds. */
  public record Activation(String model, Histogram seconds) {}

  /** The stages a funnel counts: from ONBOARDING to END_OF_LIFE. */
  public static final Stage[] STAGES = {Stage.ONBOARDING, Stage.DAY_30, Stage.DAY_60, Stage.DAY_90, Stage.MATURE, Stage.END_OF_LIFE};

  /** A funnel as stored for a slice. */
  static StageFunnel of(FunnelSlice slice) {
    StageFunnel funnel = new StageFunnel();
    funnel.add(slice, null);
    return funnel;
  }

  /** The sum of slices, only of {@code model} if it is not null. */
  public static StageFunnel sum(Iterable<FunnelSlice> slices, String model) {
    StageFunnel funnel = new StageFunnel();
    for (FunnelSlice slice : slices) {
      funnel.add(slice, model);
    }
    return funnel;
  }

  /** The funnel of the given devices' rows. */
  public static StageFunnel ofRows(Iterable<JourneyRow> rows) {
    StageFunnel funnel = new StageFunnel();
    for (JourneyRow row : rows) {
      funnel.count(null, row);
    }
    return funnel;
  }

  /** An independent copy. */
  StageFunnel copy() {
    StageFunnel c = new StageFunnel();
    counts.forEach((model, n) -> c.counts.put(model, n.clone()));
    activation.forEach((model, h) -> c.activation.put(model, h.copy()));
    return c;
  }

  /** Counts a device's row going from {@code before} (null if it had none) to {@code after}. */
  void count(JourneyRow before, JourneyRow after) {
    String model = after.model();
    String from = before == null ? null : before.stage();
    if (!Objects.equals(from, after.stage())) {
      if (from != null) {
        countsOf(model)[Stage.valueOf(from).ordinal()]--;
      }
      if (after.stage() != null) {
        countsOf(model)[Stage.valueOf(after.stage()).ordinal()]++;
      }
    }
    boolean activated = after.activatedAt() != null && (before == null || before.activatedAt() == null);
    if (activated && after.claimedAt() != null) {
      long seconds = Duration.between(after.claimedAt(), after.activatedAt()).toSeconds();
      histogramOf(model).recordValue(Math.max(0, Math.min(MAX_SECONDS, seconds)));
    }
  }

  /** Devices in {@code stage}. */
  public long devices(Stage stage) {
    long n = 0;
    for (long[] c : counts.values()) {
      n += c[stage.ordinal()];
    }
    return n;
  }

  /** Per model with an activated device, by model name. */
  public Iterable<Activation> activations() {
    return activation.entrySet().stream().map(e -> new Activation(e.getKey(), e.getValue())).toList();
  }

  /** As stored for a slice, with {@code pending}. */
  FunnelSlice toSlice(String pending) {
    Map<String, Map<String, Long>> stored = new HashMap<>();
    counts.forEach((model, c) -> {
      Map<String, Long> byStage = new HashMap<>();
      for (Stage s : STAGES) {
        byStage.put(s.name(), c[s.ordinal()]);
      }
      stored.put(model, byStage);
    });
    Map<String, ByteBuffer> histograms = new HashMap<>();
    activation.forEach((model, h) -> {
      ByteBuffer buffer = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
      int length = h.encodeIntoCompressedByteBuffer(buffer);
      histograms.put(model, ByteBuffer.wrap(buffer.array(), 0, length));
    });
    return new FunnelSlice(stored, histograms, pending);
  }

  private void add(FunnelSlice slice, String onlyModel) {
    slice.counts().forEach((model, byStage) -> {
      if (onlyModel == null || onlyModel.equals(model)) {
        long[] c = countsOf(model);
        byStage.forEach((stage, n) -> c[Stage.valueOf(stage).ordinal()] += n);
      }
    });
    slice.claimToActivation().forEach((model, encoded) -> {
      if (onlyModel == null || onlyModel.equals(model)) {
        try {
          byte[] bytes = new byte[encoded.remaining()]; // the driver's buffer may be a view into a larger array
          encoded.duplicate().get(bytes);
          histogramOf(model).add(Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(bytes), 0));
        } catch (DataFormatException e) {
          throw new IllegalStateException("stored claim-to-activation histogram of " + model + " is corrupt", e);
        }
      }
    });
  }

  private long[] countsOf(String model) {
    return counts.computeIfAbsent(model, m -> new long[Stage.values().length]);
  }

  private Histogram histogramOf(String model) {
    return activation.computeIfAbsent(model, m -> new Histogram(MAX_SECONDS, 2));
  }
}

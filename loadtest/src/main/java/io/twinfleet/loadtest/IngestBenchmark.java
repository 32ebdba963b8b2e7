package io.twinfleet.loadtest;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.twinfleet.protocol.v1.BatchAck;
import io.twinfleet.protocol.v1.Device;
import io.twinfleet.protocol.v1.DeviceServiceGrpc;
import io.twinfleet.protocol.v1.GetDeviceRequest;
import io.twinfleet.protocol.v1.Reading;
import io.twinfleet.protocol.v1.ReadingBatch;
import io.twinfleet.protocol.v1.RegisterDeviceRequest;
import io.twinfleet.protocol.v1.Rejection;
import io.twinfleet.protocol.v1.TelemetryServiceGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The foundation benchmark: registers N twins, streams heartbeats to all of them over several
 * ReportStreams (batches, bounded in flight), and meanwhile samples GetDevice at a fixed rate.
 * Reports acknowledged readings per second, ack and GetDevice latency percentiles, and, given the
 * server's pid on this machine, its heap per live twin. Loopback only; bounded in count and time.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Measures ingest through ReportStream, GetDevice latency and heap per twin of a running service.")
final class IngestBenchmark implements Callable<Integer> {

  @Mixin
  Credentials credentials = new Credentials();

  @Option(names = "--target", defaultValue = "127.0.0.1:8080", description = "host:port of the service (default: ${DEFAULT-VALUE}).")
  String target;

  @Option(names = "--devices", defaultValue = "10000", description = "Twins to register and feed (default: ${DEFAULT-VALUE}).")
  int devices;

  @Option(names = "--duration", defaultValue = "60s", description = "How long to stream, e.g. 60s, 5m (default: ${DEFAULT-VALUE}).")
  String duration;

  @Option(names = "--warmup", defaultValue = "10s", description = "Streaming before measuring starts (default: ${DEFAULT-VALUE}).")
  String warmup;

  @Option(names = "--streams", defaultValue = "4", description = "ReportStreams, each on its own connection; 0 measures GetDevice alone (default: ${DEFAULT-VALUE}).")
  int streams;

  @Option(names = "--batch", defaultValue = "100", description = "Readings per batch (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--in-flight", defaultValue = "8", description = "Unacknowledged batches per stream (default: ${DEFAULT-VALUE}).")
  int inFlight;

  @Option(names = "--get-rate", defaultValue = "500", description = "GetDevice calls per second during ingest (default: ${DEFAULT-VALUE}).")
  int getRate;

  @Option(names = "--server-pid", description = "The service's pid on this machine, to measure heap per twin with jcmd.")
  Long serverPid;

  @Option(names = "--prefix", defaultValue = "bench-", description = "Device id prefix (default: ${DEFAULT-VALUE}).")
  String prefix;

  @Option(names = "--json", defaultValue = "bench-result.json", description = "Where to write the JSON result (default: ${DEFAULT-VALUE}).")
  Path json;

  private final Recorder ackLatency = new Recorder(3);
  private final Recorder getLatency = new Recorder(3);
  private final LongAdder accepted = new LongAdder();
  private final Map<String, LongAdder> rejections = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> getErrors = new ConcurrentHashMap<>();
  private volatile boolean measuring;

  @Override
  public Integer call() throws Exception {
    Channels.requireLoopback("--target", target);
    if (devices < 1 || streams < 0 || batch < 1 || batch > 1000 || inFlight < 1 || getRate < 0) {
      throw new IllegalArgumentException("--devices, --batch (1..1000), --in-flight must be positive, --streams and --get-rate not negative");
    }
    Duration run = parse(duration);
    Duration warm = parse(warmup);
    List<ManagedChannel> channels = Channels.open(target, Math.max(streams, 1), credentials.token());
    try {
      Long heapBefore = serverPid == null ? null : ServerHeap.usedAfterFullGc(serverPid);
      Duration provisioning = provision(channels.get(0));
      Long heapPerTwin = null;
      List<ManagedChannel> streaming = channels.subList(0, streams);
      if (serverPid != null && streams > 0) {
        // one reading each, so every twin also holds its live telemetry, as in steady state
        stream(streaming, Duration.ZERO, devices / batch + streams, false);
        heapPerTwin = (ServerHeap.usedAfterFullGc(serverPid) - heapBefore) / devices;
        System.out.printf("Heap per live twin: %,d bytes (%d twins, full GC before and after)%n", heapPerTwin, devices);
      }
      System.out.printf("Streaming heartbeats to %,d twins over %d streams, batches of %d, %d in flight each; GetDevice at %d/s; %s warm-up, then %s measured%n",
          devices, streams, batch, inFlight, getRate, warm, run);
      ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
      if (getRate > 0) {
        DeviceServiceGrpc.DeviceServiceFutureStub stub = DeviceServiceGrpc.newFutureStub(channels.get(0));
        sampler.scheduleAtFixedRate(() -> sampleGet(stub), 0, 1_000_000 / getRate, TimeUnit.MICROSECONDS);
      }
      Thread warmupEnd = new Thread(() -> {
        sleep(warm);
        ackLatency.reset();
        getLatency.reset();
        accepted.reset();
        rejections.clear();
        getErrors.clear();
        measuring = true;
      });
      warmupEnd.start();
      long start = System.nanoTime();
      if (streams > 0) {
        stream(streaming, warm.plus(run), Long.MAX_VALUE, true);
      } else {
        sleep(warm.plus(run));
      }
      double seconds = (System.nanoTime() - start) / 1e9 - warm.toMillis() / 1e3;
      sampler.shutdownNow();
      report(seconds, provisioning, heapPerTwin);
      return 0;
    } finally {
      for (ManagedChannel c : channels) {
        c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private Duration provision(ManagedChannel channel) throws InterruptedException {
    DeviceServiceGrpc.DeviceServiceFutureStub stub = DeviceServiceGrpc.newFutureStub(channel);
    Semaphore window = new Semaphore(256);
    AtomicLong done = new AtomicLong();
    Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    long start = System.nanoTime();
    Progress progress = new Progress("Registering", devices, done::get);
    for (int i = 0; i < devices; i++) {
      window.acquire();
      var call = stub.withDeadlineAfter(30, TimeUnit.SECONDS).registerDevice(RegisterDeviceRequest.newBuilder()
          .setDeviceId(prefix + i).setModel("bench-model").setSerial("B" + i).build());
      Futures.addCallback(call, new FutureCallback<Device>() {
        @Override
        public void onSuccess(Device d) {
          done.incrementAndGet();
          window.release();
        }

        @Override
        public void onFailure(Throwable t) {
          errors.computeIfAbsent(Status.fromThrowable(t).getCode().name(), k -> new LongAdder()).increment();
          done.incrementAndGet();
          window.release();
        }
      }, MoreExecutors.directExecutor());
    }
    window.acquire(256);
    progress.finish();
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    System.out.printf("Registered %,d twins in %.1f s (%,.0f/s)%s%n", devices, took.toMillis() / 1e3,
        devices / (took.toMillis() / 1e3), errors.isEmpty() ? "" : ", errors " + errors);
    return took;
  }

  /** Streams until {@code length} has passed or {@code maxBatchesPerStream} were sent, on every channel. */
  private void stream(List<ManagedChannel> channels, Duration length, long maxBatchesPerStream, boolean showProgress) throws InterruptedException {
    long end = System.nanoTime() + length.toNanos();
    CountDownLatch finished = new CountDownLatch(channels.size());
    Progress progress = showProgress ? new Progress("Streaming", -1, accepted::sum) : null;
    for (int s = 0; s < channels.size(); s++) {
      int stream = s;
      ManagedChannel channel = channels.get(s);
      Thread t = new Thread(() -> {
        try {
          runStream(channel, stream, end, length.isZero() ? maxBatchesPerStream : Long.MAX_VALUE);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } finally {
          finished.countDown();
        }
      }, "stream-" + s);
      t.start();
    }
    finished.await();
    if (progress != null) {
      progress.finish();
    }
  }

  private void runStream(ManagedChannel channel, int stream, long end, long maxBatches) throws InterruptedException {
    Semaphore window = new Semaphore(inFlight);
    Map<Long, Long> sentAt = new ConcurrentHashMap<>();
    CountDownLatch closed = new CountDownLatch(1);
    StreamObserver<ReadingBatch> out = TelemetryServiceGrpc.newStub(channel).reportStream(new StreamObserver<>() {
      @Override
      public void onNext(BatchAck ack) {
        Long t0 = sentAt.remove(ack.getBatchId());
        if (t0 != null && measuring) {
          ackLatency.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
        }
        accepted.add(ack.getAccepted());
        for (Rejection r : ack.getRejectionsList()) {
          rejections.computeIfAbsent(r.getCode(), k -> new LongAdder()).increment();
        }
        window.release();
      }

      @Override
      public void onError(Throwable t) {
        System.err.println("stream " + stream + " ended: " + Status.fromThrowable(t));
        closed.countDown();
        window.release(inFlight);
      }

      @Override
      public void onCompleted() {
        closed.countDown();
      }
    });
    // this stream's share of the devices, round robin
    int from = (int) ((long) devices * stream / streams);
    int to = (int) ((long) devices * (stream + 1) / streams);
    int next = from;
    long batchId = 0;
    while (System.nanoTime() < end || batchId < maxBatches && maxBatches != Long.MAX_VALUE) {
      if (batchId >= maxBatches || closed.getCount() == 0) {
        break;
      }
      window.acquire();
      Instant now = Instant.now();
      Timestamp ts = Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()).build();
      ReadingBatch.Builder b = ReadingBatch.newBuilder().setBatchId(batchId);
      for (int i = 0; i < batch; i++) {
        b.addReadings(Reading.newBuilder().setDeviceId(prefix + next).setObservedAt(ts));
        next = next + 1 < to ? next + 1 : from;
      }
      sentAt.put(batchId, System.nanoTime());
      out.onNext(b.build());
      batchId++;
    }
    window.acquire(inFlight); // every ack is in
    out.onCompleted();
    closed.await(30, TimeUnit.SECONDS);
  }

  private void sampleGet(DeviceServiceGrpc.DeviceServiceFutureStub stub) {
    String id = prefix + ThreadLocalRandom.current().nextInt(devices);
    long t0 = System.nanoTime();
    Futures.addCallback(stub.withDeadlineAfter(5, TimeUnit.SECONDS).getDevice(GetDeviceRequest.newBuilder().setDeviceId(id).build()),
        new FutureCallback<Device>() {
          @Override
          public void onSuccess(Device d) {
            if (measuring) {
              getLatency.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
            }
          }

          @Override
          public void onFailure(Throwable t) {
            getErrors.computeIfAbsent(Status.fromThrowable(t).getCode().name(), k -> new LongAdder()).increment();
          }
        }, MoreExecutors.directExecutor());
  }

  private void report(double seconds, Duration provisioning, Long heapPerTwin) throws Exception {
    Histogram acks = ackLatency.getIntervalHistogram();
    Histogram gets = getLatency.getIntervalHistogram();
    double rate = accepted.sum() / seconds;
    System.out.printf(Locale.ROOT, "%nReadings acknowledged: %,d in %.1f s = %,.0f readings/s%n", accepted.sum(), seconds, rate);
    System.out.printf(Locale.ROOT, "Batch ack latency (ms): p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (%d batches)%n",
        ms(acks, 50), ms(acks, 90), ms(acks, 99), acks.getMaxValue() / 1e3, acks.getTotalCount());
    System.out.printf(Locale.ROOT, "GetDevice latency (ms):  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (%d calls, %.0f/s)%n",
        ms(gets, 50), ms(gets, 90), ms(gets, 99), gets.getMaxValue() / 1e3, gets.getTotalCount(), gets.getTotalCount() / seconds);
    System.out.println("Rejected readings by status: " + rejections + "; GetDevice errors: " + getErrors);
    String result = String.format(Locale.ROOT, """
        {
          "devices": %d, "streams": %d, "batch": %d, "in_flight": %d, "measured_seconds": %.1f,
          "provisioning_seconds": %.1f,
          "readings_acknowledged": %d, "readings_per_second": %.0f,
          "ack_latency_ms": {"p50": %.3f, "p90": %.3f, "p99": %.3f, "max": %.3f},
          "get_device_per_second": %.0f,
          "get_device_latency_ms": {"p50": %.3f, "p90": %.3f, "p99": %.3f, "max": %.3f},
          "rejections": %s, "get_errors": %s,
          "heap_bytes_per_twin": %s
        }
        """, devices, streams, batch, inFlight, seconds, provisioning.toMillis() / 1e3, accepted.sum(), rate,
        ms(acks, 50), ms(acks, 90), ms(acks, 99), acks.getMaxValue() / 1e3,
        gets.getTotalCount() / seconds, ms(gets, 50), ms(gets, 90), ms(gets, 99), gets.getMaxValue() / 1e3,
        jsonCounts(rejections), jsonCounts(getErrors), heapPerTwin == null ? "null" : heapPerTwin.toString());
    Files.writeString(json, result);
    System.out.println("JSON result: " + json.toAbsolutePath());
  }

  private static String jsonCounts(Map<String, LongAdder> counts) {
    StringBuilder b = new StringBuilder("{");
    counts.forEach((k, v) -> b.append(b.length() > 1 ? ", " : "").append('"').append(k).append("\": ").append(v.sum()));
    return b.append('}').toString();
  }

  private static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e3;
  }

  private static Duration parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.matches("\\d+s")) {
      return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
    }
    if (t.matches("\\d+m")) {
      return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
    }
    throw new IllegalArgumentException("a duration like 30s or 5m, not '" + text + "'");
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A progress line refreshed in place every second. */
  private static final class Progress {
    private final Thread thread;

    Progress(String what, long total, java.util.function.LongSupplier done) {
      long start = System.nanoTime();
      thread = new Thread(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          long n = done.getAsLong();
          double s = (System.nanoTime() - start) / 1e9;
          String bar = total > 0 ? String.format("%5.1f%% %,d/%,d", 100.0 * n / total, n, total) : String.format("%,d", n);
          System.out.printf(Locale.ROOT, "\r%s: %s  %,.0f/s  %.0f s   ", what, bar, n / Math.max(s, 1e-3), s);
          try {
            Thread.sleep(1000);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "progress");
      thread.setDaemon(true);
      thread.start();
    }

    void finish() throws InterruptedException {
      thread.interrupt();
      thread.join();
      System.out.println();
    }
  }
}

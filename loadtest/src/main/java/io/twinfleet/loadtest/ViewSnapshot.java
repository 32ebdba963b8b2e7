package io.twinfleet.loadtest;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.twinfleet.protocol.v1.DeviceServiceGrpc;
import io.twinfleet.protocol.v1.GetDeviceJourneyRequest;
import io.twinfleet.protocol.v1.GetDeviceRequest;
import io.twinfleet.protocol.v1.GetFleetQualityRequest;
import io.twinfleet.protocol.v1.GetSiteRequest;
import io.twinfleet.protocol.v1.GetStageFunnelRequest;
import io.twinfleet.protocol.v1.JourneyServiceGrpc;
import io.twinfleet.protocol.v1.ListAlertsRequest;
import io.twinfleet.protocol.v1.ListAlertsResponse;
import io.twinfleet.protocol.v1.QualityServiceGrpc;
import io.twinfleet.protocol.v1.SiteServiceGrpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Every view the API gives of a fleet, read at one moment: each device's {@code GetDevice} and
 * {@code GetDeviceJourney}, each site's {@code GetSite}, the stage funnel, fleet quality and the
 * alert queue. Two snapshots of a fleet that did not change must be equal view for view.
 */
final class ViewSnapshot {

  /** Codes a client asks again on: the node is starting, busy, or its twin is recovering. */
  private static final Set<Status.Code> TRANSIENT = Set.of(Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED,
      Status.Code.RESOURCE_EXHAUSTED, Status.Code.ABORTED);
  private static final Duration GIVE_UP_AFTER = Duration.ofMinutes(3);
  private static final int ALERT_PAGE = 500;

  /** What each view answered: the message, or the status it was refused with (a NOT_FOUND, say). */
  private final Map<String, Object> views;

  private ViewSnapshot(Map<String, Object> views) {
    this.views = views;
  }

  /** Reads every view, {@code concurrency} calls at a time; transient refusals are asked again. */
  static ViewSnapshot read(ManagedChannel channel, List<String> deviceIds, List<String> siteIds, int concurrency,
      Progress.Counter progress) throws InterruptedException {
    DeviceServiceGrpc.DeviceServiceBlockingStub devices = DeviceServiceGrpc.newBlockingStub(channel);
    JourneyServiceGrpc.JourneyServiceBlockingStub journeys = JourneyServiceGrpc.newBlockingStub(channel);
    SiteServiceGrpc.SiteServiceBlockingStub sites = SiteServiceGrpc.newBlockingStub(channel);
    QualityServiceGrpc.QualityServiceBlockingStub quality = QualityServiceGrpc.newBlockingStub(channel);
    Map<String, Object> views = new ConcurrentSkipListMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    try {
      List<Future<?>> work = new ArrayList<>();
      for (String id : deviceIds) {
        work.add(pool.submit(() -> {
          views.put("device " + id, ask(() -> deadline(devices).getDevice(GetDeviceRequest.newBuilder().setDeviceId(id).build())));
          views.put("journey " + id, ask(() -> deadline(journeys).getDeviceJourney(GetDeviceJourneyRequest.newBuilder().setDeviceId(id).build())));
          progress.increment();
          return null;
        }));
      }
      for (String id : siteIds) {
        work.add(pool.submit(() -> views.put("site " + id, ask(() -> deadline(sites).getSite(GetSiteRequest.newBuilder().setSiteId(id).build())))));
      }
      work.add(pool.submit(() -> views.put("stage funnel", ask(() -> deadline(journeys).getStageFunnel(GetStageFunnelRequest.getDefaultInstance())))));
      work.add(pool.submit(() -> views.put("fleet quality", ask(() -> deadline(quality).getFleetQuality(GetFleetQualityRequest.getDefaultInstance())))));
      work.add(pool.submit(() -> {
        String token = "";
        int page = 0;
        do {
          ListAlertsRequest request = ListAlertsRequest.newBuilder().setPageSize(ALERT_PAGE).setPageToken(token).build();
          Object answer = ask(() -> deadline(quality).listAlerts(request));
          views.put(String.format("alerts page %05d", page++), answer);
          token = answer instanceof ListAlertsResponse r ? r.getNextPageToken() : "";
        } while (!token.isEmpty());
        return null;
      }));
      for (Future<?> f : work) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          throw new IllegalStateException("reading the views failed: " + e.getCause(), e.getCause());
        }
      }
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(10, TimeUnit.SECONDS);
    }
    return new ViewSnapshot(views);
  }

  private static <S extends io.grpc.stub.AbstractStub<S>> S deadline(S stub) {
    return stub.withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** The answer, or the status of a lasting refusal; transient ones are asked again for a while. */
  private static Object ask(Supplier<Message> call) throws InterruptedException {
    long giveUp = System.nanoTime() + GIVE_UP_AFTER.toNanos();
    while (true) {
      try {
        return call.get();
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        if (!TRANSIENT.contains(code) || System.nanoTime() > giveUp) {
          return "refused: " + code;
        }
        Thread.sleep(250);
      }
    }
  }

  int size() {
    return views.size();
  }

  /** Views that answered with a status instead of a message, by name. */
  Map<String, Object> refusals() {
    Map<String, Object> r = new TreeMap<>();
    views.forEach((k, v) -> {
      if (!(v instanceof Message)) {
        r.put(k, v);
      }
    });
    return r;
  }

  /** One view that is not the same in two snapshots, with the fields that differ. */
  record Difference(String view, List<String> fields, String before, String after) {
    @Override
    public String toString() {
      return view + ": " + String.join(", ", fields) + "\n    before: " + before + "\n    after:  " + after;
    }
  }

  /** Every view of this snapshot or {@code later} that is not equal in the other, in view order. */
  List<Difference> differences(ViewSnapshot later) {
    Set<String> names = new TreeSet<>(views.keySet());
    names.addAll(later.views.keySet());
    List<Difference> out = new ArrayList<>();
    for (String name : names) {
      Object a = views.get(name);
      Object b = later.views.get(name);
      if (!Objects.equals(a, b)) {
        out.add(difference(name, a, b));
      }
    }
    return out;
  }

  static Difference difference(String name, Object a, Object b) {
    if (a instanceof Message ma && b instanceof Message mb && ma.getDescriptorForType().equals(mb.getDescriptorForType())) {
      List<String> fields = new ArrayList<>();
      StringBuilder before = new StringBuilder();
      StringBuilder after = new StringBuilder();
      for (FieldDescriptor f : ma.getDescriptorForType().getFields()) {
        boolean same = f.hasPresence() ? ma.hasField(f) == mb.hasField(f) && Objects.equals(ma.getField(f), mb.getField(f))
            : Objects.equals(ma.getField(f), mb.getField(f));
        if (!same) {
          fields.add(f.getName());
          before.append(f.getName()).append('=').append(shown(ma, f)).append(' ');
          after.append(f.getName()).append('=').append(shown(mb, f)).append(' ');
        }
      }
      return new Difference(name, fields, shorten(before.toString().strip()), shorten(after.toString().strip()));
    }
    return new Difference(name, List.of("the answer"), shorten(shown(a)), shorten(shown(b)));
  }

  private static String shown(Message m, FieldDescriptor f) {
    if (f.hasPresence() && !m.hasField(f)) {
      return "(unset)";
    }
    Object v = m.getField(f);
    if (v instanceof List<?> list) {
      List<String> items = new ArrayList<>();
      list.forEach(item -> items.add(item instanceof Message inner ? "{" + TextFormat.shortDebugString(inner) + "}" : String.valueOf(item)));
      return "[" + String.join(", ", items) + "]";
    }
    return v instanceof Message inner ? "{" + TextFormat.shortDebugString(inner) + "}" : String.valueOf(v);
  }

  private static String shown(Object v) {
    if (v == null) {
      return "(absent)";
    }
    return v instanceof Message m ? TextFormat.shortDebugString(m) : v.toString();
  }

  private static String shorten(String s) {
    return s.length() <= 400 ? s : s.substring(0, 400) + "...";
  }
}

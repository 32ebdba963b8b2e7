package io.twinfleet.service.journey;

import io.twinfleet.persistence.readmodel.CustomerDevicesRepository;
import io.twinfleet.persistence.readmodel.JourneyRepository;
import io.twinfleet.persistence.readmodel.JourneyRepository.JourneyRow;
import io.twinfleet.service.PageTokens;
import io.twinfleet.service.device.Stage;
import io.twinfleet.service.device.Validation;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Stage lists and funnels from the journey read models. A customer or site filter reads that
 * customer's or site's devices (a bounded partition); otherwise lists walk the stage buckets and
 * funnels sum the slices' counts, so no query scans the fleet.
 */
public final class JourneyQueries {

  /** Rows a list request looks at, at most: a rare filter returns a short page rather than scanning on. */
  static final int MAX_SCAN = 2_000;

  /** Optional filters; null means any. */
  public record Filter(Stage stage, String siteId, String customerId, String model) {

    boolean matches(JourneyRow row) {
      return row.stage() != null
          && (stage == null || stage.name().equals(row.stage()))
          && (siteId == null || siteId.equals(row.siteId()))
          && (customerId == null || customerId.equals(row.customerId()))
          && (model == null || model.equals(row.model()));
    }

    /** Ties a page token to the filters it was issued for. */
    String fingerprint() {
      return Integer.toHexString((stage + "|" + siteId + "|" + customerId + "|" + model).hashCode());
    }
  }

  /** One page; {@code nextToken} is null on the last. */
  public record Page(List<JourneyRow> rows, String nextToken) {}

  /** Where a listing goes on: in stage {@code stage} (index into the stages listed), bucket {@code bucket}, after a device id. */
  private record Position(int stage, int bucket, String after) {}

  private final JourneyRepository journeys;
  private final CustomerDevicesRepository customers;
  private final int slices;
  private final int maxScan;

  public JourneyQueries(JourneyRepository journeys, CustomerDevicesRepository customers, int slices) {
    this(journeys, customers, slices, MAX_SCAN);
  }

  /** {@code maxScan}: rows one list request looks at, at most (tests make it small). */
  JourneyQueries(JourneyRepository journeys, CustomerDevicesRepository customers, int slices, int maxScan) {
    this.journeys = journeys;
    this.customers = customers;
    this.slices = slices;
    this.maxScan = maxScan;
  }

  /** A page of devices matching {@code filter}, from {@code token} (empty for the first page). */
  public CompletionStage<Page> list(Filter filter, int pageSize, String token) {
    Position from = decode(filter, token);
    List<JourneyRow> found = new ArrayList<>(pageSize);
    if (filter.customerId() != null) {
      return listCustomer(filter, from.after(), pageSize, found, 0);
    }
    if (filter.siteId() != null) {
      return listSite(filter, from.after(), pageSize, found, 0);
    }
    return listStages(filter, stagesOf(filter), from, pageSize, found, 0);
  }

  /** The funnel of the devices matching {@code filter}, which has no stage. */
  public CompletionStage<StageFunnel> funnel(Filter filter) {
    if (filter.customerId() != null || filter.siteId() != null) {
      List<JourneyRow> rows = new ArrayList<>();
      CompletionStage<Void> all = filter.customerId() != null
          ? allOfCustomer(filter, null, rows)
          : allOfSite(filter, "", rows);
      return all.thenApply(done -> StageFunnel.ofRows(rows));
    }
    return journeys.funnelSlices(slices).thenApply(stored -> StageFunnel.sum(stored, filter.model()));
  }

  /**
   * The {@code limit} devices at most risk in {@code stage} (null: every stage) scoring at least
   * {@code minScore}, highest first, then by device id: the head of every bucket, read at once, merged.
   */
  public CompletionStage<List<JourneyRow>> atRisk(Stage stage, int minScore, int limit) {
    Stage[] stages = stage == null ? StageFunnel.STAGES : new Stage[] {stage};
    List<CompletableFuture<List<JourneyRow>>> heads = new ArrayList<>(stages.length * JourneyRepository.STAGE_BUCKETS);
    for (Stage s : stages) {
      for (int b = 0; b < JourneyRepository.STAGE_BUCKETS; b++) {
        heads.add(journeys.riskPage(s.name(), b, Math.max(1, minScore), limit).toCompletableFuture());
      }
    }
    return CompletableFuture.allOf(heads.toArray(CompletableFuture[]::new)).thenApply(done -> heads.stream()
        .flatMap(h -> h.join().stream())
        .sorted(Comparator.comparingInt(JourneyRow::riskScore).reversed().thenComparing(JourneyRow::deviceId))
        .limit(limit)
        .toList());
  }

  // ---- listing --------------------------------------------------------------------------------

  private CompletionStage<Page> listStages(Filter filter, Stage[] stages, Position at, int pageSize, List<JourneyRow> found, int scanned) {
    if (at.stage() >= stages.length) {
      return done(found, null);
    }
    int limit = filter.model() == null ? pageSize - found.size() : Math.min(maxScan - scanned, 500);
    return journeys.stagePage(stages[at.stage()].name(), at.bucket(), at.after(), limit).thenCompose(rows -> {
      String last = at.after();
      for (JourneyRow row : rows) {
        last = row.deviceId();
        if (filter.matches(row)) {
          found.add(row);
          if (found.size() == pageSize) {
            return done(found, encode(filter, new Position(at.stage(), at.bucket(), last)));
          }
        }
      }
      Position next = rows.size() < limit
          ? (at.bucket() + 1 < JourneyRepository.STAGE_BUCKETS ? new Position(at.stage(), at.bucket() + 1, "") : new Position(at.stage() + 1, 0, ""))
          : new Position(at.stage(), at.bucket(), last);
      int seen = scanned + rows.size();
      if (seen >= maxScan && next.stage() < stages.length) {
        return done(found, encode(filter, next));
      }
      return listStages(filter, stages, next, pageSize, found, seen);
    });
  }

  private CompletionStage<Page> listSite(Filter filter, String after, int pageSize, List<JourneyRow> found, int scanned) {
    int limit = Math.min(maxScan - scanned, 500);
    return journeys.sitePage(filter.siteId(), after, limit).thenCompose(rows -> {
      String last = after;
      for (JourneyRow row : rows) {
        last = row.deviceId();
        if (filter.matches(row)) {
          found.add(row);
          if (found.size() == pageSize) {
            return done(found, encode(filter, new Position(0, 0, last)));
          }
        }
      }
      if (rows.size() < limit) {
        return done(found, null);
      }
      int seen = scanned + rows.size();
      return seen >= maxScan ? done(found, encode(filter, new Position(0, 0, last))) : listSite(filter, last, pageSize, found, seen);
    });
  }

  private CompletionStage<Page> listCustomer(Filter filter, String after, int pageSize, List<JourneyRow> found, int scanned) {
    int limit = Math.min(maxScan - scanned, 500);
    return customers.page(filter.customerId(), after.isEmpty() ? null : after, limit, true).thenCompose(page ->
        journeys.rows(page.deviceIds()).thenCompose(rows -> {
          String last = after;
          for (String id : page.deviceIds()) {
            last = id;
            JourneyRow row = rows.get(id);
            if (row != null && filter.matches(row)) {
              found.add(row);
              if (found.size() == pageSize) {
                return done(found, encode(filter, new Position(0, 0, last)));
              }
            }
          }
          if (page.lastDeviceId() == null) {
            return done(found, null);
          }
          int seen = scanned + page.deviceIds().size();
          return seen >= maxScan ? done(found, encode(filter, new Position(0, 0, last))) : listCustomer(filter, last, pageSize, found, seen);
        }));
  }

  // ---- whole customers and sites, for funnels ------------------------------------------------

  private CompletionStage<Void> allOfCustomer(Filter filter, String after, List<JourneyRow> into) {
    return customers.page(filter.customerId(), after, 500, true).thenCompose(page ->
        journeys.rows(page.deviceIds()).thenCompose(rows -> {
          addMatching(filter, rows, into);
          return page.lastDeviceId() == null ? CompletableFuture.completedFuture(null) : allOfCustomer(filter, page.lastDeviceId(), into);
        }));
  }

  private CompletionStage<Void> allOfSite(Filter filter, String after, List<JourneyRow> into) {
    return journeys.sitePage(filter.siteId(), after, 500).thenCompose(rows -> {
      for (JourneyRow row : rows) {
        if (filter.matches(row)) {
          into.add(row);
        }
      }
      return rows.size() < 500 ? CompletableFuture.completedFuture(null) : allOfSite(filter, rows.get(rows.size() - 1).deviceId(), into);
    });
  }

  private static void addMatching(Filter filter, Map<String, JourneyRow> rows, List<JourneyRow> into) {
    for (JourneyRow row : rows.values()) {
      if (filter.matches(row)) {
        into.add(row);
      }
    }
  }

  // ---- tokens ---------------------------------------------------------------------------------

  private static Stage[] stagesOf(Filter filter) {
    return filter.stage() == null ? StageFunnel.STAGES : new Stage[] {filter.stage()};
  }

  private static CompletionStage<Page> done(List<JourneyRow> found, String nextToken) {
    return CompletableFuture.completedFuture(new Page(found, nextToken));
  }

  private static String encode(Filter filter, Position p) {
    return PageTokens.encode(filter.fingerprint(), p.stage(), p.bucket(), p.after());
  }

  private static Position decode(Filter filter, String token) {
    if (token.isEmpty()) {
      return new Position(0, 0, "");
    }
    String[] parts = PageTokens.decode(filter.fingerprint(), token, 3);
    if (!(parts[2].isEmpty() || Validation.ID.matcher(parts[2]).matches())) {
      throw PageTokens.notOurs();
    }
    return new Position(PageTokens.index(parts[0], stagesOf(filter).length), PageTokens.index(parts[1], JourneyRepository.STAGE_BUCKETS), parts[2]);
  }
}

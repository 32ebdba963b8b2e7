package io.twinfleet.persistence.readmodel;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The {@code customer_devices} read model: which devices each customer has claimed, one partition
 * per customer (a customer owns a handful of devices, never a fleet's worth). Every write is an
 * idempotent upsert, so a projection may replay events safely.
 */
public final class CustomerDevicesRepository {

  /** One page of a customer's device ids; {@code lastDeviceId} is null on the last page. */
  public record Page(List<String> deviceIds, String lastDeviceId) {}

  private final CqlSession session;
  private final PreparedStatement claim;
  private final PreparedStatement move;
  private final PreparedStatement retire;
  private final PreparedStatement pageFirst;
  private final PreparedStatement pageAfter;
  private final PreparedStatement sites;

  public CustomerDevicesRepository(CqlSession session, String keyspace) {
    this.session = session;
    String table = keyspace + ".customer_devices";
    claim = session.prepare("INSERT INTO " + table + " (customer_id, device_id, site_id, model, claimed_at, decommissioned) VALUES (?, ?, ?, ?, ?, false)");
    move = session.prepare("UPDATE " + table + " SET site_id = ? WHERE customer_id = ? AND device_id = ?");
    retire = session.prepare("UPDATE " + table + " SET decommissioned = true WHERE customer_id = ? AND device_id = ?");
    pageFirst = session.prepare("SELECT device_id, decommissioned FROM " + table + " WHERE customer_id = ?");
    pageAfter = session.prepare("SELECT device_id, decommissioned FROM " + table + " WHERE customer_id = ? AND device_id > ?");
    sites = session.prepare("SELECT site_id FROM " + table + " WHERE customer_id = ?");
  }

  public CompletionStage<Void> claimed(String customerId, String deviceId, String siteId, String model, Instant claimedAt) {
    return session.executeAsync(claim.bind(customerId, deviceId, siteId, model, claimedAt)).thenApply(rs -> null);
  }

  public CompletionStage<Void> moved(String customerId, String deviceId, String siteId) {
    return session.executeAsync(move.bind(siteId, customerId, deviceId)).thenApply(rs -> null);
  }

  public CompletionStage<Void> decommissioned(String customerId, String deviceId) {
    return session.executeAsync(retire.bind(customerId, deviceId)).thenApply(rs -> null);
  }

  /** Whether any device the customer claimed (decommissioned ones included) is or was last at {@code siteId}. */
  public CompletionStage<Boolean> hasSite(String customerId, String siteId) {
    CompletableFuture<Boolean> result = new CompletableFuture<>();
    session.executeAsync(sites.bind(customerId)).whenComplete((rs, error) -> findSite(rs, error, siteId, result));
    return result;
  }

  private static void findSite(AsyncResultSet rs, Throwable error, String siteId, CompletableFuture<Boolean> result) {
    if (error != null) {
      result.completeExceptionally(error);
      return;
    }
    for (Row row : rs.currentPage()) {
      if (siteId.equals(row.getString("site_id"))) {
        result.complete(true);
        return;
      }
    }
    if (rs.hasMorePages()) {
      rs.fetchNextPage().whenComplete((next, e) -> findSite(next, e, siteId, result));
    } else {
      result.complete(false);
    }
  }

  /**
   * Up to {@code limit} device ids of a customer after {@code afterDeviceId} (null for the first
   * page), in device id order, optionally leaving out decommissioned devices.
   */
  public CompletionStage<Page> page(String customerId, String afterDeviceId, int limit, boolean includeDecommissioned) {
    var statement = afterDeviceId == null ? pageFirst.bind(customerId) : pageAfter.bind(customerId, afterDeviceId);
    List<String> ids = new ArrayList<>(limit);
    CompletableFuture<Page> result = new CompletableFuture<>();
    session.executeAsync(statement.setPageSize(Math.min(limit + 1, 5000)))
        .whenComplete((rs, error) -> collect(rs, error, ids, limit, includeDecommissioned, result));
    return result;
  }

  private void collect(AsyncResultSet rs, Throwable error, List<String> ids, int limit, boolean includeDecommissioned, CompletableFuture<Page> result) {
    if (error != null) {
      result.completeExceptionally(error);
      return;
    }
    for (Row row : rs.currentPage()) {
      if (!includeDecommissioned && row.getBoolean("decommissioned")) {
        continue;
      }
      if (ids.size() == limit) {
        // one more matching row exists: this page is full and not the last
        result.complete(new Page(ids, ids.get(ids.size() - 1)));
        return;
      }
      ids.add(row.getString("device_id"));
    }
    if (rs.hasMorePages()) {
      rs.fetchNextPage().whenComplete((next, e) -> collect(next, e, ids, limit, includeDecommissioned, result));
    } else {
      result.complete(new Page(ids, null));
    }
  }
}

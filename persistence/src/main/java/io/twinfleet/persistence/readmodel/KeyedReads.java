package io.twinfleet.persistence.readmodel;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/** Reads one row per key, all at once, into a map of the keys that have one. */
final class KeyedReads {

  private KeyedReads() {}

  /** {@code statement} takes the key as its only bound value and selects at most one row. */
  static <T> CompletionStage<Map<String, T>> read(CqlSession session, PreparedStatement statement, Collection<String> keys,
      Function<Row, T> toValue) {
    Map<String, T> found = new HashMap<>();
    CompletableFuture<?>[] reads = keys.stream()
        .map(key -> session.executeAsync(statement.bind(key)).thenAccept(rs -> {
          Row row = rs.one();
          if (row != null) {
            T value = toValue.apply(row);
            synchronized (found) {
              found.put(key, value);
            }
          }
        }).toCompletableFuture())
        .toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(reads).thenApply(done -> found);
  }
}

package io.twinfleet.service.quality;

import io.twinfleet.service.quality.Uptime.Span;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Ended spans of time kept compactly in state: {@code [from, to)} pairs of epoch milliseconds in one
 * array, oldest first, bounded by age and by count. Beyond the count the two closest spans are
 * merged (the gap between them then counts as inside), so a history costs at most {@code 16 *
 * maxSpans} bytes and errs by its smallest gaps.
 */
public final class SpanLog {

  private SpanLog() {}

  /** {@code spans} with {@code [from, to)} appended and those that ended before {@code keepAfter} dropped. */
  public static long[] appended(long[] spans, long from, long to, long keepAfter, int maxSpans) {
    return appended(spans, new long[] {from, to}, keepAfter, maxSpans);
  }

  /**
   * {@code spans} with the pairs of {@code more} (oldest first, after those of {@code spans})
   * appended, empty ones left out, and those that ended before {@code keepAfter} dropped.
   */
  public static long[] appended(long[] spans, long[] more, long keepAfter, int maxSpans) {
    int first = 0;
    while (first < spans.length && spans[first + 1] < keepAfter) {
      first += 2;
    }
    long[] next = Arrays.copyOfRange(spans, first, spans.length + more.length);
    int n = spans.length - first;
    for (int i = 0; i < more.length; i += 2) {
      if (more[i + 1] > more[i] && more[i + 1] >= keepAfter) {
        next[n++] = more[i];
        next[n++] = more[i + 1];
      }
    }
    if (n == spans.length && first == 0) {
      return spans;
    }
    next = n == next.length ? next : Arrays.copyOf(next, n);
    while (next.length > 2 * maxSpans) {
      next = mergeClosest(next);
    }
    return next;
  }

  private static long[] mergeClosest(long[] s) {
    int closest = 0; // index of the first span of the pair
    for (int i = 2; i + 2 < s.length; i += 2) {
      if (s[i + 2] - s[i + 1] < s[closest + 2] - s[closest + 1]) {
        closest = i;
      }
    }
    long[] merged = new long[s.length - 2];
    System.arraycopy(s, 0, merged, 0, closest + 1);
    merged[closest + 1] = s[closest + 3];
    System.arraycopy(s, closest + 4, merged, closest + 2, s.length - closest - 4);
    return merged;
  }

  /** The kept spans, oldest first, and {@code open} after them if it is not null. */
  public static List<Span> spans(long[] spans, Span open) {
    List<Span> out = new ArrayList<>(spans.length / 2 + 1);
    for (int i = 0; i < spans.length; i += 2) {
      out.add(new Span(Instant.ofEpochMilli(spans[i]), Instant.ofEpochMilli(spans[i + 1])));
    }
    if (open != null) {
      out.add(open);
    }
    return out;
  }
}

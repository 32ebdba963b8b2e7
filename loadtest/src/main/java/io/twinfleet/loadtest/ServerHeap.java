package io.twinfleet.loadtest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The live heap of a JVM on this machine, read with {@code jcmd} (from the same JDK as this
 * process). Used to measure bytes per twin: the difference between two readings divided by the
 * twins created in between. The class histogram counts only reachable objects, in one pause, so
 * the figure holds under load too (a heap summary taken after a separate full GC would also count
 * whatever the service allocated in between).
 */
final class ServerHeap {

  private static final Pattern TOTAL = Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)\\s*$");

  private ServerHeap() {}

  static long usedAfterFullGc(long pid) throws IOException, InterruptedException {
    String histogram = jcmd(pid, "GC.class_histogram");
    Matcher m = TOTAL.matcher(histogram);
    if (!m.find()) {
      throw new IOException("unexpected GC.class_histogram output: " + histogram.substring(0, Math.min(500, histogram.length())));
    }
    return Long.parseLong(m.group(1));
  }

  private static String jcmd(long pid, String command) throws IOException, InterruptedException {
    String jcmd = ProcessHandle.current().info().command()
        .map(java -> java.replaceFirst("java$", "jcmd"))
        .orElse("jcmd");
    Process p = new ProcessBuilder(jcmd, Long.toString(pid), command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException("jcmd " + pid + " " + command + " failed: " + out);
    }
    return out;
  }
}

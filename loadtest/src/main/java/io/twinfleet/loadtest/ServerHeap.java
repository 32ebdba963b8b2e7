package io.twinfleet.loadtest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The live heap of a JVM on this machine, after a full GC, read with {@code jcmd} (from the same JDK
 * as this process). Used to measure bytes per twin: the difference between two readings divided by
 * the twins created in between.
 */
final class ServerHeap {

  private static final Pattern USED = Pattern.compile("used (\\d+)K");

  private ServerHeap() {}

  static long usedAfterFullGc(long pid) throws IOException, InterruptedException {
    jcmd(pid, "GC.run");
    String info = jcmd(pid, "GC.heap_info");
    Matcher m = USED.matcher(info);
    if (!m.find()) {
      throw new IOException("unexpected GC.heap_info output: " + info);
    }
    return Long.parseLong(m.group(1)) * 1024;
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

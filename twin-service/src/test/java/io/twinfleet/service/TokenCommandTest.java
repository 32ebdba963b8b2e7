package io.twinfleet.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.twinfleet.service.security.Principal;
import io.twinfleet.service.security.Role;
import io.twinfleet.service.security.SecuritySettings;
import io.twinfleet.service.security.TokenVerifier;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./twinfleet token}: what it mints, a node on the same data directory accepts; what it refuses, it says why. */
class TokenCommandTest {

  @TempDir
  Path data;

  private record Run(int status, String out, String err) {}

  private Run token(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new Main());
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    String[] all = new String[args.length + 3];
    all[0] = "token";
    all[1] = "--data";
    all[2] = data.toString();
    System.arraycopy(args, 0, all, 3, args.length);
    int status = cl.execute(all);
    return new Run(status, out.toString().strip(), err.toString());
  }

  @Test
  void mintsTokensANodeOnTheSameDataAccepts() throws Exception {
    Run app = token("--role", "app", "--customer", "cust-42", "--ttl", "2h");
    assertEquals(0, app.status(), app.err());
    SecuritySettings settings = SecuritySettings.fromConfig(TwinfleetConfig.load(ConfigFactory.empty()), data);
    Principal caller = TokenVerifier.of(settings).verify(app.out());
    assertEquals(Role.APP, caller.role());
    assertEquals("cust-42", caller.customerId());
    assertEquals(Role.DEVICE, TokenVerifier.of(settings).verify(token("--role", "device", "--device", "therm-1").out()).role());
  }

  @Test
  void refusesWhatNoNodeWouldAccept() {
    Run noCustomer = token("--role", "app");
    assertEquals(2, noCustomer.status());
    assertTrue(noCustomer.err().contains("customer_id"), noCustomer.err());
    Run unknown = token("--role", "root");
    assertEquals(2, unknown.status());
    assertTrue(unknown.err().contains("unknown role 'root'"), unknown.err());
    Run badTtl = token("--role", "admin", "--ttl", "soon");
    assertEquals(2, badTtl.status());
    assertTrue(badTtl.err().contains("soon"), badTtl.err());
  }
}

package io.twinfleet.service.api.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.twinfleet.persistence.testing.CassandraExtension;
import io.twinfleet.persistence.testing.TestKeyspace;
import io.twinfleet.protocol.v1.*;
import io.twinfleet.service.Eventually;
import io.twinfleet.service.TestNode;
import io.twinfleet.service.security.Role;
import io.twinfleet.service.security.Tokens;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Hostile clients at the real server over real gRPC (jqwik): requests to every method of the API,
 * built field by field from the API's own descriptors with hostile values (ids of every shape,
 * edge numbers, unknown enum numbers, timestamps and durations out of range, long and invisible
 * text, garbage tokens), or as bytes that are not the message at all, each with a random caller:
 * no token, garbage, expired, not yet valid, forged, or a valid one of any role and claims.
 *
 * <p>Every answer must be one the API documents (never UNKNOWN, INTERNAL or a hang); an invalid
 * token is UNAUTHENTICATED and a role outside the method's table PERMISSION_DENIED, whatever the
 * request; INVALID_ARGUMENT names a field of the request; and a refused request changes nothing:
 * the journal of every device it names, the fixture devices' views and the maintenance and SLA
 * target of every site it names stay as they were.
 */
class HostileRequestsPropertyTest {

  private static final List<String> CUSTOMERS = List.of("cust-p", "cust-q");
  private static final List<String> DEVICES = List.of("prop-dev-1", "prop-dev-2");
  private static final List<String> SITES = List.of("prop-site-1", "prop-site-2");
  private static final byte[] FOREIGN_SECRET = "a-secret-this-service-has-never-seen-32b".getBytes(StandardCharsets.UTF_8);

  /** Statuses the API documents for some request; anything else is a defect. */
  private static final Set<Status.Code> DOCUMENTED = EnumSet.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT, Status.Code.UNAUTHENTICATED,
      Status.Code.PERMISSION_DENIED, Status.Code.NOT_FOUND, Status.Code.ALREADY_EXISTS, Status.Code.FAILED_PRECONDITION,
      Status.Code.RESOURCE_EXHAUSTED, Status.Code.UNAVAILABLE);

  /** What each role may call, as DESIGN and the README's table say (admin everything). */
  private static final Set<String> APP_METHODS = Set.of("twinfleet.v1.DeviceService/GetDevice", "twinfleet.v1.DeviceService/WatchDevice",
      "twinfleet.v1.DeviceService/ListCustomerDevices", "twinfleet.v1.SiteService/GetSite", "twinfleet.v1.SiteService/WatchSite",
      "twinfleet.v1.SiteService/GetSiteSla");
  private static final Set<String> DEVICE_METHODS = Set.of("twinfleet.v1.TelemetryService/Report", "twinfleet.v1.TelemetryService/ReportStream");
  private static final Set<String> JOURNEY_SERVICES = Set.of("twinfleet.v1.JourneyService", "twinfleet.v1.QualityService");
  private static final Set<String> JOURNEY_METHODS = Set.of("twinfleet.v1.SiteService/GetSite", "twinfleet.v1.SiteService/ListSites",
      "twinfleet.v1.SiteService/GetSiteSla");

  private static final List<MethodDescriptor> METHODS = Stream.of(DeviceProto.getDescriptor(), TelemetryProto.getDescriptor(),
          JourneyProto.getDescriptor(), SiteProto.getDescriptor(), QualityProto.getDescriptor())
      .flatMap(f -> f.getServices().stream())
      .flatMap(s -> s.getMethods().stream())
      .toList();

  private static TestKeyspace keyspace;
  private static TestNode node;
  private static ManagedChannel channel;
  private static final Map<String, io.grpc.MethodDescriptor<byte[], byte[]>> RAW = new ConcurrentHashMap<>();

  @BeforeContainer
  static void start() throws Exception {
    keyspace = CassandraExtension.keyspaceFor(HostileRequestsPropertyTest.class);
    // Long heartbeats and offline windows: nothing changes by itself while the properties run.
    node = TestNode.start(keyspace, """
        twinfleet.device.default-heartbeat-interval = 24h
        twinfleet.device.offline-after-heartbeats = 1000
        """);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", node.grpcPort()).usePlaintext().build();
    DeviceServiceGrpc.DeviceServiceBlockingStub admin = DeviceServiceGrpc.newBlockingStub(node.channel());
    for (int i = 0; i < DEVICES.size(); i++) {
      admin.registerDevice(RegisterDeviceRequest.newBuilder().setDeviceId(DEVICES.get(i)).setModel("prop-model").setSerial("SN-" + i).build());
      admin.claimDevice(ClaimDeviceRequest.newBuilder().setDeviceId(DEVICES.get(i)).setCustomerId(CUSTOMERS.get(i)).setSiteId(SITES.get(i)).build());
      String device = DEVICES.get(i);
      Eventually.await("the first reading of " + device, Duration.ofSeconds(60), () -> {
        try { // the first writes of a new keyspace on a busy machine may outlast an ask
          TelemetryServiceGrpc.newBlockingStub(node.channel()).report(io.twinfleet.protocol.v1.Reading.newBuilder().setDeviceId(device)
              .setObservedAt(timestamp(Instant.now())).setBatteryPercent(80).build());
          return true;
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
            throw e;
          }
          return false;
        }
      });
    }
    // The sites come with their first devices, through the projection: wait, so none appears mid-property.
    for (String site : SITES) {
      Eventually.await("site " + site, Duration.ofSeconds(60), () -> {
        try {
          SiteServiceGrpc.newBlockingStub(node.channel()).getSite(GetSiteRequest.newBuilder().setSiteId(site).build());
          return true;
        } catch (StatusRuntimeException e) {
          return false;
        }
      });
    }
  }

  @AfterContainer
  static void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (node != null) {
      node.close();
    }
    if (keyspace != null) {
      keyspace.close();
    }
  }

  // ---- properties -------------------------------------------------------------------------------

  @Property(tries = 300)
  void anyRequestFromAnyCallerGetsADocumentedAnswerAndARefusalChangesNothing(@ForAll("calls") Call call) throws Exception {
    Request request = call.request();
    Outcome outcome = check(request.method(), request.message().toByteArray(), request.message(), call.caller());
    Statistics.collect(outcome.code());
    // The generators reach every kind of answer, or the property proves little.
    Statistics.coverage(c -> {
      for (Status.Code code : List.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT, Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED,
          Status.Code.NOT_FOUND)) {
        c.check(code).count(n -> n >= 5);
      }
    });
  }

  @Property(tries = 150)
  void bytesThatAreNotTheMessageAreInvalidArgumentAndChangeNothing(@ForAll("calls") Call call, @ForAll("corruptions") Corruption corruption)
      throws Exception {
    Request request = call.request();
    Caller caller = call.caller();
    byte[] bytes = corruption.apply(request.message().toByteArray());
    DynamicMessage parsed;
    try {
      parsed = DynamicMessage.parseFrom(request.method().getInputType(), bytes);
    } catch (InvalidProtocolBufferException e) {
      parsed = null;
    }
    Outcome outcome = check(request.method(), bytes, parsed, caller);
    Statistics.collect(parsed == null ? "malformed" : "parsed", outcome.code());
    Statistics.coverage(c -> c.check("malformed", Status.Code.INVALID_ARGUMENT).count(n -> n >= 10));
    if (parsed == null && caller.valid() && permitted(caller.role(), request.method())) {
      assertEquals(Status.Code.INVALID_ARGUMENT, outcome.code(), outcome.toString());
      assertTrue(outcome.description().startsWith("the request is not a valid " + request.method().getInputType().getFullName()), outcome.toString());
    }
  }

  // ---- the check --------------------------------------------------------------------------------

  /**
   * Sends {@code bytes} to {@code method} as {@code caller} and checks the answer; {@code parsed} is
   * what the server should read (null for bytes it cannot), for the ids whose state must not move.
   */
  private static Outcome check(MethodDescriptor method, byte[] bytes, DynamicMessage parsed, Caller caller) throws Exception {
    Set<String> devices = new LinkedHashSet<>(DEVICES);
    Set<String> sites = new LinkedHashSet<>(SITES);
    if (parsed != null) {
      collectIds(parsed, devices, sites);
    }
    Map<String, Object> before = state(devices, sites);
    Outcome outcome = call(method, bytes, caller, caller.valid() && permitted(caller.role(), method));

    assertTrue(DOCUMENTED.contains(outcome.code()), "an undocumented answer: " + outcome);
    if (outcome.code() == Status.Code.UNAVAILABLE) {
      return outcome; // a twin slow to answer on a busy machine: safe to retry, and the request may have been applied
    }
    if (!caller.valid()) {
      assertEquals(Status.Code.UNAUTHENTICATED, outcome.code(), caller + ": " + outcome);
    } else if (!permitted(caller.role(), method)) {
      assertEquals(Status.Code.PERMISSION_DENIED, outcome.code(), caller + ": " + outcome);
      assertTrue(outcome.description().contains(method.getFullName().replace("." + method.getName(), "/" + method.getName())), outcome.toString());
    } else {
      assertNotEquals(Status.Code.UNAUTHENTICATED, outcome.code(), caller + ": " + outcome);
    }
    if (outcome.code() == Status.Code.INVALID_ARGUMENT) {
      assertTrue(namesAField(outcome.description(), method.getInputType())
              || outcome.description().startsWith("the request is not a valid " + method.getInputType().getFullName()) && !Arrays.equals(bytes, parsedBytes(parsed)),
          "INVALID_ARGUMENT should name the field: " + outcome);
    }
    boolean changedSomething = outcome.code() == Status.Code.OK && (!method.isClientStreaming() || outcome.accepted() > 0);
    for (BatchAck ack : outcome.acks()) {
      for (Rejection r : ack.getRejectionsList()) {
        assertTrue(Set.of("INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED").contains(r.getCode()), r.toString());
        if (r.getCode().equals("INVALID_ARGUMENT")) {
          assertTrue(r.getMessage().startsWith("readings[" + r.getIndex() + "]."), r.toString());
        }
      }
      changedSomething |= ack.getAccepted() > 0;
    }
    if (!changedSomething) {
      assertEquals(before, state(devices, sites), "a refused " + method.getName() + " changed something: " + outcome);
    }
    return outcome;
  }

  /** The bytes a well-formed message would have, to tell a message sent as generated from corrupted bytes. */
  private static byte[] parsedBytes(DynamicMessage parsed) {
    return parsed == null ? null : parsed.toByteArray();
  }

  private static boolean permitted(Role role, MethodDescriptor method) {
    String name = method.getService().getFullName() + "/" + method.getName();
    return switch (role) {
      case ADMIN -> true;
      case JOURNEY -> JOURNEY_SERVICES.contains(method.getService().getFullName()) || JOURNEY_METHODS.contains(name);
      case APP -> APP_METHODS.contains(name);
      case DEVICE -> DEVICE_METHODS.contains(name);
    };
  }

  /** Whether an INVALID_ARGUMENT description begins with a field of the request, as "field: ", "field[2].x: " or "batch 7: readings: ". */
  private static boolean namesAField(String description, Descriptor request) {
    String head = description.startsWith("batch ") ? description.substring(description.indexOf(": ") + 2) : description;
    int end = 0;
    while (end < head.length() && (Character.isLetterOrDigit(head.charAt(end)) || head.charAt(end) == '_')) {
      end++;
    }
    return end > 0 && end < head.length() && ":[.".indexOf(head.charAt(end)) >= 0 && request.findFieldByName(head.substring(0, end)) != null;
  }

  /** The ids a request names in fields called device_id and site_id, at any depth. */
  private static void collectIds(DynamicMessage m, Set<String> devices, Set<String> sites) {
    for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
      FieldDescriptor f = e.getKey();
      List<?> values = f.isRepeated() ? (List<?>) e.getValue() : List.of(e.getValue());
      for (Object v : values) {
        if (v instanceof DynamicMessage nested) {
          collectIds(nested, devices, sites);
        } else if (v instanceof String s && s.matches("[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")) {
          if (f.getName().equals("device_id")) {
            devices.add(s);
          } else if (f.getName().equals("site_id")) {
            sites.add(s);
          }
        }
      }
    }
  }

  /**
   * What a refused request must leave alone: each device's journal (rows), the fixture devices'
   * telemetry and stage as the service shows them, and each site's maintenance and SLA target.
   */
  private static Map<String, Object> state(Set<String> devices, Set<String> sites) {
    Map<String, Object> state = new LinkedHashMap<>();
    for (String id : devices) {
      state.put("journal " + id, keyspace.session()
          .execute("SELECT count(*) FROM messages WHERE persistence_id = ? AND partition_nr = 0", "Device|" + id).one().getLong(0));
    }
    for (String id : DEVICES) {
      Device d = DeviceServiceGrpc.newBlockingStub(node.channel()).getDevice(GetDeviceRequest.newBuilder().setDeviceId(id).build());
      state.put("view " + id, List.of(d.getLastSeen(), d.getBatteryPercent(), d.getStage(), d.getCustomerId(), d.getSiteId(),
          d.getFirmwareVersion(), d.getFaultsList(), d.getDecommissioned(), d.getAlertsCount()));
    }
    for (String id : sites) {
      try {
        Site s = SiteServiceGrpc.newBlockingStub(node.channel()).getSite(GetSiteRequest.newBuilder().setSiteId(id).build());
        state.put("site " + id, List.of(s.getMaintenanceList(), s.getThisMonth().getTarget()));
      } catch (StatusRuntimeException e) {
        state.put("site " + id, e.getStatus().getCode());
      }
    }
    return state;
  }

  // ---- calls ------------------------------------------------------------------------------------

  /** How a call ended, with the acks of a ReportStream. */
  record Outcome(Status.Code code, String description, List<BatchAck> acks) {
    int accepted() {
      return acks.stream().mapToInt(BatchAck::getAccepted).sum();
    }

    @Override
    public String toString() {
      return code + " " + description + (acks.isEmpty() ? "" : " " + acks);
    }
  }

  private static io.grpc.MethodDescriptor<byte[], byte[]> raw(MethodDescriptor m) {
    return RAW.computeIfAbsent(m.getFullName(), name -> io.grpc.MethodDescriptor.<byte[], byte[]>newBuilder()
        .setFullMethodName(io.grpc.MethodDescriptor.generateFullMethodName(m.getService().getFullName(), m.getName()))
        .setType(m.isClientStreaming() ? MethodType.BIDI_STREAMING : m.isServerStreaming() ? MethodType.SERVER_STREAMING : MethodType.UNARY)
        .setRequestMarshaller(BYTES)
        .setResponseMarshaller(BYTES)
        .build());
  }

  private static final io.grpc.MethodDescriptor.Marshaller<byte[]> BYTES = new io.grpc.MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      }
    }
  };

  /**
   * One call: a unary one to its end; a server stream of a caller it may let in until its first
   * message (then it was taken: OK) or its end, or half a second of quiet (a watch from now: OK),
   * of any other caller to its end; a ReportStream to its end.
   */
  private static Outcome call(MethodDescriptor method, byte[] request, Caller caller, boolean mayWatch) throws Exception {
    Channel ch = caller.header() == null ? channel : ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(caller.metadata()));
    ClientCall<byte[], byte[]> call = ch.newCall(raw(method), CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS));
    CompletableFuture<Status> closed = new CompletableFuture<>();
    CompletableFuture<Void> firstMessage = new CompletableFuture<>();
    List<byte[]> messages = new CopyOnWriteArrayList<>();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(byte[] message) {
        messages.add(message);
        firstMessage.complete(null);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    call.request(Integer.MAX_VALUE);
    call.sendMessage(request);
    call.halfClose();
    Status status;
    if (mayWatch && method.isServerStreaming() && !method.isClientStreaming()) {
      try {
        CompletableFuture.anyOf(closed, firstMessage).get(500, TimeUnit.MILLISECONDS);
      } catch (TimeoutException quiet) {
        // a watch that waits for changes
      }
      if (closed.isDone()) {
        status = closed.get();
      } else {
        call.cancel("seen enough", null);
        status = Status.OK;
      }
    } else {
      status = closed.get(60, TimeUnit.SECONDS);
    }
    List<BatchAck> acks = new ArrayList<>();
    if (method.isClientStreaming()) {
      for (byte[] m : messages) {
        acks.add(BatchAck.parseFrom(m));
      }
    }
    return new Outcome(status.getCode(), String.valueOf(status.getDescription()), acks);
  }

  // ---- callers ----------------------------------------------------------------------------------

  /** Who calls: the authorization header it sends (null for none), and what the server should make of it. */
  record Caller(String kind, String header, boolean valid, Role role) {
    Metadata metadata() {
      Metadata m = new Metadata();
      m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), header);
      return m;
    }
  }

  /** A request and its caller. */
  record Call(Request request, Caller caller) {}

  /** Requests with any caller, or (twice as often) one the method lets in, so the checks after authorization run. */
  @Provide
  Arbitrary<Call> calls() {
    return requests().flatMap(r -> Arbitraries.frequencyOf(Tuple.of(1, callers()), Tuple.of(2, permittedCallers(r.method())))
        .map(c -> new Call(r, c)));
  }

  private static Arbitrary<Caller> permittedCallers(MethodDescriptor method) {
    List<Role> roles = Stream.of(Role.values()).filter(r -> permitted(r, method)).toList();
    return Combinators.combine(Arbitraries.of(roles), Arbitraries.of(CUSTOMERS), Arbitraries.of(DEVICES)).as(HostileRequestsPropertyTest::valid);
  }

  private static Caller valid(Role role, String customer, String device) {
    return new Caller("valid " + role + " " + customer + " " + device,
        "Bearer " + Tokens.mint(TestNode.SECRET.getBytes(StandardCharsets.UTF_8), role, role == Role.APP ? customer : null,
            role == Role.DEVICE ? device : null, Duration.ofHours(1), Instant.now()), true, role);
  }

  private static Arbitrary<Caller> callers() {
    Arbitrary<Role> roles = Arbitraries.of(Role.class);
    Arbitrary<String> customers = Arbitraries.of(CUSTOMERS);
    Arbitrary<String> devices = Arbitraries.oneOf(Arbitraries.of(DEVICES), Arbitraries.of("prop-dev-9", "nobody"));
    Arbitrary<Caller> valid = Combinators.combine(roles, customers, devices).as(HostileRequestsPropertyTest::valid);
    Arbitrary<Caller> expired = roles.map(role -> new Caller("expired " + role, "Bearer " + mint(TestNode.SECRET, role, Instant.now().minus(Duration.ofHours(2))), false, role));
    Arbitrary<Caller> notYet = roles.map(role -> new Caller("not yet valid " + role, "Bearer " + mint(TestNode.SECRET, role, Instant.now().plus(Duration.ofHours(2))), false, role));
    Arbitrary<Caller> forged = roles.map(role -> new Caller("forged " + role,
        "Bearer " + Tokens.mint(FOREIGN_SECRET, role, role == Role.APP ? "cust-p" : null, role == Role.DEVICE ? "prop-dev-1" : null, Duration.ofHours(1), Instant.now()),
        false, role));
    Arbitrary<Caller> garbage = Arbitraries.oneOf(
        Arbitraries.strings().ofMinLength(0).ofMaxLength(60).withCharRange(' ', '~').map(s -> "Bearer " + s),
        Arbitraries.strings().ofMinLength(1).ofMaxLength(60).withCharRange('!', '~').map(s -> s),
        Arbitraries.of("Bearer", "Basic YWRtaW46YWRtaW4=", "bearer  ", "Bearer a.b.c", "Bearer eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYWRtaW4ifQ."))
        .map(h -> new Caller("garbage", h, false, null));
    Arbitrary<Caller> none = Arbitraries.just(new Caller("none", null, false, null));
    return Arbitraries.frequencyOf(Tuple.of(6, valid), Tuple.of(1, expired), Tuple.of(1, notYet), Tuple.of(1, forged), Tuple.of(1, garbage), Tuple.of(1, none));
  }

  /** A token of {@code role} that lived an hour from {@code issued} (so expired, or not yet valid). */
  private static String mint(String secret, Role role, Instant issued) {
    return Tokens.mint(secret.getBytes(StandardCharsets.UTF_8), role, role == Role.APP ? "cust-p" : null, role == Role.DEVICE ? "prop-dev-1" : null,
        Duration.ofHours(1), issued);
  }

  // ---- requests ---------------------------------------------------------------------------------

  /** A request to one method. */
  record Request(MethodDescriptor method, DynamicMessage message) {
    @Override
    public String toString() {
      return method.getFullName() + " " + message.toString().replace('\n', ' ');
    }
  }

  private static Arbitrary<Request> requests() {
    // Half the requests tame (values a real client might send, so many are taken and the checks
    // after acceptance run), half hostile.
    return Arbitraries.of(METHODS).flatMap(m -> Arbitraries.of(true, false)
        .flatMap(tame -> message(m.getInputType(), 0, tame).map(msg -> new Request(m, msg))));
  }

  private static Arbitrary<DynamicMessage> message(Descriptor type, int depth, boolean tame) {
    if (type.getFullName().equals("google.protobuf.Timestamp") || type.getFullName().equals("google.protobuf.Duration")) {
      return secondsAndNanos(type, tame);
    }
    List<Arbitrary<Object>> fields = new ArrayList<>();
    for (FieldDescriptor f : type.getFields()) {
      Arbitrary<Object> one = depth > 3 ? Arbitraries.just(null) : value(f, depth, tame);
      Arbitrary<Object> field = f.isRepeated()
          ? one.list().ofMinSize(tame ? 1 : 0).ofMaxSize(f.getName().equals("readings") ? 6 : 3).map(l -> (Object) l)
          : Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(null)), Tuple.of(tame ? 9 : 4, one));
      fields.add(field);
    }
    return Combinators.combine(fields).as(values -> {
      DynamicMessage.Builder b = DynamicMessage.newBuilder(type);
      for (int i = 0; i < values.size(); i++) {
        Object v = values.get(i);
        FieldDescriptor f = type.getFields().get(i);
        if (v instanceof List<?> list) {
          list.stream().filter(e -> e != null).forEach(e -> b.addRepeatedField(f, e));
        } else if (v != null) {
          b.setField(f, v);
        }
      }
      return b.build();
    });
  }

  private static Arbitrary<Object> value(FieldDescriptor f, int depth, boolean tame) {
    if (tame) {
      return switch (f.getJavaType()) {
        case STRING -> POOL.map(s -> (Object) s);
        case INT -> Arbitraries.integers().between(0, 100).map(i -> (Object) i);
        case LONG -> Arbitraries.longs().between(0, 1000).map(l -> (Object) l);
        case BOOLEAN -> Arbitraries.of(true, false).map(b -> (Object) b);
        case DOUBLE -> Arbitraries.doubles().between(0.5, 1).map(d -> (Object) d);
        case FLOAT -> Arbitraries.floats().between(0, 1).map(x -> (Object) x);
        case ENUM -> Arbitraries.of(f.getEnumType().getValues()).map(v -> (Object) v);
        case MESSAGE -> message(f.getMessageType(), depth + 1, true).map(m -> (Object) m);
        default -> Arbitraries.just(null);
      };
    }
    return switch (f.getJavaType()) {
      case STRING -> strings().map(s -> (Object) s);
      case INT -> Arbitraries.oneOf(Arbitraries.integers(), Arbitraries.integers().between(-2, 1001)).map(i -> (Object) i);
      case LONG -> Arbitraries.longs().map(l -> (Object) l);
      case BOOLEAN -> Arbitraries.of(true, false).map(b -> (Object) b);
      case DOUBLE -> Arbitraries.oneOf(Arbitraries.doubles(), Arbitraries.doubles().between(0, 1),
          Arbitraries.of(Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, 0.99)).map(d -> (Object) d);
      case FLOAT -> Arbitraries.floats().map(x -> (Object) x);
      case ENUM -> Arbitraries.integers().between(-1, f.getEnumType().getValues().size() + 2)
          .map(n -> (Object) f.getEnumType().findValueByNumberCreatingIfUnknown(n));
      case MESSAGE -> message(f.getMessageType(), depth + 1, false).map(m -> (Object) m);
      default -> Arbitraries.just(null);
    };
  }

  /** Ids that exist or could, and a model name: what a real client sends. */
  private static final Arbitrary<String> POOL = Arbitraries.of(Stream.of(DEVICES, CUSTOMERS, SITES,
      List.of("prop-dev-9", "prop-site-9", "win-1", "2026-11", "thermostat-t3")).flatMap(List::stream).toList());

  /** Ids that exist, ids that could, and every shape of text that should not be one. */
  private static Arbitrary<String> strings() {
    return Arbitraries.frequencyOf(
        Tuple.of(5, POOL),
        Tuple.of(2, Arbitraries.strings().withChars("abcXYZ019._:-").ofMinLength(1).ofMaxLength(70)),
        Tuple.of(1, Arbitraries.strings().all().ofMaxLength(40).filter(t -> t.chars().noneMatch(c -> Character.isSurrogate((char) c)))),
        Tuple.of(1, Arbitraries.just("")),
        Tuple.of(1, Arbitraries.strings().alpha().ofMinLength(1000).ofMaxLength(3000)),
        Tuple.of(1, Arbitraries.bytes().array(byte[].class).ofMaxSize(60).map(b -> Base64.getUrlEncoder().withoutPadding().encodeToString(b))),
        Tuple.of(1, Arbitraries.of("prop-dev\u200b1", "cust\u202Ep", "a\u0000b", "line\nbreak", "\uFEFFprop-dev-1", "x\u2028y")));
  }

  /** Timestamps and durations: near now, at and beyond the limits of their spec, and anything. */
  private static Arbitrary<DynamicMessage> secondsAndNanos(Descriptor type, boolean tame) {
    long now = Instant.now().getEpochSecond();
    boolean timestamp = type.getFullName().equals("google.protobuf.Timestamp");
    if (tame) {
      Arbitrary<Long> seconds = timestamp ? Arbitraries.longs().between(now - 3_600, now) : Arbitraries.longs().between(10, 86_400);
      return seconds.map(s -> DynamicMessage.newBuilder(type).setField(type.findFieldByName("seconds"), s).build());
    }
    Arbitrary<Long> seconds = Arbitraries.frequencyOf(
        Tuple.of(4, timestamp ? Arbitraries.longs().between(now - 8 * 86_400, now + 600) : Arbitraries.longs().between(-100, 100_000)),
        Tuple.of(1, Arbitraries.longs()),
        Tuple.of(1, Arbitraries.of(Long.MIN_VALUE, Long.MAX_VALUE, -62_135_596_801L, 253_402_300_800L, 315_576_000_001L, -315_576_000_001L, 0L)));
    Arbitrary<Integer> nanos = Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.just(0)),
        Tuple.of(1, Arbitraries.integers()),
        Tuple.of(1, Arbitraries.of(-1, 1_000_000_000, -999_999_999, 999_999_999)));
    return Combinators.combine(seconds, nanos).as((s, n) -> DynamicMessage.newBuilder(type)
        .setField(type.findFieldByName("seconds"), s)
        .setField(type.findFieldByName("nanos"), n)
        .build());
  }

  // ---- corruptions ------------------------------------------------------------------------------

  /** A way to make a message's bytes something else. */
  interface Corruption {
    byte[] apply(byte[] bytes);
  }

  @Provide
  Arbitrary<Corruption> corruptions() {
    Arbitrary<Corruption> random = Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(120)
        .map(junk -> named("random " + Base64.getEncoder().encodeToString(junk), bytes -> junk));
    Arbitrary<Corruption> flip = Combinators.combine(Arbitraries.integers().greaterOrEqual(0), Arbitraries.bytes())
        .as((at, b) -> named("byte " + at + " := " + b, bytes -> {
          byte[] copy = bytes.clone();
          if (copy.length > 0) {
            copy[at % copy.length] = b;
          }
          return copy;
        }));
    Arbitrary<Corruption> cut = Arbitraries.integers().greaterOrEqual(1).map(n -> named("cut " + n, bytes ->
        bytes.length == 0 ? new byte[] {0x0A} : java.util.Arrays.copyOf(bytes, Math.max(0, bytes.length - 1 - n % bytes.length))));
    // field 1 as a length-delimited string that is not UTF-8 (every request's field 1 is a string or a message)
    Arbitrary<Corruption> notUtf8 = Arbitraries.of(new byte[] {(byte) 0xC3, 0x28}, new byte[] {(byte) 0xFF}, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})
        .map(bad -> named("field 1 not UTF-8", bytes -> {
          byte[] out = new byte[bytes.length + 2 + bad.length];
          out[0] = 0x0A;
          out[1] = (byte) bad.length;
          System.arraycopy(bad, 0, out, 2, bad.length);
          System.arraycopy(bytes, 0, out, 2 + bad.length, bytes.length);
          return out;
        }));
    return Arbitraries.oneOf(random, flip, cut, notUtf8);
  }

  private static Corruption named(String name, Corruption c) {
    return new Corruption() {
      @Override
      public byte[] apply(byte[] bytes) {
        return c.apply(bytes);
      }

      @Override
      public String toString() {
        return name;
      }
    };
  }

  private static Timestamp timestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  static {
    if (METHODS.size() < 20) {
      fail("expected the whole API, found " + METHODS.size() + " methods");
    }
  }
}

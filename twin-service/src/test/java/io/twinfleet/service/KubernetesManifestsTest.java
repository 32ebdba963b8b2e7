package io.twinfleet.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.zjsonpatch.JsonPatch;
import io.fabric8.zjsonpatch.JsonPatchException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The Kubernetes manifests under k8s/, rendered here the way kustomize renders them (resources,
 * generators, JSON 6902 patches, images, replicas: the features they use, and nothing else), read
 * into the fabric8 Kubernetes model and checked: no kind and no field that Kubernetes would not
 * know, and the parts that must agree do (selectors and pod labels, port names, seeds and replica
 * counts, the service's settings and its configuration files). Needs neither kubectl nor a cluster.
 */
class KubernetesManifestsTest {

  private static final Path K8S = Path.of("..", "k8s");
  private static final Path SERVICE_CONFIG = Path.of("src", "main", "resources");
  /** Secrets the operator creates by hand (README, Running on Kubernetes); every other is rendered. */
  private static final Set<String> OPERATOR_SECRETS = Set.of("twinfleet-jwt-public-key");

  private static final ObjectMapper YAML = YAMLMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
      .build();

  /** The kinds the manifests may hold, by apiVersion and kind. */
  private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
      "v1 ServiceAccount", ServiceAccount.class,
      "v1 Service", Service.class,
      "v1 ConfigMap", ConfigMap.class,
      "v1 Secret", Secret.class,
      "apps/v1 StatefulSet", StatefulSet.class,
      "batch/v1 Job", Job.class,
      "policy/v1 PodDisruptionBudget", PodDisruptionBudget.class);

  // ---- The tests ----

  @Test
  void everyKustomizationParsesStrictlyAndEveryFileIsUsed() throws IOException {
    Set<Path> yamlFiles;
    try (Stream<Path> files = Files.walk(K8S)) {
      yamlFiles = files.filter(f -> f.toString().endsWith(".yaml")).map(Path::normalize).collect(Collectors.toCollection(TreeSet::new));
    }
    Set<Path> used = new TreeSet<>();
    List<String> problems = new ArrayList<>();
    for (Path file : yamlFiles) {
      if (!file.getFileName().toString().equals("kustomization.yaml")) {
        continue;
      }
      used.add(file);
      Path dir = file.getParent();
      Kustomization k = kustomization(file);
      for (String resource : list(k.resources())) {
        Path path = dir.resolve(resource).normalize();
        if (Files.isDirectory(path) ? !Files.isRegularFile(path.resolve("kustomization.yaml")) : !Files.isRegularFile(path)) {
          problems.add(rel(file) + ": resources: '" + resource + "' is neither a file nor a directory with a kustomization.yaml");
        }
        used.add(path);
      }
      for (Patch patch : list(k.patches())) {
        if (patch.path() != null) {
          Path path = dir.resolve(patch.path()).normalize();
          if (!Files.isRegularFile(path)) {
            problems.add(rel(file) + ": patches: path '" + patch.path() + "' does not exist");
          }
          used.add(path);
        }
      }
    }
    for (Path file : yamlFiles) {
      if (!used.contains(file)) {
        problems.add(rel(file) + ": no kustomization uses it, so nothing checks it");
      }
    }
    assertEquals(List.of(), problems);
  }

  @ParameterizedTest
  @ValueSource(strings = {"base", "overlays/dev", "overlays/prod"})
  void rendersOnlyKnownKindsAndFields(String dir) {
    List<String> problems = new ArrayList<>();
    for (Manifest m : render(K8S.resolve(dir))) {
      Object typed = typed(m);
      List<String> unknown = new ArrayList<>();
      unknownFields(typed, "", unknown);
      unknown.forEach(field -> problems.add(dir + ": " + m.id() + " (" + m.origin + "): " + field + ": not a field of " + typed.getClass().getSimpleName() + "'s model"));
    }
    assertEquals(List.of(), problems);
  }

  @ParameterizedTest
  @ValueSource(strings = {"base", "overlays/dev", "overlays/prod"})
  void selectorsPortsProbesAndSettingsAgree(String dir) {
    Cluster c = new Cluster(dir);
    c.checkWorkloads();
    c.checkServicesAndBudgets();
    c.checkServiceNodes();
    c.checkSchemaJob();
    c.checkCassandra();
    assertEquals(List.of(), c.problems);
  }

  @Test
  void devRunsOneOfEachWithReplicationFactorOne() {
    Cluster c = new Cluster("overlays/dev");
    assertEquals(1, c.replicas("twinfleet"), "overlays/dev: StatefulSet twinfleet: spec.replicas");
    assertEquals(1, c.replicas("cassandra"), "overlays/dev: StatefulSet cassandra: spec.replicas");
    assertEquals(1, c.replicationFactor(), "overlays/dev: Job twinfleet-schema: --replication-factor");
    Secret secret = c.one(Secret.class, "twinfleet-jwt");
    byte[] jwt = Base64.getDecoder().decode(secret.getData().get("secret"));
    assertTrue(jwt.length >= 32, "overlays/dev: Secret twinfleet-jwt: data.secret: HS256 needs at least 32 bytes, has " + jwt.length);
  }

  @Test
  void prodRunsThreeOfEachWithReplicationFactorThreeAndPublicKeyTokens() {
    Cluster c = new Cluster("overlays/prod");
    assertTrue(c.replicas("twinfleet") >= 3, "overlays/prod: StatefulSet twinfleet: spec.replicas: at least 3, is " + c.replicas("twinfleet"));
    assertTrue(c.replicas("cassandra") >= 3, "overlays/prod: StatefulSet cassandra: spec.replicas: at least 3, is " + c.replicas("cassandra"));
    assertEquals(3, c.replicationFactor(), "overlays/prod: Job twinfleet-schema: --replication-factor");
    Map<String, String> env = c.env(c.container(c.one(StatefulSet.class, "twinfleet"), "twinfleet"));
    assertFalse(env.containsKey("TWINFLEET_JWT_SECRET"), "overlays/prod: StatefulSet twinfleet: env TWINFLEET_JWT_SECRET: set, so HS256 tokens would be accepted");
    assertTrue(env.containsKey("TWINFLEET_JWT_PUBLIC_KEY_FILE") || env.containsKey("TWINFLEET_JWT_JWKS_FILE"),
        "overlays/prod: StatefulSet twinfleet: env: neither TWINFLEET_JWT_PUBLIC_KEY_FILE nor TWINFLEET_JWT_JWKS_FILE");
    StatefulSet cassandra = c.one(StatefulSet.class, "cassandra");
    assertTrue(cassandra.getSpec().getVolumeClaimTemplates().stream().anyMatch(t -> t.getMetadata().getName().equals("data")),
        "overlays/prod: StatefulSet cassandra: spec.volumeClaimTemplates: no claim 'data'");
    assertTrue(cassandra.getSpec().getTemplate().getSpec().getVolumes().stream().noneMatch(v -> v.getName().equals("data")),
        "overlays/prod: StatefulSet cassandra: spec.template.spec.volumes: 'data' would hide the claim");
    var antiAffinity = cassandra.getSpec().getTemplate().getSpec().getAffinity();
    assertTrue(antiAffinity != null && antiAffinity.getPodAntiAffinity() != null
            && !antiAffinity.getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution().isEmpty(),
        "overlays/prod: StatefulSet cassandra: spec.template.spec.affinity.podAntiAffinity: two replicas could share a Kubernetes node");
    for (StatefulSet sts : c.all(StatefulSet.class)) {
      assertTrue(c.all(PodDisruptionBudget.class).stream().anyMatch(pdb -> matches(pdb.getSpec().getSelector(), sts.getSpec().getTemplate())),
          "overlays/prod: StatefulSet " + sts.getMetadata().getName() + ": no PodDisruptionBudget selects its pods");
    }
  }

  @Test
  void aMisspeltFieldIsFoundWhereverItIs() {
    Manifest m = new Manifest("inline", (ObjectNode) YAML.readTree("""
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: bad}
        spec:
          serviceName: bad
          selector: {matchLabels: {app: bad}}
          template:
            metadata: {labels: {app: bad}}
            spec:
              containers:
                - name: bad
                  image: bad:1
                  ports:
                    - name: grpc
                      containerPorts: 8080
        """));
    List<String> unknown = new ArrayList<>();
    unknownFields(typed(m), "", unknown);
    assertEquals(List.of("spec.template.spec.containers[0].ports[0].containerPorts"), unknown);
  }

  @Test
  void anUnknownKindAQuotedNumberOrADuplicateKeyIsRefused() {
    AssertionError kind = assertThrows(AssertionError.class,
        () -> typed(new Manifest("inline", (ObjectNode) YAML.readTree("apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: x}\n"))));
    assertTrue(kind.getMessage().startsWith("inline: apps/v1 Deploymnet is not a kind these manifests use"), kind.getMessage());
    // The API server refuses a string where it wants a number; Jackson would convert it.
    AssertionError number = assertThrows(AssertionError.class,
        () -> typed(new Manifest("inline", (ObjectNode) YAML.readTree("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: x}\nspec: {replicas: \"3\"}\n"))));
    assertTrue(number.getMessage().startsWith("inline: StatefulSet x: "), number.getMessage());
    assertThrows(JacksonException.class, () -> YAML.readTree("kind: Service\nkind: Secret\n"));
    AssertionError key = assertThrows(AssertionError.class,
        () -> kustomization("inline", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresource: [a.yaml]\n"));
    assertTrue(key.getMessage().startsWith("inline: ") && key.getMessage().contains("\"resource\""), key.getMessage());
  }

  // ---- kustomize, for the features these manifests use ----

  /** The keys of kustomization.yaml these manifests use; any other key fails the parse. */
  record Kustomization(String apiVersion, String kind, List<String> resources, List<Image> images, List<Replicas> replicas,
      List<Generator> configMapGenerator, List<Generator> secretGenerator, List<Patch> patches) {}

  record Image(String name, String newName, String newTag) {}

  record Replicas(String name, int count) {}

  record Generator(String name, String behavior, List<String> literals) {}

  /** A JSON 6902 patch, in its own file (path) or inline (patch), for one resource. */
  record Patch(String path, String patch, Target target) {}

  record Target(String kind, String name) {}

  /** One rendered document, and where it came from, for messages. */
  static final class Manifest {
    String origin;
    ObjectNode json;

    Manifest(String origin, ObjectNode json) {
      this.origin = origin;
      this.json = json;
    }

    String kind() {
      return json.path("kind").asString("");
    }

    String name() {
      return json.path("metadata").path("name").asString("");
    }

    String id() {
      return kind() + " " + name();
    }
  }

  static Kustomization kustomization(Path file) {
    return kustomization(rel(file), read(file));
  }

  static Kustomization kustomization(String where, String text) {
    Kustomization k;
    try {
      k = YAML.readValue(text, Kustomization.class);
    } catch (JacksonException e) {
      throw new AssertionError(where + ": " + e.getOriginalMessage(), e);
    }
    if (!"kustomize.config.k8s.io/v1beta1".equals(k.apiVersion()) || !"Kustomization".equals(k.kind())) {
      throw new AssertionError(where + ": apiVersion/kind: not kustomize.config.k8s.io/v1beta1 Kustomization");
    }
    return k;
  }

  /** What {@code kustomize build dir} prints, as documents. */
  static List<Manifest> render(Path dir) {
    Path file = dir.resolve("kustomization.yaml");
    Kustomization k = kustomization(file);
    List<Manifest> out = new ArrayList<>();
    for (String resource : list(k.resources())) {
      Path path = dir.resolve(resource).normalize();
      out.addAll(Files.isDirectory(path) ? render(path) : documents(path));
    }
    list(k.configMapGenerator()).forEach(g -> generate(out, file, "ConfigMap", g));
    list(k.secretGenerator()).forEach(g -> generate(out, file, "Secret", g));
    for (Patch patch : list(k.patches())) {
      String source = patch.path() == null ? rel(file) + " (inline patch)" : rel(dir.resolve(patch.path()));
      JsonNode ops = YAML.readTree(patch.path() == null ? patch.patch() : read(dir.resolve(patch.path())));
      if (!ops.isArray() || patch.target() == null) {
        throw new AssertionError(source + ": not a JSON 6902 patch (a list of operations with a target), the only kind rendered here");
      }
      Manifest target = find(out, patch.target().kind(), patch.target().name(), source);
      try {
        target.json = (ObjectNode) JsonPatch.apply(ops, target.json);
      } catch (JsonPatchException e) {
        throw new AssertionError(source + ": " + target.id() + ": " + e.getMessage(), e);
      }
      target.origin += ", patched by " + source;
    }
    list(k.images()).forEach(image -> out.forEach(m -> setImage(m, image)));
    for (Replicas r : list(k.replicas())) {
      find(out, "StatefulSet", r.name(), rel(file) + " replicas").json.withObjectProperty("spec").put("replicas", r.count());
    }
    return out;
  }

  private static List<Manifest> documents(Path file) {
    List<Manifest> out = new ArrayList<>();
    for (JsonNode doc : YAML.readerFor(JsonNode.class).<JsonNode>readValues(read(file)).readAll()) {
      if (doc == null || doc.isNull() || doc.isMissingNode()) {
        continue;
      }
      if (!doc.isObject()) {
        throw new AssertionError(rel(file) + ": a document that is not a mapping");
      }
      out.add(new Manifest(rel(file), (ObjectNode) doc));
    }
    return out;
  }

  // kustomize appends a hash of the content to a generated name and rewrites every reference to
  // it; the plain name stands for both here.
  private static void generate(List<Manifest> out, Path file, String kind, Generator g) {
    Manifest m;
    if ("merge".equals(g.behavior())) {
      m = find(out, kind, g.name(), rel(file));
      m.origin += ", merged by " + rel(file);
    } else if (g.behavior() == null || g.behavior().equals("create")) {
      ObjectNode json = YAML.createObjectNode().put("apiVersion", "v1").put("kind", kind);
      json.putObject("metadata").put("name", g.name());
      if (kind.equals("Secret")) {
        json.put("type", "Opaque");
      }
      m = new Manifest(rel(file) + " " + kind.toLowerCase() + " generator", json);
      out.add(m);
    } else {
      throw new AssertionError(rel(file) + ": " + kind + " " + g.name() + ": behavior '" + g.behavior() + "' is not rendered here");
    }
    ObjectNode data = m.json.withObjectProperty("data");
    for (String literal : list(g.literals())) {
      int eq = literal.indexOf('=');
      if (eq < 1) {
        throw new AssertionError(rel(file) + ": " + kind + " " + g.name() + ": literal '" + literal + "' is not KEY=VALUE");
      }
      String value = literal.substring(eq + 1);
      data.put(literal.substring(0, eq),
          kind.equals("Secret") ? Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8)) : value);
    }
  }

  private static void setImage(Manifest m, Image image) {
    for (String containers : List.of("containers", "initContainers")) {
      for (JsonNode container : m.json.path("spec").path("template").path("spec").path(containers)) {
        String ref = container.path("image").asString("");
        int colon = ref.lastIndexOf(':') > ref.lastIndexOf('/') ? ref.lastIndexOf(':') : -1;
        String name = colon < 0 ? ref : ref.substring(0, colon);
        String tag = colon < 0 ? null : ref.substring(colon + 1);
        if (name.equals(image.name())) {
          String newTag = Objects.requireNonNullElse(image.newTag(), tag);
          ((ObjectNode) container).put("image", Objects.requireNonNullElse(image.newName(), name) + (newTag == null ? "" : ":" + newTag));
        }
      }
    }
  }

  private static Manifest find(List<Manifest> manifests, String kind, String name, String who) {
    List<Manifest> found = manifests.stream().filter(m -> m.kind().equals(kind) && m.name().equals(name)).toList();
    if (found.size() != 1) {
      throw new AssertionError(who + ": " + found.size() + " resources are " + kind + " " + name + ", not one");
    }
    return found.get(0);
  }

  // ---- The model ----

  /** The document in fabric8's model; an apiVersion and kind outside KINDS fail. */
  static HasMetadata typed(Manifest m) {
    String key = m.json.path("apiVersion").asString("") + " " + m.kind();
    Class<? extends HasMetadata> type = KINDS.get(key);
    if (type == null) {
      throw new AssertionError(m.origin + ": " + key + " is not a kind these manifests use (" + new TreeSet<>(KINDS.keySet()) + ")");
    }
    try {
      return YAML.treeToValue(m.json, type);
    } catch (JacksonException e) {
      throw new AssertionError(m.origin + ": " + m.id() + ": " + e.getOriginalMessage(), e);
    }
  }

  /**
   * Adds the path of every field the model did not know. fabric8 keeps such fields in each
   * object's additionalProperties instead of failing, and Kubernetes would drop or refuse them.
   */
  static void unknownFields(Object value, String path, List<String> found) {
    if (value instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        unknownFields(list.get(i), path + "[" + i + "]", found);
      }
    } else if (value instanceof Map<?, ?> map) {
      map.forEach((key, v) -> unknownFields(v, join(path, String.valueOf(key)), found));
    } else if (value != null && value.getClass().getName().startsWith("io.fabric8.")) {
      for (Method getter : value.getClass().getMethods()) {
        if (getter.getParameterCount() != 0) {
          continue;
        }
        if (getter.getName().equals("getAdditionalProperties")) {
          ((Map<?, ?>) invoke(getter, value)).keySet().forEach(key -> found.add(join(path, String.valueOf(key))));
        } else if (getter.isAnnotationPresent(JsonProperty.class)) {
          unknownFields(invoke(getter, value), join(path, getter.getAnnotation(JsonProperty.class).value()), found);
        }
      }
    }
  }

  private static Object invoke(Method getter, Object target) {
    try {
      return getter.invoke(target);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException(getter.toString(), e);
    }
  }

  // ---- What the rendered resources must agree on ----

  /** One rendered kustomization in the model, and what is wrong with it. */
  static final class Cluster {
    final String dir;
    final Map<HasMetadata, Manifest> manifests = new LinkedHashMap<>();
    final List<String> problems = new ArrayList<>();

    Cluster(String dir) {
      this.dir = dir;
      render(K8S.resolve(dir)).forEach(m -> manifests.put(typed(m), m));
    }

    boolean isOverlay() {
      return dir.startsWith("overlays/");
    }

    <T extends HasMetadata> List<T> all(Class<T> type) {
      return manifests.keySet().stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> T one(Class<T> type, String name) {
      return all(type).stream().filter(r -> r.getMetadata().getName().equals(name)).findFirst()
          .orElseThrow(() -> new AssertionError(dir + ": no " + type.getSimpleName() + " " + name));
    }

    void problem(HasMetadata resource, String field, String message) {
      Manifest m = manifests.get(resource);
      problems.add(dir + ": " + m.id() + " (" + m.origin + "): " + field + ": " + message);
    }

    int replicas(String statefulSet) {
      return Objects.requireNonNullElse(one(StatefulSet.class, statefulSet).getSpec().getReplicas(), 1);
    }

    /** Pods: StatefulSets' and Jobs' templates, by their resource. */
    Map<HasMetadata, PodTemplateSpec> workloads() {
      Map<HasMetadata, PodTemplateSpec> pods = new LinkedHashMap<>();
      all(StatefulSet.class).forEach(s -> pods.put(s, s.getSpec().getTemplate()));
      all(Job.class).forEach(j -> pods.put(j, j.getSpec().getTemplate()));
      return pods;
    }

    Container container(HasMetadata workload, String name) {
      return workloads().get(workload).getSpec().getContainers().stream().filter(c -> c.getName().equals(name)).findFirst()
          .orElseThrow(() -> new AssertionError(dir + ": " + workload.getKind() + " " + workload.getMetadata().getName() + ": no container " + name));
    }

    /** A container's environment as Kubernetes sets it: envFrom ConfigMaps, then env (a reference: its source). */
    Map<String, String> env(Container container) {
      Map<String, String> env = new LinkedHashMap<>();
      for (EnvFromSource from : container.getEnvFrom()) {
        if (from.getConfigMapRef() != null) {
          all(ConfigMap.class).stream().filter(cm -> cm.getMetadata().getName().equals(from.getConfigMapRef().getName()))
              .forEach(cm -> env.putAll(cm.getData()));
        }
      }
      for (EnvVar e : container.getEnv()) {
        env.put(e.getName(), e.getValueFrom() != null ? "(" + e.getValueFrom() + ")" : Objects.requireNonNullElse(e.getValue(), ""));
      }
      return env;
    }

    /** Every container: resources, ports named by probes, volumes, ConfigMaps, Secrets and settings that exist. */
    void checkWorkloads() {
      Set<String> settings = serviceSettings();
      Set<String> configMaps = names(ConfigMap.class);
      Set<String> secrets = names(Secret.class);
      Set<String> accounts = names(ServiceAccount.class);
      for (ConfigMap cm : all(ConfigMap.class)) {
        cm.getData().keySet().forEach(name -> unknownSetting(cm, "data." + name, name, settings));
      }
      for (var workload : workloads().entrySet()) {
        HasMetadata w = workload.getKey();
        PodSpec pod = workload.getValue().getSpec();
        if (pod.getServiceAccountName() != null && !accounts.contains(pod.getServiceAccountName())) {
          problem(w, "spec.template.spec.serviceAccountName", "no ServiceAccount " + pod.getServiceAccountName());
        }
        Set<String> volumes = pod.getVolumes().stream().map(Volume::getName).collect(Collectors.toSet());
        if (w instanceof StatefulSet s) {
          s.getSpec().getVolumeClaimTemplates().forEach(t -> volumes.add(t.getMetadata().getName()));
          if (!matches(s.getSpec().getSelector(), s.getSpec().getTemplate())) {
            problem(w, "spec.selector", "does not match spec.template.metadata.labels " + s.getSpec().getTemplate().getMetadata().getLabels());
          }
        }
        for (Volume v : pod.getVolumes()) {
          if (v.getSecret() != null) {
            secretExists(w, "spec.template.spec.volumes[" + v.getName() + "].secret", v.getSecret().getSecretName(), null, secrets);
          }
        }
        for (Container c : pod.getContainers()) {
          String at = "spec.template.spec.containers[" + c.getName() + "]";
          Map<String, Quantity> requests = c.getResources() == null ? Map.of() : c.getResources().getRequests();
          Map<String, Quantity> limits = c.getResources() == null ? Map.of() : c.getResources().getLimits();
          if (requests.get("memory") == null || !requests.get("memory").equals(limits.get("memory"))) {
            problem(w, at + ".resources", "memory request " + requests.get("memory") + " is not the limit " + limits.get("memory")
                + " (a pod that uses more than it asked for is the first one evicted)");
          }
          if (requests.get("cpu") == null) {
            problem(w, at + ".resources.requests.cpu", "not set");
          }
          probePort(w, at + ".readinessProbe", c, c.getReadinessProbe());
          probePort(w, at + ".livenessProbe", c, c.getLivenessProbe());
          probePort(w, at + ".startupProbe", c, c.getStartupProbe());
          for (VolumeMount mount : c.getVolumeMounts()) {
            if (!volumes.contains(mount.getName())) {
              problem(w, at + ".volumeMounts[" + mount.getMountPath() + "]", "no volume or claim named " + mount.getName());
            }
          }
          for (EnvFromSource from : c.getEnvFrom()) {
            if (from.getConfigMapRef() == null || !configMaps.contains(from.getConfigMapRef().getName())) {
              problem(w, at + ".envFrom", "names no ConfigMap of these manifests: " + from);
            }
          }
          for (EnvVar e : c.getEnv()) {
            if (e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null) {
              var ref = e.getValueFrom().getSecretKeyRef();
              secretExists(w, at + ".env[" + e.getName() + "]", ref.getName(), ref.getKey(), secrets);
            }
          }
          for (EnvVar e : c.getEnv()) {
            unknownSetting(w, at + ".env[" + e.getName() + "]", e.getName(), settings);
          }
          Map<String, String> env = env(c);
          for (String name : env.keySet()) {
            if (name.startsWith("TWINFLEET_") && name.endsWith("_FILE") && !env.get(name).isEmpty() && !mounted(c, env.get(name))) {
              problem(w, at + ".env[" + name + "]", env.get(name) + " is on no volume mount");
            }
          }
          if (c.getImage() == null || isOverlay() && (!c.getImage().matches(".+:[^:/]+") || c.getImage().endsWith(":latest"))) {
            problem(w, at + ".image", "'" + c.getImage() + "' names no fixed tag");
          }
        }
      }
    }

    private void unknownSetting(HasMetadata resource, String field, String name, Set<String> settings) {
      if (name.startsWith("TWINFLEET_") && !settings.contains(name)) {
        problem(resource, field, "no ${?" + name + "} in " + SERVICE_CONFIG + "/*.conf nor its logback.xml: the service would ignore it");
      }
    }

    private void secretExists(HasMetadata w, String field, String name, String key, Set<String> secrets) {
      if (!isOverlay() || OPERATOR_SECRETS.contains(name)) {
        return; // the base leaves its Secret to the overlays
      }
      if (!secrets.contains(name)) {
        problem(w, field, "no Secret " + name + " in these manifests, and it is not one the operator creates");
      } else if (key != null && !one(Secret.class, name).getData().containsKey(key)) {
        problem(w, field, "Secret " + name + " has no key " + key);
      }
    }

    private void probePort(HasMetadata w, String field, Container c, Probe probe) {
      if (probe == null) {
        return;
      }
      IntOrString port = probe.getHttpGet() != null ? probe.getHttpGet().getPort() : probe.getTcpSocket() != null ? probe.getTcpSocket().getPort() : null;
      if (port != null && containerPort(c, port) == null) {
        problem(w, field, "port " + port.getValue() + " is none of the container's ports");
      }
    }

    /** Services and disruption budgets select one workload's pods, and name ports those pods have. */
    void checkServicesAndBudgets() {
      for (Service s : all(Service.class)) {
        List<HasMetadata> selected = selected(s, new LabelSelector(List.of(), s.getSpec().getSelector()), "spec.selector");
        for (ServicePort port : s.getSpec().getPorts()) {
          for (HasMetadata w : selected) {
            if (workloads().get(w).getSpec().getContainers().stream().allMatch(c -> containerPort(c, port.getTargetPort()) == null)) {
              problem(s, "spec.ports[" + port.getName() + "].targetPort", port.getTargetPort().getValue() + " is no container port of "
                  + w.getKind() + " " + w.getMetadata().getName());
            }
          }
        }
      }
      for (PodDisruptionBudget pdb : all(PodDisruptionBudget.class)) {
        selected(pdb, pdb.getSpec().getSelector(), "spec.selector");
        if (pdb.getSpec().getMaxUnavailable() == null || !Objects.equals(pdb.getSpec().getMaxUnavailable().getIntVal(), 1)) {
          problem(pdb, "spec.maxUnavailable", "not 1");
        }
      }
      for (StatefulSet sts : all(StatefulSet.class)) {
        Service governing = all(Service.class).stream().filter(s -> s.getMetadata().getName().equals(sts.getSpec().getServiceName())).findFirst().orElse(null);
        if (governing == null || !"None".equals(governing.getSpec().getClusterIP())
            || !Boolean.TRUE.equals(governing.getSpec().getPublishNotReadyAddresses())
            || !matches(new LabelSelector(List.of(), governing.getSpec().getSelector()), sts.getSpec().getTemplate())) {
          problem(sts, "spec.serviceName", "must name a headless Service (clusterIP None, publishNotReadyAddresses) that selects its pods,"
              + " so each pod has a DNS name before it is ready");
        }
      }
    }

    private List<HasMetadata> selected(HasMetadata by, LabelSelector selector, String field) {
      if (selector == null || selector.getMatchLabels().isEmpty() || !selector.getMatchExpressions().isEmpty()) {
        problem(by, field, "must be matchLabels only, and not empty");
        return List.of();
      }
      List<HasMetadata> selected = workloads().entrySet().stream().filter(w -> matches(selector, w.getValue())).map(Map.Entry::getKey).toList();
      if (selected.size() != 1) {
        problem(by, field, selector.getMatchLabels() + " selects the pods of " + selected.size() + " workloads, not one: "
            + selected.stream().map(w -> w.getKind() + " " + w.getMetadata().getName()).toList());
      }
      return selected;
    }

    /** The service nodes: addresses, bind hosts and ports as the cluster needs them. */
    void checkServiceNodes() {
      StatefulSet sts = one(StatefulSet.class, "twinfleet");
      Container c = container(sts, "twinfleet");
      Map<String, String> env = env(c);
      String at = "spec.template.spec.containers[twinfleet]";
      String host = "$(POD_NAME)." + sts.getSpec().getServiceName();
      List<String> order = c.getEnv().stream().map(EnvVar::getName).toList();
      EnvVar podName = c.getEnv().stream().filter(e -> e.getName().equals("POD_NAME")).findFirst().orElse(null);
      if (podName == null || podName.getValueFrom() == null || podName.getValueFrom().getFieldRef() == null
          || !"metadata.name".equals(podName.getValueFrom().getFieldRef().getFieldPath())) {
        problem(sts, at + ".env[POD_NAME]", "must come from fieldRef metadata.name");
      }
      for (String name : List.of("TWINFLEET_REMOTE_HOST", "TWINFLEET_HTTP_HOST")) {
        if (!host.equals(env.get(name)) || order.indexOf("POD_NAME") > order.indexOf(name)) {
          problem(sts, at + ".env[" + name + "]", "must be " + host + ", after POD_NAME, is " + env.get(name));
        }
      }
      for (String name : List.of("TWINFLEET_GRPC_HOST", "TWINFLEET_HTTP_BIND_HOST", "TWINFLEET_REMOTE_BIND_HOST")) {
        if (!"0.0.0.0".equals(env.get(name))) {
          problem(sts, at + ".env[" + name + "]", "must be 0.0.0.0 (on 127.0.0.1, the default, nothing outside the pod reaches it), is " + env.get(name));
        }
      }
      portSetting(sts, c, env, "TWINFLEET_GRPC_PORT", "grpc");
      portSetting(sts, c, env, "TWINFLEET_HTTP_PORT", "management");
      portSetting(sts, c, env, "TWINFLEET_REMOTE_PORT", "remoting");
      podAddresses(sts, at + ".env[TWINFLEET_SEED_NODES]", env.get("TWINFLEET_SEED_NODES"), sts, containerPort(c, new IntOrString("remoting")));
      if (!"/ready".equals(httpPath(c.getReadinessProbe())) || !"/alive".equals(httpPath(c.getLivenessProbe())) || c.getStartupProbe() == null) {
        problem(sts, at, "needs readinessProbe /ready, livenessProbe /alive and a startupProbe");
      }
      if (!String.valueOf(env.get("JAVA_TOOL_OPTIONS")).contains("-XX:MaxRAMPercentage=")) {
        problem(sts, at + ".env[JAVA_TOOL_OPTIONS]", "no -XX:MaxRAMPercentage: the heap would be a quarter of the memory limit");
      }
      serviceContainer(sts, c, at);
      cassandraSettings(sts, at, env);
    }

    /** The schema Job: a replication factor that Cassandra can hold, against the same Cassandra as the nodes. */
    void checkSchemaJob() {
      Job job = one(Job.class, "twinfleet-schema");
      Container c = job.getSpec().getTemplate().getSpec().getContainers().get(0);
      String at = "spec.template.spec.containers[" + c.getName() + "]";
      int rf = replicationFactor();
      if (rf < 1 || rf > replicas("cassandra")) {
        problem(job, at + ".args", "--replication-factor " + rf + " is not within 1.." + replicas("cassandra") + " (the Cassandra replicas)");
      }
      if (job.getSpec().getBackoffLimit() == null || job.getSpec().getBackoffLimit() < 3 || job.getSpec().getTtlSecondsAfterFinished() == null) {
        problem(job, "spec", "needs a backoffLimit of at least 3 (it fails until Cassandra is up) and ttlSecondsAfterFinished");
      }
      serviceContainer(job, c, at);
      cassandraSettings(job, at, env(c));
    }

    /** Cassandra: seeds that exist, a heap that leaves room off-heap. */
    void checkCassandra() {
      StatefulSet sts = one(StatefulSet.class, "cassandra");
      Container c = container(sts, "cassandra");
      Map<String, String> env = env(c);
      String at = "spec.template.spec.containers[cassandra]";
      podAddresses(sts, at + ".env[CASSANDRA_SEEDS]", env.get("CASSANDRA_SEEDS"), sts, null);
      if (!"GossipingPropertyFileSnitch".equals(env.get("CASSANDRA_ENDPOINT_SNITCH"))) {
        problem(sts, at + ".env[CASSANDRA_ENDPOINT_SNITCH]", "must be GossipingPropertyFileSnitch, which takes CASSANDRA_DC");
      }
      BigDecimal heap = heapBytes(env.get("MAX_HEAP_SIZE"));
      Quantity limit = c.getResources() == null ? null : c.getResources().getLimits().get("memory");
      if (heap == null || env.get("HEAP_NEWSIZE") == null || limit == null
          || heap.multiply(BigDecimal.valueOf(2)).compareTo(Quantity.getAmountInBytes(limit)) > 0) {
        problem(sts, at + ".env[MAX_HEAP_SIZE]", env.get("MAX_HEAP_SIZE") + " must be set with HEAP_NEWSIZE, and at most half the memory limit " + limit);
      }
    }

    int replicationFactor() {
      List<String> args = one(Job.class, "twinfleet-schema").getSpec().getTemplate().getSpec().getContainers().get(0).getArgs();
      int i = args.indexOf("--replication-factor");
      if (i < 0 || i + 1 >= args.size() || !args.get(i + 1).matches("\\d+")) {
        throw new AssertionError(dir + ": Job twinfleet-schema: args " + args + ": no --replication-factor N");
      }
      return Integer.parseInt(args.get(i + 1));
    }

    /** A container of the service image: non-root, read-only root, its --data and /tmp writable. */
    private void serviceContainer(HasMetadata w, Container c, String at) {
      var security = c.getSecurityContext();
      if (security == null || !Boolean.TRUE.equals(security.getReadOnlyRootFilesystem()) || !Boolean.FALSE.equals(security.getAllowPrivilegeEscalation())) {
        problem(w, at + ".securityContext", "needs readOnlyRootFilesystem true and allowPrivilegeEscalation false");
      }
      var pod = workloads().get(w).getSpec().getSecurityContext();
      if (pod == null || !Boolean.TRUE.equals(pod.getRunAsNonRoot())) {
        problem(w, "spec.template.spec.securityContext.runAsNonRoot", "not true");
      }
      int data = c.getArgs().indexOf("--data");
      if (data < 0 || data + 1 >= c.getArgs().size() || !mounted(c, c.getArgs().get(data + 1))) {
        problem(w, at + ".args", "--data must name a mounted, writable directory (the root filesystem is read-only)");
      }
      if (!mounted(c, "/tmp")) {
        problem(w, at + ".volumeMounts", "/tmp is not mounted (the root filesystem is read-only)");
      }
    }

    /** Contact points naming Cassandra pods that exist, in the datacenter Cassandra is in. */
    private void cassandraSettings(HasMetadata w, String at, Map<String, String> env) {
      StatefulSet cassandra = one(StatefulSet.class, "cassandra");
      Container c = container(cassandra, "cassandra");
      podAddresses(w, at + ".env[TWINFLEET_CASSANDRA_CONTACT_POINTS]", env.get("TWINFLEET_CASSANDRA_CONTACT_POINTS"), cassandra,
          containerPort(c, new IntOrString("cql")));
      String dc = env(c).get("CASSANDRA_DC");
      if (dc == null || !dc.equals(env.get("TWINFLEET_CASSANDRA_DATACENTER"))) {
        problem(w, at + ".env[TWINFLEET_CASSANDRA_DATACENTER]", env.get("TWINFLEET_CASSANDRA_DATACENTER") + " is not Cassandra's CASSANDRA_DC " + dc);
      }
    }

    private void portSetting(HasMetadata w, Container c, Map<String, String> env, String setting, String portName) {
      Integer port = containerPort(c, new IntOrString(portName));
      if (port == null || !String.valueOf(port).equals(env.get(setting))) {
        problem(w, "spec.template.spec.containers[" + c.getName() + "].env[" + setting + "]",
            "must be the container port " + portName + " (" + port + "), is " + env.get(setting));
      }
    }

    /**
     * A comma-separated list of {@code <statefulset>-<i>.<serviceName>[:port]}: each a pod the
     * StatefulSet has at its replica count, on the given port (null: no port).
     */
    private void podAddresses(HasMetadata w, String field, String list, StatefulSet target, Integer port) {
      if (list == null || list.isBlank()) {
        problem(w, field, "not set");
        return;
      }
      Pattern address = Pattern.compile(Pattern.quote(target.getMetadata().getName()) + "-(\\d+)\\." + Pattern.quote(target.getSpec().getServiceName())
          + (port == null ? "" : ":(\\d+)"));
      int replicas = Objects.requireNonNullElse(target.getSpec().getReplicas(), 1);
      for (String entry : list.split(",")) {
        Matcher m = address.matcher(entry.trim());
        if (!m.matches()) {
          problem(w, field, "'" + entry + "' is not " + address.pattern().replace("\\Q", "").replace("\\E", ""));
        } else if (Integer.parseInt(m.group(1)) >= replicas) {
          problem(w, field, "'" + entry + "' names a pod that StatefulSet " + target.getMetadata().getName() + " with " + replicas + " replicas does not have");
        } else if (port != null && Integer.parseInt(m.group(2)) != port) {
          problem(w, field, "'" + entry + "': the port is not " + port);
        }
      }
    }

    private <T extends HasMetadata> Set<String> names(Class<T> type) {
      return all(type).stream().map(r -> r.getMetadata().getName()).collect(Collectors.toSet());
    }
  }

  // ---- Small helpers ----

  /**
   * Every TWINFLEET_ variable the service reads: the ${?TWINFLEET_...} in its .conf files, and the
   * ${TWINFLEET_...:-default} in its logback.xml.
   */
  static Set<String> serviceSettings() {
    Set<String> names = new TreeSet<>();
    Pattern reference = Pattern.compile("\\$\\{\\?(TWINFLEET_[A-Z0-9_]+)}");
    Pattern logging = Pattern.compile("\\$\\{(TWINFLEET_[A-Z0-9_]+):-");
    try (Stream<Path> files = Files.list(SERVICE_CONFIG)) {
      files.forEach(f -> {
        if (f.toString().endsWith(".conf")) {
          reference.matcher(read(f)).results().forEach(r -> names.add(r.group(1)));
        } else if (f.getFileName().toString().equals("logback.xml")) {
          logging.matcher(read(f)).results().forEach(r -> names.add(r.group(1)));
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertTrue(names.contains("TWINFLEET_SEED_NODES"), "found no settings in " + SERVICE_CONFIG);
    return names;
  }

  static boolean matches(LabelSelector selector, PodTemplateSpec template) {
    Map<String, String> labels = template.getMetadata() == null ? Map.of() : template.getMetadata().getLabels();
    return selector != null && !selector.getMatchLabels().isEmpty() && labels.entrySet().containsAll(selector.getMatchLabels().entrySet());
  }

  /** The container port a Service or probe port means (by name or number), or null. */
  static Integer containerPort(Container c, IntOrString port) {
    return c.getPorts().stream()
        .filter(p -> port.getStrVal() != null ? port.getStrVal().equals(p.getName()) : Objects.equals(port.getIntVal(), p.getContainerPort()))
        .map(ContainerPort::getContainerPort).findFirst().orElse(null);
  }

  static boolean mounted(Container c, String path) {
    return c.getVolumeMounts().stream().anyMatch(m -> path.equals(m.getMountPath()) || path.startsWith(m.getMountPath() + "/"));
  }

  static String httpPath(Probe probe) {
    return probe == null || probe.getHttpGet() == null ? null : probe.getHttpGet().getPath();
  }

  /** A JVM heap size as Cassandra's MAX_HEAP_SIZE takes it (512M, 8G), in bytes; null if it is not one. */
  static BigDecimal heapBytes(String size) {
    if (size == null || !size.matches("\\d+[KMG]")) {
      return null;
    }
    int power = "KMG".indexOf(size.charAt(size.length() - 1)) + 1;
    return new BigDecimal(size.substring(0, size.length() - 1)).multiply(BigDecimal.valueOf(1024).pow(power));
  }

  static <T> List<T> list(List<T> list) {
    return list == null ? List.of() : list;
  }

  static String join(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  static String rel(Path file) {
    return K8S.relativize(file.normalize()).toString();
  }

  static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      fail(rel(file) + ": cannot read: " + e);
      return null;
    }
  }
}

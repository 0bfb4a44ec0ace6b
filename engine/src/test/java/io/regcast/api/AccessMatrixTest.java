package io.regcast.api;

import static io.regcast.testing.ApiClient.object;
import static io.regcast.testing.ApiClient.uniqueName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.node.Node;
import io.regcast.testing.ApiClient;
import io.regcast.testing.ApiClient.Answer;
import io.regcast.testing.Envelopes;
import io.regcast.testing.RawWebSocket;
import io.regcast.testing.SharedNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Access control as a table: every protected route × every kind of credential, each answered as
 * the reference's roles require, against the shared node over real HTTP.
 *
 * <p>Credentials: no key, an unknown key, the administrator's key under a scheme other than
 * Bearer/Api-Key, a deleted key (a second key of the bootstrap administrator: it held every role),
 * the key of a deleted user (who held admin on the cloud) — all 401 UNAUTHENTICATED; a valid key
 * whose user holds no role, and one whose user holds a weaker role on the cloud (e.g. viewer where
 * editor is needed, editor where admin is) — 403 PERMISSION_DENIED naming the missing role, or for
 * the lists of clouds and users a 200 list without the resource; the needed role bound on the
 * cloud, on the folder, on the resource itself (where a binding there exists and means something
 * different from the levels above), the key's own user (API keys), and the bootstrap administrator
 * — allowed.
 *
 * <p>Every refusal is checked for its error body and for changing nothing: what the administrator
 * sees of the state the call would have changed is the same before and after (and, for ingest and
 * :send, nothing reaches the WebSocket clients before a marker). A valid key without the role on a
 * resource that exists gets 403; on one that does not exist, 404 (see {@link
 * #unknownResourcesAreNotFoundForACallerWithoutRoles}).
 *
 * <p>One setup per class ({@link Fixture}); the users and keys holding each (role, scope) are made
 * once and reused; mutating routes get fresh victims per case.
 */
@ExtendWith(SharedNode.class)
class AccessMatrixTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String CLOUDS = "/resource-manager/v1/clouds";
  private static final String FOLDERS = "/resource-manager/v1/folders";
  private static final String REGISTRIES = "/container-registry/v1/registries";
  private static final String GATEWAYS = "/apigateways/v1/apigateways";
  private static final String ACCOUNTS = "/iam/v1/serviceAccounts";
  private static final String USERS = "/iam/v1/users";
  private static final String TRIGGERS = "/triggers/v1/triggers";
  private static final String KEYS = "/iam/v1/apiKeys";
  private static final String CONNECTIONS = "/apigateways/websocket/v1/connections/";
  private static final String DIST = "application/vnd.docker.distribution.events.v1+json";
  /** An image name no event carries: every trigger but the ingest watcher stays silent. */
  private static final String NEVER = "never-matches";
  private static final String WATCHED = "ingest/app";

  private static final String VIEWER = "viewer";
  private static final String EDITOR = "editor";
  private static final String ADMIN = "admin";
  private static final String SA_USER = "iam.serviceAccounts.user";
  private static final String PULLER = "container-registry.images.puller";
  private static final String PUSHER = "container-registry.images.pusher";
  private static final String WRITER = "api-gateway.websocketWriter";
  private static final String BROADCASTER = "api-gateway.websocketBroadcaster";

  private static Fixture fx;
  private static final Map<String, AtomicInteger> OUTCOMES = new TreeMap<>();
  private static final Map<Cred, AtomicInteger> BY_CREDENTIAL = new EnumMap<>(Cred.class);
  private static final AtomicInteger CASES = new AtomicInteger();
  private static final AtomicInteger UNKNOWN_CASES = new AtomicInteger();

  enum Cred {
    NO_KEY, UNKNOWN_KEY, WRONG_SCHEME, REVOKED_KEY, DELETED_OWNER,
    NO_ROLE, WEAKER_ROLE,
    ON_CLOUD, ON_FOLDER, ON_RESOURCE, SELF, ROOT_ADMIN
  }

  enum Level { CLOUD, FOLDER, RESOURCE }

  enum Outcome { UNAUTHENTICATED, FORBIDDEN, FILTERED, ALLOWED }

  record Grant(String role, String path) {}

  /**
   * A protected route: the role it needs ({@code role}, named in its 403), where a binding of it
   * lets the caller in ({@code levels}), a role that is not enough ({@code weaker}, bound on the
   * cloud), whether a refusal is a filtered list, whether the key's own user may call it, and how
   * to prepare one call (fresh victims where the call changes something).
   */
  record Route(
      String name, String role, Set<Level> levels, String weaker, boolean filtered, boolean self,
      BiFunction<Fixture, Cred, Attempt> prepare) {

    Route asFilteredList() {
      return new Route(name, role, levels, weaker, true, self, prepare);
    }

    Route withSelf() {
      return new Route(name, role, levels, weaker, filtered, true, prepare);
    }

    Stream<Cred> creds() {
      List<Cred> out = new ArrayList<>(List.of(
          Cred.NO_KEY, Cred.UNKNOWN_KEY, Cred.WRONG_SCHEME, Cred.REVOKED_KEY, Cred.DELETED_OWNER,
          Cred.NO_ROLE, Cred.WEAKER_ROLE));
      if (levels.contains(Level.CLOUD)) {
        out.add(Cred.ON_CLOUD);
      }
      if (levels.contains(Level.FOLDER)) {
        out.add(Cred.ON_FOLDER);
      }
      if (levels.contains(Level.RESOURCE)) {
        out.add(Cred.ON_RESOURCE);
      }
      if (self) {
        out.add(Cred.SELF);
      }
      out.add(Cred.ROOT_ADMIN);
      return out.stream();
    }

    Outcome expect(Cred cred) {
      return switch (cred) {
        case NO_KEY, UNKNOWN_KEY, WRONG_SCHEME, REVOKED_KEY, DELETED_OWNER -> Outcome.UNAUTHENTICATED;
        case NO_ROLE, WEAKER_ROLE -> filtered ? Outcome.FILTERED : Outcome.FORBIDDEN;
        default -> Outcome.ALLOWED;
      };
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** One prepared call and how to judge it. */
  static final class Attempt {
    final Function<ApiClient, Answer> call;
    Consumer<Answer> allowed = a -> {};
    Consumer<Answer> filtered = a -> {
      throw new AssertionError("not a list");
    };
    Supplier<String> state = () -> "";
    Runnable nothingHappened = () -> {};
    Runnable cleanup = () -> {};
    final EnumMap<Level, String> scopes = new EnumMap<>(Level.class);
    List<Grant> resourceGrants;
    String owner;

    Attempt(Function<ApiClient, Answer> call) {
      this.call = call;
    }

    Attempt allowed(Consumer<Answer> check) {
      this.allowed = check;
      return this;
    }

    /** What the administrator sees of what the call could change: the same after a refusal. */
    Attempt state(Supplier<String> view) {
      this.state = view;
      return this;
    }

    Attempt nothingHappened(Runnable check) {
      this.nothingHappened = check;
      return this;
    }

    Attempt cleanup(Runnable cleanup) {
      this.cleanup = cleanup;
      return this;
    }

    Attempt at(Level level, String path) {
      scopes.put(level, path);
      return this;
    }

    Attempt owner(String userId) {
      this.owner = userId;
      return this;
    }

    /** A list call: allowed shows {@code id} in {@code field}, a filtered refusal does not. */
    Attempt lists(String field, String id) {
      allowed = a -> assertTrue(ids(a.expect(200).json().get(field)).contains(id), () -> id + " missing: " + a.text());
      filtered = a -> assertFalse(ids(a.expect(200).json().get(field)).contains(id), () -> id + " shown: " + a.text());
      return this;
    }

    List<Grant> grants(Level level, String role) {
      if (level == Level.RESOURCE && resourceGrants != null) {
        return resourceGrants;
      }
      String path = scopes.get(level);
      assertNotNull(path, "no scope for " + level);
      return List.of(new Grant(role, path));
    }
  }

  static List<String> ids(JsonNode list) {
    List<String> out = new ArrayList<>();
    if (list != null) {
      list.forEach(n -> out.add(n.path("id").asText()));
    }
    return out;
  }

  // ---- the shared setup ----

  static final class Fixture implements AutoCloseable {
    final ApiClient admin;
    final Node node;
    final ApiClient.Setup s;
    final String cloudName;
    final String folder2;
    final String registry2;
    final String account2;
    final String trigger;
    final String triggerName;
    final String user;
    final String userName;
    final String userKey;
    final String accountKey;
    final String revokedKey;
    final String deletedOwnerKey;
    final RawWebSocket w1;
    final String w1Id;
    final RawWebSocket w2;
    final Map<String, String> keys = new HashMap<>();
    final AtomicInteger seq = new AtomicInteger();
    final List<RawWebSocket> opened = new ArrayList<>();

    Fixture(ApiClient admin, Node node) throws Exception {
      this.admin = admin;
      this.node = node;
      s = admin.setup();
      cloudName = admin.get(CLOUDS + "/" + s.cloudId()).expect(200).json().get("name").asText();
      // a second folder of the same cloud: a registry and a service account reachable only by
      // bindings on them (the trigger create "on the resource" case)
      folder2 = admin.createFolder(s.cloudId());
      registry2 = admin.createInFolder(REGISTRIES, folder2, object());
      account2 = admin.createInFolder(ACCOUNTS, folder2, object());
      admin.grant(account2, "serviceAccount", BROADCASTER, GATEWAYS + "/" + s.gatewayId());
      triggerName = uniqueName("matrix");
      trigger = admin.post(TRIGGERS, triggerBody(triggerName)).expect(200).responseId();
      ObjectNode watcher = s.trigger(uniqueName("watcher"));
      ((ObjectNode) watcher.get("rule").get("containerRegistry")).put("imageName", WATCHED);
      admin.post(TRIGGERS, watcher).expect(200);
      userName = uniqueName("victim");
      user = admin.post(USERS, object().put("name", userName)).expect(200).responseId();
      userKey = newKey("userId", user).get("apiKey").get("id").asText();
      accountKey = newKey("serviceAccountId", s.serviceAccountId()).get("apiKey").get("id").asText();

      String adminUser = admin.get(USERS + "?filter=" + enc("name=\"admin\"")).expect(200)
          .json().get("users").get(0).get("id").asText();
      JsonNode second = newKey("userId", adminUser);
      revokedKey = second.get("secret").asText();
      awaitWorks(revokedKey);
      admin.delete(KEYS + "/" + second.get("apiKey").get("id").asText()).expect(200);

      String owner = newUser();
      deletedOwnerKey = newKey("userId", owner).get("secret").asText();
      admin.grant(owner, "userAccount", ADMIN, CLOUDS + "/" + s.cloudId());
      awaitWorks(deletedOwnerKey);
      admin.delete(USERS + "/" + owner).expect(200);

      w1 = connect("/other");
      w1Id = w1.header("X-Yc-Apigateway-Websocket-Connection-Id");
      w2 = connect("/ws");
    }

    ObjectNode triggerBody(String name) {
      return triggerBody(name, s.registryId(), s.serviceAccountId());
    }

    ObjectNode triggerBody(String name, String registryId, String accountId) {
      ObjectNode body = s.trigger(name);
      ObjectNode cr = (ObjectNode) body.get("rule").get("containerRegistry");
      cr.put("imageName", NEVER).put("registryId", registryId);
      ((ObjectNode) cr.get("gatewayWebsocketBroadcast")).put("serviceAccountId", accountId);
      return body;
    }

    String cloudPath() {
      return CLOUDS + "/" + s.cloudId();
    }

    String folderPath() {
      return FOLDERS + "/" + s.folderId();
    }

    /** An attempt with the fixture's cloud and folder as the scopes above the resource. */
    Attempt attempt(Function<ApiClient, Answer> call) {
      return new Attempt(call).at(Level.CLOUD, cloudPath()).at(Level.FOLDER, folderPath());
    }

    String newUser() {
      return admin.post(USERS, object().put("name", uniqueName("u"))).expect(200).responseId();
    }

    JsonNode newKey(String field, String subject) {
      return admin.post(KEYS, object().put(field, subject)).expect(200).json();
    }

    /** A key whose (fresh) user holds exactly these bindings; made once per set of bindings. */
    String keyWith(List<Grant> grants) {
      String cached = keys.get(grants.toString());
      if (cached != null) {
        return cached;
      }
      String u = newUser();
      String secret = newKey("userId", u).get("secret").asText();
      for (Grant g : grants) {
        admin.grant(u, "userAccount", g.role(), g.path());
      }
      awaitWorks(secret);
      keys.put(grants.toString(), secret);
      return secret;
    }

    /** Another key of the user {@code owner} (the SELF credential). */
    String keyOf(String owner) {
      return keys.computeIfAbsent("self:" + owner, k -> {
        String secret = newKey("userId", owner).get("secret").asText();
        awaitWorks(secret);
        return secret;
      });
    }

    /**
     * Waits until the node authenticates a new key. Key writes reach this node's access mirror by
     * the catalog's announcement (not by the refresh other writes wait for); it is immediate in
     * practice (IamApiTest uses keys at once), this only keeps the matrix off that question.
     */
    void awaitWorks(String secret) {
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (admin.withKey(secret).get(USERS + "?pageSize=1").status() == 401) {
        assertTrue(System.nanoTime() < deadline, "a new key never started to work");
      }
    }

    ApiClient client(Cred cred, Route route, Attempt a) {
      return switch (cred) {
        case NO_KEY -> admin.withKey(null);
        case UNKNOWN_KEY -> admin.withKey(randomSecret());
        case WRONG_SCHEME -> admin.withAuthorization("Basic " + SharedNode.ADMIN_KEY);
        case REVOKED_KEY -> admin.withKey(revokedKey);
        case DELETED_OWNER -> admin.withKey(deletedOwnerKey);
        case NO_ROLE -> admin.withKey(keyWith(List.of()));
        case WEAKER_ROLE -> admin.withKey(keyWith(List.of(new Grant(route.weaker(), a.scopes.get(Level.CLOUD)))));
        case ON_CLOUD -> admin.withKey(keyWith(a.grants(Level.CLOUD, route.role())));
        case ON_FOLDER -> admin.withKey(keyWith(a.grants(Level.FOLDER, route.role())));
        case ON_RESOURCE -> admin.withKey(keyWith(a.grants(Level.RESOURCE, route.role())));
        case SELF -> admin.withKey(keyOf(a.owner));
        case ROOT_ADMIN -> admin;
      };
    }

    RawWebSocket connect(String path) throws Exception {
      RawWebSocket ws = RawWebSocket.open(
          "127.0.0.1", node.gateway().address().getPort(), "/gateways/" + s.gatewayId() + path, Map.of());
      assertEquals(101, ws.status(), ws.statusLine());
      opened.add(ws);
      String id = ws.header("X-Yc-Apigateway-Websocket-Connection-Id");
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (admin.get(CONNECTIONS + id).status() != 200) {
        assertTrue(System.nanoTime() < deadline, "connection " + id + " never registered");
      }
      return ws;
    }

    /** The next text message on {@code ws}, pings skipped. */
    static String nextText(RawWebSocket ws) {
      try {
        while (true) {
          RawWebSocket.Frame frame = ws.readFrame(WAIT);
          if (frame.opcode() == RawWebSocket.OP_PING) {
            continue;
          }
          assertEquals(RawWebSocket.OP_TEXT, frame.opcode(), frame.toString());
          return frame.text();
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    /** The administrator sends a marker to {@code ws}: it must be the next message. */
    void assertNothingBefore(RawWebSocket ws) {
      String marker = "marker-" + seq.incrementAndGet();
      String id = ws.header("X-Yc-Apigateway-Websocket-Connection-Id");
      admin.post(CONNECTIONS + id + ":send", object().put("data", base64(marker))).expect(200);
      assertEquals(marker, nextText(ws), "a message arrived before the marker");
    }

    @Override
    public void close() {
      opened.forEach(RawWebSocket::close);
    }
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static String byName(String name) {
    return "filter=" + enc("name=\"" + name + "\"");
  }

  static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  static String randomSecret() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return "rck_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  // ---- the routes ----

  private static final Set<Level> CLOUD_ONLY = EnumSet.of(Level.CLOUD);
  private static final Set<Level> CLOUD_FOLDER = EnumSet.of(Level.CLOUD, Level.FOLDER);
  private static final Set<Level> ALL_LEVELS = EnumSet.allOf(Level.class);
  private static final Set<Level> ROOT_ONLY = EnumSet.noneOf(Level.class);

  static Route route(String name, String role, Set<Level> levels, String weaker, BiFunction<Fixture, Cred, Attempt> prepare) {
    return new Route(name, role, levels, weaker, false, false, prepare);
  }

  static Route route(String name, String role, Set<Level> levels, String weaker, Function<Fixture, Attempt> prepare) {
    return route(name, role, levels, weaker, (fx, cred) -> prepare.apply(fx));
  }

  /** Reads change nothing; what they read stays as it was. */
  static Attempt read(Fixture fx, String path, Consumer<Answer> allowed) {
    return fx.attempt(c -> c.get(path)).allowed(allowed).state(() -> fx.admin.get(path).expect(200).text());
  }

  static Consumer<Answer> shows(String id) {
    return a -> assertEquals(id, a.expect(200).json().get("id").asText(), a.text());
  }

  /** Delete of a fresh victim at {@code path}: gone after, untouched (with its operations) after a refusal. */
  static Attempt deletion(Fixture fx, String path) {
    return fx.attempt(c -> c.delete(path))
        .allowed(a -> {
          a.expect(200);
          fx.admin.get(path).expect(404);
        })
        .state(() -> fx.admin.get(path).expect(200).text() + fx.admin.get(path + "/operations").expect(200).text());
  }

  /** Create {@code body} under {@code base}: present after, absent after a refusal. */
  static Attempt creation(Fixture fx, String base, String listQuery, String listField, ObjectNode body) {
    String name = body.get("name").asText();
    return fx.attempt(c -> c.post(base, body))
        .allowed(a -> fx.admin.get(base + "/" + a.expect(200).responseId()).expect(200))
        .state(() -> {
          JsonNode listed = fx.admin.get(base + "?" + (listQuery.isEmpty() ? "" : listQuery + "&") + byName(name))
              .expect(200).json().get(listField);
          return listed.toString();
        });
  }

  /** get, list, create, delete, bindings list of a kind that lives in a folder. */
  static List<Route> inFolder(String kind, String base, String listField, Function<Fixture, String> shared, ObjectNode extra) {
    return List.of(
        route(kind + " get", VIEWER, ALL_LEVELS, PULLER, fx -> {
          String id = shared.apply(fx);
          return read(fx, base + "/" + id, shows(id)).at(Level.RESOURCE, base + "/" + id);
        }),
        route(kind + " list", VIEWER, CLOUD_FOLDER, PULLER, fx -> {
          String id = shared.apply(fx);
          return fx.attempt(c -> c.get(base + "?folderId=" + fx.s.folderId() + "&pageSize=1000")).lists(listField, id);
        }),
        route(kind + " create", EDITOR, CLOUD_FOLDER, VIEWER, fx -> {
          ObjectNode body = extra.deepCopy().put("folderId", fx.s.folderId()).put("name", uniqueName("mx"));
          return creation(fx, base, "folderId=" + fx.s.folderId(), listField, body);
        }),
        route(kind + " delete", EDITOR, ALL_LEVELS, VIEWER, fx -> {
          String victim = fx.admin.createInFolder(base, fx.s.folderId(), extra);
          return deletion(fx, base + "/" + victim).at(Level.RESOURCE, base + "/" + victim);
        }),
        route(kind + " listAccessBindings", VIEWER, ALL_LEVELS, PULLER, fx -> {
          String path = base + "/" + shared.apply(fx);
          return read(fx, path + ":listAccessBindings", a -> assertTrue(a.expect(200).json().has("accessBindings")))
              .at(Level.RESOURCE, path);
        }));
  }

  /** listAccessBindings, setAccessBindings (the current ones plus a new one), updateAccessBindings (ADD). */
  static List<Route> bindings(String kind, String pathPrefix, Function<Fixture, String> shared, Set<Level> levels) {
    return List.of(
        route(kind + " listAccessBindings", VIEWER, levels, PULLER, fx -> {
          String path = pathPrefix + "/" + shared.apply(fx);
          return read(fx, path + ":listAccessBindings", a -> assertTrue(a.expect(200).json().has("accessBindings")));
        }),
        route(kind + " setAccessBindings", ADMIN, levels, EDITOR, fx -> {
          String path = pathPrefix + "/" + shared.apply(fx);
          String bystander = fx.newUser();
          return fx.attempt(c -> {
                JsonNode current = fx.admin.get(path + ":listAccessBindings").expect(200).json().get("accessBindings");
                ObjectNode body = object();
                var list = body.putArray("accessBindings");
                current.forEach(list::add);
                list.addObject().put("roleId", VIEWER).putObject("subject").put("id", bystander).put("type", "userAccount");
                return c.post(path + ":setAccessBindings", body);
              })
              .allowed(a -> {
                a.expect(200);
                assertTrue(fx.admin.get(path + ":listAccessBindings").text().contains(bystander));
              })
              .state(() -> fx.admin.get(path + ":listAccessBindings").expect(200).text());
        }),
        route(kind + " updateAccessBindings", ADMIN, levels, EDITOR, fx -> {
          String path = pathPrefix + "/" + shared.apply(fx);
          String bystander = fx.newUser();
          ObjectNode body = object();
          body.putArray("accessBindingDeltas").addObject().put("action", "ADD")
              .putObject("accessBinding").put("roleId", VIEWER)
              .putObject("subject").put("id", bystander).put("type", "userAccount");
          return fx.attempt(c -> c.post(path + ":updateAccessBindings", body))
              .allowed(a -> {
                a.expect(200);
                assertTrue(fx.admin.get(path + ":listAccessBindings").text().contains(bystander));
              })
              .state(() -> fx.admin.get(path + ":listAccessBindings").expect(200).text());
        }));
  }

  static Attempt triggerVictim(Fixture fx, boolean paused, Function<String, Function<ApiClient, Answer>> call) {
    String id = fx.admin.post(TRIGGERS, fx.triggerBody(uniqueName("victim"))).expect(200).responseId();
    if (paused) {
      fx.admin.post(TRIGGERS + "/" + id + ":pause", object()).expect(200);
    }
    return fx.attempt(call.apply(id)).state(() -> fx.admin.get(TRIGGERS + "/" + id).expect(200).text());
  }

  static String status(Fixture fx, String triggerId) {
    return fx.admin.get(TRIGGERS + "/" + triggerId).expect(200).json().get("status").asText();
  }

  static List<Route> routes() {
    List<Route> r = new ArrayList<>();

    // clouds: a binding on the cloud is the only level; creating one needs admin on the root
    r.add(route("cloud get", VIEWER, CLOUD_ONLY, PULLER, fx -> read(fx, fx.cloudPath(), shows(fx.s.cloudId()))));
    r.add(route("cloud list", VIEWER, CLOUD_ONLY, PULLER,
        fx -> fx.attempt(c -> c.get(CLOUDS + "?" + byName(fx.cloudName))).lists("clouds", fx.s.cloudId())).asFilteredList());
    r.add(route("cloud create", ADMIN, ROOT_ONLY, ADMIN,
        fx -> creation(fx, CLOUDS, "", "clouds", object().put("name", uniqueName("mx")))));
    r.add(route("cloud delete", EDITOR, CLOUD_ONLY, VIEWER, fx -> {
      String victim = fx.admin.createCloud();
      return deletion(fx, CLOUDS + "/" + victim).at(Level.CLOUD, CLOUDS + "/" + victim);
    }));
    r.addAll(bindings("cloud", CLOUDS, fx -> fx.s.cloudId(), CLOUD_ONLY));

    // folders: cloud or the folder itself
    r.add(route("folder get", VIEWER, CLOUD_FOLDER, PULLER, fx -> read(fx, fx.folderPath(), shows(fx.s.folderId()))));
    r.add(route("folder list", VIEWER, CLOUD_ONLY, PULLER,
        fx -> fx.attempt(c -> c.get(FOLDERS + "?cloudId=" + fx.s.cloudId() + "&pageSize=1000")).lists("folders", fx.s.folderId())));
    r.add(route("folder create", EDITOR, CLOUD_ONLY, VIEWER,
        fx -> creation(fx, FOLDERS, "cloudId=" + fx.s.cloudId(), "folders",
            object().put("cloudId", fx.s.cloudId()).put("name", uniqueName("mx")))));
    r.add(route("folder delete", EDITOR, CLOUD_FOLDER, VIEWER, fx -> {
      String victim = fx.admin.createFolder(fx.s.cloudId());
      return deletion(fx, FOLDERS + "/" + victim).at(Level.FOLDER, FOLDERS + "/" + victim);
    }));
    r.addAll(bindings("folder", FOLDERS, fx -> fx.s.folderId(), CLOUD_FOLDER));

    // what lives in a folder
    r.addAll(inFolder("registry", REGISTRIES, "registries", fx -> fx.s.registryId(), object()));
    ObjectNode gateway = object();
    gateway.putArray("websocketPaths").add("/a");
    r.addAll(inFolder("gateway", GATEWAYS, "apiGateways", fx -> fx.s.gatewayId(), gateway));
    r.addAll(inFolder("service account", ACCOUNTS, "serviceAccounts", fx -> fx.s.serviceAccountId(), object()));
    r.add(route("registry updateAccessBindings", ADMIN, ALL_LEVELS, EDITOR, fx -> {
      Attempt a = bindings("registry", REGISTRIES, f -> f.s.registryId(), ALL_LEVELS).get(2).prepare().apply(fx, null);
      return a.at(Level.RESOURCE, REGISTRIES + "/" + fx.s.registryId());
    }));

    // operations
    r.add(route("registry operations", VIEWER, ALL_LEVELS, PULLER, fx -> {
      String path = REGISTRIES + "/" + fx.s.registryId();
      return fx.attempt(c -> c.get(path + "/operations"))
          .allowed(a -> assertTrue(a.expect(200).json().get("operations").size() > 0))
          .at(Level.RESOURCE, path);
    }));
    r.add(route("GET /operations/{id}", VIEWER, ALL_LEVELS, PULLER, fx -> {
      String path = REGISTRIES + "/" + fx.s.registryId();
      JsonNode ops = fx.admin.get(path + "/operations?pageSize=1000").expect(200).json().get("operations");
      String op = ops.get(ops.size() - 1).get("id").asText();
      return read(fx, "/operations/" + op, shows(op)).at(Level.RESOURCE, path);
    }));

    // users: only the administrator of everything
    r.add(route("user get", VIEWER, ROOT_ONLY, ADMIN, fx -> read(fx, USERS + "/" + fx.user, shows(fx.user))));
    r.add(route("user list", VIEWER, ROOT_ONLY, ADMIN,
        fx -> fx.attempt(c -> c.get(USERS + "?" + byName(fx.userName))).lists("users", fx.user)).asFilteredList());
    r.add(route("user create", ADMIN, ROOT_ONLY, ADMIN,
        fx -> creation(fx, USERS, "", "users", object().put("name", uniqueName("mx")))));
    r.add(route("user delete", ADMIN, ROOT_ONLY, ADMIN, fx -> deletion(fx, USERS + "/" + fx.newUser())));

    // triggers (no bindings on a trigger: cloud or folder)
    r.add(route("trigger get", VIEWER, CLOUD_FOLDER, PULLER, fx -> read(fx, TRIGGERS + "/" + fx.trigger, shows(fx.trigger))));
    r.add(route("trigger list", VIEWER, CLOUD_FOLDER, PULLER,
        fx -> fx.attempt(c -> c.get(TRIGGERS + "?folderId=" + fx.s.folderId() + "&" + byName(fx.triggerName)))
            .lists("triggers", fx.trigger)));
    r.add(route("trigger operations", VIEWER, CLOUD_FOLDER, PULLER,
        fx -> read(fx, TRIGGERS + "/" + fx.trigger + "/operations",
            a -> assertTrue(a.expect(200).json().get("operations").size() > 0))));
    r.add(route("trigger create", EDITOR, ALL_LEVELS, VIEWER, (fx, cred) -> {
      String name = uniqueName("mx");
      // on the resource: editor on the folder, and the service account and registry (in another
      // folder of the cloud) usable only through bindings on them
      boolean onResources = cred == Cred.ON_RESOURCE;
      ObjectNode body = onResources ? fx.triggerBody(name, fx.registry2, fx.account2) : fx.triggerBody(name);
      Attempt a = creation(fx, TRIGGERS, "folderId=" + fx.s.folderId(), "triggers", body);
      Consumer<Answer> created = a.allowed;
      a.allowed(ans -> {
        created.accept(ans);
        assertEquals("ACTIVE", ans.response().get("status").asText());
      });
      a.resourceGrants = List.of(
          new Grant(EDITOR, fx.folderPath()),
          new Grant(SA_USER, ACCOUNTS + "/" + fx.account2),
          new Grant(PULLER, REGISTRIES + "/" + fx.registry2));
      return a;
    }));
    r.add(route("trigger update", EDITOR, CLOUD_FOLDER, VIEWER, fx -> {
      String description = "changed " + fx.seq.incrementAndGet();
      ObjectNode body = object().put("updateMask", "description").put("description", description);
      String[] id = new String[1];
      return triggerVictim(fx, false, t -> {
        id[0] = t;
        return c -> c.patch(TRIGGERS + "/" + t, body);
      }).allowed(a -> {
        a.expect(200);
        assertEquals(description, fx.admin.get(TRIGGERS + "/" + id[0]).json().get("description").asText());
      });
    }));
    r.add(route("trigger pause", EDITOR, CLOUD_FOLDER, VIEWER, fx -> {
      String[] id = new String[1];
      return triggerVictim(fx, false, t -> {
        id[0] = t;
        return c -> c.post(TRIGGERS + "/" + t + ":pause", object());
      }).allowed(a -> {
        a.expect(200);
        assertEquals("PAUSED", status(fx, id[0]));
      });
    }));
    r.add(route("trigger resume", EDITOR, CLOUD_FOLDER, VIEWER, fx -> {
      String[] id = new String[1];
      return triggerVictim(fx, true, t -> {
        id[0] = t;
        return c -> c.post(TRIGGERS + "/" + t + ":resume", object());
      }).allowed(a -> {
        a.expect(200);
        assertEquals("ACTIVE", status(fx, id[0]));
      });
    }));
    r.add(route("trigger delete", EDITOR, CLOUD_FOLDER, VIEWER, fx -> {
      String victim = fx.admin.post(TRIGGERS, fx.triggerBody(uniqueName("victim"))).expect(200).responseId();
      return deletion(fx, TRIGGERS + "/" + victim);
    }));

    // API keys of a user: the user itself or the administrator of everything
    r.add(route("user apiKey create", ADMIN, ROOT_ONLY, ADMIN, fx -> keyCreation(fx, "userId", fx.user).owner(fx.user)).withSelf());
    r.add(route("user apiKey get", ADMIN, ROOT_ONLY, ADMIN,
        fx -> read(fx, KEYS + "/" + fx.userKey, shows(fx.userKey)).owner(fx.user)).withSelf());
    r.add(route("user apiKey list", ADMIN, ROOT_ONLY, ADMIN,
        fx -> read(fx, KEYS + "?userId=" + fx.user, a -> assertTrue(ids(a.expect(200).json().get("apiKeys")).contains(fx.userKey)))
            .owner(fx.user)).withSelf());
    r.add(route("user apiKey delete", ADMIN, ROOT_ONLY, ADMIN, fx -> {
      String victim = fx.newKey("userId", fx.user).get("apiKey").get("id").asText();
      return keyDeletion(fx, victim).owner(fx.user);
    }).withSelf());
    // API keys of a service account: editor on it
    String account = ACCOUNTS + "/";
    r.add(route("service account apiKey create", EDITOR, ALL_LEVELS, VIEWER,
        fx -> keyCreation(fx, "serviceAccountId", fx.s.serviceAccountId()).at(Level.RESOURCE, account + fx.s.serviceAccountId())));
    r.add(route("service account apiKey get", EDITOR, ALL_LEVELS, VIEWER,
        fx -> read(fx, KEYS + "/" + fx.accountKey, shows(fx.accountKey)).at(Level.RESOURCE, account + fx.s.serviceAccountId())));
    r.add(route("service account apiKey list", EDITOR, ALL_LEVELS, VIEWER,
        fx -> read(fx, KEYS + "?serviceAccountId=" + fx.s.serviceAccountId(),
            a -> assertTrue(ids(a.expect(200).json().get("apiKeys")).contains(fx.accountKey)))
            .at(Level.RESOURCE, account + fx.s.serviceAccountId())));
    r.add(route("service account apiKey delete", EDITOR, ALL_LEVELS, VIEWER, fx -> {
      String victim = fx.newKey("serviceAccountId", fx.s.serviceAccountId()).get("apiKey").get("id").asText();
      return keyDeletion(fx, victim).at(Level.RESOURCE, account + fx.s.serviceAccountId());
    }));

    // connections API: websocketWriter on the gateway
    r.add(route("connection get", WRITER, ALL_LEVELS, VIEWER,
        fx -> fx.attempt(c -> c.get(CONNECTIONS + fx.w1Id)).allowed(shows(fx.w1Id))
            .state(() -> String.valueOf(fx.admin.get(CONNECTIONS + fx.w1Id).status()))
            .at(Level.RESOURCE, GATEWAYS + "/" + fx.s.gatewayId())));
    r.add(route("connection send", WRITER, ALL_LEVELS, VIEWER, fx -> {
      String text = "hello-" + fx.seq.incrementAndGet();
      return fx.attempt(c -> c.post(CONNECTIONS + fx.w1Id + ":send", object().put("data", base64(text))))
          .allowed(a -> {
            a.expect(200);
            assertEquals(text, Fixture.nextText(fx.w1));
          })
          .nothingHappened(() -> fx.assertNothingBefore(fx.w1))
          .at(Level.RESOURCE, GATEWAYS + "/" + fx.s.gatewayId());
    }));
    r.add(route("connection delete", WRITER, ALL_LEVELS, VIEWER, fx -> {
      RawWebSocket victim;
      try {
        victim = fx.connect("/other");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      String id = victim.header("X-Yc-Apigateway-Websocket-Connection-Id");
      return fx.attempt(c -> c.delete(CONNECTIONS + id))
          .allowed(a -> {
            a.expect(200);
            try {
              assertEquals(1000, victim.readUntilClose(WAIT));
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
            fx.admin.get(CONNECTIONS + id).expect(404);
          })
          .state(() -> String.valueOf(fx.admin.get(CONNECTIONS + id).status()))
          .cleanup(victim::close)
          .at(Level.RESOURCE, GATEWAYS + "/" + fx.s.gatewayId());
    }));
    r.add(route("connection list", WRITER, ALL_LEVELS, VIEWER,
        fx -> fx.attempt(c -> c.get(GATEWAYS + "/" + fx.s.gatewayId() + "/connections")).lists("connections", fx.w1Id)
            .at(Level.RESOURCE, GATEWAYS + "/" + fx.s.gatewayId())));

    // ingest: container-registry.images.pusher on the registry
    r.add(route("ingest notifications", PUSHER, ALL_LEVELS, PULLER, fx -> {
      String digest = Envelopes.digest(900_000 + fx.seq.incrementAndGet());
      byte[] body = Envelopes.envelope(Envelopes.push(WATCHED, digest, "v1", Instant.now())).toString()
          .getBytes(StandardCharsets.UTF_8);
      return ingestion(fx, digest, c -> c.raw("POST", REGISTRIES + "/" + fx.s.registryId() + "/notifications", DIST, body));
    }));
    r.add(route("ingest events", PUSHER, ALL_LEVELS, PULLER, fx -> {
      String digest = Envelopes.digest(900_000 + fx.seq.incrementAndGet());
      ObjectNode body = object();
      body.putArray("events").addObject()
          .put("eventType", "CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE")
          .put("repositoryName", WATCHED)
          .put("imageDigest", digest)
          .put("tag", "v1");
      return ingestion(fx, digest, c -> c.post(REGISTRIES + "/" + fx.s.registryId() + "/events", body));
    }));
    r.add(route("registry set endpoint", EDITOR, ALL_LEVELS, VIEWER, fx -> {
      String url = "https://registry-" + fx.seq.incrementAndGet() + ".example.com";
      String registry = REGISTRIES + "/" + fx.s.registryId();
      return fx.attempt(c -> c.patch(registry, object().put("url", url)))
          .allowed(a -> {
            a.expect(200);
            assertEquals(url, fx.admin.get(registry).json().path("url").asText());
          })
          .state(() -> fx.admin.get(registry).json().path("url").asText())
          .cleanup(() -> fx.admin.patch(registry, object().putNull("url")).expect(200))
          .at(Level.RESOURCE, registry);
    }));
    // the fixture's registry has no url: allowed gets as far as that (409), refused not even there
    r.add(route("registry reconcile", PUSHER, ALL_LEVELS, PULLER,
        fx -> fx.attempt(c -> c.post(REGISTRIES + "/" + fx.s.registryId() + ":reconcile", object()))
            .allowed(a -> {
              a.expect(409);
              assertTrue(a.json().path("message").asText().contains("has no url"), a::text);
            })
            .at(Level.RESOURCE, REGISTRIES + "/" + fx.s.registryId())));
    return r;
  }

  /** Ingest of one image: allowed, the watcher trigger delivers it; refused, nothing arrives. */
  static Attempt ingestion(Fixture fx, String digest, Function<ApiClient, Answer> call) {
    return fx.attempt(call)
        .allowed(a -> {
          a.expect(202);
          String message = Fixture.nextText(fx.w2);
          assertTrue(message.contains(digest), () -> "expected " + digest + ": " + message);
        })
        .nothingHappened(() -> fx.assertNothingBefore(fx.w2))
        .at(Level.RESOURCE, REGISTRIES + "/" + fx.s.registryId());
  }

  static Attempt keyCreation(Fixture fx, String field, String subject) {
    String list = KEYS + "?" + field + "=" + subject;
    return fx.attempt(c -> c.post(KEYS, object().put(field, subject)))
        .allowed(a -> {
          JsonNode created = a.expect(200).json();
          assertTrue(created.get("secret").asText().startsWith("rck_"));
          assertEquals(subject, created.get("apiKey").get(field).asText());
          fx.admin.get(KEYS + "/" + created.get("apiKey").get("id").asText()).expect(200);
        })
        .state(() -> fx.admin.get(list).expect(200).text());
  }

  static Attempt keyDeletion(Fixture fx, String keyId) {
    return fx.attempt(c -> c.delete(KEYS + "/" + keyId))
        .allowed(a -> {
          a.expect(200);
          fx.admin.get(KEYS + "/" + keyId).expect(404);
        })
        .state(() -> fx.admin.get(KEYS + "/" + keyId).expect(200).text());
  }

  // ---- the test ----

  private static final List<Route> ROUTES = routes();

  static Stream<Arguments> cases() {
    return ROUTES.stream().flatMap(route -> route.creds().map(cred -> Arguments.of(Named.of(route.name(), route), cred)));
  }

  @BeforeAll
  static void setUp(ApiClient api, Node node) throws Exception {
    fx = new Fixture(api, node);
  }

  @AfterAll
  static void report() {
    if (fx != null) {
      fx.close();
    }
    System.out.printf(
        "AccessMatrixTest: %d route x credential cases over %d routes and %d kinds of credential %s;"
            + " by credential %s; plus %d unknown-resource cases%n",
        CASES.get(), ROUTES.size(), Cred.values().length, OUTCOMES, BY_CREDENTIAL, UNKNOWN_CASES.get());
  }

  @ParameterizedTest(name = "{0} as {1}")
  @MethodSource("cases")
  void routeAsCredential(Route route, Cred cred) {
    Attempt attempt = route.prepare().apply(fx, cred);
    try {
      ApiClient caller = fx.client(cred, route, attempt);
      String before = attempt.state.get();
      Answer answer = attempt.call.apply(caller);
      Outcome expected = route.expect(cred);
      switch (expected) {
        case UNAUTHENTICATED -> assertError(answer, 401, 16, "UNAUTHENTICATED");
        case FORBIDDEN -> {
          assertError(answer, 403, 7, "PERMISSION_DENIED");
          String message = answer.json().get("message").asText();
          assertTrue(message.contains("needs role " + route.role() + " on "), () -> "names the role: " + message);
        }
        case FILTERED -> attempt.filtered.accept(answer);
        case ALLOWED -> attempt.allowed.accept(answer);
      }
      if (expected != Outcome.ALLOWED) {
        assertEquals(before, attempt.state.get(), "a refused request changes nothing");
        attempt.nothingHappened.run();
      }
      CASES.incrementAndGet();
      synchronized (OUTCOMES) {
        OUTCOMES.computeIfAbsent(expected.name(), k -> new AtomicInteger()).incrementAndGet();
        BY_CREDENTIAL.computeIfAbsent(cred, k -> new AtomicInteger()).incrementAndGet();
      }
    } finally {
      attempt.cleanup.run();
    }
  }

  static void assertError(Answer answer, int http, int code, String status) {
    assertEquals(http, answer.status(), () -> "HTTP status; body: " + answer.text());
    assertNotNull(answer.json(), () -> "a JSON error body: " + answer.text());
    assertEquals(code, answer.json().get("code").asInt(), answer.text());
    assertEquals(status, answer.json().get("status").asText(), answer.text());
    assertFalse(answer.json().get("message").asText().isBlank(), answer.text());
  }

  /**
   * What the code does for a valid key without roles: 403 on what exists (the message names the
   * role and the resource), 404 on what does not — the same 404 the administrator gets. (So a
   * caller without roles can tell whether an id exists; the reference's behaviour here is not
   * documented.)
   */
  @Test
  void unknownResourcesAreNotFoundForACallerWithoutRoles() {
    ApiClient nobody = fx.admin.withKey(fx.keyWith(List.of()));
    String registry = REGISTRIES + "/crtnosuchregistry000";
    for (ApiClient caller : List.of(nobody, fx.admin)) {
      for (Answer a : List.of(
          caller.get(CLOUDS + "/b1cnosuchcloud000000"),
          caller.get(FOLDERS + "/b1gnosuchfolder00000"),
          caller.get(registry),
          caller.delete(registry),
          caller.get(registry + ":listAccessBindings"),
          caller.post(registry + ":updateAccessBindings", object().set("accessBindingDeltas", ApiClient.JSON.createArrayNode()
              .add(object().put("action", "ADD").set("accessBinding", object().put("roleId", VIEWER)
                  .set("subject", object().put("id", fx.user).put("type", "userAccount")))))),
          caller.get(registry + "/operations"),
          caller.get(GATEWAYS + "/d4enosuchgateway0000/connections"),
          caller.get(TRIGGERS + "/a1snosuchtrigger0000"),
          caller.post(TRIGGERS + "/a1snosuchtrigger0000:pause", object()),
          caller.get("/operations/opnosuchoperation000"),
          caller.get(CONNECTIONS + "cmnnosuchconnection0"),
          caller.get(KEYS + "/ajknosuchkey00000000"),
          caller.post(registry + "/events", object().set("events", ApiClient.JSON.createArrayNode())))) {
        assertError(a, 404, 5, "NOT_FOUND");
        UNKNOWN_CASES.incrementAndGet();
      }
    }
    // the same caller on what exists: 403
    assertError(nobody.get(REGISTRIES + "/" + fx.s.registryId()), 403, 7, "PERMISSION_DENIED");

    // a trigger naming what does not exist: 404 on the field, for an editor of the folder and the administrator
    ApiClient editor = fx.admin.withKey(fx.keyWith(List.of(new Grant(EDITOR, fx.folderPath()))));
    String cr = "rule.containerRegistry.";
    Map<String, ObjectNode> missing = new TreeMap<>();
    missing.put(cr + "registryId", fx.triggerBody(uniqueName("mx"), "crtnosuchregistry000", fx.s.serviceAccountId()));
    missing.put(cr + "gatewayWebsocketBroadcast.serviceAccountId",
        fx.triggerBody(uniqueName("mx"), fx.s.registryId(), "ajenosuchaccount0000"));
    ObjectNode noGateway = fx.triggerBody(uniqueName("mx"));
    ((ObjectNode) noGateway.get("rule").get("containerRegistry").get("gatewayWebsocketBroadcast"))
        .put("gatewayId", "d4enosuchgateway0000");
    missing.put(cr + "gatewayWebsocketBroadcast.gatewayId", noGateway);
    for (ApiClient caller : List.of(editor, fx.admin)) {
      missing.forEach((field, body) -> {
        Answer a = caller.post(TRIGGERS, body);
        assertError(a, 404, 5, "NOT_FOUND");
        assertEquals(field, a.json().get("details").get(0).get("field").asText(), a.text());
        UNKNOWN_CASES.incrementAndGet();
      });
    }
  }
}

package io.regcast.api;

import static io.regcast.api.ApiSupport.respond;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.catalog.CatalogEntity;
import io.regcast.gateway.ConnectionInfo;
import io.regcast.gateway.Connections;
import io.regcast.model.Problem;
import io.regcast.model.ResourceKind;
import io.regcast.model.Role;
import io.regcast.model.Subject;
import io.regcast.model.Violations;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The reference's WebSocket connections API ({@code /apigateways/websocket/v1/connections/{id}}:
 * get, {@code :send}, disconnect) and a gateway's connection list, for connections on any node.
 */
final class ConnectionRoutes {
  static final int MAX_SEND_BYTES = 131072;
  private static final String BASE = "apigateways/websocket/v1/connections";

  private final Connections connections;
  private final CatalogClient catalog;
  private final ApiSupport support;
  private final Authorizer authorizer;

  ConnectionRoutes(Connections connections, CatalogClient catalog, ApiSupport support, Authorizer authorizer) {
    this.connections = connections;
    this.catalog = catalog;
    this.support = support;
    this.authorizer = authorizer;
  }

  /** The connection, if the caller may write to its gateway (websocketWriter or above). */
  private CompletionStage<Optional<ConnectionInfo>> writable(Subject caller, String id) {
    return connections.get(id).thenApply(c -> {
      c.ifPresent(info -> authorizer.require(caller, Role.WEBSOCKET_WRITER, ResourceKind.GATEWAY, info.gatewayId()));
      return c;
    });
  }

  Route route() {
    return Authorizer.caller(caller -> concat(
        pathPrefix(
            ResourceRoutes.matcher(BASE),
            () ->
                concat(
                    path(
                        PathMatchers.segment(Pattern.compile("(.+):send")),
                        id -> post(() -> support.jsonBody(body -> send(caller, id, body)))),
                    path(
                        PathMatchers.segment(),
                        id ->
                            concat(
                                get(() -> respond(() -> writable(caller, id).thenApply(c -> found(id, c)))),
                                delete(
                                    () ->
                                        respond(
                                            () ->
                                                writable(caller, id)
                                                    .thenCompose(c -> c.isEmpty()
                                                        ? java.util.concurrent.CompletableFuture.completedFuture(c)
                                                        : connections.disconnect(id))
                                                    .thenApply(c -> empty(id, c)))))))),
        path(
            ResourceRoutes.matcher("apigateways/v1/apigateways").slash(PathMatchers.segment()).slash("connections"),
            gatewayId -> get(() -> respond(() -> list(caller, gatewayId))))));
  }

  private CompletionStage<HttpResponse> send(Subject caller, String id, JsonNode body) {
    Violations v = new Violations();
    JsonFields fields = JsonFields.root(body, v).allowOnly(Set.of("data", "type"));
    String data = fields.string("data");
    String type = fields.string("type");
    v.check(data != null, "data", "is required (base64)");
    v.check(type == null || type.equals("TEXT") || type.equals("BINARY"), "type", "must be TEXT or BINARY");
    byte[] payload = null;
    if (data != null) {
      try {
        payload = Base64.getDecoder().decode(data);
        v.check(payload.length <= MAX_SEND_BYTES, "data", "must decode to at most " + MAX_SEND_BYTES + " bytes");
      } catch (IllegalArgumentException e) {
        v.add("data", "must be base64: " + e.getMessage());
      }
    }
    boolean text = type == null || type.equals("TEXT");
    if (text && payload != null && !isUtf8(payload)) {
      v.add("data", "a TEXT message must be UTF-8 once decoded; send invalid text as BINARY");
    }
    v.throwIfAny();
    byte[] message = payload;
    return writable(caller, id)
        .thenCompose(c -> c.isEmpty()
            ? java.util.concurrent.CompletableFuture.completedFuture(c)
            : connections.send(id, text, message))
        .thenApply(c -> empty(id, c));
  }

  private static boolean isUtf8(byte[] bytes) {
    try {
      StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  private CompletionStage<HttpResponse> list(Subject caller, String gatewayId) {
    authorizer.require(caller, Role.WEBSOCKET_WRITER, ResourceKind.GATEWAY, gatewayId);
    return catalog
        .ask(r -> new CatalogEntity.Get(ResourceKind.GATEWAY, gatewayId, r), CatalogEntity.Found.class)
        .thenCompose(found -> connections.ofGateway(gatewayId))
        .thenApply(
            list -> {
              ObjectNode out = ResourceJson.NODES.objectNode();
              var items = out.putArray("connections");
              list.forEach(c -> items.add(write(c)));
              return ApiJson.ok(out);
            });
  }

  private static HttpResponse found(String id, Optional<ConnectionInfo> connection) {
    return ApiJson.ok(write(connection.orElseThrow(() -> gone(id))));
  }

  private static HttpResponse empty(String id, Optional<ConnectionInfo> connection) {
    connection.orElseThrow(() -> gone(id));
    return ApiJson.ok(ResourceJson.NODES.objectNode());
  }

  private static RuntimeException gone(String id) {
    return Problem.of(Problem.Kind.NOT_FOUND, "connection " + id + " not found (closed, or never opened)")
        .toException();
  }

  private static ObjectNode write(ConnectionInfo c) {
    ObjectNode out = ResourceJson.NODES.objectNode();
    out.put("id", c.id());
    out.put("gatewayId", c.gatewayId());
    out.putObject("identity").put("sourceIp", c.sourceIp()).put("userAgent", c.userAgent());
    out.put("connectedAt", c.connectedAt().toString());
    out.put("lastActiveAt", c.lastActiveAt().toString());
    return out;
  }

}

package io.regcast.gateway;

import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.regcast.model.JsonSerializable;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * The control plane of one node's connections, registered with the receptionist so that the
 * connections API on any node reaches the node that holds a connection. It reads the data plane's
 * registry and hands sends and disconnects to the connection's event loop; it never waits on Netty.
 */
public final class ConnectionManager {
  public static final ServiceKey<Command> SERVICE_KEY =
      ServiceKey.create(Command.class, "regcast-connections");

  private ConnectionManager() {}

  public sealed interface Command extends JsonSerializable {}

  public record Get(String connectionId, ActorRef<Found> replyTo) implements Command {}

  /** Send one message; the reply carries the connection as it was (null: not here). */
  public record Send(String connectionId, boolean text, byte[] payload, ActorRef<Found> replyTo)
      implements Command {}

  /** Close with 1000. */
  public record Disconnect(String connectionId, ActorRef<Found> replyTo) implements Command {}

  public record ListOfGateway(String gatewayId, ActorRef<Listed> replyTo) implements Command {}

  /** The connection, or null when this node does not hold it. */
  public record Found(ConnectionInfo connection) implements JsonSerializable {
    public Optional<ConnectionInfo> asOptional() {
      return Optional.ofNullable(connection);
    }
  }

  public record Listed(List<ConnectionInfo> connections) implements JsonSerializable {}

  public static Behavior<Command> create(GatewayServer server) {
    return Behaviors.setup(
        ctx -> {
          ctx.getSystem().receptionist().tell(Receptionist.register(SERVICE_KEY, ctx.getSelf()));
          return Behaviors.receive(Command.class)
              .onMessage(Get.class, m -> reply(m.replyTo(), server.connection(m.connectionId())))
              .onMessage(
                  Send.class,
                  m -> {
                    Optional<ConnectionInfo> c = server.connection(m.connectionId());
                    c.ifPresent(info -> server.send(m.connectionId(), m.text(), m.payload()));
                    return reply(m.replyTo(), c);
                  })
              .onMessage(
                  Disconnect.class,
                  m -> {
                    Optional<ConnectionInfo> c = server.connection(m.connectionId());
                    c.ifPresent(
                        info -> server.disconnect(
                            m.connectionId(), WebSocketCloseStatus.NORMAL_CLOSURE.code(), "disconnected"));
                    return reply(m.replyTo(), c);
                  })
              .onMessage(
                  ListOfGateway.class,
                  m -> {
                    m.replyTo().tell(new Listed(server.connectionsOf(m.gatewayId())));
                    return Behaviors.same();
                  })
              .build();
        });
  }

  private static Behavior<Command> reply(ActorRef<Found> replyTo, Optional<ConnectionInfo> connection) {
    replyTo.tell(new Found(connection.orElse(null)));
    return Behaviors.same();
  }
}

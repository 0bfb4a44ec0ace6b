package io.regcast.gateway;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The connections API's way to any connection in the cluster: the node token in a connection id
 * picks the node's {@link ConnectionManager} among those registered with the receptionist.
 */
public final class Connections {
  private final ActorSystem<?> system;
  private final Duration timeout;

  public Connections(ActorSystem<?> system, Duration timeout) {
    this.system = system;
    this.timeout = timeout;
  }

  /** The token of this node's connection ids. */
  public static String localToken(ActorSystem<?> system) {
    return tokenOf(Cluster.get(system).selfMember().address());
  }

  private static String tokenOf(Address address) {
    return ConnectionIds.nodeToken(address.host().getOrElse(() -> "") + ":" + address.port().getOrElse(() -> 0));
  }

  public CompletionStage<Optional<ConnectionInfo>> get(String id) {
    return onHolder(id, ref -> ask(ref, r -> new ConnectionManager.Get(id, r)));
  }

  public CompletionStage<Optional<ConnectionInfo>> send(String id, boolean text, byte[] payload) {
    return onHolder(id, ref -> ask(ref, r -> new ConnectionManager.Send(id, text, payload, r)));
  }

  public CompletionStage<Optional<ConnectionInfo>> disconnect(String id) {
    return onHolder(id, ref -> ask(ref, r -> new ConnectionManager.Disconnect(id, r)));
  }

  /** A gateway's connections on every node, oldest first. */
  public CompletionStage<List<ConnectionInfo>> ofGateway(String gatewayId) {
    return managers()
        .thenCompose(
            refs -> {
              List<CompletableFuture<ConnectionManager.Listed>> answers = new ArrayList<>();
              for (ActorRef<ConnectionManager.Command> ref : refs) {
                answers.add(
                    AskPattern.<ConnectionManager.Command, ConnectionManager.Listed>ask(
                            ref, r -> new ConnectionManager.ListOfGateway(gatewayId, r), timeout, system.scheduler())
                        .toCompletableFuture());
              }
              return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
                  .thenApply(
                      done ->
                          answers.stream()
                              .flatMap(a -> a.join().connections().stream())
                              .sorted(Comparator.comparing(ConnectionInfo::connectedAt))
                              .toList());
            });
  }

  private CompletionStage<Optional<ConnectionInfo>> onHolder(
      String id,
      Function<ActorRef<ConnectionManager.Command>, CompletionStage<Optional<ConnectionInfo>>> call) {
    String token = ConnectionIds.tokenOf(id);
    if (token == null) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    Address self = Cluster.get(system).selfMember().address();
    return managers()
        .thenCompose(
            refs -> {
              for (ActorRef<ConnectionManager.Command> ref : refs) {
                Address address = ref.path().address();
                if (tokenOf(address.hasLocalScope() ? self : address).equals(token)) {
                  return call.apply(ref);
                }
              }
              return CompletableFuture.completedFuture(Optional.empty());
            });
  }

  private CompletionStage<Optional<ConnectionInfo>> ask(
      ActorRef<ConnectionManager.Command> ref,
      Function<ActorRef<ConnectionManager.Found>, ConnectionManager.Command> command) {
    return AskPattern.<ConnectionManager.Command, ConnectionManager.Found>ask(ref, command::apply, timeout, system.scheduler())
        .thenApply(ConnectionManager.Found::asOptional);
  }

  private CompletionStage<java.util.Set<ActorRef<ConnectionManager.Command>>> managers() {
    return AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
            system.receptionist(),
            r -> Receptionist.find(ConnectionManager.SERVICE_KEY, r),
            timeout,
            system.scheduler())
        .thenApply(listing -> listing.getServiceInstances(ConnectionManager.SERVICE_KEY));
  }
}

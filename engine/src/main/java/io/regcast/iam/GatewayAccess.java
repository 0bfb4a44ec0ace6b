package io.regcast.iam;

import io.regcast.gateway.ConnectAuthorizer;
import io.regcast.model.Role;
import io.regcast.model.Subject;
import io.regcast.trigger.TriggerEntity;
import java.util.Optional;

/**
 * Who may use a gateway's paths, from this node's access data: a client presenting a key opens a
 * connection on a gateway that requires one when the key's owner may view the gateway; a
 * trigger's service account broadcasts to it while it holds {@code
 * api-gateway.websocketBroadcaster} on it (checked again for every batch).
 */
public final class GatewayAccess implements ConnectAuthorizer, TriggerEntity.BroadcastPermission {
  private final AccessMirror access;

  public GatewayAccess(AccessMirror access) {
    this.access = access;
  }

  /** The key from the {@code Authorization} header, else from the query. */
  @Override
  public Verdict check(String gatewayId, String authorization, String queryKey) {
    Optional<String> secret = ApiKeySecrets.fromAuthorization(authorization).or(() -> Optional.ofNullable(queryKey));
    Optional<Subject> caller = secret.flatMap(access.view()::authenticate);
    if (caller.isEmpty()) {
      return Verdict.UNAUTHENTICATED;
    }
    return access.view().allows(caller.get(), Role.VIEWER, gatewayId) ? Verdict.ALLOWED : Verdict.FORBIDDEN;
  }

  @Override
  public boolean allows(String serviceAccountId, String gatewayId) {
    return access.view().allows(
        new Subject(serviceAccountId, Subject.Type.SERVICE_ACCOUNT), Role.WEBSOCKET_BROADCASTER, gatewayId);
  }

  /** Until the access data has arrived once, batches wait rather than being dropped. */
  @Override
  public boolean ready() {
    return access.loaded();
  }
}

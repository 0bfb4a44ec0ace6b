package io.regcast.gateway;

/**
 * Decides whether a client may connect to a gateway that requires an API key: the key must be
 * valid and its owner must be allowed to view the gateway. The node answers it from its access
 * mirror, on Netty's thread, without waiting.
 */
@FunctionalInterface
public interface ConnectAuthorizer {
  ConnectAuthorizer ALLOW_ALL = (gatewayId, authorization, queryKey) -> Verdict.ALLOWED;

  enum Verdict {
    ALLOWED,
    /** No key, or not a valid one: 401. */
    UNAUTHENTICATED,
    /** A valid key whose owner may not view the gateway: 403. */
    FORBIDDEN
  }

  /**
   * {@code authorization} is the request's {@code Authorization} header, {@code queryKey} its
   * {@code ?apiKey=} (browsers cannot set headers); each null when absent.
   */
  Verdict check(String gatewayId, String authorization, String queryKey);
}

package io.regcast.model;

/** Where a trigger's batches go: a gateway path, sent as a service account. */
public record BroadcastTarget(String gatewayId, String path, String serviceAccountId)
    implements JsonSerializable {

  public BroadcastTarget {
    Violations v = new Violations();
    check(v, gatewayId, path, serviceAccountId);
    v.throwIfAny();
  }

  public static void check(Violations v, String gatewayId, String path, String serviceAccountId) {
    Ids.checkReference(v, "gatewayId", gatewayId);
    Ids.checkReference(v, "serviceAccountId", serviceAccountId);
    if (v.check(path != null && !path.isEmpty(), "path", "is required")) {
      GatewayPaths.check(v, "path", path);
    }
  }
}

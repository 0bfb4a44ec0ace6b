package io.regcast.registry;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.regcast.model.EventType;
import io.regcast.model.JsonSerializable;
import io.regcast.model.TraceContext;
import java.time.Instant;

/**
 * A raw operation on a registry, as ingest hands it over: what a Distribution notification or a
 * native CR event says happened. {@code sourceId} is the sender's event id (the dedupe key);
 * {@code at} its timestamp; {@code trace} may be null.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "op")
@JsonSubTypes({
  @JsonSubTypes.Type(value = RegistryOp.ManifestPushed.class, name = "manifestPushed"),
  @JsonSubTypes.Type(value = RegistryOp.ManifestDeleted.class, name = "manifestDeleted"),
  @JsonSubTypes.Type(value = RegistryOp.TagDeleted.class, name = "tagDeleted"),
  @JsonSubTypes.Type(value = RegistryOp.Native.class, name = "native")
})
public sealed interface RegistryOp extends JsonSerializable {
  String sourceId();

  Instant at();

  String repository();

  TraceContext trace();

  /** A manifest (image or index) pushed, with the tag it was pushed under ("" for by digest). */
  record ManifestPushed(
      String sourceId, Instant at, String repository, String digest, String tag, TraceContext trace)
      implements RegistryOp {}

  /** A manifest deleted by digest (a blob delete looks the same: unknown digests are ignored). */
  record ManifestDeleted(
      String sourceId, Instant at, String repository, String digest, TraceContext trace)
      implements RegistryOp {}

  /** A tag deleted. */
  record TagDeleted(String sourceId, Instant at, String repository, String tag, TraceContext trace)
      implements RegistryOp {}

  /** An already-typed CR event: applied to the index and passed on as it is. */
  record Native(
      String sourceId,
      Instant at,
      EventType type,
      String repository,
      String digest,
      String tag,
      TraceContext trace)
      implements RegistryOp {}
}

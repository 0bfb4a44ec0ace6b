package io.regcast.model;

import java.time.Instant;
import java.util.List;

/**
 * One container registry event as a trigger sees it: what its filter tests and its message
 * renders. {@code repository} is the image name without the registry prefix; {@code imageTags} are
 * the tags a deleted image had (used by the tag filter, not rendered); {@code trace} may be null.
 * {@code ingestedAt} is when regcast took the ingest request that carried it (for the
 * ingest-to-socket latency; not rendered; null in journals written before it was recorded).
 */
public record CrEvent(
    String eventId,
    EventType type,
    String registryId,
    String folderId,
    String cloudId,
    String repository,
    String imageDigest,
    String imageId,
    String tag,
    List<String> imageTags,
    Instant createdAt,
    TraceContext trace,
    Instant ingestedAt)
    implements JsonSerializable {

  public CrEvent {
    imageTags = imageTags == null ? List.of() : List.copyOf(imageTags);
    tag = tag == null ? "" : tag;
  }

  /** {@code <registryId>/<image name>}, as the message shows it. */
  public String repositoryName() {
    return registryId + "/" + repository;
  }
}

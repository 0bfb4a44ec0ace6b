package io.regcast.registry;

import io.regcast.model.EventType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a registry holds: per repository, each image (manifest digest) with its tags in the order
 * they were created. {@link #apply} turns a raw operation into the CR events it means (a push:
 * CreateImage for a new digest, then for a tag DeleteImageTag off the image it moved from and
 * CreateImageTag; an image delete: DeleteImage, then DeleteImageTag per tag it had; repeats and
 * unknown digests or tags: nothing; typed events pass as they are) and updates the index. Mutable:
 * it lives inside {@link RegistryEntity}'s state and is changed only by its event handler; {@link
 * #copy()} gives the immutable form snapshots store.
 */
final class ImageIndex {
  /** repository → digest → tags in creation order. */
  private final Map<String, LinkedHashMap<String, List<String>>> images = new HashMap<>();
  /** repository → tag → digest. */
  private final Map<String, Map<String, String>> tags = new HashMap<>();

  /** One derived event, before it gets its ids. */
  record Derived(EventType type, String repository, String digest, String tag, List<String> imageTags) {}

  List<Derived> apply(RegistryOp op) {
    List<Derived> out = new ArrayList<>();
    if (op instanceof RegistryOp.ManifestPushed p) {
      push(p.repository(), p.digest(), p.tag(), out);
    } else if (op instanceof RegistryOp.ManifestDeleted d) {
      deleteImage(d.repository(), d.digest(), out);
    } else if (op instanceof RegistryOp.TagDeleted t) {
      deleteTag(t.repository(), t.tag(), out);
    } else if (op instanceof RegistryOp.Native n) {
      applyNative(n, out);
    }
    return out;
  }

  private void push(String repo, String digest, String tag, List<Derived> out) {
    var repoImages = images.computeIfAbsent(repo, r -> new LinkedHashMap<>());
    if (!repoImages.containsKey(digest)) {
      repoImages.put(digest, new ArrayList<>());
      out.add(new Derived(EventType.CREATE_IMAGE, repo, digest, tag, List.of()));
    }
    if (tag.isEmpty()) {
      return;
    }
    var repoTags = tags.computeIfAbsent(repo, r -> new HashMap<>());
    String previous = repoTags.get(tag);
    if (digest.equals(previous)) {
      return;
    }
    if (previous != null) {
      repoImages.get(previous).remove(tag);
      out.add(new Derived(EventType.DELETE_IMAGE_TAG, repo, previous, tag, List.of()));
    }
    repoTags.put(tag, digest);
    repoImages.get(digest).add(tag);
    out.add(new Derived(EventType.CREATE_IMAGE_TAG, repo, digest, tag, List.of()));
  }

  private void deleteImage(String repo, String digest, List<Derived> out) {
    var repoImages = images.get(repo);
    List<String> imageTags = repoImages == null ? null : repoImages.remove(digest);
    if (imageTags == null) {
      return; // not a manifest we know: a blob delete, or a repeat
    }
    out.add(new Derived(EventType.DELETE_IMAGE, repo, digest, "", List.copyOf(imageTags)));
    var repoTags = tags.get(repo);
    for (String tag : imageTags) {
      repoTags.remove(tag);
      out.add(new Derived(EventType.DELETE_IMAGE_TAG, repo, digest, tag, List.of()));
    }
    dropIfEmpty(repo);
  }

  private void deleteTag(String repo, String tag, List<Derived> out) {
    var repoTags = tags.get(repo);
    String digest = repoTags == null ? null : repoTags.remove(tag);
    if (digest == null) {
      return; // already gone with its image: the registry's trailing tag deletes add nothing
    }
    images.get(repo).get(digest).remove(tag);
    out.add(new Derived(EventType.DELETE_IMAGE_TAG, repo, digest, tag, List.of()));
  }

  /** A typed event passes as it is; the index follows it where it can. */
  private void applyNative(RegistryOp.Native n, List<Derived> out) {
    String repo = n.repository();
    List<String> imageTags = List.of();
    switch (n.type()) {
      case CREATE_IMAGE -> images.computeIfAbsent(repo, r -> new LinkedHashMap<>())
          .putIfAbsent(n.digest(), new ArrayList<>());
      case CREATE_IMAGE_TAG -> {
        var repoImages = images.computeIfAbsent(repo, r -> new LinkedHashMap<>());
        repoImages.putIfAbsent(n.digest(), new ArrayList<>());
        String previous = tags.computeIfAbsent(repo, r -> new HashMap<>()).put(n.tag(), n.digest());
        if (previous != null && !previous.equals(n.digest()) && repoImages.containsKey(previous)) {
          repoImages.get(previous).remove(n.tag());
        }
        if (!repoImages.get(n.digest()).contains(n.tag())) {
          repoImages.get(n.digest()).add(n.tag());
        }
      }
      case DELETE_IMAGE_TAG -> {
        var repoTags = tags.get(repo);
        String digest = repoTags == null ? null : repoTags.remove(n.tag());
        if (digest != null) {
          images.get(repo).get(digest).remove(n.tag());
        }
      }
      case DELETE_IMAGE -> {
        var repoImages = images.get(repo);
        List<String> removed = repoImages == null ? null : repoImages.remove(n.digest());
        if (removed != null) {
          imageTags = List.copyOf(removed);
          removed.forEach(tags.get(repo)::remove);
          dropIfEmpty(repo);
        }
      }
    }
    out.add(new Derived(n.type(), repo, n.digest(), n.tag(), imageTags));
  }

  /**
   * One way the index differs from what the registry showed, as the raw operation that mends it:
   * applying it derives exactly the events live ingest would have derived for that change.
   */
  record Difference(Kind kind, String repository, String digest, String tag) {
    enum Kind {
      /** A known manifest the registry no longer has: its image and tags are deleted. */
      IMAGE_GONE,
      /** A known tag the registry no longer has. */
      TAG_GONE,
      /** A tag the registry has and the index lacks or points elsewhere: a push under that tag. */
      TAG_SET
    }

    RegistryOp toOp(String sourceId, Instant at) {
      return switch (kind) {
        case IMAGE_GONE -> new RegistryOp.ManifestDeleted(sourceId, at, repository, digest, null);
        case TAG_GONE -> new RegistryOp.TagDeleted(sourceId, at, repository, tag, null);
        case TAG_SET -> new RegistryOp.ManifestPushed(sourceId, at, repository, digest, tag, null);
      };
    }
  }

  /**
   * The order a reconcile sets tags in. The registry does not say in which order an image's tags
   * were pushed, and an image's CreateImage event carries the tag it was first pushed under: name
   * order, with {@code latest} last, matches the usual push of a version followed by latest.
   */
  private static final java.util.Comparator<String> LIKELY_PUSH_ORDER =
      java.util.Comparator.comparing((String tag) -> tag.equals("latest")).thenComparing(java.util.Comparator.naturalOrder());

  /** repository → the digests known there (what a reconcile asks the registry about). */
  Map<String, Set<String>> digests() {
    Map<String, Set<String>> out = new HashMap<>();
    images.forEach((repo, digests) -> out.put(repo, Set.copyOf(digests.keySet())));
    return out;
  }

  /**
   * What would turn this index into what the registry showed, repository by repository (in name
   * order, those in {@code skip} left out): gone images first, then gone tags, then tags set (in
   * {@link #LIKELY_PUSH_ORDER}). Each difference is worked out on a scratch copy after the ones before it, so a
   * deleted image's tags are not deleted twice.
   */
  List<Difference> differences(RegistryObservation seen, Set<String> skip) {
    ImageIndex scratch = restore(copy());
    TreeSet<String> repos = new TreeSet<>(images.keySet());
    repos.addAll(seen.tags().keySet());
    repos.removeAll(skip);
    List<Difference> out = new ArrayList<>();
    for (String repo : repos) {
      for (String digest : List.copyOf(scratch.images.getOrDefault(repo, new LinkedHashMap<>()).keySet())) {
        if (seen.isGone(repo, digest)) {
          scratch.record(new Difference(Difference.Kind.IMAGE_GONE, repo, digest, ""), out);
        }
      }
      Map<String, String> observed = seen.tags().getOrDefault(repo, Map.of());
      for (String tag : new TreeSet<>(scratch.tags.getOrDefault(repo, Map.of()).keySet())) {
        if (!observed.containsKey(tag)) {
          scratch.record(new Difference(Difference.Kind.TAG_GONE, repo, "", tag), out);
        }
      }
      TreeMap<String, String> inPushOrder = new TreeMap<>(LIKELY_PUSH_ORDER);
      inPushOrder.putAll(observed);
      inPushOrder.forEach((tag, digest) -> {
        if (!digest.equals(scratch.tags.getOrDefault(repo, Map.of()).get(tag))) {
          scratch.record(new Difference(Difference.Kind.TAG_SET, repo, digest, tag), out);
        }
      });
    }
    return out;
  }

  private void record(Difference difference, List<Difference> out) {
    apply(difference.toOp("", Instant.EPOCH));
    out.add(difference);
  }

  private void dropIfEmpty(String repo) {
    if (images.get(repo).isEmpty()) {
      images.remove(repo);
      tags.remove(repo);
    }
  }

  /** repository → digest → tags, immutable (for snapshots and tests). */
  Map<String, Map<String, List<String>>> copy() {
    Map<String, Map<String, List<String>>> out = new HashMap<>();
    images.forEach(
        (repo, digests) -> {
          Map<String, List<String>> copy = new LinkedHashMap<>();
          digests.forEach((digest, t) -> copy.put(digest, List.copyOf(t)));
          out.put(repo, java.util.Collections.unmodifiableMap(copy));
        });
    return java.util.Collections.unmodifiableMap(out);
  }

  static ImageIndex restore(Map<String, Map<String, List<String>>> saved) {
    ImageIndex index = new ImageIndex();
    saved.forEach(
        (repo, digests) -> {
          var repoImages = new LinkedHashMap<String, List<String>>();
          var repoTags = new HashMap<String, String>();
          digests.forEach(
              (digest, t) -> {
                repoImages.put(digest, new ArrayList<>(t));
                t.forEach(tag -> repoTags.put(tag, digest));
              });
          index.images.put(repo, repoImages);
          index.tags.put(repo, repoTags);
        });
    return index;
  }
}

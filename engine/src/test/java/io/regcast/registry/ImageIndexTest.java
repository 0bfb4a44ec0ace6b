package io.regcast.registry;

import static io.regcast.model.EventType.CREATE_IMAGE;
import static io.regcast.model.EventType.CREATE_IMAGE_TAG;
import static io.regcast.model.EventType.DELETE_IMAGE;
import static io.regcast.model.EventType.DELETE_IMAGE_TAG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.regcast.ingest.IngestFormats;
import io.regcast.model.EventType;
import io.regcast.registry.ImageIndex.Derived;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * How raw registry operations map to CR events: sequences of raw operations and the exact CR events
 * the index derives from them, in order.
 */
class ImageIndexTest {
  private static final Instant AT = Instant.parse("2026-11-28T13:55:53.043627551Z");
  private static final String REPO = "demo/hello";
  private static final String OTHER_REPO = "other/hello";
  private static final String D1 = "sha256:" + "1".repeat(64);
  private static final String D2 = "sha256:" + "2".repeat(64);
  private static final String D3 = "sha256:" + "3".repeat(64);

  private final ImageIndex index = new ImageIndex();
  private int ids;

  // ---- operations ----

  private RegistryOp push(String repo, String digest, String tag) {
    return new RegistryOp.ManifestPushed("src-" + ++ids, AT, repo, digest, tag, null);
  }

  private RegistryOp deleteManifest(String repo, String digest) {
    return new RegistryOp.ManifestDeleted("src-" + ++ids, AT, repo, digest, null);
  }

  private RegistryOp deleteTag(String repo, String tag) {
    return new RegistryOp.TagDeleted("src-" + ++ids, AT, repo, tag, null);
  }

  private RegistryOp nativeOp(EventType type, String repo, String digest, String tag) {
    return new RegistryOp.Native("src-" + ++ids, AT, type, repo, digest, tag, null);
  }

  private static Derived derived(EventType type, String repo, String digest, String tag, String... imageTags) {
    return new Derived(type, repo, digest, tag, List.of(imageTags));
  }

  /** Applies every operation, returning what the last one derived. */
  private List<Derived> apply(RegistryOp... ops) {
    List<Derived> last = List.of();
    for (RegistryOp op : ops) {
      last = index.apply(op);
    }
    return last;
  }

  private static Map<String, List<String>> images(Object... digestThenTags) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (int i = 0; i < digestThenTags.length; i += 2) {
      @SuppressWarnings("unchecked")
      List<String> tags = (List<String>) digestThenTags[i + 1];
      out.put((String) digestThenTags[i], tags);
    }
    return out;
  }

  // ---- push ----

  @Test
  void pushingANewImageDerivesCreateImageWithThePushTagThenCreateImageTag() {
    assertEquals(
        List.of(derived(CREATE_IMAGE, REPO, D1, "v1"), derived(CREATE_IMAGE_TAG, REPO, D1, "v1")),
        index.apply(push(REPO, D1, "v1")));
    assertEquals(Map.of(REPO, images(D1, List.of("v1"))), index.copy());
  }

  @Test
  void pushingAKnownImageUnderANewTagDerivesOnlyCreateImageTag() {
    apply(push(REPO, D1, "v1"));
    assertEquals(List.of(derived(CREATE_IMAGE_TAG, REPO, D1, "latest")), index.apply(push(REPO, D1, "latest")));
    assertEquals(Map.of(REPO, images(D1, List.of("v1", "latest"))), index.copy());
  }

  @Test
  void pushingAKnownImageUnderATagItAlreadyHasDerivesNothing() {
    apply(push(REPO, D1, "v1"), push(REPO, D1, "latest"));
    assertEquals(List.of(), index.apply(push(REPO, D1, "v1")));
    assertEquals(List.of(), index.apply(push(REPO, D1, "latest")));
    assertEquals(Map.of(REPO, images(D1, List.of("v1", "latest"))), index.copy());
  }

  @Test
  void movingATagToANewImageDerivesCreateImageThenDeleteImageTagOnTheOldImageThenCreateImageTag() {
    apply(push(REPO, D1, "latest"), push(REPO, D1, "v1"));
    assertEquals(
        List.of(
            derived(CREATE_IMAGE, REPO, D2, "latest"),
            derived(DELETE_IMAGE_TAG, REPO, D1, "latest"),
            derived(CREATE_IMAGE_TAG, REPO, D2, "latest")),
        index.apply(push(REPO, D2, "latest")));
    assertEquals(Map.of(REPO, images(D1, List.of("v1"), D2, List.of("latest"))), index.copy());
  }

  @Test
  void anImageWhoseOnlyTagMovedAwayStaysKnownWithoutTags() {
    apply(push(REPO, D1, "latest"), push(REPO, D2, "latest"));
    assertEquals(Map.of(REPO, images(D1, List.of(), D2, List.of("latest"))), index.copy());
    // so pushing it again under a tag is not a new image
    assertEquals(List.of(derived(CREATE_IMAGE_TAG, REPO, D1, "old")), index.apply(push(REPO, D1, "old")));
  }

  @Test
  void movingATagToAnAlreadyKnownImageDerivesDeleteImageTagThenCreateImageTag() {
    apply(push(REPO, D1, "latest"), push(REPO, D2, "v2"));
    assertEquals(
        List.of(derived(DELETE_IMAGE_TAG, REPO, D1, "latest"), derived(CREATE_IMAGE_TAG, REPO, D2, "latest")),
        index.apply(push(REPO, D2, "latest")));
    assertEquals(Map.of(REPO, images(D1, List.of(), D2, List.of("v2", "latest"))), index.copy());
  }

  @Test
  void aTagMovedAwayAndBackIsCreatedAgainAndOrderedLast() {
    apply(push(REPO, D1, "a"), push(REPO, D1, "b"), push(REPO, D1, "c"), push(REPO, D2, "b"));
    assertEquals(
        List.of(derived(DELETE_IMAGE_TAG, REPO, D2, "b"), derived(CREATE_IMAGE_TAG, REPO, D1, "b")),
        index.apply(push(REPO, D1, "b")));
    assertEquals(
        List.of(
            derived(DELETE_IMAGE, REPO, D1, "", "a", "c", "b"),
            derived(DELETE_IMAGE_TAG, REPO, D1, "a"),
            derived(DELETE_IMAGE_TAG, REPO, D1, "c"),
            derived(DELETE_IMAGE_TAG, REPO, D1, "b")),
        index.apply(deleteManifest(REPO, D1)));
  }

  // ---- tagless push ----

  @Test
  void aTaglessPushDerivesCreateImageWithAnEmptyTagAndNoTagEvent() {
    assertEquals(List.of(derived(CREATE_IMAGE, REPO, D1, "")), index.apply(push(REPO, D1, "")));
    assertEquals(Map.of(REPO, images(D1, List.of())), index.copy());
  }

  @Test
  void aTaglessPushOfAKnownImageDerivesNothing() {
    apply(push(REPO, D1, "v1"));
    assertEquals(List.of(), index.apply(push(REPO, D1, "")));
    assertEquals(Map.of(REPO, images(D1, List.of("v1"))), index.copy());
  }

  @Test
  void taggingAnImageFirstPushedWithoutATagDerivesOnlyCreateImageTag() {
    apply(push(REPO, D1, ""));
    assertEquals(List.of(derived(CREATE_IMAGE_TAG, REPO, D1, "v1")), index.apply(push(REPO, D1, "v1")));
  }

  // ---- delete ----

  @Test
  void deletingAnImageWithTwoTagsDerivesDeleteImageThenDeleteImageTagPerTagInCreationOrder() {
    // created "v2" first, then "latest": creation order, not alphabetical
    apply(push(REPO, D1, "v2"), push(REPO, D1, "latest"));
    assertEquals(
        List.of(
            derived(DELETE_IMAGE, REPO, D1, "", "v2", "latest"),
            derived(DELETE_IMAGE_TAG, REPO, D1, "v2"),
            derived(DELETE_IMAGE_TAG, REPO, D1, "latest")),
        index.apply(deleteManifest(REPO, D1)));
    assertEquals(Map.of(), index.copy());
  }

  @Test
  void theRegistrysTrailingTagDeletesAfterAManifestDeleteAddNothing() {
    apply(push(REPO, D1, "v2"), push(REPO, D1, "latest"), deleteManifest(REPO, D1));
    assertEquals(List.of(), index.apply(deleteTag(REPO, "v2")));
    assertEquals(List.of(), index.apply(deleteTag(REPO, "latest")));
    assertEquals(Map.of(), index.copy());
  }

  @Test
  void deletingAnImageWithoutTagsDerivesOnlyDeleteImage() {
    apply(push(REPO, D1, ""));
    assertEquals(List.of(derived(DELETE_IMAGE, REPO, D1, "")), index.apply(deleteManifest(REPO, D1)));
  }

  @Test
  void deletingAnImageLeavesTheOtherImagesOfItsRepository() {
    apply(push(REPO, D1, "v1"), push(REPO, D2, "v2"));
    apply(deleteManifest(REPO, D1));
    assertEquals(Map.of(REPO, images(D2, List.of("v2"))), index.copy());
    // the deleted image's tag is free: pushing it derives no DeleteImageTag
    assertEquals(
        List.of(derived(CREATE_IMAGE, REPO, D3, "v1"), derived(CREATE_IMAGE_TAG, REPO, D3, "v1")),
        index.apply(push(REPO, D3, "v1")));
  }

  @Test
  void aBlobDeleteOfAnUnknownDigestDerivesNothing() {
    assertEquals(List.of(), index.apply(deleteManifest(REPO, D3)));
    apply(push(REPO, D1, "v1"));
    assertEquals(List.of(), index.apply(deleteManifest(REPO, D3)));
    assertEquals(Map.of(REPO, images(D1, List.of("v1"))), index.copy());
  }

  @Test
  void deletingTheSameImageTwiceDerivesNothingTheSecondTime() {
    apply(push(REPO, D1, "v1"), deleteManifest(REPO, D1));
    assertEquals(List.of(), index.apply(deleteManifest(REPO, D1)));
  }

  @Test
  void aDeletedImagePushedAgainIsANewImage() {
    apply(push(REPO, D1, "v1"), deleteManifest(REPO, D1));
    assertEquals(
        List.of(derived(CREATE_IMAGE, REPO, D1, "v1"), derived(CREATE_IMAGE_TAG, REPO, D1, "v1")),
        index.apply(push(REPO, D1, "v1")));
  }

  @Test
  void aTagDeleteBeforeTheManifestDeleteDerivesDeleteImageTagAndTheManifestDeleteOnlyTheRemainingTags() {
    apply(push(REPO, D1, "t1"), push(REPO, D1, "t2"));
    assertEquals(List.of(derived(DELETE_IMAGE_TAG, REPO, D1, "t1")), index.apply(deleteTag(REPO, "t1")));
    assertEquals(Map.of(REPO, images(D1, List.of("t2"))), index.copy());
    assertEquals(
        List.of(derived(DELETE_IMAGE, REPO, D1, "", "t2"), derived(DELETE_IMAGE_TAG, REPO, D1, "t2")),
        index.apply(deleteManifest(REPO, D1)));
    assertEquals(List.of(), index.apply(deleteTag(REPO, "t2")));
  }

  @Test
  void deletingAnUnknownTagDerivesNothing() {
    assertEquals(List.of(), index.apply(deleteTag(REPO, "nope")));
    apply(push(REPO, D1, "v1"));
    assertEquals(List.of(), index.apply(deleteTag(REPO, "nope")));
    assertEquals(List.of(), index.apply(deleteTag(OTHER_REPO, "v1")));
  }

  // ---- repositories ----

  @Test
  void theSameDigestInTwoRepositoriesIsTwoImages() {
    assertEquals(
        List.of(derived(CREATE_IMAGE, REPO, D1, "v1"), derived(CREATE_IMAGE_TAG, REPO, D1, "v1")),
        index.apply(push(REPO, D1, "v1")));
    assertEquals(
        List.of(derived(CREATE_IMAGE, OTHER_REPO, D1, "v1"), derived(CREATE_IMAGE_TAG, OTHER_REPO, D1, "v1")),
        index.apply(push(OTHER_REPO, D1, "v1")));
    // a tag move in one repository leaves the same tag in the other alone
    assertEquals(
        List.of(
            derived(CREATE_IMAGE, REPO, D2, "v1"),
            derived(DELETE_IMAGE_TAG, REPO, D1, "v1"),
            derived(CREATE_IMAGE_TAG, REPO, D2, "v1")),
        index.apply(push(REPO, D2, "v1")));
    assertEquals(
        List.of(derived(DELETE_IMAGE, OTHER_REPO, D1, "", "v1"), derived(DELETE_IMAGE_TAG, OTHER_REPO, D1, "v1")),
        index.apply(deleteManifest(OTHER_REPO, D1)));
    assertEquals(Map.of(REPO, images(D1, List.of(), D2, List.of("v1"))), index.copy());
  }

  // ---- native ops ----

  @Test
  void nativeOpsPassThroughAsGivenAndTheIndexFollowsThem() {
    assertEquals(
        List.of(derived(CREATE_IMAGE, REPO, D1, "v1")), index.apply(nativeOp(CREATE_IMAGE, REPO, D1, "v1")));
    assertEquals(
        List.of(derived(CREATE_IMAGE_TAG, REPO, D1, "v1")), index.apply(nativeOp(CREATE_IMAGE_TAG, REPO, D1, "v1")));
    assertEquals(
        List.of(derived(CREATE_IMAGE_TAG, REPO, D1, "latest")),
        index.apply(nativeOp(CREATE_IMAGE_TAG, REPO, D1, "latest")));
    assertEquals(Map.of(REPO, images(D1, List.of("v1", "latest"))), index.copy());
    // a Distribution manifest delete now knows the image and its tags
    assertEquals(
        List.of(
            derived(DELETE_IMAGE, REPO, D1, "", "v1", "latest"),
            derived(DELETE_IMAGE_TAG, REPO, D1, "v1"),
            derived(DELETE_IMAGE_TAG, REPO, D1, "latest")),
        index.apply(deleteManifest(REPO, D1)));
  }

  @Test
  void aNativeCreateImageTagWithoutACreateImageStillMakesTheImageKnown() {
    assertEquals(
        List.of(derived(CREATE_IMAGE_TAG, REPO, D1, "v1")), index.apply(nativeOp(CREATE_IMAGE_TAG, REPO, D1, "v1")));
    assertEquals(Map.of(REPO, images(D1, List.of("v1"))), index.copy());
    assertEquals(List.of(), index.apply(push(REPO, D1, "v1")));
  }

  @Test
  void nativeOpsPassThroughEvenWhenTheIndexSaysTheyChangeNothing() {
    apply(push(REPO, D1, "v1"));
    assertEquals(List.of(derived(CREATE_IMAGE, REPO, D1, "v1")), index.apply(nativeOp(CREATE_IMAGE, REPO, D1, "v1")));
    assertEquals(
        List.of(derived(CREATE_IMAGE_TAG, REPO, D1, "v1")), index.apply(nativeOp(CREATE_IMAGE_TAG, REPO, D1, "v1")));
    assertEquals(List.of(derived(DELETE_IMAGE, REPO, D3, "")), index.apply(nativeOp(DELETE_IMAGE, REPO, D3, "")));
    assertEquals(
        List.of(derived(DELETE_IMAGE_TAG, REPO, D3, "nope")), index.apply(nativeOp(DELETE_IMAGE_TAG, REPO, D3, "nope")));
    assertEquals(Map.of(REPO, images(D1, List.of("v1"))), index.copy());
  }

  @Test
  void aRepeatedNativeCreateImageTagKeepsTheTagsCreationOrder() {
    apply(push(REPO, D1, "a"), push(REPO, D1, "b"));
    index.apply(nativeOp(CREATE_IMAGE_TAG, REPO, D1, "a")); // a re-sent native event for a tag it already has
    assertEquals(Map.of(REPO, images(D1, List.of("a", "b"))), index.copy());
    assertEquals(
        List.of(
            derived(DELETE_IMAGE, REPO, D1, "", "a", "b"),
            derived(DELETE_IMAGE_TAG, REPO, D1, "a"),
            derived(DELETE_IMAGE_TAG, REPO, D1, "b")),
        index.apply(deleteManifest(REPO, D1)));
  }

  @Test
  void aNativeDeleteImageCarriesTheTagsTheImageHadAndTheTrailingTagDeletesAddNothing() {
    apply(push(REPO, D1, "v1"), push(REPO, D1, "latest"));
    assertEquals(
        List.of(derived(DELETE_IMAGE, REPO, D1, "", "v1", "latest")),
        index.apply(nativeOp(DELETE_IMAGE, REPO, D1, "")));
    assertEquals(Map.of(), index.copy());
    assertEquals(List.of(), index.apply(deleteTag(REPO, "v1")));
    assertEquals(List.of(), index.apply(deleteManifest(REPO, D1)));
  }

  @Test
  void aNativeDeleteImageTagLeavesOnlyTheRemainingTagsForALaterManifestDelete() {
    apply(push(REPO, D1, "v1"), push(REPO, D1, "latest"));
    assertEquals(
        List.of(derived(DELETE_IMAGE_TAG, REPO, D1, "v1")), index.apply(nativeOp(DELETE_IMAGE_TAG, REPO, D1, "v1")));
    assertEquals(
        List.of(derived(DELETE_IMAGE, REPO, D1, "", "latest"), derived(DELETE_IMAGE_TAG, REPO, D1, "latest")),
        index.apply(deleteManifest(REPO, D1)));
  }

  @Test
  void aNativeCreateImageTagMovesTheTagWithoutDerivingADeleteImageTag() {
    apply(push(REPO, D1, "latest"), push(REPO, D2, "v2"));
    assertEquals(
        List.of(derived(CREATE_IMAGE_TAG, REPO, D2, "latest")),
        index.apply(nativeOp(CREATE_IMAGE_TAG, REPO, D2, "latest")));
    assertEquals(Map.of(REPO, images(D1, List.of(), D2, List.of("v2", "latest"))), index.copy());
    // and a Distribution push moving it back sees it on D2
    assertEquals(
        List.of(derived(DELETE_IMAGE_TAG, REPO, D2, "latest"), derived(CREATE_IMAGE_TAG, REPO, D1, "latest")),
        index.apply(push(REPO, D1, "latest")));
  }

  // ---- the real captures, through IngestFormats ----

  @Test
  void theCapturedSkopeoSessionDerivesTheSemanticsTable() throws IOException {
    List<String> sequence =
        List.of(
            "push-blob", "push-manifest-v1", "pull-blob-HEAD", "push-manifest-v2", "pull-manifest",
            "pull-blob-GET", "mount-blob", "delete-manifest", "delete-tag", "delete-blob");
    List<Derived> all = new ArrayList<>();
    for (String capture : sequence) {
      for (RegistryOp op : IngestFormats.distributionEnvelope(capture(capture), null)) {
        all.addAll(index.apply(op));
      }
    }
    String v1 = "sha256:4a01fa856102e2501eb2a24950fc7ac35cb81fc178334d6770f7e5180ce3f881";
    String v2 = "sha256:6d3edb806fcfd15ecea8af7adde0a1a8c6992e2ab882e0d3e6804cc5a0d0775c";
    assertEquals(
        List.of(
            derived(CREATE_IMAGE, REPO, v1, "v1"),
            derived(CREATE_IMAGE_TAG, REPO, v1, "v1"),
            derived(CREATE_IMAGE, REPO, v2, "v2"),
            derived(CREATE_IMAGE_TAG, REPO, v2, "v2"),
            derived(DELETE_IMAGE, REPO, v1, "", "v1"),
            derived(DELETE_IMAGE_TAG, REPO, v1, "v1")),
        all);
    assertEquals(Map.of(REPO, images(v2, List.of("v2"))), index.copy());
  }

  /** A Distribution capture from the test resources. */
  static JsonNode capture(String name) throws IOException {
    try (InputStream in = ImageIndexTest.class.getResourceAsStream("/distribution-events/" + name + ".json")) {
      if (in == null) {
        throw new IOException("missing test resource " + name);
      }
      return new ObjectMapper().readTree(in);
    }
  }

  // ---- copy / restore ----

  @Test
  void copyAndRestoreRoundTripKeepsImagesTagsAndTheirOrder() {
    apply(
        push(REPO, D2, "zeta"), push(REPO, D2, "alpha"), push(REPO, D2, "mid"),
        push(REPO, D1, "one"), push(OTHER_REPO, D3, ""));
    Map<String, Map<String, List<String>>> saved = index.copy();
    assertEquals(List.of(D2, D1), List.copyOf(saved.get(REPO).keySet()));
    assertEquals(List.of("zeta", "alpha", "mid"), saved.get(REPO).get(D2));

    ImageIndex restored = ImageIndex.restore(saved);
    assertEquals(saved, restored.copy());
    assertEquals(List.of(D2, D1), List.copyOf(restored.copy().get(REPO).keySet()));
    // the tag → digest side is rebuilt too: a move and a delete derive as before the round trip
    assertEquals(
        List.of(derived(DELETE_IMAGE_TAG, REPO, D1, "one"), derived(CREATE_IMAGE_TAG, REPO, D2, "one")),
        restored.apply(push(REPO, D2, "one")));
    assertEquals(
        List.of(
            derived(DELETE_IMAGE, REPO, D2, "", "zeta", "alpha", "mid", "one"),
            derived(DELETE_IMAGE_TAG, REPO, D2, "zeta"),
            derived(DELETE_IMAGE_TAG, REPO, D2, "alpha"),
            derived(DELETE_IMAGE_TAG, REPO, D2, "mid"),
            derived(DELETE_IMAGE_TAG, REPO, D2, "one")),
        restored.apply(deleteManifest(REPO, D2)));
    assertEquals(List.of(), restored.apply(push(OTHER_REPO, D3, "")));
  }

  @Test
  void aCopyIsImmutableAndUnaffectedByLaterOperations() {
    apply(push(REPO, D1, "v1"));
    Map<String, Map<String, List<String>>> saved = index.copy();
    apply(push(REPO, D1, "v2"), push(REPO, D2, "v3"));
    assertEquals(Map.of(REPO, images(D1, List.of("v1"))), saved);
    assertThrows(UnsupportedOperationException.class, () -> saved.get(REPO).get(D1).add("x"));
    assertThrows(UnsupportedOperationException.class, () -> saved.get(REPO).put(D3, List.of()));
    assertThrows(UnsupportedOperationException.class, () -> saved.put(OTHER_REPO, Map.of()));
  }

  @Test
  void aRestoredIndexDoesNotShareStateWithItsSource() {
    apply(push(REPO, D1, "v1"));
    Map<String, Map<String, List<String>>> saved = index.copy();
    ImageIndex restored = ImageIndex.restore(saved);
    restored.apply(push(REPO, D1, "v2"));
    assertEquals(Map.of(REPO, images(D1, List.of("v1"))), saved);
    assertEquals(Map.of(REPO, images(D1, List.of("v1"))), index.copy());
  }

  // ---- reconcile: the differences with what the registry shows ----

  /**
   * What a registry holding {@code registry}'s images shows a reconcile of {@code index}: every
   * tag, and which known digests (the index's) are gone.
   */
  private static RegistryObservation observe(ImageIndex registry, ImageIndex index) {
    Map<String, Map<String, String>> tags = new HashMap<>();
    Map<String, Set<String>> gone = new HashMap<>();
    var held = registry.copy();
    held.forEach((repo, digests) -> {
      Map<String, String> repoTags = new HashMap<>();
      digests.forEach((digest, t) -> t.forEach(tag -> repoTags.put(tag, digest)));
      tags.put(repo, repoTags);
    });
    index.digests().forEach((repo, digests) -> gone.put(repo, digests.stream()
        .filter(d -> !held.getOrDefault(repo, Map.of()).containsKey(d))
        .collect(Collectors.toSet())));
    return new RegistryObservation(tags, gone);
  }

  /** Applies each difference as the entity does; returns the events they derive, in order. */
  private List<Derived> mend(List<ImageIndex.Difference> differences) {
    List<Derived> out = new ArrayList<>();
    differences.forEach(d -> out.addAll(index.apply(d.toOp("rcn-" + ++ids, AT))));
    return out;
  }

  /** Live ingest of {@code whileDown} on a copy, reconcile on {@link #index}: the same events and state. */
  private void assertReconcileMatchesLiveIngest(RegistryOp... whileDown) {
    ImageIndex live = ImageIndex.restore(index.copy());
    List<Derived> liveEvents = new ArrayList<>();
    for (RegistryOp op : whileDown) {
      liveEvents.addAll(live.apply(op));
    }
    List<Derived> reconciled = mend(index.differences(observe(live, index), Set.of()));
    assertEquals(new HashSet<>(liveEvents), new HashSet<>(reconciled), "the same events, in some order");
    assertEquals(liveEvents.size(), reconciled.size(), "each once");
    assertEquals(withoutOrder(live.copy()), withoutOrder(index.copy()), "the same images and tags");
    assertEquals(List.of(), index.differences(observe(live, index), Set.of()), "a second reconcile finds nothing");
  }

  /** repository → digest → tags as sets (a reconcile tags in name order, live ingest in push order). */
  private static Map<String, Map<String, Set<String>>> withoutOrder(Map<String, Map<String, List<String>>> images) {
    Map<String, Map<String, Set<String>>> out = new HashMap<>();
    images.forEach((repo, digests) -> {
      Map<String, Set<String>> m = new HashMap<>();
      digests.forEach((d, t) -> m.put(d, new HashSet<>(t)));
      out.put(repo, m);
    });
    return out;
  }

  @Test
  void reconcileDerivesWhatLiveIngestDerivesForPushesRetagsTagMovesAndDeletes() {
    apply(push(REPO, D1, "v1"), push(REPO, D1, "old"), push(OTHER_REPO, D2, "keep"), push(OTHER_REPO, D3, "gone"));
    assertReconcileMatchesLiveIngest(
        push(REPO, D2, "new"), // a new image: CreateImage + CreateImageTag
        push(REPO, D2, "latest"), // a retag: CreateImageTag
        push(REPO, D3, "v1"), // a tag move: CreateImage, DeleteImageTag (old image), CreateImageTag
        deleteManifest(OTHER_REPO, D3), // DeleteImage + DeleteImageTag
        deleteTag(REPO, "old")); // DeleteImageTag
  }

  @Test
  void reconcileDeletesAnImageWithAllItsTagsAndAWholeRepository() {
    apply(push(REPO, D1, "a"), push(REPO, D1, "b"), push(OTHER_REPO, D2, "x"));
    assertReconcileMatchesLiveIngest(deleteManifest(REPO, D1), deleteTag(REPO, "a"), deleteTag(REPO, "b"),
        deleteManifest(OTHER_REPO, D2));
    assertEquals(Map.of(), index.copy());
  }

  @Test
  void anUntaggedImageStillInTheRegistryIsKeptAndOneGoneIsDeleted() {
    apply(push(REPO, D1, "v1"), push(REPO, D2, ""), push(REPO, D3, ""));
    ImageIndex registry = ImageIndex.restore(index.copy());
    registry.apply(deleteTag(REPO, "v1")); // D1 untagged, still there
    registry.apply(deleteManifest(REPO, D3));
    List<ImageIndex.Difference> differences = index.differences(observe(registry, index), Set.of());
    assertEquals(
        List.of(
            new ImageIndex.Difference(ImageIndex.Difference.Kind.IMAGE_GONE, REPO, D3, ""),
            new ImageIndex.Difference(ImageIndex.Difference.Kind.TAG_GONE, REPO, "", "v1")),
        differences);
    assertEquals(List.of(derived(DELETE_IMAGE, REPO, D3, ""), derived(DELETE_IMAGE_TAG, REPO, D1, "v1")), mend(differences));
    assertEquals(Map.of(REPO, images(D1, List.of(), D2, List.of())), index.copy());
  }

  @Test
  void aGoneImageTakesItsTagsWithItBeforeTheirTagsAreSetElsewhere() {
    apply(push(REPO, D1, "v1"));
    ImageIndex registry = new ImageIndex();
    registry.apply(push(REPO, D2, "v1"));
    assertEquals(
        List.of(derived(DELETE_IMAGE, REPO, D1, "", "v1"), derived(DELETE_IMAGE_TAG, REPO, D1, "v1"),
            derived(CREATE_IMAGE, REPO, D2, "v1"), derived(CREATE_IMAGE_TAG, REPO, D2, "v1")),
        mend(index.differences(observe(registry, index), Set.of())));
  }

  @Test
  void skippedRepositoriesAreLeftAlone() {
    apply(push(REPO, D1, "v1"), push(OTHER_REPO, D1, "v1"));
    ImageIndex registry = new ImageIndex(); // both repositories emptied
    var differences = index.differences(observe(registry, index), Set.of(REPO));
    assertEquals(List.of(new ImageIndex.Difference(ImageIndex.Difference.Kind.IMAGE_GONE, OTHER_REPO, D1, "")), differences);
  }

  @Test
  void randomHistoriesReconcileToTheRegistrysStateAndThenFindNothing() {
    var random = new java.util.Random(20261128);
    List<String> repos = List.of(REPO, OTHER_REPO);
    List<String> digests = List.of(D1, D2, D3);
    List<String> tags = List.of("", "a", "b", "c");
    for (int history = 0; history < 300; history++) {
      ImageIndex known = new ImageIndex();
      ImageIndex registry = new ImageIndex();
      for (int step = 0; step < 12; step++) {
        String repo = repos.get(random.nextInt(repos.size()));
        RegistryOp op = switch (random.nextInt(4)) {
          case 0, 1 -> push(repo, digests.get(random.nextInt(3)), tags.get(random.nextInt(tags.size())));
          case 2 -> deleteManifest(repo, digests.get(random.nextInt(3)));
          default -> deleteTag(repo, tags.get(1 + random.nextInt(3)));
        };
        registry.apply(op);
        if (step < 6) {
          known.apply(op); // the first half reached regcast live, the rest did not
        }
      }
      List<ImageIndex.Difference> differences = known.differences(observe(registry, known), Set.of());
      differences.forEach(d -> known.apply(d.toOp("rcn", AT)));
      // untagged images the registry gained while regcast was down are not listed: nothing finds them
      assertEquals(withoutOrder(tagged(registry.copy())), withoutOrder(tagged(known.copy())), "history " + history);
      assertEquals(List.of(), known.differences(observe(registry, known), Set.of()), "history " + history);
    }
  }

  /** Without untagged images (a reconcile cannot see those it was not told of). */
  private static Map<String, Map<String, List<String>>> tagged(Map<String, Map<String, List<String>>> images) {
    Map<String, Map<String, List<String>>> out = new HashMap<>();
    images.forEach((repo, digests) -> digests.forEach((d, t) -> {
      if (!t.isEmpty()) {
        out.computeIfAbsent(repo, r -> new HashMap<>()).put(d, t);
      }
    }));
    return out;
  }
}

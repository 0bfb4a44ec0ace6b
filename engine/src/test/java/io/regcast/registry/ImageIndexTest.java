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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The semantics table (PRODUCT.md §2, §9): sequences of raw registry operations and the exact CR
 * events the index derives from them, in order.
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
}

package io.regcast.trigger;

import static io.regcast.model.EventType.CREATE_IMAGE;
import static io.regcast.model.EventType.CREATE_IMAGE_TAG;
import static io.regcast.model.EventType.DELETE_IMAGE;
import static io.regcast.model.EventType.DELETE_IMAGE_TAG;
import static io.regcast.trigger.CrEvents.ALL_TYPES;
import static io.regcast.trigger.CrEvents.OTHER_REGISTRY;
import static io.regcast.trigger.CrEvents.REGISTRY;
import static io.regcast.trigger.CrEvents.event;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.regcast.model.BatchSettings;
import io.regcast.model.ContainerRegistryRule;
import io.regcast.model.CrEvent;
import io.regcast.model.EventType;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The filter of a trigger's rule: event types, image name, tag — and the tag filter on image events
 * (CreateImage by its pushed tag, DeleteImage by any tag it had).
 */
class TriggerFilterTest {

  private static ContainerRegistryRule rule(List<EventType> types, String imageName, String tag) {
    return CrEvents.rule(types, imageName, tag, BatchSettings.DEFAULT, CrEvents.target());
  }

  private static ContainerRegistryRule types(EventType... types) {
    return rule(List.of(types), "", "");
  }

  private static ContainerRegistryRule image(String imageName) {
    return rule(ALL_TYPES, imageName, "");
  }

  private static ContainerRegistryRule tag(String tag) {
    return rule(ALL_TYPES, "", tag);
  }

  private static CrEvent tagged(EventType type, String repository, String tag) {
    return event(type, repository, tag, List.of());
  }

  private static CrEvent deletedImage(String repository, List<String> hadTags) {
    return event(DELETE_IMAGE, repository, "", hadTags);
  }

  private static Arguments row(String sentence, ContainerRegistryRule rule, CrEvent event, boolean matches) {
    return Arguments.of(sentence, rule, event, matches);
  }

  static Stream<Arguments> table() {
    return Stream.of(
        // event types
        row("a CreateImage trigger takes a CreateImage", types(CREATE_IMAGE), tagged(CREATE_IMAGE, "ubuntu", "latest"), true),
        row("a CreateImage trigger skips a CreateImageTag", types(CREATE_IMAGE), tagged(CREATE_IMAGE_TAG, "ubuntu", "latest"), false),
        row("a CreateImage trigger skips a DeleteImage", types(CREATE_IMAGE), deletedImage("ubuntu", List.of("latest")), false),
        row("a CreateImage trigger skips a DeleteImageTag", types(CREATE_IMAGE), tagged(DELETE_IMAGE_TAG, "ubuntu", "latest"), false),
        row("a DeleteImage trigger takes a DeleteImage", types(DELETE_IMAGE), deletedImage("ubuntu", List.of()), true),
        row("a CreateImageTag trigger takes a CreateImageTag", types(CREATE_IMAGE_TAG), tagged(CREATE_IMAGE_TAG, "ubuntu", "v1"), true),
        row("a DeleteImageTag trigger takes a DeleteImageTag", types(DELETE_IMAGE_TAG), tagged(DELETE_IMAGE_TAG, "ubuntu", "v1"), true),
        row("a DeleteImageTag trigger skips a CreateImageTag", types(DELETE_IMAGE_TAG), tagged(CREATE_IMAGE_TAG, "ubuntu", "v1"), false),
        row("a trigger of two types takes the second", types(CREATE_IMAGE, DELETE_IMAGE_TAG), tagged(DELETE_IMAGE_TAG, "ubuntu", "v1"), true),
        row("a trigger of two types skips a third", types(CREATE_IMAGE, DELETE_IMAGE_TAG), tagged(CREATE_IMAGE_TAG, "ubuntu", "v1"), false),

        // imageName without the registry prefix: exact match only
        row("imageName ubuntu takes ubuntu", image("ubuntu"), tagged(CREATE_IMAGE_TAG, "ubuntu", "latest"), true),
        row("imageName ubuntu skips ubuntu-old", image("ubuntu"), tagged(CREATE_IMAGE_TAG, "ubuntu-old", "latest"), false),
        row("imageName ubuntu skips team/ubuntu", image("ubuntu"), tagged(CREATE_IMAGE_TAG, "team/ubuntu", "latest"), false),
        row("imageName ubuntu skips ubunt", image("ubuntu"), tagged(CREATE_IMAGE_TAG, "ubunt", "latest"), false),
        row("imageName ubuntu skips ubuntu/base", image("ubuntu"), tagged(CREATE_IMAGE_TAG, "ubuntu/base", "latest"), false),
        row("imageName team/app takes team/app", image("team/app"), tagged(CREATE_IMAGE_TAG, "team/app", "latest"), true),
        row("imageName team/app skips app", image("team/app"), tagged(CREATE_IMAGE_TAG, "app", "latest"), false),
        row("imageName ubuntu also filters a DeleteImage", image("ubuntu"), deletedImage("debian", List.of("latest")), false),

        // imageName with the <registryId>/ prefix
        row("imageName <registry>/ubuntu takes ubuntu", image(REGISTRY + "/ubuntu"), tagged(CREATE_IMAGE_TAG, "ubuntu", "latest"), true),
        row("imageName <registry>/ubuntu skips ubuntu-old", image(REGISTRY + "/ubuntu"), tagged(CREATE_IMAGE_TAG, "ubuntu-old", "latest"), false),
        row("imageName <registry>/ubuntu skips team/ubuntu", image(REGISTRY + "/ubuntu"), tagged(CREATE_IMAGE_TAG, "team/ubuntu", "latest"), false),
        row("imageName <registry>/team/app takes team/app", image(REGISTRY + "/team/app"), tagged(CREATE_IMAGE_TAG, "team/app", "latest"), true),
        row("imageName <other registry>/ubuntu skips ubuntu", image(OTHER_REGISTRY + "/ubuntu"), tagged(CREATE_IMAGE_TAG, "ubuntu", "latest"), false),

        // tag
        row("tag latest takes a CreateImageTag latest", tag("latest"), tagged(CREATE_IMAGE_TAG, "ubuntu", "latest"), true),
        row("tag latest skips a CreateImageTag latest2", tag("latest"), tagged(CREATE_IMAGE_TAG, "ubuntu", "latest2"), false),
        row("tag latest skips a CreateImageTag lates", tag("latest"), tagged(CREATE_IMAGE_TAG, "ubuntu", "lates"), false),
        row("tag latest skips a CreateImageTag Latest", tag("latest"), tagged(CREATE_IMAGE_TAG, "ubuntu", "Latest"), false),
        row("tag latest takes a DeleteImageTag latest", tag("latest"), tagged(DELETE_IMAGE_TAG, "ubuntu", "latest"), true),
        row("tag latest skips a DeleteImageTag v1", tag("latest"), tagged(DELETE_IMAGE_TAG, "ubuntu", "v1"), false),

        // AND of both
        row("image and tag both matching: taken", rule(ALL_TYPES, "ubuntu", "latest"), tagged(CREATE_IMAGE_TAG, "ubuntu", "latest"), true),
        row("image matching, tag not: skipped", rule(ALL_TYPES, "ubuntu", "latest"), tagged(CREATE_IMAGE_TAG, "ubuntu", "v1"), false),
        row("tag matching, image not: skipped", rule(ALL_TYPES, "ubuntu", "latest"), tagged(CREATE_IMAGE_TAG, "debian", "latest"), false),
        row("neither matching: skipped", rule(ALL_TYPES, "ubuntu", "latest"), tagged(CREATE_IMAGE_TAG, "debian", "v1"), false),
        row("image, tag and type matching, but type not subscribed: skipped", rule(List.of(CREATE_IMAGE), "ubuntu", "latest"), tagged(CREATE_IMAGE_TAG, "ubuntu", "latest"), false),

        // CreateImage matches by its push tag
        row("CreateImage pushed as latest matches tag latest", tag("latest"), tagged(CREATE_IMAGE, "ubuntu", "latest"), true),
        row("CreateImage pushed as v1 does not match tag latest", tag("latest"), tagged(CREATE_IMAGE, "ubuntu", "v1"), false),
        row("a tagless CreateImage does not match tag latest", tag("latest"), tagged(CREATE_IMAGE, "ubuntu", ""), false),
        row("a tagless CreateImage matches when no tag filter is set", image("ubuntu"), tagged(CREATE_IMAGE, "ubuntu", ""), true),

        // DeleteImage matches iff the deleted image had the tag
        row("DeleteImage of an image tagged v1 and latest matches tag latest", tag("latest"), deletedImage("ubuntu", List.of("v1", "latest")), true),
        row("DeleteImage of an image tagged only latest matches tag latest", tag("latest"), deletedImage("ubuntu", List.of("latest")), true),
        row("DeleteImage of an image tagged v1 does not match tag latest", tag("latest"), deletedImage("ubuntu", List.of("v1")), false),
        row("DeleteImage of an untagged image does not match tag latest", tag("latest"), deletedImage("ubuntu", List.of()), false),
        row("DeleteImage whose own tag field says latest but had only v1 does not match tag latest", tag("latest"), event(DELETE_IMAGE, "ubuntu", "latest", List.of("v1")), false),
        row("DeleteImage with an empty tag field matches when no tag filter is set", image("ubuntu"), deletedImage("ubuntu", List.of()), true),
        row("DeleteImage with an empty tag field matches image and tag by its tags", rule(ALL_TYPES, "ubuntu", "latest"), deletedImage("ubuntu", List.of("latest")), true),
        row("DeleteImage of another image with the tag does not match the image filter", rule(ALL_TYPES, "ubuntu", "latest"), deletedImage("debian", List.of("latest")), false),

        // absent filters match all
        row("no filters take a CreateImage", rule(ALL_TYPES, "", ""), tagged(CREATE_IMAGE, "any/thing", "x"), true),
        row("no filters take a tagless CreateImage", rule(ALL_TYPES, "", ""), tagged(CREATE_IMAGE, "ubuntu", ""), true),
        row("no filters take a DeleteImage of an untagged image", rule(ALL_TYPES, "", ""), deletedImage("ubuntu", List.of()), true),
        row("no filters take a CreateImageTag", rule(ALL_TYPES, "", ""), tagged(CREATE_IMAGE_TAG, "team/app", "v2"), true),
        row("no filters take a DeleteImageTag", rule(ALL_TYPES, "", ""), tagged(DELETE_IMAGE_TAG, "team/app", "v2"), true));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void theFilterDecidesAsTheTableSays(String sentence, ContainerRegistryRule rule, CrEvent event, boolean expected) {
    assertEquals(expected, TriggerFilter.matches(rule, event), sentence);
  }
}

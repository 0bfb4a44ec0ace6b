package io.regcast.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.regcast.model.BatchSettings;
import io.regcast.model.BroadcastTarget;
import io.regcast.model.ContainerRegistryRule;
import io.regcast.model.EventType;
import io.regcast.model.ResourceSpec;
import io.regcast.model.Trigger;
import io.regcast.model.TriggerDefinition;
import io.regcast.model.Violations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The trigger's JSON, in the reference's field names and shape: reading create and update
 * requests, writing triggers, and merging an update mask into the current trigger.
 */
final class TriggerJson {
  static final String RULE = "rule";
  static final String CR = "containerRegistry";
  static final String TARGET = "gatewayWebsocketBroadcast";
  private static final Set<String> DEFINITION_FIELDS = Set.of("name", "description", "labels", RULE);
  private static final Set<String> RULE_FIELDS =
      Set.of("eventType", "registryId", "imageName", "tag", "batchSettings", TARGET);

  /** Update mask paths a caller may name; the rule's type and target type cannot change. */
  static final Set<String> MASK_PATHS =
      Set.of(
          "name", "description", "labels", RULE, RULE + "." + CR,
          RULE + "." + CR + ".eventType", RULE + "." + CR + ".registryId",
          RULE + "." + CR + ".imageName", RULE + "." + CR + ".tag",
          RULE + "." + CR + ".batchSettings", RULE + "." + CR + ".batchSettings.size",
          RULE + "." + CR + ".batchSettings.cutoff", RULE + "." + CR + "." + TARGET,
          RULE + "." + CR + "." + TARGET + ".gatewayId", RULE + "." + CR + "." + TARGET + ".path",
          RULE + "." + CR + "." + TARGET + ".serviceAccountId");

  private TriggerJson() {}

  static ResourceSpec.TriggerSpec readSpec(JsonNode body) {
    Violations v = new Violations();
    JsonFields f = JsonFields.root(body, v);
    Set<String> known = new java.util.HashSet<>(DEFINITION_FIELDS);
    known.add("folderId");
    f.allowOnly(known);
    String folderId = f.string("folderId");
    TriggerDefinition definition = readDefinition(f, v);
    return new ResourceSpec.TriggerSpec(folderId, definition);
  }

  /** Reads name, description, labels and rule of a trigger (create body or merged update). */
  static TriggerDefinition readDefinition(JsonFields f, Violations v) {
    String name = f.string("name");
    String description = f.string("description");
    var labels = f.stringMap("labels");
    JsonFields rule = f.requiredObject(RULE);
    JsonFields cr = null;
    if (rule != null) {
      rule.allowOnly(Set.of(CR));
      cr = rule.requiredObject(CR);
    }
    List<EventType> eventTypes = new ArrayList<>();
    String registryId = null;
    String imageName = null;
    String tag = null;
    Long size = null;
    Duration cutoff = null;
    JsonFields target = null;
    if (cr != null) {
      cr.allowOnly(RULE_FIELDS);
      List<String> types = cr.strings("eventType");
      if (types != null) {
        for (int i = 0; i < types.size(); i++) {
          int index = i;
          EventType.fromApiName(types.get(i))
              .ifPresentOrElse(
                  eventTypes::add,
                  () -> v.add(
                      cr_path(index),
                      "must be one of CONTAINER_REGISTRY_EVENT_TYPE_CREATE_IMAGE, _DELETE_IMAGE,"
                          + " _CREATE_IMAGE_TAG, _DELETE_IMAGE_TAG"));
        }
      }
      registryId = cr.string("registryId");
      imageName = cr.string("imageName");
      tag = cr.string("tag");
      JsonFields batch = cr.object("batchSettings");
      if (batch != null) {
        batch.allowOnly(Set.of("size", "cutoff"));
        size = batch.int64("size");
        cutoff = batch.duration("cutoff");
      }
      target = cr.requiredObject(TARGET);
      if (target != null) {
        target.allowOnly(Set.of("gatewayId", "path", "serviceAccountId"));
      }
    }
    String gatewayId = target == null ? null : target.string("gatewayId");
    String path = target == null ? null : target.string("path");
    String accountId = target == null ? null : target.string("serviceAccountId");

    // The rules of every part, so that all that is wrong is reported in one answer.
    TriggerDefinition.check(v, name, orEmpty(description), labels == null ? Map.of() : labels);
    if (cr != null) {
      Violations crRules = v.under(RULE + "." + CR);
      ContainerRegistryRule.check(crRules, eventTypes, registryId, orEmpty(imageName), orEmpty(tag));
      BatchSettings.check(crRules.under("batchSettings"), size == null ? 0 : size, cutoff);
      if (target != null) {
        BroadcastTarget.check(crRules.under(TARGET), gatewayId, path, accountId);
      }
    }
    v.throwIfAny();
    return new TriggerDefinition(
        name,
        description,
        labels,
        new ContainerRegistryRule(
            eventTypes, registryId, imageName, tag, BatchSettings.of(size, cutoff),
            new BroadcastTarget(gatewayId, path, accountId)));
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  private static String cr_path(int index) {
    return RULE + "." + CR + ".eventType[" + index + "]";
  }

  static void writeFields(Trigger trigger, ObjectNode out) {
    TriggerDefinition d = trigger.definition();
    out.put("name", d.name());
    out.put("description", d.description());
    ObjectNode labels = out.putObject("labels");
    d.labels().forEach(labels::put);
    ContainerRegistryRule r = d.rule();
    ObjectNode cr = out.putObject(RULE).putObject(CR);
    r.eventTypes().forEach(t -> cr.withArray("eventType").add(t.apiName()));
    cr.put("registryId", r.registryId());
    if (!r.imageName().isEmpty()) {
      cr.put("imageName", r.imageName());
    }
    if (!r.tag().isEmpty()) {
      cr.put("tag", r.tag());
    }
    ObjectNode batch = cr.putObject("batchSettings");
    batch.put("size", Long.toString(r.batchSettings().size()));
    batch.put("cutoff", JsonFields.formatDuration(r.batchSettings().cutoff()));
    ObjectNode target = cr.putObject(TARGET);
    target.put("gatewayId", r.target().gatewayId());
    target.put("path", r.target().path());
    target.put("serviceAccountId", r.target().serviceAccountId());
    out.put("status", trigger.status().name());
  }

  /**
   * The definition after an update: the current trigger's JSON with each masked path replaced by
   * the request's value at that path (absent in the request = reset to its default), read again
   * as a whole so that one set of rules validates creates and updates alike.
   */
  static TriggerDefinition merge(Trigger current, ObjectNode request, List<String> mask) {
    ObjectNode merged = ResourceJson.write(current);
    Updates.apply(merged, request, mask);
    Set<String> keep = new java.util.HashSet<>(DEFINITION_FIELDS);
    merged.retain(keep);
    Violations v = new Violations();
    return readDefinition(JsonFields.root(merged, v), v);
  }
}

package io.regcast.architecture;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The packages' layering, from the domain values up to the node that wires everything: each
 * package may use only those below it, and no two packages depend on each other in a cycle. Ports
 * (interfaces a lower package declares and the node wires, such as the catalog's {@code
 * TriggerSync} or the gateway's {@code ConnectAuthorizer}) are how a lower package reaches up.
 */
@AnalyzeClasses(packages = "io.regcast", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {

  @ArchTest
  static final ArchRule packagesAreFreeOfCycles = slices().matching("io.regcast.(*)..").should().beFreeOfCycles();

  @ArchTest
  static final ArchRule eachPackageUsesOnlyTheLayersBelowIt = layeredArchitecture()
      .consideringOnlyDependenciesInLayers()
      .layer("model").definedBy("io.regcast.model..")
      .layer("metrics").definedBy("io.regcast.metrics..")
      .layer("delivery").definedBy("io.regcast.delivery..")
      .layer("registry").definedBy("io.regcast.registry..")
      .layer("ingest").definedBy("io.regcast.ingest..")
      .layer("catalog").definedBy("io.regcast.catalog..")
      .layer("gateway").definedBy("io.regcast.gateway..")
      .layer("broadcast").definedBy("io.regcast.broadcast..")
      .layer("trigger").definedBy("io.regcast.trigger..")
      .layer("iam").definedBy("io.regcast.iam..")
      .layer("api").definedBy("io.regcast.api..")
      .layer("node").definedBy("io.regcast.node..")
      .whereLayer("node").mayNotBeAccessedByAnyLayer()
      .whereLayer("api").mayOnlyBeAccessedByLayers("node")
      .whereLayer("iam").mayOnlyBeAccessedByLayers("api", "node")
      .whereLayer("trigger").mayOnlyBeAccessedByLayers("iam", "api", "node")
      .whereLayer("broadcast").mayOnlyBeAccessedByLayers("trigger", "api", "node")
      .whereLayer("gateway").mayOnlyBeAccessedByLayers("broadcast", "trigger", "iam", "api", "node")
      .whereLayer("catalog").mayOnlyBeAccessedByLayers("broadcast", "iam", "api", "node")
      .whereLayer("ingest").mayOnlyBeAccessedByLayers("api", "node")
      .whereLayer("registry").mayOnlyBeAccessedByLayers("ingest", "api", "node")
      .whereLayer("delivery").mayOnlyBeAccessedByLayers("registry", "trigger", "node");
}

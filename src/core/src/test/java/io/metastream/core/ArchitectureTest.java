package io.metastream.core;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The math module stays free of the streaming frameworks: operators call it, never the reverse. */
class ArchitectureTest {

    private static final JavaClasses CORE = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.metastream.core");

    @Test
    void importsTheProductionClasses() {
        assertThat(CORE.size()).isGreaterThan(10);
        assertThat(CORE.contain("io.metastream.core.grbal.GrbalLearner")).isTrue();
        assertThat(CORE.contain("io.metastream.core.nn.Mlp")).isTrue();
        assertThat(CORE.contain("io.metastream.core.pearl.PearlLearner")).isTrue();
    }

    @Test
    void coreDependsOnNeitherFlinkNorKafka() {
        noClasses().that().resideInAPackage("io.metastream.core..")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.flink..", "org.apache.kafka..")
                .check(CORE);
    }

    @Test
    void lowerLayersDoNotDependOnTheAlgorithms() {
        noClasses().that().resideInAnyPackage("io.metastream.core.nn..", "io.metastream.core.optim..",
                        "io.metastream.core.internal..")
                .should().dependOnClassesThat().resideInAnyPackage("io.metastream.core.grbal..", "io.metastream.core.mpc..",
                        "io.metastream.core.pearl..",
                        "io.metastream.core.io..")
                .check(CORE);
    }

    @Test
    void coreImportsNoOtherMetastreamModule() {
        noClasses().that().resideInAPackage("io.metastream.core..")
                .should().dependOnClassesThat().resideInAnyPackage("io.metastream.client..", "io.metastream.sim..",
                        "io.metastream.flink..", "io.metastream.cli..", "io.metastream.local..", "io.metastream.bench..",
                        "io.metastream.schema..")
                .check(CORE);
    }
}

package io.metastream.sim;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

/** Simulators and the fleet run outside Flink (a robot's host, a producer process): no Flink, nothing above sim. */
class SimArchitectureTest {

    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.metastream.sim");

    @Test
    void importsTheProductionClasses() {
        assertThat(classes.contain("io.metastream.sim.fleet.Fleet")).isTrue();
    }

    @Test
    void dependsOnNeitherFlinkNorTheModulesAboveIt() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("org.apache.flink..", "io.metastream.flink..",
                "io.metastream.cli..", "io.metastream.local..", "io.metastream.bench..").check(classes);
    }

    @Test
    void doesNotReachIntoAnotherModulesInternalPackage() {
        noClasses().should().dependOnClassesThat().resideInAPackage("io.metastream.core.internal..").check(classes);
    }
}

package io.metastream.flink;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The job module holds the job only: it never imports the simulators or the launcher (CLI, local runner,
 * benchmarks), so none of them can end up in the job jar, and it reaches no other module's internals.
 */
class JobArchitectureTest {

    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.metastream.flink");

    @Test
    void importsTheProductionClasses() {
        assertThat(classes.contain("io.metastream.flink.MetaLearningJob")).isTrue();
    }

    @Test
    void neverImportsTheSimulatorsOrTheLauncher() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("io.metastream.sim..", "io.metastream.cli..",
                "io.metastream.local..", "io.metastream.bench..").check(classes);
    }

    @Test
    void doesNotReachIntoAnotherModulesInternalPackage() {
        noClasses().should().dependOnClassesThat().resideInAPackage("io.metastream.core.internal..").check(classes);
    }
}

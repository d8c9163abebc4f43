package io.metastream.cli;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The launcher sits on top of every module and uses each through its public surface only: no class of
 * the CLI, the local runner or the benchmarks reaches into another module's {@code internal} package.
 */
class LauncherArchitectureTest {

    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.metastream.cli", "io.metastream.local");

    @Test
    void importsTheProductionClasses() {
        assertThat(classes.contain("io.metastream.cli.Main")).isTrue();
        assertThat(classes.contain("io.metastream.local.KafkaBroker")).isTrue();
        assertThat(classes.contain("io.metastream.cli.pearl.LearnerBench")).isTrue();
    }

    @Test
    void doesNotReachIntoAnotherModulesInternalPackage() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("io.metastream.core.internal..",
                "io.metastream.flink.internal..").check(classes);
    }
}

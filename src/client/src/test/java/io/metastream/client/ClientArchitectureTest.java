package io.metastream.client;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/** The client runs in any JVM (robots, services): it must not need Flink or the Kafka broker. */
class ClientArchitectureTest {

    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.metastream.client");

    @Test
    void doesNotDependOnFlinkOrTheBroker() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("org.apache.flink..", "kafka..",
                "org.apache.kafka.server..", "org.apache.kafka.storage..").check(classes);
    }

    @Test
    void importsOnlyTheModulesBelowIt() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("io.metastream.sim..", "io.metastream.flink..",
                "io.metastream.cli..", "io.metastream.local..", "io.metastream.bench..").check(classes);
    }

    @Test
    void doesNotReachIntoAnotherModulesInternalPackage() {
        noClasses().should().dependOnClassesThat().resideInAPackage("io.metastream.core.internal..").check(classes);
    }
}

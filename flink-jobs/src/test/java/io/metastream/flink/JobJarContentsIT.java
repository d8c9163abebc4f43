package io.metastream.flink;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lists the entries of the shaded job jar (run by failsafe after {@code package}): it holds the job and
 * what it needs at run time, and no simulator, CLI, local runner, benchmark or Kafka broker class.
 */
class JobJarContentsIT {

    @Test
    void jobJarHoldsTheJobAndNoSimulatorCliOrBenchmarkClasses() throws IOException {
        Path jar = Path.of(System.getProperty("metastream.job.jar", "target/missing-job.jar"));
        assertThat(jar).as("the shaded job jar (mvn package builds it)").isRegularFile();
        List<String> entries = new ArrayList<>();
        try (JarFile f = new JarFile(jar.toFile())) {
            for (Enumeration<JarEntry> e = f.entries(); e.hasMoreElements(); ) {
                entries.add(e.nextElement().getName());
            }
        }
        assertThat(entries).contains("io/metastream/flink/MetaLearningJob.class",
                "io/metastream/core/pearl/PearlLearner.class", "io/metastream/client/ModelVerifier.class",
                "io/metastream/schema/Transition.class",
                "org/apache/flink/connector/kafka/sink/KafkaSink.class",
                // a Flink distribution's lib/ has no connector-base: without it the first submit failed
                "org/apache/flink/connector/base/source/reader/RecordEmitter.class");
        assertThat(entries).noneMatch(n -> n.startsWith("io/metastream/sim/"))
                .noneMatch(n -> n.startsWith("io/metastream/cli/"))
                .noneMatch(n -> n.startsWith("io/metastream/local/"))
                .noneMatch(n -> n.startsWith("io/metastream/bench/"))
                .noneMatch(n -> n.startsWith("kafka/server/")) // the broker (kafka_2.13), not kafka-clients
                .noneMatch(n -> n.startsWith("org/apache/kafka/controller/"))
                .noneMatch(n -> n.startsWith("org/apache/kafka/storage/"))
                .noneMatch(n -> n.startsWith("scala/"));
        try (JarFile f = new JarFile(jar.toFile())) {
            assertThat(f.getManifest().getMainAttributes().getValue("Main-Class"))
                    .isEqualTo(MetaLearningJob.class.getName());
        }
        assertThat(Files.size(jar)).isPositive();
    }
}

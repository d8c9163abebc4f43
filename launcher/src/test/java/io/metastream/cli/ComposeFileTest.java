package io.metastream.cli;

import io.metastream.client.TopicLayout;
import io.metastream.client.TopicNames;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docker/compose.yaml is not a second copy of the topic layout: its topic commands are exactly what
 * {@code bin/metastream topics --print --bootstrap-servers kafka:9092} writes (with compose's {@code $$}
 * escape), so a change of the layout fails here until the file follows.
 */
class ComposeFileTest {

    static final Path COMPOSE = Path.of(System.getProperty("user.dir")).getParent().resolve("docker/compose.yaml");

    @Test
    void composeCreatesTheTopicsOfTheOneLayout() throws Exception {
        List<String> expected = TopicLayout.kafkaTopicsCommands(TopicNames.defaults(), 4, "kafka:9092", 1).stream()
                .map(l -> l.replace("$T", "$$T")).collect(Collectors.toList());
        List<String> actual = Files.readAllLines(COMPOSE).stream().map(String::trim)
                .filter(l -> l.startsWith("$$T ")).collect(Collectors.toList());
        assertThat(actual).containsExactlyElementsOf(expected);
    }

    @Test
    void composeGivesTheJobItsSizes() throws Exception {
        String compose = Files.readString(COMPOSE);
        assertThat(compose).contains("--metastream.obs-dim", "--metastream.act-dim");
    }

    @Test
    void composeKeepsTheRestApiOnTheHostAndCheckpointsOnASharedVolume() throws Exception {
        String compose = Files.readString(COMPOSE);
        assertThat(compose).contains("\"127.0.0.1:8081:8081\"").doesNotContain("\"8081:8081\"")
                .doesNotContain("file:///tmp/flink-checkpoints");
        // the JobManager and the TaskManager both mount the volume and checkpoint to it
        assertThat(compose.split("checkpoints:/checkpoints", -1)).hasSize(3);
        assertThat(compose.split("execution.checkpointing.dir: file:///checkpoints", -1)).hasSize(3);
        assertThat(compose).contains("\nvolumes:\n  checkpoints:");
    }

    @Test
    void composeRunsKafkaWithScramAndAclsAndGivesEachPrincipalOnlyItsRole() throws Exception {
        String compose = Files.readString(COMPOSE);
        assertThat(compose).contains("listeners=SASL_PLAINTEXT://:9092,CONTROLLER://localhost:9093",
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "allow.everyone.if.no.acl.found=false", "sasl.enabled.mechanisms=SCRAM-SHA-512")
                .doesNotContainPattern("[^_]PLAINTEXT://").doesNotContain("KAFKA_LISTENERS");
        // the job authenticates as job, the fleet as fleet (from a properties file, not the command line)
        assertThat(compose).contains("- --kafka.security.protocol\n      - SASL_PLAINTEXT", "username=\"job\"",
                "--client-properties /tmp/fleet.properties", "username=\"fleet\"");
        String txPrefix = io.metastream.flink.MetaStreamOptions.GROUP_ID.defaultValue() + "-"
                + io.metastream.flink.MetaStreamOptions.MODEL_NAME.defaultValue();
        assertThat(compose).contains(
                "--allow-principal User:job --operation Write --operation Describe --transactional-id " + txPrefix
                        + " --resource-pattern-type prefixed",
                "--allow-principal User:job --operation Read --group "
                        + io.metastream.flink.MetaStreamOptions.GROUP_ID.defaultValue() + " --resource-pattern-type prefixed",
                "--allow-principal User:fleet --operation Write --topic metastream.experience\n");
        // only the job may write versions and adaptations
        for (String line : compose.split("\n")) {
            if (line.contains("--allow-principal User:fleet")) {
                assertThat(line).satisfiesAnyOf(l -> assertThat(l).contains("--operation Read"),
                                l -> assertThat(l).endsWith("--operation Write --topic metastream.experience"));
            }
        }
    }
    @Test
    void composeReportsTheJobsMetricsToAPrometheusThatScrapesBothFlinkProcesses() throws Exception {
        String compose = Files.readString(COMPOSE);
        assertThat(compose.split("metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
                -1)).as("the JobManager and the TaskManager report").hasSize(3);
        assertThat(compose).contains("metrics.reporter.prom.port: 9249", "\"127.0.0.1:9090:9090\"",
                "./prometheus.yml:/etc/prometheus/prometheus.yml:ro");
        String scrape = Files.readString(COMPOSE.resolveSibling("prometheus.yml"));
        assertThat(scrape).contains("\"jobmanager:9249\"", "\"taskmanager:9249\"");
    }
}

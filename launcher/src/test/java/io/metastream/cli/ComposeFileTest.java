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
}

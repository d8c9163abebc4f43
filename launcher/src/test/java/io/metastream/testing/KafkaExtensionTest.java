package io.metastream.testing;

import io.metastream.client.TopicNames;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class KafkaExtensionTest {

    @RegisterExtension
    static final KafkaExtension KAFKA = new KafkaExtension();

    @Test
    void fallsBackToTheEmbeddedBrokerWithoutDocker() {
        // This machine kind has no Docker engine; elsewhere either broker is fine.
        if (!org.testcontainers.DockerClientFactory.instance().isDockerAvailable()) {
            assertThat(KAFKA.isEmbedded()).isTrue();
        }
        assertThat(KAFKA.bootstrapServers()).matches("[\\w.-]+:\\d+");
    }

    @Test
    void freshTopicsAreNewOnEveryCallAndExist() throws Exception {
        TopicNames a = KAFKA.freshTopics("same name");
        TopicNames b = KAFKA.freshTopics("same name");

        assertThat(a.all()).doesNotContainAnyElementsOf(b.all());
        assertThat(a.experience()).startsWith("metastream.experience.same-name.");
        Set<String> existing = KAFKA.admin().listTopics().names().get(30, TimeUnit.SECONDS);
        assertThat(existing).containsAll(a.all()).containsAll(b.all());
    }

    @Nested
    class NestedClasses {
        @Test
        void shareTheOuterBroker() {
            assertThat(KAFKA.freshTopics("nested").all()).hasSize(4);
        }
    }
}

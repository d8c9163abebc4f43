package io.metastream.client;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelClientBuilderTest {

    @Test
    void requiresBootstrapServersAndModelName() {
        assertThatThrownBy(() -> ModelClient.builder().modelName("m").build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("bootstrapServers(\"host:9092\")");
        assertThatThrownBy(() -> ModelClient.builder().bootstrapServers("localhost:9092").build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("modelName(...)");
    }

    @Test
    void refusesSettingsThatWouldChangeHowItReads() {
        assertThatThrownBy(() -> ModelClient.builder().property("group.id", "g"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("assigns partitions itself");
        assertThatThrownBy(() -> ModelClient.builder().property("isolation.level", "read_uncommitted"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ModelClient.builder().keepVersions(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> ModelClient.builder().bootstrapServers("b:1").modelName("m")
                .modelsTopic("t").adaptedTopic("t").build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("two different");
    }

    @Test
    void readsAreEmptyBeforeStartAndCloseIsIdempotent() {
        ModelClient client = ModelClient.builder().bootstrapServers("127.0.0.1:1").modelName("m")
                .property("client.id", "test").build();

        assertThat(client.latestVersion()).isEmpty();
        assertThat(client.modelFor("t")).isEmpty();
        assertThat(client.awaitVersion(1, Duration.ofMillis(10))).isFalse();
        client.close();
        client.close();
        assertThatThrownBy(client::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }
}

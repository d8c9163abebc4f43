package io.metastream.flink;

import io.metastream.client.TopicNames;
import io.metastream.testing.KafkaExtension;

import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A job started without state must not publish version 1 of a model whose versions are already on the topic. */
class VersionNumberingGuardIT {

    @RegisterExtension
    static final KafkaExtension KAFKA = new KafkaExtension();

    @Test
    void refusesToStartNumberingAgainOverExistingVersions() {
        TopicNames topics = KAFKA.freshTopics("guard");
        Configuration conf = JobTestSupport.jobConfig(KAFKA.bootstrapServers(), topics, "guarded", "pendulum");
        assertThatCode(() -> MetaLearningJob.refuseToRestartNumbering(conf)).doesNotThrowAnyException();

        JobTestSupport.send(KAFKA.bootstrapServers(), List.of(new ProducerRecord<>(topics.models(),
                "another-model".getBytes(StandardCharsets.UTF_8), new byte[] {1})));
        assertThatCode(() -> MetaLearningJob.refuseToRestartNumbering(conf)).doesNotThrowAnyException();

        JobTestSupport.send(KAFKA.bootstrapServers(), List.of(new ProducerRecord<>(topics.models(),
                "guarded".getBytes(StandardCharsets.UTF_8), new byte[] {1})));
        assertThatThrownBy(() -> MetaLearningJob.refuseToRestartNumbering(conf))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("savepoint")
                .hasMessageContaining("metastream.allow-version-restart");
    }
}

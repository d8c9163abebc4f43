package io.metastream.testing;

import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class KafkaExtensionKillTest {

    @RegisterExtension
    static final KafkaExtension KAFKA = new KafkaExtension();

    @Test
    void killTakesTheEmbeddedBrokerDown() throws Exception {
        assumeTrue(KAFKA.isEmbedded(), "kill() needs the embedded broker");
        assertThat(KAFKA.admin().describeCluster().nodes().get(30, TimeUnit.SECONDS)).hasSize(1);

        KAFKA.kill();

        assertThatThrownBy(() -> KAFKA.admin().describeCluster(new DescribeClusterOptions().timeoutMs(1500))
                .nodes().get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class);
    }
}

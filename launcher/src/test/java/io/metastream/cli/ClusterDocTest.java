package io.metastream.cli;

import io.metastream.local.LocalCluster;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ClusterDocTest {

    @Test
    void readmeHoldsTheGeneratedClusterSection() throws Exception {
        SettingsDocTest.assertReadmeHolds("cluster", "bin/metastream help cluster", ClusterDoc.markdown());
    }

    @Test
    void theDocumentedJobArgumentsAreTheOnesTheClusterTestsSubmit() {
        String doc = ClusterDoc.markdown();
        List<String> args = LocalCluster.jobArguments("b:9092", Path.of("keys"), "pendulum", "m", List.of());
        for (int i = 0; i < args.size(); i += 2) {
            assertThat(doc).contains(args.get(i) + " ");
        }
        assertThat(doc).contains("restart-strategy.type: exponential-delay", "taskmanager.rpc.port: 0",
                "execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION", "min.insync.replicas=2");
    }
}

package io.metastream.flink.internal;

import io.metastream.schema.ModelVersion;

import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LearnerInputPacerTest {

    static ModelVersion version(Double share) {
        Map<String, Double> metrics = new HashMap<>();
        if (share != null) {
            metrics.put(LearnerInputPacer.SHARE_METRIC, share);
        }
        return ModelVersion.newBuilder().setModelName("m").setVersion(1).setParentVersion(null).setAlgorithm("X")
                .setConfigHash("h").setConfig(new HashMap<>()).setSeed(1).setParameterEncoding("e")
                .setParameters(ByteBuffer.wrap(new byte[0])).setParametersSha256("s").setTasksSeen(0)
                .setTransitionsSeen(0).setOuterSteps(0).setMetrics(metrics).setCreatedAt(java.time.Instant.EPOCH)
                .setCodeVersion("c").build();
    }

    @Test
    void aLearnerUsingLittleOfItsInputIsSentLessAndOneUsingAllIsSentMoreAgain() {
        LearnerInputPacer p = new LearnerInputPacer(new UnregisteredMetricsGroup(), 1);
        assertThat(p.probability()).isEqualTo(1);
        p.onVersion(version(0.2));
        assertThat(p.probability()).isCloseTo(0.25, within(1e-12)); // 1 * 0.2 / 0.8
        p.onVersion(version(0.4));
        assertThat(p.probability()).isCloseTo(0.125, within(1e-12));
        p.onVersion(version(1.0));
        assertThat(p.probability()).as("at most doubled per version").isCloseTo(0.15625, within(1e-12));
        for (int i = 0; i < 10; i++) {
            p.onVersion(version(1.0));
        }
        assertThat(p.probability()).isEqualTo(1);
        for (int i = 0; i < 100; i++) {
            p.onVersion(version(0.0));
        }
        assertThat(p.probability()).as("never below the floor").isEqualTo(LearnerInputPacer.MIN_P);
    }

    @Test
    void missingOrHostileSharesChangeNothing() {
        LearnerInputPacer p = new LearnerInputPacer(new UnregisteredMetricsGroup(), 1);
        p.onVersion(version(0.4));
        double before = p.probability();
        p.onVersion(version(null));
        p.onVersion(version(Double.NaN));
        p.onVersion(version(Double.POSITIVE_INFINITY));
        assertThat(p.probability()).isEqualTo(before);
        p.onVersion(version(-5.0));
        assertThat(p.probability()).as("clamped to 0, then the floor").isEqualTo(LearnerInputPacer.MIN_P);
        p.onVersion(version(1e9));
        assertThat(p.probability()).as("clamped to 1: times 1 / 0.8").isCloseTo(1.25 * LearnerInputPacer.MIN_P, within(1e-12));
    }

    @Test
    void sendsAboutTheProbabilityAndCountsTheRest() {
        org.apache.flink.metrics.SimpleCounter counter = new org.apache.flink.metrics.SimpleCounter();
        var group = new UnregisteredMetricsGroup() {
            @Override
            public org.apache.flink.metrics.Counter counter(String name) {
                return counter;
            }
        };
        LearnerInputPacer p = new LearnerInputPacer(group, 7);
        int sent = 0;
        for (int i = 0; i < 1000; i++) {
            sent += p.send() ? 1 : 0;
        }
        assertThat(sent).as("p = 1 sends everything").isEqualTo(1000);
        p.onVersion(version(0.2)); // p = 0.25
        sent = 0;
        for (int i = 0; i < 20000; i++) {
            sent += p.send() ? 1 : 0;
        }
        assertThat(sent / 20000.0).isCloseTo(0.25, within(0.02));
        assertThat(counter.getCount()).isEqualTo(20000 - sent);
    }

    @Test
    void usageIsTheShareUsedSinceTheLastVersion() {
        LearnerInputPacer.Usage u = new LearnerInputPacer.Usage();
        assertThat(u.share()).as("nothing offered").isEqualTo(1);
        u.offered(10);
        u.used(3);
        assertThat(u.share()).isCloseTo(0.3, within(1e-12));
        u.offered(4);
        u.used(4);
        assertThat(u.share()).as("a new window").isEqualTo(1);
    }
}

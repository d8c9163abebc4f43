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

    static ModelVersion version(Double offered, Double used) {
        Map<String, Double> metrics = new HashMap<>();
        if (offered != null) {
            metrics.put(LearnerInputPacer.OFFERED_METRIC, offered);
        }
        if (used != null) {
            metrics.put(LearnerInputPacer.USED_METRIC, used);
        }
        return ModelVersion.newBuilder().setModelName("m").setVersion(1).setParentVersion(null).setAlgorithm("X")
                .setConfigHash("h").setConfig(new HashMap<>()).setSeed(1).setParameterEncoding("e")
                .setParameters(ByteBuffer.wrap(new byte[0])).setParametersSha256("s").setTasksSeen(0)
                .setTransitionsSeen(0).setOuterSteps(0).setMetrics(metrics).setCreatedAt(java.time.Instant.EPOCH)
                .setCodeVersion("c").build();
    }

    private static long clock;

    /** A version seen a second after the previous one. */
    static void seen(LearnerInputPacer p, ModelVersion v) {
        clock += 1000;
        p.onVersion(v, clock);
    }

    @Test
    void aLearnerUsingLittleOfItsInputIsSentLessAndOneUsingAllOfItIsSentMoreAgain() {
        LearnerInputPacer p = new LearnerInputPacer(new UnregisteredMetricsGroup(), 1);
        seen(p, version(100.0, 100.0)); // the baseline
        assertThat(p.probability()).isEqualTo(1);
        seen(p, version(200.0, 120.0)); // used 20 of 100
        assertThat(p.probability()).isCloseTo(0.25, within(1e-12)); // 0.2 / 0.8
        seen(p, version(300.0, 160.0)); // 40 of 100
        assertThat(p.probability()).isCloseTo(0.125, within(1e-12));
        seen(p, version(400.0, 260.0)); // all of it: it may take more
        assertThat(p.probability()).isCloseTo(0.25, within(1e-12));
        seen(p, version(500.0, 350.0)); // 0.9: at most 1.25 per measurement below 0.95
        assertThat(p.probability()).isCloseTo(0.25 * 1.125, within(1e-12));
        for (int i = 0; i < 10; i++) {
            seen(p, version(600.0 + 100 * i, 450.0 + 100 * i));
        }
        assertThat(p.probability()).isEqualTo(1);
        for (int i = 0; i < 100; i++) {
            seen(p, version(2000.0 + 100 * i, 1400.0));
        }
        assertThat(p.probability()).as("never below the floor").isEqualTo(LearnerInputPacer.MIN_P);
    }

    @Test
    void aBurstOfVersionsIsOneMeasurementNotOnePerVersion() {
        LearnerInputPacer p = new LearnerInputPacer(new UnregisteredMetricsGroup(), 1);
        p.onVersion(version(0.0, 0.0), 0);
        // the five versions of one learner checkpoint, read at once: 10, 20, ... 50 offered, half used
        for (int i = 1; i <= 5; i++) {
            p.onVersion(version(10.0 * i, 5.0 * i), 5000);
        }
        assertThat(p.probability()).as("one correction (0.5 / 0.8), not one per version").isCloseTo(0.625, within(1e-12));
        p.onVersion(version(100.0, 50.0), 5500);
        assertThat(p.probability()).as("not within a second of the last change").isCloseTo(0.625, within(1e-12));
        p.onVersion(version(100.0, 50.0), 6000);
        assertThat(p.probability()).as("a second later: 80 more offered since the change, half used")
                .isCloseTo(0.625 * 0.625, within(1e-12));
    }

    @Test
    void missingHostileOrRestartedCountsChangeNothing() {
        LearnerInputPacer p = new LearnerInputPacer(new UnregisteredMetricsGroup(), 1);
        seen(p, version(0.0, 0.0));
        seen(p, version(100.0, 40.0));
        double before = p.probability();
        seen(p, version(null, null));
        seen(p, version(200.0, null));
        seen(p, version(Double.NaN, 1.0));
        seen(p, version(Double.POSITIVE_INFINITY, 1.0));
        seen(p, version(-5.0, 1.0));
        assertThat(p.probability()).isEqualTo(before);
        seen(p, version(3.0, 3.0)); // a restarted learner counts from 0 again: a new baseline
        assertThat(p.probability()).isEqualTo(before);
        seen(p, version(103.0, 1e9)); // used > offered is taken as all used
        assertThat(p.probability()).isCloseTo(2 * before, within(1e-12));
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
        seen(p, version(0.0, 0.0));
        seen(p, version(100.0, 20.0)); // p = 0.25
        sent = 0;
        for (int i = 0; i < 20000; i++) {
            sent += p.send() ? 1 : 0;
        }
        assertThat(sent / 20000.0).isCloseTo(0.25, within(0.02));
        assertThat(counter.getCount()).isEqualTo(20000 - sent);
    }
}

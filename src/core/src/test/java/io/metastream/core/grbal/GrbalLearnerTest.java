package io.metastream.core.grbal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GrbalLearnerTest {

    private static GrbalConfig.Builder small() {
        return GrbalConfig.builder().obsDim(1).actDim(1).hidden(8, 8).adaptWindow(4).predictWindow(3).metaBatchSize(3)
                .innerLr(0.1).metaLr(1e-2).normalizerWarmupTransitions(20);
    }

    private static List<Segment> segments(long seed, int count, int length) {
        Random rng = new Random(seed);
        List<Segment> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(ToyTasks.sample(rng).rollout(rng, length));
        }
        return out;
    }

    @Test
    void stepsOncePerMetaBatchAndCountsWhatItSaw() {
        GrbalLearner learner = new GrbalLearner(small().build());
        List<Segment> segs = segments(1, 7, 10);
        List<Optional<GrbalLearner.StepResult>> results = new ArrayList<>();
        for (int i = 0; i < segs.size(); i++) {
            results.add(learner.offer("task-" + (i % 4), segs.get(i)));
        }
        assertThat(results).extracting(Optional::isPresent).containsExactly(false, false, true, false, false, true, false);
        GrbalLearner.StepResult second = results.get(5).orElseThrow();
        assertThat(second.accepted()).isTrue();
        assertThat(second.outerSteps()).isEqualTo(2);
        assertThat(second.preAdaptLoss()).isPositive();
        assertThat(learner.outerSteps()).isEqualTo(2);
        assertThat(learner.segmentsSeen()).isEqualTo(7);
        assertThat(learner.transitionsSeen()).isEqualTo(70);
        assertThat(learner.tasksSeen()).isEqualTo(4);
        assertThat(learner.pendingGradients()).isEqualTo(1);
        assertThat(learner.rejectedSteps()).isZero();
    }

    @Test
    void warmsUpTheNormalizerThenFreezesIt() {
        GrbalLearner learner = new GrbalLearner(small().build());
        List<Segment> segs = segments(2, 4, 10);
        learner.offer("a", segs.get(0));
        assertThat(learner.normalizer().frozen()).isFalse();
        assertThat(learner.normalizer().count()).isEqualTo(10);
        learner.offer("a", segs.get(1));
        assertThat(learner.normalizer().frozen()).isTrue();
        learner.offer("a", segs.get(2));
        assertThat(learner.normalizer().count()).isEqualTo(20);
        assertThat(learner.currentModel().normalizer().count()).isEqualTo(20);
    }

    @Test
    void changesTheModelOnlyThroughOuterSteps() {
        GrbalLearner learner = new GrbalLearner(small().build());
        var theta0 = learner.theta();
        List<Segment> segs = segments(3, 3, 7);
        learner.offer("a", segs.get(0));
        learner.offer("b", segs.get(1));
        assertThat(learner.theta()).isEqualTo(theta0);
        learner.offer("c", segs.get(2));
        assertThat(learner.theta()).isNotEqualTo(theta0);
        assertThat(new GrbalLearner(small().build()).theta()).isEqualTo(theta0); // same seed, same θ
    }

    @Test
    void rejectsSegmentsShorterThanBothWindowsNamingTheLengths() {
        GrbalLearner learner = new GrbalLearner(small().build());
        assertThatThrownBy(() -> learner.offer("t", segments(4, 1, 6).get(0)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has 6 transitions but adaptWindow + predictWindow = 4 + 3 = 7");
        assertThat(learner.segmentsSeen()).isZero();
    }

    private static Segment constant(double o, double a, double n, int length) {
        double[][] obs = new double[length][1];
        double[][] act = new double[length][1];
        double[][] next = new double[length][1];
        for (int t = 0; t < length; t++) {
            obs[t][0] = o;
            act[t][0] = a;
            next[t][0] = n;
        }
        return new Segment(obs, act, next);
    }

    @Test
    void holdsBackNonFiniteSegmentsQuarantinesTheirTaskAndKeepsParametersAndOptimizer() {
        // no normalisation and huge values: the loss overflows to infinity
        GrbalLearner learner = new GrbalLearner(small().normalizerWarmupTransitions(0).build());
        var theta0 = learner.theta();
        Segment huge = constant(1e200, 1, -1e200, 7);
        assertThat(learner.offer("x", huge)).isEmpty();
        assertThat(learner.offer("x", huge)).isEmpty();
        assertThat(learner.offer("x", huge)).isEmpty();
        assertThat(learner.heldBackSegments()).isEqualTo(3);
        assertThat(learner.quarantinedTasks()).containsExactly("x");
        assertThat(learner.offer("x", segments(4, 1, 7).get(0))).as("a quarantined task's segments are dropped").isEmpty();
        assertThat(learner.quarantinedSegments()).isEqualTo(1);
        assertThat(learner.outerSteps()).isZero();
        assertThat(learner.theta()).isEqualTo(theta0);
        assertThat(learner.pendingGradients()).isZero();
        // healthy tasks afterwards are applied normally
        for (Segment s : segments(5, 3, 7)) {
            learner.offer("y", s);
        }
        assertThat(learner.outerSteps()).isEqualTo(1);
    }

    @Test
    void aSegmentThatWouldPoisonTheNormaliserIsHeldBackAndItsUpdateUndone() {
        GrbalLearner learner = new GrbalLearner(small().normalizerWarmupTransitions(1000).build());
        for (Segment s : segments(6, 4, 7)) {
            learner.offer("y", s);
        }
        byte[] before = learner.normalizer().toBytes();
        assertThat(learner.offer("x", constant(1e200, 1, -1e200, 7))).isEmpty();
        assertThat(learner.heldBackSegments()).isEqualTo(1);
        assertThat(learner.normalizer().toBytes()).as("the normaliser as it was before the segment").isEqualTo(before);
        assertThat(learner.quarantinedTasks()).isEmpty();
    }

    @Test
    void holdsBackAFiniteLossFarOutsideItsRunningRangeAndQuarantinesATaskThatKeepsSendingSuch() {
        GrbalLearner learner = new GrbalLearner(small().build());
        List<Segment> healthy = segments(7, 200, 7);
        for (int i = 0; i < 100; i++) {
            learner.offer("task-" + (i % 5), healthy.get(i));
        }
        long steps = learner.outerSteps();
        var theta = learner.theta().dup();
        // well-formed but wild: next states far from anything the dynamics produce
        Random rng = new Random(9);
        for (int i = 0; i < 4; i++) {
            double[][] obs = new double[7][1];
            double[][] act = new double[7][1];
            double[][] next = new double[7][1];
            for (int t = 0; t < 7; t++) {
                obs[t][0] = rng.nextGaussian();
                act[t][0] = rng.nextGaussian();
                next[t][0] = 1e4 * rng.nextGaussian();
            }
            assertThat(learner.offer("poison", new Segment(obs, act, next))).isEmpty();
        }
        assertThat(learner.heldBackSegments()).isEqualTo(3);
        assertThat(learner.quarantinedTasks()).containsExactly("poison");
        assertThat(learner.quarantinedSegments()).isEqualTo(1);
        assertThat(learner.outerSteps()).isEqualTo(steps);
        assertThat(learner.theta()).isEqualTo(theta);
        // the healthy tasks go on
        for (int i = 100; i < 106; i++) {
            learner.offer("task-" + (i % 5), healthy.get(i));
        }
        assertThat(learner.outerSteps()).isEqualTo(steps + 2);
        assertThat(learner.heldBackSegments()).as("no healthy segment held back").isEqualTo(3);
    }

    @Test
    void withTheCheckOffAnOutlierEntersTheBatch() {
        GrbalLearner learner = new GrbalLearner(small().outlierSigma(0).quarantineAfter(0).build());
        for (Segment s : segments(7, 100, 7)) {
            learner.offer("t", s);
        }
        double[][] obs = {{0}, {0}, {0}, {0}, {0}, {0}, {0}};
        double[][] next = {{1e4}, {-1e4}, {1e4}, {-1e4}, {1e4}, {-1e4}, {1e4}};
        learner.offer("poison", new Segment(obs, obs, next));
        assertThat(learner.heldBackSegments()).isZero();
        assertThat(learner.pendingGradients()).isEqualTo(2);
    }

    @Test
    void restoredLearnerContinuesExactlyLikeTheOriginalEvenMidBatch() {
        GrbalConfig cfg = small().build();
        GrbalLearner original = new GrbalLearner(cfg);
        List<Segment> segs = segments(6, 14, 9);
        for (int i = 0; i < 8; i++) { // 2 outer steps + 2 pending, normalizer frozen after 20 transitions
            original.offer("task-" + (i % 3), segs.get(i));
        }
        GrbalLearner restored = GrbalLearner.restore(cfg, original.snapshot());
        assertThat(restored.snapshot()).isEqualTo(original.snapshot());
        assertThat(restored.pendingGradients()).isEqualTo(2);
        for (int i = 8; i < 14; i++) {
            Optional<GrbalLearner.StepResult> a = original.offer("task-" + i, segs.get(i));
            Optional<GrbalLearner.StepResult> b = restored.offer("task-" + i, segs.get(i));
            assertThat(b).isEqualTo(a);
        }
        assertThat(restored.theta()).isEqualTo(original.theta());
        assertThat(restored.snapshot()).isEqualTo(original.snapshot());
        assertThat(restored.outerSteps()).isEqualTo(4);
        assertThat(restored.tasksSeen()).isEqualTo(original.tasksSeen());
    }

    @Test
    void restoreRejectsUnknownVersionsAndMismatchedNetworks() {
        GrbalConfig cfg = small().build();
        byte[] snap = new GrbalLearner(cfg).snapshot();
        byte[] future = snap.clone();
        ByteBuffer.wrap(future).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 2);
        assertThatThrownBy(() -> GrbalLearner.restore(cfg, future)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown format version 2");
        GrbalConfig bigger = small().hidden(16, 8).build();
        assertThatThrownBy(() -> GrbalLearner.restore(bigger, snap)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("holds " + cfg.metaParams() + " parameters")
                .hasMessageContaining("has " + bigger.metaParams());
        assertThatThrownBy(() -> GrbalLearner.restore(cfg, java.util.Arrays.copyOf(snap, snap.length / 2)))
                .hasMessageContaining("truncated");
    }

    @Test
    void theTasksItRemembersAreBoundedSoItsSnapshotIs() {
        GrbalLearner learner = new GrbalLearner(small().build());
        for (int i = 0; i < GrbalLearner.MAX_TRACKED_TASKS + 50; i++) {
            learner.trackTask("task-" + i);
        }
        learner.trackTask("task-0");
        assertThat(learner.tasksSeen()).isEqualTo(GrbalLearner.MAX_TRACKED_TASKS);
    }
}

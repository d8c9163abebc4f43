package io.metastream.flink.pearl;

import io.metastream.core.io.ModelBlob;
import io.metastream.core.pearl.PearlPolicy;
import io.metastream.schema.ModelVersion;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

class PearlLearnerFunctionTest {

    static final Map<String, String> CONFIG = PearlTaskFunctionTest.CONFIG;
    static final int OBS = 2;
    static final int ACT = 2;
    static final int CW = 2 * OBS + ACT + 1;
    static final int RW = CW + 1;
    static final long MAX_AGE = 60_000;

    static PearlLearnerFunction function() {
        return new PearlLearnerFunction("pearl-m", CONFIG, Map.of("source", "test"), 2, 1, MAX_AGE);
    }

    static OneInputStreamOperatorTestHarness<PearlTaskSample, ModelVersion> harness() throws Exception {
        return ProcessFunctionTestHarnesses.forProcessFunction(function());
    }

    /** A fresh function restored from {@code snapshot}, set up and open. */
    static OneInputStreamOperatorTestHarness<PearlTaskSample, ModelVersion> restored(OperatorSubtaskState snapshot)
            throws Exception {
        var h = new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(function()));
        h.setup();
        h.initializeState(snapshot);
        h.open();
        return h;
    }

    static PearlTaskSample sample(String task, Random rng, long createdAtMillis) {
        double[][] ctx = new double[3][CW];
        for (double[] row : ctx) {
            for (int c = 0; c < CW; c++) {
                row[c] = rng.nextGaussian();
            }
        }
        double[][] replay = new double[4][RW];
        for (double[] row : replay) {
            for (int c = 0; c < RW - 1; c++) {
                row[c] = rng.nextGaussian();
            }
            for (int c = OBS; c < OBS + ACT; c++) {
                row[c] = Math.tanh(row[c]); // actions in [-1, 1]
            }
            row[RW - 1] = rng.nextInt(5) == 0 ? 1.0 : 0.0;
        }
        return PearlTaskSample.of(task, 0, createdAtMillis, OBS, ACT, ctx, replay);
    }

    static PearlTaskSample fresh(String task, Random rng) {
        return sample(task, rng, System.currentTimeMillis());
    }

    static byte[] blob(ModelVersion v) {
        ByteBuffer b = v.getParameters().duplicate();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return bytes;
    }

    static void assertWellFormed(ModelVersion v, long version) {
        assertThat(v.getModelName()).isEqualTo("pearl-m");
        assertThat(v.getVersion()).isEqualTo(version);
        assertThat(v.getParentVersion()).isEqualTo(version == 1 ? null : version - 1);
        assertThat(v.getAlgorithm()).isEqualTo("PEARL");
        assertThat(v.getParameterEncoding()).isEqualTo(PearlPolicy.ENCODING);
        byte[] blob = blob(v);
        assertThat(v.getParametersSha256()).isEqualTo(ModelBlob.sha256Hex(blob));
        PearlPolicy p = PearlPolicy.decode(blob);
        assertThat(p.obsDim()).isEqualTo(OBS);
        assertThat(p.actDim()).isEqualTo(ACT);
        assertThat(p.latentDim()).isEqualTo(2);
        assertThat(p.version()).isEqualTo(v.getOuterSteps());
        assertThat(v.getConfig()).containsEntry("job.source", "test").containsEntry("obsDim", "2");
    }

    @Test
    void publishesConsecutiveVersionsEveryPublishEverySteps() throws Exception {
        Random rng = new Random(1);
        try (var h = harness()) {
            int n = 7;
            for (int i = 0; i < n; i++) {
                h.processElement(fresh("t" + (i % 3), rng), i);
            }
            List<ModelVersion> out = h.extractOutputValues();
            assertThat(out).hasSize(n / 2);
            for (int i = 0; i < out.size(); i++) {
                assertWellFormed(out.get(i), i + 1);
                assertThat(out.get(i).getOuterSteps()).isEqualTo(2L * (i + 1));
            }
            assertThat(out.get(out.size() - 1).getTasksSeen()).isEqualTo(3);
            // successive versions carry different parameters
            assertThat(out.get(0).getParametersSha256()).isNotEqualTo(out.get(1).getParametersSha256());
        }
    }

    @Test
    void lateSamplesArePooledWithoutAStep() throws Exception {
        Random rng = new Random(2);
        try (var h = harness()) {
            long old = System.currentTimeMillis() - MAX_AGE - 10_000;
            for (int i = 0; i < 5; i++) {
                h.processElement(sample("late" + (i % 3), rng, old), i);
            }
            assertThat(h.extractOutputValues()).isEmpty(); // 5 steps would have published 2 versions

            h.processElement(fresh("f", rng), 10);
            assertThat(h.extractOutputValues()).isEmpty(); // one step, publishEvery = 2
            h.processElement(fresh("f", rng), 11);
            List<ModelVersion> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            ModelVersion v = out.get(0);
            assertWellFormed(v, 1);
            assertThat(v.getOuterSteps()).isEqualTo(2);
            assertThat(v.getTasksSeen()).as("the late samples' tasks are in the pool").isEqualTo(4);
            assertThat(v.getMetrics()).containsEntry("lateSamples", 5.0).containsEntry("pooledTasks", 4.0);
        }
    }

    @Test
    void badSamplesAreDroppedWithoutAStepOrAnException() throws Exception {
        Random rng = new Random(3);
        try (var h = harness()) {
            PearlTaskSample wrongObs = fresh("bad1", rng);
            wrongObs.obsDim = 3;
            PearlTaskSample wrongAct = fresh("bad2", rng);
            wrongAct.actDim = 1;
            PearlTaskSample shortContext = fresh("bad3", rng);
            shortContext.context = Arrays.copyOf(shortContext.context, shortContext.context.length - 1);
            PearlTaskSample longBatch = fresh("bad4", rng);
            longBatch.batch = Arrays.copyOf(longBatch.batch, longBatch.batch.length + RW);
            PearlTaskSample wrongCount = fresh("bad5", rng);
            wrongCount.contextRows = 4;
            PearlTaskSample nonFinite = fresh("bad6", rng);
            nonFinite.batch[5] = Double.NaN;
            PearlTaskSample badDone = fresh("bad7", rng);
            badDone.batch[RW - 1] = 0.5;
            int t = 0;
            for (PearlTaskSample s : List.of(wrongObs, wrongAct, shortContext, longBatch, wrongCount, nonFinite, badDone)) {
                int ts = t++;
                assertThatCode(() -> h.processElement(s, ts)).as("%s", s).doesNotThrowAnyException();
            }
            assertThat(h.extractOutputValues()).isEmpty();

            h.processElement(fresh("good", rng), 20);
            assertThat(h.extractOutputValues()).isEmpty();
            h.processElement(fresh("good", rng), 21);
            List<ModelVersion> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            assertWellFormed(out.get(0), 1);
            assertThat(out.get(0).getOuterSteps()).isEqualTo(2);
            assertThat(out.get(0).getTasksSeen()).as("bad samples are not pooled").isEqualTo(1);
        }
    }

    @Test
    void versionNumberingContinuesAfterRestore() throws Exception {
        Random rng = new Random(4);
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            for (int i = 0; i < 3; i++) {
                h.processElement(fresh("t" + i, rng), i);
            }
            List<ModelVersion> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            assertWellFormed(out.get(0), 1);
            snapshot = h.snapshot(1, 10);
        }
        try (var restored = restored(snapshot)) {
            // the learner restored 3 steps: the 4th completes publishEvery = 2
            restored.processElement(fresh("t0", rng), 20);
            List<ModelVersion> out = restored.extractOutputValues();
            assertThat(out).hasSize(1);
            assertWellFormed(out.get(0), 2);
            assertThat(out.get(0).getOuterSteps()).isEqualTo(4);
            restored.processElement(fresh("t1", rng), 21);
            restored.processElement(fresh("t2", rng), 22);
            out = restored.extractOutputValues();
            assertThat(out).hasSize(2);
            assertWellFormed(out.get(1), 3);
            assertThat(out.get(1).getOuterSteps()).isEqualTo(6);
        }
    }

    @Test
    void thePoolIsRestoredWithTheLearner() throws Exception {
        Random rng = new Random(6);
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            for (int i = 0; i < 6; i++) {
                h.processElement(fresh("p" + (i % 5), rng), i); // 5 tasks, one of them twice
            }
            snapshot = h.snapshot(1, 10);
        }
        try (var restored = restored(snapshot)) {
            // 6 restored steps; the 7th, from a new task, is not published (publishEvery 2), the 8th is
            restored.processElement(fresh("new", rng), 20);
            restored.processElement(fresh("new", rng), 21);
            List<ModelVersion> out = restored.extractOutputValues();
            assertThat(out).hasSize(1);
            assertWellFormed(out.get(0), 4);
            assertThat(out.get(0).getMetrics()).as("the 5 pooled tasks came back with the learner")
                    .containsEntry("pooledTasks", 6.0);
            assertThat(out.get(0).getTasksSeen()).isEqualTo(6);
        }
    }

    @org.junit.jupiter.api.Test
    void theTaskThatSentNothingForLongestLeavesAFullPool() {
        java.util.Map<String, Long> last = new java.util.HashMap<>(java.util.Map.of("a", 5L, "b", 2L, "c", 9L));
        org.assertj.core.api.Assertions.assertThat(PearlLearnerFunction.leastRecent(last, 3)).isNull();
        last.put("d", 10L);
        org.assertj.core.api.Assertions.assertThat(PearlLearnerFunction.leastRecent(last, 3)).isEqualTo("b");
    }
}

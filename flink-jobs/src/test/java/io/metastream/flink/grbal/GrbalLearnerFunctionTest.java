package io.metastream.flink.grbal;

import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.io.ModelBlob;
import io.metastream.schema.ModelVersion;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class GrbalLearnerFunctionTest {

    static final Map<String, String> CONFIG = Map.of("obsDim", "3", "actDim", "1", "hidden", "8",
            "adaptWindow", "4", "predictWindow", "4", "normalizerWarmupTransitions", "0", "metaBatchSize", "2",
            "seed", "3");

    static GrbalLearnerFunction function(long maxPolicyLag) {
        return new GrbalLearnerFunction("m", CONFIG, Map.of("taskFamily", "toy"), 2, maxPolicyLag);
    }

    static GrbalSegment segment(String task, Random rng, long oldestPolicyVersion) {
        GrbalSegment s = new GrbalSegment();
        s.taskId = task;
        s.thetaVersion = 0;
        s.oldestPolicyVersion = oldestPolicyVersion;
        s.length = 8;
        s.obsDim = 3;
        s.actDim = 1;
        s.obs = new double[24];
        s.act = new double[8];
        s.nextObs = new double[24];
        for (int t = 0; t < 8; t++) {
            s.act[t] = rng.nextGaussian();
            for (int j = 0; j < 3; j++) {
                s.obs[t * 3 + j] = rng.nextGaussian();
                s.nextObs[t * 3 + j] = s.obs[t * 3 + j] + 0.1 * s.act[t] * (j + 1);
            }
        }
        return s;
    }

    static OneInputStreamOperatorTestHarness<GrbalSegment, ModelVersion> restored(OperatorSubtaskState snapshot)
            throws Exception {
        var h = new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(function(1000)));
        h.setup();
        h.initializeState(snapshot);
        h.open();
        return h;
    }

    static void assertWellFormed(ModelVersion v, long version) {
        assertThat(v.getModelName()).isEqualTo("m");
        assertThat(v.getVersion()).isEqualTo(version);
        assertThat(v.getParentVersion()).isEqualTo(version == 1 ? null : version - 1);
        assertThat(v.getAlgorithm()).isEqualTo("GRBAL");
        assertThat(v.getParameterEncoding()).isEqualTo(ModelBlob.ENCODING);
        ByteBuffer b = v.getParameters().duplicate();
        byte[] blob = new byte[b.remaining()];
        b.get(blob);
        assertThat(v.getParametersSha256()).isEqualTo(ModelBlob.sha256Hex(blob));
        DynamicsModel theta = ModelBlob.decode(blob);
        assertThat(theta).isNotNull();
        assertThat(v.getConfig()).containsEntry("job.taskFamily", "toy").containsEntry("obsDim", "3");
        assertThat(v.getSeed()).isEqualTo(3);
        assertThat(v.getMetrics()).containsKeys("preAdaptLoss", "postAdaptLoss", "staleSegments");
    }

    @Test
    void publishesConsecutiveVersionsWithParentsAndProvenance() throws Exception {
        Random rng = new Random(1);
        try (var h = ProcessFunctionTestHarnesses.forProcessFunction(function(1000))) {
            for (int i = 0; i < 12; i++) { // 12 segments, meta-batch 2: 6 outer steps, a version every 2
                h.processElement(segment("t" + (i % 3), rng, 0), i);
            }
            List<ModelVersion> out = h.extractOutputValues();
            assertThat(out).hasSize(3);
            for (int i = 0; i < out.size(); i++) {
                assertWellFormed(out.get(i), i + 1);
                assertThat(out.get(i).getOuterSteps()).isEqualTo(2L * (i + 1));
            }
            assertThat(out.get(0).getParametersSha256()).isNotEqualTo(out.get(2).getParametersSha256());
        }
    }

    @Test
    void aRestoredLearnerContinuesTheNumberingAndTheParametersOfItsCheckpoint() throws Exception {
        Random rng = new Random(2);
        List<GrbalSegment> later = List.of(segment("a", new Random(9), 0), segment("b", new Random(10), 0),
                segment("a", new Random(11), 0), segment("b", new Random(12), 0));
        OperatorSubtaskState snapshot;
        List<ModelVersion> uninterrupted;
        try (var h = ProcessFunctionTestHarnesses.forProcessFunction(function(1000))) {
            for (int i = 0; i < 4; i++) {
                h.processElement(segment("t" + i, rng, 0), i);
            }
            assertThat(h.extractOutputValues()).hasSize(1);
            snapshot = h.snapshot(1, 10);
            for (GrbalSegment s : later) {
                h.processElement(s, 20);
            }
            uninterrupted = h.extractOutputValues();
        }
        try (var h = restored(snapshot)) {
            for (GrbalSegment s : later) {
                h.processElement(s, 20);
            }
            List<ModelVersion> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            assertWellFormed(out.get(0), 2);
            // the same checkpoint and the same data give the same version 2, bit for bit
            assertThat(out.get(0).getParametersSha256()).isEqualTo(uninterrupted.get(1).getParametersSha256());
            // and the run goes on: the run id is part of the checkpoint
            assertThat(out.get(0).getRunId()).isNotEmpty().isEqualTo(uninterrupted.get(0).getRunId());
        }
    }

    @Test
    void dropsSegmentsCollectedWithATooOldPolicyAndCountsThem() throws Exception {
        Random rng = new Random(3);
        try (var h = ProcessFunctionTestHarnesses.forProcessFunction(function(0))) {
            for (int i = 0; i < 4; i++) {
                h.processElement(segment("t" + i, rng, 0), i);
            }
            assertThat(h.extractOutputValues()).hasSize(1); // version 0 data with a learner at version 0: lag 0
            for (int i = 0; i < 4; i++) {
                h.processElement(segment("t" + i, rng, 0), i); // now the learner is at version 1: lag 1 > 0
            }
            assertThat(h.extractOutputValues()).hasSize(1);
            for (int i = 0; i < 4; i++) {
                h.processElement(segment("t" + i, rng, 1), i);
            }
            List<ModelVersion> out = h.extractOutputValues();
            assertThat(out).hasSize(2);
            assertThat(out.get(1).getMetrics()).containsEntry("staleSegments", 4.0);
        }
    }
}

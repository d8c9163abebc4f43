package io.metastream.flink.grbal;

import io.metastream.flink.internal.ModelBroadcast;
import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.grbal.GrbalConfig;
import io.metastream.core.grbal.GrbalLearner;
import io.metastream.core.io.ModelBlob;
import io.metastream.schema.AdaptedModel;
import io.metastream.schema.FastWeights;
import io.metastream.schema.ModelVersion;
import io.metastream.schema.Transition;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

import static io.metastream.flink.internal.TaskOperatorHarness.flushed;
import static org.assertj.core.api.Assertions.assertThat;

class GrbalTaskFunctionTest {

    static final Map<String, String> CONFIG = Map.of("obsDim", "3", "actDim", "1", "hidden", "8",
            "adaptWindow", "4", "predictWindow", "4", "normalizerWarmupTransitions", "0");

    static GrbalTaskFunction function() {
        return new GrbalTaskFunction("m", CONFIG, 2, 3, 8, 0);
    }

    static KeyedBroadcastOperatorTestHarness<String, Transition, ModelVersion, AdaptedModel> harness()
            throws Exception {
        return harness(function());
    }

    static KeyedBroadcastOperatorTestHarness<String, Transition, ModelVersion, AdaptedModel> harness(
            GrbalTaskFunction f) throws Exception {
        return io.metastream.flink.internal.TaskOperatorHarness.open(f);
    }

    static ModelVersion model(long version) {
        return model(version, new GrbalLearner(GrbalConfig.fromMap(CONFIG)).currentModel());
    }

    static ModelVersion model(long version, DynamicsModel theta) {
        byte[] blob = ModelBlob.encode(theta);
        return ModelVersion.newBuilder()
                .setModelName("m").setVersion(version).setParentVersion(version > 1 ? version - 1 : null)
                .setAlgorithm("GRBAL").setConfigHash("h").setConfig(new HashMap<>()).setSeed(1)
                .setParameterEncoding(ModelBlob.ENCODING).setParameters(ByteBuffer.wrap(blob))
                .setParametersSha256(ModelBlob.sha256Hex(blob)).setTasksSeen(0).setTransitionsSeen(0)
                .setOuterSteps(0).setMetrics(new HashMap<>()).setCreatedAt(Instant.now()).setCodeVersion("test")
                .build();
    }

    static int counter = 0;

    static Transition step(String task, Random rng, Long policyVersion) {
        float th = (float) rng.nextGaussian();
        float u = (float) rng.nextGaussian();
        return Transition.newBuilder()
                .setTaskId(task).setAgentId("a").setEpisodeId(1).setStep(counter++)
                .setObservation(List.of((float) Math.cos(th), (float) Math.sin(th), u))
                .setAction(List.of(u)).setReward(-1f)
                .setNextObservation(List.of((float) Math.cos(th + 0.1), (float) Math.sin(th + 0.1), u * 0.9f))
                .setDone(false).setPolicyVersion(policyVersion).setTimestamp(Instant.ofEpochMilli(0)).build();
    }

    @Test
    void buffersBeforeTheFirstModelAndAdaptsEveryTaskWhenItArrives() throws Exception {
        Random rng = new Random(1);
        try (var h = harness()) {
            for (int i = 0; i < 5; i++) {
                h.processElement(step("t1", rng, null), i);
                h.processElement(step("t2", rng, null), i);
            }
            h.processElement(step("t3", rng, null), 9); // too little context to adapt
            assertThat(flushed(h)).isEmpty();

            h.processBroadcastElement(model(1), 10);

            List<AdaptedModel> out = flushed(h);
            assertThat(out).extracting(AdaptedModel::getTaskId).containsExactlyInAnyOrder("t1", "t2");
            AdaptedModel a = out.get(0);
            assertThat(a.getBaseVersion()).isEqualTo(1);
            assertThat(a.getContextTransitions()).isEqualTo(4);
            assertThat(out).extracting(AdaptedModel::getTaskTransitions).as("each task's count so far").containsOnly(5L);
            assertThat(a.getContextLossAfter()).isLessThan(a.getContextLossBefore());
            FastWeights fw = (FastWeights) a.getAdaptation();
            byte[] delta = new byte[fw.getDelta().remaining()];
            fw.getDelta().duplicate().get(delta);
            assertThat(ModelBlob.sha256Hex(delta)).isEqualTo(fw.getDeltaSha256());
        }
    }

    @Test
    void aModelCarryingReBalsRecurrentRuleIsAdaptedWithItWhateverTheJobsInnerSteps() throws Exception {
        Map<String, String> recurrent = new HashMap<>(CONFIG);
        recurrent.put("adaptation", "recurrent");
        recurrent.put("recurrentSize", "4");
        DynamicsModel theta = new GrbalLearner(GrbalConfig.fromMap(recurrent)).currentModel();
        Random rng = new Random(2);
        try (var h = harness()) {
            for (int i = 0; i < 5; i++) {
                h.processElement(step("t1", rng, null), i);
            }
            h.processBroadcastElement(model(1, theta), 10);
            List<AdaptedModel> out = flushed(h);
            assertThat(out).hasSize(1);
            FastWeights fw = (FastWeights) out.get(0).getAdaptation();
            byte[] bytes = new byte[fw.getDelta().remaining()];
            fw.getDelta().duplicate().get(bytes);
            double[] delta = ModelBlob.decodeDelta(bytes, theta.mlp().numParams()).toDoubleVector();
            var mlp = theta.mlp();
            double biasShift = 0;
            for (int l = 1; l <= mlp.numLayers(); l++) {
                for (long i = mlp.weightOffset(l); i < mlp.biasOffset(l); i++) {
                    assertThat(delta[(int) i]).as("weight %d is not adapted by the recurrent rule", i).isZero();
                }
                for (long i = mlp.biasOffset(l); i < mlp.biasOffset(l) + mlp.layerSizes()[l]; i++) {
                    biasShift += Math.abs(delta[(int) i]);
                }
            }
            assertThat(biasShift).isGreaterThan(0);
        }
    }

    @Test
    void aRepeatedStepOfAnAgentIsDroppedButANewStartAndOtherAgentsAreTaken() throws Exception {
        Random rng = new Random(5);
        try (var h = harness()) {
            List<Transition> taken = new java.util.ArrayList<>();
            for (int i = 0; i < 6; i++) {
                taken.add(step("t1", rng, null));
            }
            taken.add(Transition.newBuilder(step("t1", rng, null)).setEpisodeId(0).setStep(0).build()); // counting from 0 again
            taken.add(Transition.newBuilder(step("t1", rng, null)).setAgentId("b").build());             // another agent
            long time = 0;
            for (int i = 0; i < taken.size(); i++) {
                h.processElement(taken.get(i), time++);
                if (i == 2) {
                    h.processElement(Transition.newBuilder(taken.get(2)).build(), time++); // a retry of the same step
                    h.processElement(Transition.newBuilder(taken.get(0)).build(), time++); // an older step, same episode
                }
            }
            List<GrbalSegment> segments = h.getSideOutput(GrbalTaskFunction.SEGMENTS).stream()
                    .map(StreamRecord::getValue).collect(Collectors.toList());
            // the window of 8 fills with the 8 transitions taken, not with the repeats
            assertThat(segments).hasSize(1);
            double[] expected = new double[8 * 3];
            for (int i = 0; i < 8; i++) {
                for (int d = 0; d < 3; d++) {
                    expected[i * 3 + d] = taken.get(i).getObservation().get(d);
                }
            }
            assertThat(segments.get(0).obs).containsExactly(expected);
            h.processBroadcastElement(model(1), time++);
            assertThat(flushed(h)).extracting(AdaptedModel::getTaskTransitions)
                    .as("the first model: the task is adapted on the 8 taken").containsExactly(8L);
            h.processElement(Transition.newBuilder(taken.get(7)).build(), time++); // a repeat: not counted
            h.processElement(Transition.newBuilder(step("t1", rng, null)).setAgentId("b").setStep(99).build(), time++);
            assertThat(flushed(h)).as("one new transition: fewer than adaptEvery = 2").hasSize(1);
            h.processElement(Transition.newBuilder(step("t1", rng, null)).setAgentId("b").setStep(100).build(), time++);
            assertThat(flushed(h)).extracting(AdaptedModel::getTaskTransitions)
                    .as("the 8 taken, then two more; repeats never counted").containsExactly(8L, 10L);
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"hashmap", "rocksdb"})
    void aTaskSilentForLongerThanTheTimeToLiveStartsAfreshAndABusyOneKeepsItsState(String backend) throws Exception {
        var operator = new io.metastream.flink.internal.TaskOperator<>(function());
        try (var h = new KeyedBroadcastOperatorTestHarness<String, Transition, ModelVersion, AdaptedModel>(operator,
                Transition::getTaskId, Types.STRING, 128, 1, 0)) {
            h.getExecutionConfig().setGlobalJobParameters(org.apache.flink.configuration.Configuration.fromMap(
                    Map.of(io.metastream.flink.internal.TaskStateTtl.KEY, "PT0.4S")));
            if (backend.equals("rocksdb")) {
                h.setStateBackend((org.apache.flink.runtime.state.StateBackend)
                        new org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend());
            }
            h.setup();
            h.open();
            h.setProcessingTime(0);
            Random rng = new Random(8);
            for (int i = 0; i < 7; i++) {
                h.processElement(step("t1", rng, null), i);
                h.processElement(step("t2", rng, null), i);
            }
            // t2 keeps sending every 300 ms, t1 is silent: after 900 ms only t1 has been idle for the ttl
            for (int ms = 300; ms <= 900; ms += 300) {
                h.setProcessingTime(ms);
                h.processElement(step("t2", rng, null), ms);
            }
            assertThat(h.getSideOutput(GrbalTaskFunction.SEGMENTS).stream().map(r -> r.getValue().taskId))
                    .as("t2's window survived its pauses: 8 transitions, one segment").containsExactly("t2");
            // one more transition: with the old 7 still held the window of 8 would be full and a segment cut
            h.processElement(step("t1", rng, null), 8);
            assertThat(h.getSideOutput(GrbalTaskFunction.SEGMENTS)).as("t1's expired window was not reused").hasSize(1);
            for (int i = 0; i < 7; i++) {
                h.processElement(step("t1", rng, null), 9 + i);
            }
            assertThat(h.getSideOutput(GrbalTaskFunction.SEGMENTS)).hasSize(2);
            assertThat(h.numProcessingTimeTimers()).as("one expiry timer per task").isEqualTo(2);
        }
    }

    @Test
    void sendsTheLastMPlusKTransitionsAfterEachStride() throws Exception {
        Random rng = new Random(2);
        try (var h = harness()) {
            for (int i = 0; i < 14; i++) {
                h.processElement(step("t1", rng, i < 3 ? null : 7L), i);
            }
            List<GrbalSegment> segments = h.getSideOutput(GrbalTaskFunction.SEGMENTS).stream()
                    .map(StreamRecord::getValue).collect(Collectors.toList());
            // window full at 8 transitions (and 8 >= stride 3): cut at 8, then at 11 and 14
            assertThat(segments).hasSize(3);
            GrbalSegment last = segments.get(2);
            assertThat(last.length).isEqualTo(8);
            assertThat(last.obs).hasSize(8 * 3);
            assertThat(last.oldestPolicyVersion).isEqualTo(7L);
            assertThat(segments.get(0).oldestPolicyVersion).isEqualTo(-1L);
            assertThat(last.thetaVersion).isEqualTo(-1L);
        }
    }

    @Test
    void replaysOlderWindowsOfTheTasksShard() throws Exception {
        Random rng = new Random(5);
        try (var h = harness(new GrbalTaskFunction("m", CONFIG, 2, 3, 20, 2))) {
            for (int i = 0; i < 26; i++) {
                h.processElement(step("t1", rng, (long) i), i);
            }
            List<GrbalSegment> segments = h.getSideOutput(GrbalTaskFunction.SEGMENTS).stream()
                    .map(StreamRecord::getValue).collect(Collectors.toList());
            // cuts at 8, 11, ..., 26 = 7 newest windows; every cut after the first also replays 2 older ones
            assertThat(segments).hasSize(7 + 6 * 2);
            assertThat(segments).allSatisfy(s -> assertThat(s.length).isEqualTo(8));
            // the shard holds the newest 20: the last cut's replays start at or after 26 - 20
            assertThat(segments.subList(segments.size() - 3, segments.size()))
                    .allSatisfy(seg -> assertThat(seg.oldestPolicyVersion).isGreaterThanOrEqualTo(6L));
            long replayedFromOlderData = segments.stream().filter(s -> s.oldestPolicyVersion < 18).count();
            assertThat(replayedFromOlderData).isGreaterThan(7 - 1);
        }
    }

    @Test
    void replayDrawsDependOnTheSeedTaskAndKeyedStateOnlySoARestoreRepeatsThem() throws Exception {
        List<Transition> first = new java.util.ArrayList<>();
        List<Transition> second = new java.util.ArrayList<>();
        Random rng = new Random(6);
        for (int i = 0; i < 40; i++) {
            (i < 20 ? first : second).add(step("t1", rng, (long) i));
        }
        OperatorSubtaskState snapshot;
        List<Long> uninterrupted;
        try (var h = harness(new GrbalTaskFunction("m", CONFIG, 2, 3, 20, 2))) {
            for (Transition t : first) {
                h.processElement(t, 0);
            }
            snapshot = h.snapshot(1, 10);
            int before = h.getSideOutput(GrbalTaskFunction.SEGMENTS).size();
            for (Transition t : second) {
                h.processElement(t, 0);
            }
            uninterrupted = h.getSideOutput(GrbalTaskFunction.SEGMENTS).stream().skip(before)
                    .map(r -> r.getValue().oldestPolicyVersion).collect(Collectors.toList());
        }
        // a restored operator draws the same replay windows as the one that kept running
        var restored = new KeyedBroadcastOperatorTestHarness<>(
                new io.metastream.flink.internal.TaskOperator<>(new GrbalTaskFunction("m", CONFIG, 2, 3, 20, 2)),
                Transition::getTaskId, Types.STRING, 1, 1, 0);
        restored.setup();
        restored.initializeState(snapshot);
        restored.open();
        for (Transition t : second) {
            restored.processElement(t, 0);
        }
        List<Long> afterRestore = restored.getSideOutput(GrbalTaskFunction.SEGMENTS).stream()
                .map(r -> r.getValue().oldestPolicyVersion).collect(Collectors.toList());
        restored.close();
        assertThat(uninterrupted).hasSizeGreaterThan(6);
        assertThat(afterRestore).isEqualTo(uninterrupted);
    }

    /** The same job on the RocksDB backend: windows, replays, the first model's sweep and a snapshot-restore as on the heap. */
    @Test
    void onRocksDbTheShardCutsReplaysAndRestoresAsOnTheHeap() throws Exception {
        Random rng = new Random(9);
        List<Transition> first = new java.util.ArrayList<>();
        List<Transition> second = new java.util.ArrayList<>();
        for (int i = 0; i < 60; i++) {
            (i < 30 ? first : second).add(step("t" + (i % 2), rng, (long) i));
        }
        List<String> onHeap = run(null, first, second);
        List<String> onRocks = run(new org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend(true), first, second);
        assertThat(onHeap).hasSizeGreaterThan(10);
        assertThat(onRocks).isEqualTo(onHeap);
    }

    /** Segments (task, oldest policy version, length) and adaptations (task, count) of {@code first}, a snapshot, a restore, {@code second}. */
    private static List<String> run(org.apache.flink.runtime.state.StateBackend backend, List<Transition> first,
            List<Transition> second) throws Exception {
        List<String> seen = new java.util.ArrayList<>();
        OperatorSubtaskState snapshot;
        try (var h = openOn(backend, null)) {
            for (int i = 0; i < first.size(); i++) {
                if (i == 10) {
                    h.processBroadcastElement(model(1), 0); // the first model adapts every task held so far
                }
                h.processElement(first.get(i), 0);
            }
            snapshot = h.snapshot(1, 10);
            record(h, seen);
        }
        try (var h = openOn(backend, snapshot)) {
            for (Transition t : second) {
                h.processElement(t, 0);
            }
            record(h, seen);
        }
        return seen;
    }

    private static KeyedBroadcastOperatorTestHarness<String, Transition, ModelVersion, AdaptedModel> openOn(
            org.apache.flink.runtime.state.StateBackend backend, OperatorSubtaskState restoreFrom) throws Exception {
        var h = new KeyedBroadcastOperatorTestHarness<String, Transition, ModelVersion, AdaptedModel>(
                new io.metastream.flink.internal.TaskOperator<>(new GrbalTaskFunction("m", CONFIG, 2, 3, 20, 2)),
                Transition::getTaskId, Types.STRING, 1, 1, 0);
        if (backend != null) {
            h.setStateBackend(backend);
        }
        h.setup();
        if (restoreFrom != null) {
            h.initializeState(restoreFrom);
        }
        h.open();
        return h;
    }

    private static void record(KeyedBroadcastOperatorTestHarness<String, Transition, ModelVersion, AdaptedModel> h,
            List<String> seen) throws Exception {
        var side = h.getSideOutput(GrbalTaskFunction.SEGMENTS);
        if (side != null) {
            side.forEach(r -> seen.add("segment " + r.getValue().taskId + " " + r.getValue().oldestPolicyVersion + " "
                    + r.getValue().length));
        }
        flushed(h).forEach(a -> seen.add("adapted " + a.getTaskId() + " " + a.getTaskTransitions() + " "
                + a.getContextLossAfter()));
    }

    @Test
    void rejectsAReplayCapacitySmallerThanASegment() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new GrbalTaskFunction("m", CONFIG, 2, 3, 7, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("metastream.replay-capacity");
    }

    /**
     * Adaptations wait for the checkpoint barrier: nothing before it, then one per task with new
     * transitions, counting all of them; a barrier with nothing new adds nothing.
     */
    @Test
    void adaptsEachPendingTaskOnceJustBeforeTheBarrier() throws Exception {
        Random rng = new Random(21);
        try (var h = harness()) {
            h.processBroadcastElement(model(1), 0);
            for (int i = 0; i < 20; i++) {
                h.processElement(step("t" + (i % 2), rng, 1L), i);
            }
            assertThat(h.extractOutputValues()).as("nothing before the barrier").isEmpty();
            assertThat(flushed(h)).extracting(AdaptedModel::getTaskId, AdaptedModel::getTaskTransitions)
                    .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("t0", 10L),
                            org.assertj.core.groups.Tuple.tuple("t1", 10L));
            assertThat(flushed(h)).as("no new transitions, no new adaptations").hasSize(2);
            h.processElement(step("t1", rng, 1L), 30);
            h.processElement(step("t1", rng, 1L), 31);
            assertThat(flushed(h)).extracting(AdaptedModel::getTaskTransitions).containsExactly(10L, 10L, 12L);
        }
    }

    @Test
    void keepsWindowAndModelAcrossSnapshotAndRestore() throws Exception {
        Random rng = new Random(3);
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            h.processBroadcastElement(model(1), 0);
            for (int i = 0; i < 3; i++) {
                h.processElement(step("t1", rng, 1L), i);
            }
            assertThat(flushed(h)).isEmpty(); // 3 < M = 4
            snapshot = h.snapshot(1, 10);
        }
        KeyedBroadcastOperatorTestHarness<String, Transition, ModelVersion, AdaptedModel> restored =
                new KeyedBroadcastOperatorTestHarness<>(
                        new io.metastream.flink.internal.TaskOperator<>(function()),
                        Transition::getTaskId, Types.STRING, 1, 1, 0);
        restored.setup();
        restored.initializeState(snapshot);
        restored.open();
        restored.processElement(step("t1", rng, 1L), 20);
        // the 4th transition completes M from the restored window, and the restored model is used
        assertThat(flushed(restored)).hasSize(1);
        assertThat(flushed(restored).get(0).getBaseVersion()).isEqualTo(1);
        assertThat(flushed(restored).get(0).getTaskTransitions()).as("the count came back too").isEqualTo(4);
        restored.close();
    }

    @Test
    void ignoresOlderVersionsAndModelsWithABadChecksum() throws Exception {
        Random rng = new Random(4);
        try (var h = harness()) {
            h.processBroadcastElement(model(2), 0);
            h.processBroadcastElement(model(1), 1);
            ModelVersion corrupt = model(3);
            corrupt.setParametersSha256("00" + corrupt.getParametersSha256().substring(2));
            h.processBroadcastElement(corrupt, 2);
            for (int i = 0; i < 4; i++) {
                h.processElement(step("t1", rng, 2L), i);
            }
            assertThat(h.getBroadcastState(ModelBroadcast.MODELS).get("m").getVersion()).isEqualTo(2);
            assertThat(flushed(h)).extracting(AdaptedModel::getBaseVersion).containsOnly(2L);
        }
    }
}

package io.metastream.flink.pearl;

import io.metastream.flink.internal.ModelBroadcast;
import io.metastream.core.io.ModelBlob;
import io.metastream.core.pearl.PearlConfig;
import io.metastream.core.pearl.PearlLearner;
import io.metastream.core.pearl.PearlPolicy;
import io.metastream.core.pearl.Posterior;
import io.metastream.schema.AdaptedModel;
import io.metastream.schema.GaussianPosterior;
import io.metastream.schema.ModelVersion;
import io.metastream.schema.Transition;
import io.metastream.schema.TransitionKind;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

import static io.metastream.flink.internal.TaskOperatorHarness.flushed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class PearlTaskFunctionTest {

    static final Map<String, String> CONFIG = Map.of("obsDim", "2", "actDim", "2", "latentDim", "2",
            "encoderHidden", "8", "netHidden", "8", "batchSize", "4", "contextSize", "3", "metaBatch", "2", "seed", "1");
    static final int OBS = 2;
    static final int ACT = 2;
    static final int LATENT = 2;
    static final int CW = 2 * OBS + ACT + 1;
    static final int RW = CW + 1;
    /** Posteriors are emitted as floats: compare within float rounding. */
    static final float TOL = 1e-5f;

    static final byte[] BLOB = new PearlLearner(PearlConfig.fromMap(CONFIG)).currentPolicy().encode();
    static final PearlPolicy POLICY = PearlPolicy.decode(BLOB);
    /** The same with an encoder of rank-one factors (full-covariance posteriors). */
    static final Map<String, String> RANK_CONFIG = withEntry(CONFIG, "encoderRank", "1");
    static final byte[] RANK_BLOB = new PearlLearner(PearlConfig.fromMap(RANK_CONFIG)).currentPolicy().encode();

    static Map<String, String> withEntry(Map<String, String> base, String key, String value) {
        Map<String, String> m = new HashMap<>(base);
        m.put(key, value);
        return Map.copyOf(m);
    }

    static PearlTaskFunction function(int adaptEvery, int sampleEvery, int contextWindow, int replayCapacity) {
        return new PearlTaskFunction("m", CONFIG, adaptEvery, sampleEvery, contextWindow, replayCapacity);
    }

    static KeyedBroadcastOperatorTestHarness<String, Transition, ModelVersion, AdaptedModel> harness(
            PearlTaskFunction f) throws Exception {
        return io.metastream.flink.internal.TaskOperatorHarness.open(f);
    }

    static ModelVersion model(long version) {
        return model(version, BLOB);
    }

    static ModelVersion model(long version, byte[] blob) {
        return ModelVersion.newBuilder()
                .setModelName("m").setVersion(version).setParentVersion(version > 1 ? version - 1 : null)
                .setAlgorithm("PEARL").setConfigHash("h").setConfig(new HashMap<>()).setSeed(1)
                .setParameterEncoding(PearlPolicy.ENCODING).setParameters(ByteBuffer.wrap(blob.clone()))
                .setParametersSha256(ModelBlob.sha256Hex(blob)).setTasksSeen(0).setTransitionsSeen(0)
                .setOuterSteps(0).setMetrics(new HashMap<>()).setCreatedAt(Instant.now()).setCodeVersion("test")
                .build();
    }

    static int counter = 0;

    static float f(Random rng) {
        return (float) rng.nextGaussian();
    }

    static Transition step(String task, Random rng, TransitionKind kind, Float sparseReward) {
        return Transition.newBuilder()
                .setTaskId(task).setAgentId("a").setEpisodeId(1).setStep(counter++)
                .setObservation(List.of(f(rng), f(rng)))
                .setAction(List.of((float) Math.tanh(rng.nextGaussian()), (float) Math.tanh(rng.nextGaussian())))
                .setReward(f(rng))
                .setNextObservation(List.of(f(rng), f(rng)))
                .setDone(false).setPolicyVersion(null).setTimestamp(Instant.ofEpochMilli(0))
                .setKind(kind).setSparseReward(sparseReward).build();
    }

    static Transition step(String task, Random rng) {
        return step(task, rng, null, null);
    }

    /** The expected context row (s, a, r, s'), r the sparse reward when set. */
    static double[] contextRow(Transition t) {
        return row(t, t.getSparseReward() != null ? t.getSparseReward() : t.getReward(), CW);
    }

    /** The expected replay row (s, a, r, s', done), r always the dense reward, done 0. */
    static double[] replayRow(Transition t) {
        return row(t, t.getReward(), RW);
    }

    /** (s, a, r, s') followed by zeros up to {@code width}. */
    static double[] row(Transition t, double r, int width) {
        double[] row = new double[width];
        int i = 0;
        for (float v : t.getObservation()) {
            row[i++] = v;
        }
        for (float v : t.getAction()) {
            row[i++] = v;
        }
        row[i++] = r;
        for (float v : t.getNextObservation()) {
            row[i++] = v;
        }
        return row;
    }

    static double[][] contextRows(List<Transition> ts) {
        return ts.stream().map(PearlTaskFunctionTest::contextRow).toArray(double[][]::new);
    }

    static List<double[]> rows(double[] flat, int n, int width) {
        assertThat(flat).hasSize(n * width);
        List<double[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(Arrays.copyOfRange(flat, i * width, (i + 1) * width));
        }
        return out;
    }

    static boolean containsRow(Collection<double[]> rows, double[] row) {
        return rows.stream().anyMatch(r -> Arrays.equals(r, row));
    }

    static List<PearlTaskSample> samples(KeyedBroadcastOperatorTestHarness<String, Transition, ModelVersion, AdaptedModel> h) {
        var q = h.getSideOutput(PearlTaskFunction.SAMPLES);
        return q == null ? List.of() : q.stream().map(StreamRecord::getValue).collect(Collectors.toList());
    }

    static void assertPosterior(AdaptedModel a, long baseVersion, Posterior expected, int contextTransitions) {
        assertThat(a.getBaseVersion()).isEqualTo(baseVersion);
        assertThat(a.getModelName()).isEqualTo("m");
        assertThat(a.getAlgorithm()).isEqualTo("PEARL");
        assertThat(a.getInnerSteps()).isZero();
        assertThat(a.getContextTransitions()).isEqualTo(contextTransitions);
        assertThat(a.getAdaptation()).isInstanceOf(GaussianPosterior.class);
        GaussianPosterior g = (GaussianPosterior) a.getAdaptation();
        assertThat(g.getMean()).hasSize(LATENT);
        assertThat(g.getStddev()).hasSize(LATENT);
        double[] mean = expected.mean();
        double[] std = expected.std();
        for (int i = 0; i < LATENT; i++) {
            assertThat(g.getStddev().get(i)).isPositive();
            assertThat(g.getMean().get(i)).as("mean[%d]", i).isCloseTo((float) mean[i], within(TOL));
            assertThat(g.getStddev().get(i)).as("stddev[%d]", i).isCloseTo((float) std[i], within(TOL));
        }
    }

    /** Guards against vacuous comparisons: two posteriors the test tells apart must really differ. */
    static void assertDistinct(Posterior a, Posterior b) {
        double d = 0;
        for (int i = 0; i < LATENT; i++) {
            d = Math.max(d, Math.abs(a.mean()[i] - b.mean()[i]));
            d = Math.max(d, Math.abs(a.std()[i] - b.std()[i]));
        }
        assertThat(d).as("the alternative posterior must differ measurably").isGreaterThan(100 * TOL);
    }

    @Test
    void samplesWithoutAModelButDoesNotAdapt() throws Exception {
        Random rng = new Random(1);
        List<Transition> sent = new ArrayList<>();
        try (var h = harness(function(2, 5, 16, 32))) {
            for (int i = 0; i < 4; i++) {
                Transition t = step("t1", rng);
                sent.add(t);
                h.processElement(t, i);
            }
            assertThat(samples(h)).isEmpty(); // 4 < sampleEvery
            Transition t = step("t1", rng);
            sent.add(t);
            h.processElement(t, 4);

            assertThat(flushed(h)).isEmpty();
            List<PearlTaskSample> out = samples(h);
            assertThat(out).hasSize(1);
            PearlTaskSample s = out.get(0);
            assertThat(s.taskId).isEqualTo("t1");
            assertThat(s.modelVersion).isZero();
            assertThat(s.obsDim).isEqualTo(OBS);
            assertThat(s.actDim).isEqualTo(ACT);
            assertThat(s.contextRows).isEqualTo(3);
            assertThat(s.batchRows).isEqualTo(4);
            assertThat(s.context).hasSize(3 * CW);
            assertThat(s.batch).hasSize(4 * RW);
            List<double[]> expectedContext = sent.stream().map(PearlTaskFunctionTest::contextRow).toList();
            List<double[]> expectedReplay = sent.stream().map(PearlTaskFunctionTest::replayRow).toList();
            assertThat(rows(s.context, 3, CW)).allSatisfy(r -> assertThat(containsRow(expectedContext, r))
                    .as("context row %s is one of the transitions sent", Arrays.toString(r)).isTrue());
            assertThat(rows(s.batch, 4, RW)).allSatisfy(r -> assertThat(containsRow(expectedReplay, r))
                    .as("replay row %s is one of the transitions sent", Arrays.toString(r)).isTrue());
            s.toTaskBatch(); // consistent for the learner

            for (int i = 0; i < 5; i++) {
                h.processElement(step("t1", rng), 10 + i);
            }
            assertThat(samples(h)).hasSize(2);
            assertThat(flushed(h)).isEmpty();
        }
    }

    @Test
    void emitsThePosteriorOfTheContextEveryAdaptEveryTransitions() throws Exception {
        Random rng = new Random(2);
        List<Transition> sent = new ArrayList<>();
        try (var h = harness(function(3, 100, 16, 32))) {
            h.processBroadcastElement(model(4), 0);
            for (int i = 0; i < 2; i++) {
                Transition t = step("t1", rng);
                sent.add(t);
                h.processElement(t, i);
            }
            assertThat(flushed(h)).isEmpty();
            Transition t = step("t1", rng);
            sent.add(t);
            h.processElement(t, 2);

            List<AdaptedModel> out = flushed(h);
            assertThat(out).hasSize(1);
            assertThat(out.get(0).getTaskId()).isEqualTo("t1");
            Posterior expected3 = POLICY.posterior(contextRows(sent));
            assertPosterior(out.get(0), 4, expected3, 3);
            assertDistinct(expected3, POLICY.prior());
            assertDistinct(expected3, POLICY.posterior(contextRows(sent.subList(1, 3))));

            for (int i = 0; i < 3; i++) {
                t = step("t1", rng);
                sent.add(t);
                h.processElement(t, 3 + i);
            }
            out = flushed(h);
            assertThat(out).hasSize(2);
            Posterior expected6 = POLICY.posterior(contextRows(sent));
            assertPosterior(out.get(1), 4, expected6, 6);
            assertDistinct(expected6, expected3);
        }
    }

    @Test
    void evaluationAndDemonstrationDataStayOutOfTheContextButEnterTheReplay() throws Exception {
        Random rng = new Random(3);
        List<Transition> exploration = new ArrayList<>();
        List<Transition> other = new ArrayList<>();
        try (var h = harness(function(2, 1, 64, 64))) {
            h.processBroadcastElement(model(1), 0);
            Transition first = step("t1", rng, TransitionKind.EXPLORATION, null);
            exploration.add(first);
            h.processElement(first, 1);
            for (int i = 0; i < 20; i++) {
                Transition t = step("t1", rng, i % 2 == 0 ? TransitionKind.EVALUATION : TransitionKind.DEMONSTRATION, null);
                other.add(t);
                h.processElement(t, 2 + i);
            }
            // one exploration transition so far: adaptEvery = 2 is not reached, whatever the other kinds
            assertThat(flushed(h)).isEmpty();

            Transition second = step("t1", rng, null, null); // null kind means exploration
            exploration.add(second);
            h.processElement(second, 30);
            List<AdaptedModel> out = flushed(h);
            assertThat(out).hasSize(1);
            assertPosterior(out.get(0), 1, POLICY.posterior(contextRows(exploration)), 2);

            List<PearlTaskSample> samples = samples(h);
            assertThat(samples).hasSize(22);
            List<double[]> explorationRows = exploration.stream().map(PearlTaskFunctionTest::contextRow).toList();
            List<double[]> otherReplayRows = other.stream().map(PearlTaskFunctionTest::replayRow).toList();
            List<double[]> allReplayRows = new ArrayList<>(otherReplayRows);
            exploration.forEach(t -> allReplayRows.add(replayRow(t)));
            int otherInBatches = 0;
            for (PearlTaskSample s : samples) {
                assertThat(rows(s.context, s.contextRows, CW)).allSatisfy(r -> assertThat(containsRow(explorationRows, r))
                        .as("context row %s comes from exploration", Arrays.toString(r)).isTrue());
                for (double[] r : rows(s.batch, s.batchRows, RW)) {
                    assertThat(containsRow(allReplayRows, r)).isTrue();
                    if (containsRow(otherReplayRows, r)) {
                        otherInBatches++;
                    }
                }
            }
            assertThat(otherInBatches).as("evaluation/demonstration rows in the replay batches").isPositive();
        }
    }

    @Test
    void contextUsesTheSparseRewardWhenSetAndTheReplayTheDenseOne() throws Exception {
        Random rng = new Random(4);
        try (var h = harness(function(1, 1, 16, 16))) {
            Transition sparse = step("s", rng, null, 7.5f);
            Transition dense = step("d", rng, TransitionKind.EXPLORATION, null);
            h.processElement(sparse, 0);
            h.processElement(dense, 1);
            List<PearlTaskSample> out = samples(h);
            assertThat(out).hasSize(2);
            PearlTaskSample s = out.get(0);
            assertThat(s.taskId).isEqualTo("s");
            assertThat(rows(s.context, 3, CW)).allSatisfy(r -> {
                assertThat(r).containsExactly(contextRow(sparse));
                assertThat(r[OBS + ACT]).isEqualTo(7.5);
            });
            assertThat(rows(s.batch, 4, RW)).allSatisfy(r -> {
                assertThat(r).containsExactly(replayRow(sparse));
                assertThat(r[OBS + ACT]).isEqualTo((double) sparse.getReward());
            });
            PearlTaskSample d = out.get(1);
            assertThat(d.taskId).isEqualTo("d");
            assertThat(rows(d.context, 3, CW)).allSatisfy(r -> assertThat(r[OBS + ACT]).isEqualTo((double) dense.getReward()));
            assertThat(rows(d.batch, 4, RW)).allSatisfy(r -> assertThat(r[OBS + ACT]).isEqualTo((double) dense.getReward()));

            // and the posterior is computed from the sparse-reward row
            h.processBroadcastElement(model(1), 2);
            AdaptedModel a = flushed(h).stream().filter(m -> m.getTaskId().equals("s")).findFirst().orElseThrow();
            Posterior withSparse = POLICY.posterior(new double[][] {contextRow(sparse)});
            double[] denseRow = contextRow(sparse);
            denseRow[OBS + ACT] = sparse.getReward();
            assertDistinct(withSparse, POLICY.posterior(new double[][] {denseRow}));
            assertPosterior(a, 1, withSparse, 1);
        }
    }

    @Test
    void firstModelAdaptsEveryTaskThatHasContext() throws Exception {
        Random rng = new Random(5);
        List<Transition> t1 = new ArrayList<>();
        List<Transition> t2 = new ArrayList<>();
        try (var h = harness(function(50, 100, 16, 32))) {
            for (int i = 0; i < 5; i++) {
                Transition a = step("t1", rng);
                t1.add(a);
                h.processElement(a, i);
                if (i < 3) {
                    Transition b = step("t2", rng);
                    t2.add(b);
                    h.processElement(b, i);
                }
            }
            h.processElement(step("t3", rng, TransitionKind.EVALUATION, null), 6); // no context
            assertThat(flushed(h)).isEmpty();

            h.processBroadcastElement(model(1), 10);

            List<AdaptedModel> out = flushed(h);
            assertThat(out).extracting(AdaptedModel::getTaskId).containsExactlyInAnyOrder("t1", "t2");
            Map<String, AdaptedModel> byTask = out.stream().collect(Collectors.toMap(AdaptedModel::getTaskId, m -> m));
            Posterior p1 = POLICY.posterior(contextRows(t1));
            Posterior p2 = POLICY.posterior(contextRows(t2));
            assertDistinct(p1, p2);
            assertPosterior(byTask.get("t1"), 1, p1, 5);
            assertPosterior(byTask.get("t2"), 1, p2, 3);

            // a second model is not a first model: no burst of posteriors
            h.processBroadcastElement(model(2), 11);
            assertThat(flushed(h)).hasSize(2);
        }
    }

    @Test
    void ignoresAModelWithABadChecksumAndUsesALaterGoodOne() throws Exception {
        Random rng = new Random(6);
        List<Transition> sent = new ArrayList<>();
        try (var h = harness(function(2, 100, 16, 32))) {
            ModelVersion corrupt = model(1);
            corrupt.setParametersSha256("00" + corrupt.getParametersSha256().substring(2));
            h.processBroadcastElement(corrupt, 0);
            for (int i = 0; i < 4; i++) {
                Transition t = step("t1", rng);
                sent.add(t);
                h.processElement(t, 1 + i);
            }
            assertThat(flushed(h)).isEmpty();
            assertThat(h.getBroadcastState(ModelBroadcast.MODELS).get("m")).isNull();

            h.processBroadcastElement(model(2), 10);
            List<AdaptedModel> out = flushed(h);
            assertThat(out).hasSize(1); // the first good model adapts the buffered task
            assertPosterior(out.get(0), 2, POLICY.posterior(contextRows(sent)), 4);

            // a corrupt newer version after a good one does not replace it
            ModelVersion corrupt3 = model(3);
            corrupt3.setParametersSha256("00" + corrupt3.getParametersSha256().substring(2));
            h.processBroadcastElement(corrupt3, 11);
            for (int i = 0; i < 2; i++) {
                Transition t = step("t1", rng);
                sent.add(t);
                h.processElement(t, 12 + i);
            }
            out = flushed(h);
            assertThat(out).hasSizeGreaterThan(1).extracting(AdaptedModel::getBaseVersion).containsOnly(2L);
            AdaptedModel last = out.get(out.size() - 1);
            assertThat(last.getContextTransitions()).isGreaterThan(4);
            assertPosterior(last, 2, POLICY.posterior(contextRows(sent.subList(0, last.getContextTransitions()))),
                    last.getContextTransitions());
            assertThat(h.getBroadcastState(ModelBroadcast.MODELS).get("m").getVersion()).isEqualTo(2);
        }
    }

    @Test
    void keepsContextAndModelAcrossSnapshotAndRestore() throws Exception {
        Random rng = new Random(7);
        List<Transition> sent = new ArrayList<>();
        OperatorSubtaskState snapshot;
        try (var h = harness(function(4, 100, 16, 32))) {
            h.processBroadcastElement(model(3), 0);
            for (int i = 0; i < 3; i++) {
                Transition t = step("t1", rng);
                sent.add(t);
                h.processElement(t, 1 + i);
            }
            assertThat(flushed(h)).isEmpty(); // 3 < adaptEvery
            snapshot = h.snapshot(1, 10);
        }
        KeyedBroadcastOperatorTestHarness<String, Transition, ModelVersion, AdaptedModel> restored =
                new KeyedBroadcastOperatorTestHarness<>(
                        new io.metastream.flink.internal.TaskOperator<>(function(4, 100, 16, 32)),
                        Transition::getTaskId, Types.STRING, 1, 1, 0);
        try (restored) {
            restored.setup();
            restored.initializeState(snapshot);
            restored.open();
            Transition t = step("t1", rng);
            sent.add(t);
            restored.processElement(t, 20);

            List<AdaptedModel> out = flushed(restored);
            assertThat(out).hasSize(1); // the adapt counter survived too
            Posterior all = POLICY.posterior(contextRows(sent));
            assertDistinct(all, POLICY.posterior(contextRows(sent.subList(3, 4))));
            assertPosterior(out.get(0), 3, all, 4);
        }
    }

    @Test
    void theContextWindowKeepsOnlyTheNewestRows() throws Exception {
        Random rng = new Random(8);
        int window = 8;
        List<Transition> sent = new ArrayList<>();
        try (var h = harness(function(1, 1000, window, 64))) {
            h.processBroadcastElement(model(1), 0);
            int n = window + window / 4 + 5; // past the amortised trim point
            for (int i = 0; i < n; i++) {
                Transition t = step("t1", rng);
                sent.add(t);
                h.processElement(t, 1 + i);
                List<AdaptedModel> out = flushed(h);
                assertThat(out).hasSize(i + 1);
                List<Transition> newest = sent.subList(Math.max(0, sent.size() - window), sent.size());
                assertPosterior(out.get(i), 1, POLICY.posterior(contextRows(newest)), newest.size());
            }
            List<Transition> newest = sent.subList(n - window, n);
            assertDistinct(POLICY.posterior(contextRows(newest)), POLICY.posterior(contextRows(sent)));
            assertDistinct(POLICY.posterior(contextRows(newest)), POLICY.posterior(contextRows(sent.subList(0, window))));
        }
    }

    @Test
    void aRepeatedStepOfAnAgentIsDroppedButANewStartIsTaken() throws Exception {
        Random rng = new Random(12);
        try (var h = harness(function(1, 1000, 8, 64))) {
            h.processBroadcastElement(model(1), 0);
            Transition first = step("t1", rng);
            Transition second = step("t1", rng);
            h.processElement(first, 1);
            assertThat(flushed(h)).extracting(AdaptedModel::getTaskTransitions).containsExactly(1L);
            h.processElement(second, 2);
            h.processElement(Transition.newBuilder(second).build(), 3);   // a retry of the same step
            h.processElement(Transition.newBuilder(first).build(), 4);    // an older step of the same episode
            assertThat(flushed(h)).extracting(AdaptedModel::getTaskTransitions).as("the repeats are not counted")
                    .containsExactly(1L, 2L);
            assertThat(flushed(h)).as("no new step, no new posterior at the next barrier").hasSize(2);
            h.processElement(Transition.newBuilder(first).setEpisodeId(0).setStep(0).build(), 5); // counting from 0 again
            assertThat(flushed(h)).extracting(AdaptedModel::getTaskTransitions).containsExactly(1L, 2L, 3L);
        }
    }

    static Transition agentStep(String agent, long episode, int stepIndex, float reward, boolean done) {
        Random rng = new Random(stepIndex * 31L + episode);
        return Transition.newBuilder()
                .setTaskId("t").setAgentId(agent).setEpisodeId(episode).setStep(stepIndex)
                .setObservation(List.of(f(rng), f(rng))).setAction(List.of(0.1f, -0.1f)).setReward(reward)
                .setNextObservation(List.of(f(rng), f(rng))).setDone(done).setPolicyVersion(null)
                .setTimestamp(Instant.ofEpochMilli(0)).setKind(null).setSparseReward(null).build();
    }

    @Test
    void withPreviousRewardEachContextRowCarriesTheSameAgentsPreviousStepReward() throws Exception {
        Map<String, String> cfg = new HashMap<>(CONFIG);
        cfg.put("contextPreviousReward", "true");
        cfg.put("contextSize", "6");
        cfg.put("minContextSize", "6"); // the whole window, in arrival order
        int wide = CW + 2;
        try (var h = harness(new PearlTaskFunction("m", cfg, 100, 6, 16, 16))) {
            // two agents of one task interleave; agent b skips a step; agent a starts a new episode
            h.processElement(agentStep("a", 1, 0, -1.0f, false), 0);
            h.processElement(agentStep("b", 7, 0, -5.0f, false), 1);
            h.processElement(agentStep("a", 1, 1, -0.5f, false), 2);
            h.processElement(agentStep("b", 7, 2, -4.0f, false), 3);
            h.processElement(agentStep("a", 1, 2, -0.25f, true), 4);
            h.processElement(agentStep("a", 2, 0, -2.0f, false), 5);
            List<PearlTaskSample> out = samples(h);
            assertThat(out).hasSize(1);
            List<double[]> rows = rows(out.get(0).context, 6, wide);
            double[][] expectedTail = {{0, 0}, {0, 0}, {-1.0, 1}, {0, 0}, {-0.5, 1}, {0, 0}};
            double[] rewards = {-1.0, -5.0, -0.5, -4.0, -0.25, -2.0};
            for (int i = 0; i < 6; i++) {
                double[] row = rows.get(i);
                assertThat(row[OBS + ACT]).as("row %d reward", i).isEqualTo(rewards[i]);
                assertThat(Arrays.copyOfRange(row, CW, wide)).as("row %d (previous reward, known)", i)
                        .containsExactly(expectedTail[i]);
            }
            // the learner reads the wider rows back
            assertThat(out.get(0).toTaskBatch().contextDim()).isEqualTo(wide);
            // and the posterior comes from an encoder of that width
            byte[] blob = new PearlLearner(PearlConfig.fromMap(cfg)).currentPolicy().encode();
            assertThat(PearlPolicy.decode(blob).contextDim()).isEqualTo(wide);
        }
    }

    @Test
    void anEncoderWithRankFactorsPublishesTheCovarianceFactor() throws Exception {
        Map<String, String> cfg = RANK_CONFIG;
        byte[] blob = RANK_BLOB.clone();
        PearlPolicy policy = PearlPolicy.decode(blob);
        Random rng = new Random(5);
        List<Transition> sent = new ArrayList<>();
        try (var h = harness(new PearlTaskFunction("m", cfg, 3, 100, 16, 32))) {
            h.processBroadcastElement(model(2, blob), 0);
            for (int i = 0; i < 3; i++) {
                Transition t = step("t1", rng);
                sent.add(t);
                h.processElement(t, i);
            }
            List<AdaptedModel> out = flushed(h);
            assertThat(out).hasSize(1);
            Posterior expected = policy.posterior(contextRows(sent));
            assertThat(expected.fullCovariance()).isTrue();
            assertPosterior(out.get(0), 2, expected, 3);
            GaussianPosterior g = (GaussianPosterior) out.get(0).getAdaptation();
            double[] c = expected.covarianceFactor();
            assertThat(g.getCovarianceFactor()).hasSize(LATENT * LATENT);
            for (int i = 0; i < c.length; i++) {
                assertThat(g.getCovarianceFactor().get(i)).as("factor[%d]", i).isCloseTo((float) c[i], within(TOL));
            }
            assertThat(c[1]).as("above the diagonal").isZero();
            assertThat(Math.abs(c[2])).as("a correlation the diagonal form could not carry").isGreaterThan(100 * TOL);
        }
        // the paper's diagonal encoder publishes no factor
        try (var h = harness(function(1, 100, 16, 32))) {
            h.processBroadcastElement(model(1), 0);
            h.processElement(step("t1", rng), 0);
            assertThat(((GaussianPosterior) flushed(h).get(0).getAdaptation()).getCovarianceFactor()).isEmpty();
        }
    }

    /** A model whose encoder overflows on ordinary rows: no posterior (counted), no failure, the task keeps sampling. */
    @Test
    void aPosteriorThatCannotBeComputedIsSkippedWithoutFailingTheTask() throws Exception {
        Map<String, String> cfg = RANK_CONFIG;
        byte[] blob = RANK_BLOB.clone();
        PearlPolicy good = PearlPolicy.decode(blob);
        int e = good.encoderParams().length;
        int pol = good.policyParams().length;
        // the blob ends with: int count + encoder float64s, int count + policy float64s
        ByteBuffer buf = ByteBuffer.wrap(blob).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int encStart = blob.length - 8 * pol - 4 - 8 * e;
        for (int k = 0; k < e; k++) {
            buf.putDouble(encStart + 8 * k, buf.getDouble(encStart + 8 * k) * 1e200);
        }
        PearlPolicy huge = PearlPolicy.decode(blob);
        Random rng = new Random(6);
        List<Transition> sent = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            sent.add(step("t1", rng));
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> huge.posterior(contextRows(sent)))
                .isInstanceOf(IllegalArgumentException.class);
        try (var h = harness(new PearlTaskFunction("m", cfg, 3, 3, 16, 32))) {
            h.processBroadcastElement(model(2, blob), 0);
            for (int i = 0; i < 3; i++) {
                h.processElement(sent.get(i), i);
            }
            assertThat(flushed(h)).isEmpty();
            assertThat(samples(h)).hasSize(1);
        }
    }
}

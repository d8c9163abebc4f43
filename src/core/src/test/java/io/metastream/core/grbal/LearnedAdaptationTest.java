package io.metastream.core.grbal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.metastream.core.io.ModelBlob;
import io.metastream.core.nn.Mlp;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Meta-SGD and ReBAL (recurrent) adaptation: meta-gradients against finite differences, learning, transport. */
class LearnedAdaptationTest {

    private static INDArray randn(Random rng, int rows, int cols, double scale) {
        double[] v = new double[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = scale * rng.nextGaussian();
        }
        return Nd4j.create(v, new long[] {rows, cols}, DataType.DOUBLE);
    }

    private static GrbalConfig config(AdaptationRule rule, int innerSteps, boolean firstOrder) {
        return config(rule, innerSteps, firstOrder, "all");
    }

    private static GrbalConfig config(AdaptationRule rule, int innerSteps, boolean firstOrder, String adapted) {
        return GrbalConfig.builder().obsDim(2).actDim(1).hidden(5, 4).innerLr(0.1).innerSteps(innerSteps)
                .adaptWindow(6).predictWindow(5).firstOrder(firstOrder).adaptation(rule).recurrentSize(3)
                .adaptedParams(adapted).build();
    }

    /** Central differences of θ ↦ L(adapt(θ)) over every meta-parameter, against the analytic meta-gradient. */
    private static void assertMatchesFiniteDifferences(GrbalConfig cfg, long seed) {
        Grbal grbal = new Grbal(cfg);
        Mlp mlp = grbal.mlp();
        Random rng = new Random(seed);
        INDArray meta = grbal.initMetaParams(rng);
        meta.addi(randn(rng, 1, cfg.metaParams(), 0.2));
        INDArray xa = randn(rng, 6, 3, 1);
        INDArray ya = randn(rng, 6, 2, 1);
        INDArray xe = randn(rng, 5, 3, 1);
        INDArray ye = randn(rng, 5, 2, 1);
        Grbal.MetaGradient mg = grbal.metaGradient(meta, xa, ya, xe, ye);
        assertThat(mg.gradient().length()).isEqualTo(cfg.metaParams());
        double eps = 1e-6;
        INDArray th = meta.dup();
        double[] fd = new double[cfg.metaParams()];
        for (int i = 0; i < fd.length; i++) {
            double orig = th.getDouble(0, i);
            th.putScalar(0, i, orig + eps);
            double plus = mlp.loss(grbal.adapt(th, xa, ya), xe, ye);
            th.putScalar(0, i, orig - eps);
            double minus = mlp.loss(grbal.adapt(th, xa, ya), xe, ye);
            th.putScalar(0, i, orig);
            fd[i] = (plus - minus) / (2 * eps);
        }
        double[] mask = cfg.adaptedMask();
        if (cfg.adaptation() == AdaptationRule.META_SGD && mask != null) {
            // step sizes outside the adapted set are held at 0: their gradient is projected out
            for (int i = 0; i < mask.length; i++) {
                fd[mlp.numParams() + i] *= mask[i];
            }
        }
        INDArray fdArr = Nd4j.create(fd, new long[] {1, fd.length}, DataType.DOUBLE);
        double rel = mg.gradient().sub(fdArr).norm2Number().doubleValue() / fdArr.norm2Number().doubleValue();
        assertThat(rel).as("relative error of the %s meta-gradient", cfg.adaptation()).isLessThan(1e-6);
        if (cfg.adaptationParams() == 0) {
            return;
        }
        // the learned rule's own part is not trivially zero
        double rulePart = mg.gradient().get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(mlp.numParams(), cfg.metaParams())).norm2Number().doubleValue();
        assertThat(rulePart).isGreaterThan(1e-6);
        assertThat(mg.postAdaptLoss()).isCloseTo(mlp.loss(grbal.adapt(meta, xa, ya), xe, ye),
                org.assertj.core.api.Assertions.within(1e-10));
        assertThat(mg.preAdaptLoss()).isCloseTo(mlp.loss(grbal.networkPart(meta), xe, ye),
                org.assertj.core.api.Assertions.within(1e-10));
    }

    @ParameterizedTest
    @CsvSource({"1", "2"})
    void metaSgdGradientOfParametersAndStepSizesMatchesFiniteDifferences(int innerSteps) {
        assertMatchesFiniteDifferences(config(AdaptationRule.META_SGD, innerSteps, false), 40 + innerSteps);
    }

    @ParameterizedTest
    @CsvSource({"GRADIENT, biases", "GRADIENT, last-layer", "META_SGD, biases", "META_SGD, last-layer"})
    void gradientRulesOnPartOfTheNetworkMatchFiniteDifferencesAndMoveOnlyThatPart(AdaptationRule rule, String adapted) {
        GrbalConfig cfg = config(rule, 2, false, adapted);
        assertMatchesFiniteDifferences(cfg, 90);
        Grbal grbal = new Grbal(cfg);
        Random rng = new Random(4);
        INDArray meta = grbal.initMetaParams(rng);
        double[] theta = grbal.networkPart(meta).toDoubleVector();
        double[] phi = grbal.adapt(meta, randn(rng, 6, 3, 1), randn(rng, 6, 2, 1)).toDoubleVector();
        double[] mask = cfg.adaptedMask();
        int moved = 0;
        for (int i = 0; i < theta.length; i++) {
            if (mask[i] == 0) {
                assertThat(phi[i]).as("parameter %d is outside %s", i, adapted).isEqualTo(theta[i]);
            } else if (phi[i] != theta[i]) {
                moved++;
            }
        }
        assertThat(moved).isPositive();
        // the published model carries the restriction, so the task operator adapts the same part
        LearnedAdaptation carried = grbal.learnedPart(meta);
        assertThat(carried.rule()).isEqualTo(AdaptationRule.META_SGD);
        double[] steps = carried.params();
        for (int i = 0; i < steps.length; i++) {
            assertThat(steps[i] == 0).isEqualTo(mask[i] == 0);
        }
    }

    @Test
    void recurrentGradientOfNetworkAndGruMatchesFiniteDifferences() {
        assertMatchesFiniteDifferences(config(AdaptationRule.RECURRENT, 1, false), 77);
    }

    @Test
    void ridgeGradientOfNetworkAndShrinkageMatchesFiniteDifferences() {
        assertMatchesFiniteDifferences(config(AdaptationRule.RIDGE, 1, false), 78);
        // one hidden layer, and a linear network whose features are its inputs
        assertMatchesFiniteDifferences(config(AdaptationRule.RIDGE, 1, false).toBuilder().hidden(6).build(), 79);
        assertMatchesFiniteDifferences(config(AdaptationRule.RIDGE, 1, false).toBuilder().hidden().build(), 80);
    }

    /** The fused ridge scoring gives what adapt and two normalizedLoss passes give; other rules take that path. */
    @ParameterizedTest
    @CsvSource({"META_SGD", "RECURRENT", "RIDGE"})
    void adaptAndScoreAgreesWithAdaptAndTheTwoLosses(AdaptationRule rule) {
        GrbalConfig cfg = config(rule, 1, false).toBuilder().adaptWindow(12).build();
        DynamicsModel model = new GrbalLearner(cfg).currentModel();
        Random rng = new Random(31);
        Segment context = randomSegment(rng, 12);
        DynamicsModel.Adapted scored = model.adaptAndScore(context, 0.1, 1);
        DynamicsModel adapted = model.adapt(context, 0.1, 1);
        double[] a = io.metastream.core.internal.NdArrays.toFlatArray(scored.model().params());
        double[] b = io.metastream.core.internal.NdArrays.toFlatArray(adapted.params());
        for (int i = 0; i < a.length; i++) {
            assertThat(a[i]).isCloseTo(b[i], org.assertj.core.api.Assertions.within(1e-12 * (1 + Math.abs(b[i]))));
        }
        double before = model.normalizedLoss(context);
        double after = adapted.normalizedLoss(context);
        assertThat(scored.contextLossBefore()).isCloseTo(before, org.assertj.core.api.Assertions.within(1e-12 * (1 + before)));
        assertThat(scored.contextLossAfter()).isCloseTo(after, org.assertj.core.api.Assertions.within(1e-12 * (1 + after)));
        if (rule == AdaptationRule.RIDGE) {
            assertThat(after).as("the ridge fit lowers the window's loss").isLessThan(before);
        }
    }

    @Test
    void ridgeWithAnExtremeShrinkageFromAHostileModelStillAdaptsToFiniteParameters() {
        GrbalConfig cfg = config(AdaptationRule.RIDGE, 1, false).toBuilder().adaptWindow(4).build();
        DynamicsModel model = new GrbalLearner(cfg).currentModel();
        Random rng = new Random(12);
        Segment context = randomSegment(rng, 4); // 4 rows, 5 features: ΦᵀΦ is singular
        for (double logLambda : new double[] {-50, 50}) {
            DynamicsModel hostile = new DynamicsModel(model.mlp(), model.params(), model.normalizer(),
                    new LearnedAdaptation(AdaptationRule.RIDGE, 0, 0, new double[] {logLambda}));
            DynamicsModel adapted = ModelBlob.decode(ModelBlob.encode(hostile)).adapt(context, 0.1, 1);
            assertThat(io.metastream.core.internal.NdArrays.allFinite(adapted.params())).isTrue();
        }
    }

    @Test
    void ridgeWithLittleShrinkageFitsTheWindowExactlyWhenItCan() {
        // more transitions than features: the least-squares output layer, which no other output layer beats
        GrbalConfig cfg = config(AdaptationRule.RIDGE, 1, false).toBuilder().adaptWindow(30).build();
        Grbal grbal = new Grbal(cfg);
        Random rng = new Random(8);
        INDArray meta = grbal.initMetaParams(rng);
        meta.putScalar(0, cfg.metaParams() - 1, -20); // λ = e^-20
        INDArray xa = randn(rng, 30, 3, 1);
        INDArray ya = randn(rng, 30, 2, 1);
        INDArray phi = grbal.adapt(meta, xa, ya);
        double fitted = grbal.mlp().loss(phi, xa, ya);
        Mlp mlp = grbal.mlp();
        int last = (int) mlp.weightOffset(mlp.numLayers());
        for (int trial = 0; trial < 20; trial++) {
            INDArray other = phi.dup();
            for (int i = last; i < mlp.numParams(); i++) {
                other.putScalar(0, i, other.getDouble(0, i) + 0.01 * rng.nextGaussian());
            }
            assertThat(mlp.loss(other, xa, ya)).isGreaterThan(fitted);
        }
        assertThat(fitted).isLessThan(mlp.loss(grbal.networkPart(meta), xa, ya));
    }

    @Test
    void recurrentAdaptationShiftsOnlyBiases() {
        GrbalConfig cfg = config(AdaptationRule.RECURRENT, 1, false);
        Grbal grbal = new Grbal(cfg);
        Mlp mlp = grbal.mlp();
        Random rng = new Random(3);
        INDArray meta = grbal.initMetaParams(rng);
        INDArray phi = grbal.adapt(meta, randn(rng, 6, 3, 1), randn(rng, 6, 2, 1));
        INDArray theta = grbal.networkPart(meta);
        for (int l = 1; l <= mlp.numLayers(); l++) {
            int w = (int) mlp.weightOffset(l);
            int b = (int) mlp.biasOffset(l);
            for (int i = w; i < b; i++) {
                assertThat(phi.getDouble(0, i)).isEqualTo(theta.getDouble(0, i));
            }
        }
        assertThat(phi.sub(theta).norm2Number().doubleValue()).isGreaterThan(0);
    }

    @ParameterizedTest
    @CsvSource({"META_SGD", "RECURRENT", "RIDGE"})
    void metaTrainedRuleMakesAdaptationPayOffOnHeldOutTasks(AdaptationRule rule) {
        GrbalConfig cfg = GrbalConfig.builder().obsDim(1).actDim(1).hidden(32, 32).innerLr(0.1).innerSteps(1)
                .adaptWindow(16).predictWindow(16).metaLr(3e-3).metaBatchSize(8).normalizerWarmupTransitions(2000)
                .adaptation(rule).recurrentSize(8).seed(7).build();
        GrbalLearner learner = new GrbalLearner(cfg);
        Random rng = new Random(1234);
        for (int i = 0; i < 3000; i++) {
            ToyTasks.Task task = ToyTasks.sample(rng);
            learner.offer("task-" + i, task.rollout(rng, cfg.windowLength()));
        }
        assertThat(learner.rejectedSteps()).isZero();
        DynamicsModel model = learner.currentModel();
        assertThat(model.learnedAdaptation()).isPresent();
        Random heldOut = new Random(99);
        double unadapted = 0;
        double adapted = 0;
        for (int i = 0; i < 100; i++) {
            Segment s = ToyTasks.sample(heldOut).rollout(heldOut, cfg.windowLength());
            Segment future = s.slice(cfg.adaptWindow(), cfg.windowLength());
            unadapted += model.predictionMse(future);
            // the model's own rule adapts it; the arguments would be a plain gradient step's
            adapted += model.adapt(s.slice(0, cfg.adaptWindow()), 1e-9, 1).predictionMse(future);
        }
        System.out.printf("%s held-out one-step MSE ratio adapted/unadapted %.3f%n", rule, adapted / unadapted);
        assertThat(adapted).isLessThanOrEqualTo(0.6 * unadapted);
    }

    @ParameterizedTest
    @CsvSource({"META_SGD", "RECURRENT", "RIDGE"})
    void learnerSnapshotAndModelBlobCarryTheRule(AdaptationRule rule) {
        GrbalConfig cfg = config(rule, 1, false).toBuilder().metaBatchSize(2).normalizerWarmupTransitions(20).build();
        GrbalLearner learner = new GrbalLearner(cfg);
        Random rng = new Random(5);
        for (int i = 0; i < 7; i++) {
            learner.offer("t" + i, randomSegment(rng, cfg.windowLength()));
        }
        GrbalLearner restored = GrbalLearner.restore(cfg, learner.snapshot());
        assertThat(restored.theta()).isEqualTo(learner.theta());
        DynamicsModel model = learner.currentModel();
        byte[] blob = ModelBlob.encode(model);
        DynamicsModel decoded = ModelBlob.decode(blob);
        assertThat(decoded.learnedAdaptation()).isEqualTo(model.learnedAdaptation());
        Segment context = randomSegment(rng, cfg.adaptWindow());
        assertThat(decoded.adapt(context, 0.1, 1).params()).isEqualTo(model.adapt(context, 0.1, 1).params());
        // a snapshot of another rule is refused with the reason
        GrbalConfig plain = cfg.toBuilder().adaptation(AdaptationRule.GRADIENT).build();
        assertThatThrownBy(() -> GrbalLearner.restore(plain, learner.snapshot()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("adaptation gradient");
        // a plain model stays a version 1 blob
        DynamicsModel noRule = new DynamicsModel(model.mlp(), model.params(), model.normalizer());
        assertThat(ModelBlob.decode(ModelBlob.encode(noRule)).learnedAdaptation()).isEmpty();
        assertThat(java.nio.ByteBuffer.wrap(ModelBlob.encode(noRule), 4, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt())
                .isEqualTo(1);
    }

    @Test
    void blobWithAHostileRuleIsRefusedWithTheReason() {
        GrbalConfig cfg = config(AdaptationRule.RECURRENT, 1, false);
        DynamicsModel model = new GrbalLearner(cfg).currentModel();
        byte[] blob = ModelBlob.encode(model);
        int ruleParams = cfg.adaptationParams();
        // the rule's parameter count sits just before its values at the end
        int countAt = blob.length - 8 * ruleParams - 4;
        byte[] wrongCount = blob.clone();
        java.nio.ByteBuffer.wrap(wrongCount).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(countAt, ruleParams + 1);
        assertThatThrownBy(() -> ModelBlob.decode(wrongCount)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("adaptation has " + (ruleParams + 1) + " parameters");
        byte[] nan = blob.clone();
        java.nio.ByteBuffer.wrap(nan).order(java.nio.ByteOrder.LITTLE_ENDIAN).putDouble(blob.length - 8, Double.NaN);
        assertThatThrownBy(() -> ModelBlob.decode(nan)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must be finite");
        byte[] hidden = blob.clone();
        java.nio.ByteBuffer.wrap(hidden).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(countAt - 4, 1 << 20);
        assertThatThrownBy(() -> ModelBlob.decode(hidden)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("hidden size");
    }

    private static Segment randomSegment(Random rng, int length) {
        double[][] o = new double[length][2];
        double[][] a = new double[length][1];
        double[][] n = new double[length][2];
        for (int t = 0; t < length; t++) {
            for (int j = 0; j < 2; j++) {
                o[t][j] = rng.nextGaussian();
                n[t][j] = o[t][j] + 0.1 * rng.nextGaussian();
            }
            a[t][0] = rng.nextGaussian();
        }
        return new Segment(o, a, n);
    }
}

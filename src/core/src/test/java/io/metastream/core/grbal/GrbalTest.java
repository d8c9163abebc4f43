package io.metastream.core.grbal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.metastream.core.nn.Mlp;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class GrbalTest {

    private static INDArray randn(Random rng, int rows, int cols, double scale) {
        double[] v = new double[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = scale * rng.nextGaussian();
        }
        return Nd4j.create(v, new long[] {rows, cols}, DataType.DOUBLE);
    }

    private static double relErr(INDArray a, INDArray b) {
        return a.sub(b).norm2Number().doubleValue() / b.norm2Number().doubleValue();
    }

    private static GrbalConfig smallConfig(int innerSteps, boolean firstOrder) {
        return GrbalConfig.builder().adaptation(AdaptationRule.GRADIENT).obsDim(2).actDim(1).hidden(5, 4).innerLr(0.1)
                .innerSteps(innerSteps)
                .adaptWindow(6).predictWindow(5).firstOrder(firstOrder).build();
    }

    private record Data(INDArray theta, INDArray xa, INDArray ya, INDArray xe, INDArray ye) {}

    private static Data data(Mlp mlp, long seed) {
        Random rng = new Random(seed);
        INDArray theta = mlp.initParams(rng).addi(randn(rng, 1, mlp.numParams(), 0.3));
        return new Data(theta, randn(rng, 6, 3, 1), randn(rng, 6, 2, 1), randn(rng, 5, 3, 1), randn(rng, 5, 2, 1));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void secondOrderMetaGradientMatchesFiniteDifferencesOfTheAdaptedLoss(int innerSteps) {
        Grbal grbal = new Grbal(smallConfig(innerSteps, false));
        Mlp mlp = grbal.mlp();
        Data d = data(mlp, 21 + innerSteps);
        Grbal.MetaGradient mg = grbal.metaGradient(d.theta, d.xa, d.ya, d.xe, d.ye);

        INDArray fd = Nd4j.create(DataType.DOUBLE, 1, mlp.numParams());
        double eps = 1e-6;
        INDArray th = d.theta.dup();
        for (int i = 0; i < mlp.numParams(); i++) {
            double orig = th.getDouble(0, i);
            th.putScalar(0, i, orig + eps);
            double plus = mlp.loss(grbal.adapt(th, d.xa, d.ya), d.xe, d.ye);
            th.putScalar(0, i, orig - eps);
            double minus = mlp.loss(grbal.adapt(th, d.xa, d.ya), d.xe, d.ye);
            th.putScalar(0, i, orig);
            fd.putScalar(0, i, (plus - minus) / (2 * eps));
        }
        assertThat(relErr(mg.gradient(), fd)).isLessThan(1e-5);
        // the losses come from the recorded passes; Mlp.loss sums in another order
        assertThat(mg.preAdaptLoss()).isCloseTo(mlp.loss(d.theta, d.xe, d.ye), within(1e-12));
        assertThat(mg.postAdaptLoss()).isCloseTo(mlp.loss(grbal.adapt(d.theta, d.xa, d.ya), d.xe, d.ye), within(1e-12));
    }

    @Test
    void firstOrderDiffersFromSecondOrderButPointsTheSameWay() {
        Grbal second = new Grbal(smallConfig(1, false));
        Grbal first = new Grbal(smallConfig(1, true));
        Data d = data(second.mlp(), 5);
        INDArray g2 = second.metaGradient(d.theta, d.xa, d.ya, d.xe, d.ye).gradient();
        INDArray g1 = first.metaGradient(d.theta, d.xa, d.ya, d.xe, d.ye).gradient();
        double cosine = g1.mul(g2).sumNumber().doubleValue() / (g1.norm2Number().doubleValue() * g2.norm2Number().doubleValue());
        assertThat(relErr(g1, g2)).isGreaterThan(1e-3);
        assertThat(cosine).isGreaterThan(0.0);
    }

    @Test
    void adaptationLowersTheLossOnTheAdaptationData() {
        Grbal grbal = new Grbal(smallConfig(2, false));
        Data d = data(grbal.mlp(), 9);
        INDArray phi = grbal.adapt(d.theta, d.xa, d.ya);
        assertThat(grbal.mlp().loss(phi, d.xa, d.ya)).isLessThan(grbal.mlp().loss(d.theta, d.xa, d.ya));
        assertThat(phi).isNotSameAs(d.theta);
        assertThat(d.theta).isEqualTo(data(grbal.mlp(), 9).theta); // untouched
    }

    @Test
    void metaTrainingMakesAdaptationPayOffOnHeldOutTasks() {
        GrbalConfig cfg = GrbalConfig.builder().adaptation(AdaptationRule.GRADIENT).obsDim(1).actDim(1).hidden(32, 32)
                .innerLr(0.1).innerSteps(1)
                .adaptWindow(16).predictWindow(16).metaLr(3e-3).metaBatchSize(8).normalizerWarmupTransitions(2000)
                .seed(7).build();
        GrbalLearner learner = new GrbalLearner(cfg);
        Random rng = new Random(1234);
        for (int i = 0; i < 3000; i++) {
            ToyTasks.Task task = ToyTasks.sample(rng);
            learner.offer("task-" + i, task.rollout(rng, cfg.windowLength()));
        }
        assertThat(learner.outerSteps()).isEqualTo(3000 / 8);
        assertThat(learner.rejectedSteps()).isZero();

        DynamicsModel model = learner.currentModel();
        Random heldOut = new Random(99);
        double unadapted = 0;
        double adapted = 0;
        int tasks = 100;
        for (int i = 0; i < tasks; i++) {
            Segment s = ToyTasks.sample(heldOut).rollout(heldOut, cfg.windowLength());
            Segment context = s.slice(0, cfg.adaptWindow());
            Segment future = s.slice(cfg.adaptWindow(), cfg.windowLength());
            unadapted += model.predictionMse(future);
            adapted += model.adapt(context, cfg.innerLr(), cfg.innerSteps()).predictionMse(future);
        }
        System.out.printf("held-out one-step MSE: unadapted %.3e adapted %.3e ratio %.3f%n", unadapted / tasks,
                adapted / tasks, adapted / unadapted);
        assertThat(adapted).isLessThanOrEqualTo(0.6 * unadapted);
    }
}

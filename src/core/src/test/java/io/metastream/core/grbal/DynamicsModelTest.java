package io.metastream.core.grbal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.metastream.core.nn.Activation;
import io.metastream.core.nn.Mlp;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class DynamicsModelTest {

    private static Segment segment(Random rng, int n) {
        double[][] o = new double[n][2];
        double[][] a = new double[n][1];
        double[][] no = new double[n][2];
        for (int t = 0; t < n; t++) {
            o[t][0] = 3 + 2 * rng.nextGaussian();
            o[t][1] = -4 + 0.5 * rng.nextGaussian();
            a[t][0] = 0.2 * rng.nextGaussian();
            no[t][0] = o[t][0] + 0.3 * a[t][0] + 0.1;
            no[t][1] = o[t][1] - 0.05 * o[t][0];
        }
        return new Segment(o, a, no);
    }

    private static DynamicsModel model(Activation act, long seed) {
        Random rng = new Random(seed);
        Normalizer norm = new Normalizer(2, 1);
        norm.update(segment(rng, 200));
        Mlp mlp = new Mlp(new int[] {3, 16, 16, 2}, act);
        return new DynamicsModel(mlp, mlp.initParams(rng), norm);
    }

    @Test
    void predictNextEqualsObservationPlusDenormalisedNetworkOutput() {
        for (Activation act : Activation.values()) {
            DynamicsModel m = model(act, 1);
            Random rng = new Random(2);
            for (int n : new int[] {1, 7, 300}) {
                Segment s = segment(rng, n);
                INDArray obs = Nd4j.create(s.obs());
                INDArray a = Nd4j.create(s.act());
                INDArray expected = obs.add(m.normalizer().denormalizeDelta(
                        m.mlp().forward(m.params(), m.normalizer().inputs(obs, a))));
                INDArray got = m.predictNext(obs, a);
                assertThat(got.sub(expected).norm2Number().doubleValue() / expected.norm2Number().doubleValue())
                        .isLessThan(1e-12);
            }
        }
        DynamicsModel m = model(Activation.TANH, 3);
        double[] one = m.predictNext(new double[] {1, 2}, new double[] {0.5});
        INDArray batch = m.predictNext(Nd4j.create(new double[][] {{1, 2}}), Nd4j.create(new double[][] {{0.5}}));
        assertThat(one).containsExactly(batch.toDoubleVector(), within(1e-15));
    }

    @Test
    void predictionMseIsTheRawSpaceMeanSquaredError() {
        DynamicsModel m = model(Activation.TANH, 4);
        Segment s = segment(new Random(5), 9);
        INDArray pred = m.predictNext(Nd4j.create(s.obs()), Nd4j.create(s.act()));
        double mse = pred.sub(Nd4j.create(s.nextObs())).norm2Number().doubleValue();
        assertThat(m.predictionMse(s)).isCloseTo(mse * mse / 18, within(1e-12));
        double nd4j = m.mlp().loss(m.params(), m.normalizer().inputs(s), m.normalizer().targets(s));
        assertThat(m.normalizedLoss(s)).isCloseTo(nd4j, within(1e-12 * nd4j)); // plain Java: the same sums in another order
    }

    @Test
    void adaptRunsTheGrbalInnerLoopOnTheNormalisedContext() {
        DynamicsModel m = model(Activation.TANH, 6);
        Segment context = segment(new Random(7), 16);
        DynamicsModel adapted = m.adapt(context, 0.05, 3);
        INDArray expected = Grbal.adapt(m.mlp(), m.params(), m.normalizer().inputs(context), m.normalizer().targets(context),
                0.05, 3);
        assertThat(adapted.params()).isEqualTo(expected);
        assertThat(adapted.normalizedLoss(context)).isLessThan(m.normalizedLoss(context));
        assertThat(adapted.normalizer()).isSameAs(m.normalizer());
    }

    @Test
    void isAnImmutableSnapshotOfItsInputs() {
        Mlp mlp = new Mlp(new int[] {3, 4, 2}, Activation.TANH);
        INDArray p = mlp.initParams(new Random(8));
        Normalizer norm = new Normalizer(2, 1);
        DynamicsModel m = new DynamicsModel(mlp, p, norm);
        INDArray before = m.predictNext(Nd4j.ones(DataType.DOUBLE, 1, 2), Nd4j.ones(DataType.DOUBLE, 1, 1));
        p.addi(1.0);
        norm.update(segment(new Random(9), 10));
        assertThat(m.normalizer().frozen()).isTrue();
        assertThat(m.normalizer().count()).isZero();
        assertThat(m.predictNext(Nd4j.ones(DataType.DOUBLE, 1, 2), Nd4j.ones(DataType.DOUBLE, 1, 1))).isEqualTo(before);
        DynamicsModel other = m.withParams(p);
        assertThat(other.params()).isEqualTo(p).isNotSameAs(p);
    }

    @Test
    void rejectsMismatchedNetworksAndSegments() {
        Mlp wrong = new Mlp(new int[] {4, 4, 2}, Activation.TANH);
        assertThatThrownBy(() -> new DynamicsModel(wrong, wrong.initParams(new Random(1)), new Normalizer(2, 1)))
                .hasMessageContaining("needs 3 (obsDim + actDim) -> 2 (obsDim)");
        DynamicsModel m = model(Activation.TANH, 10);
        Segment oneDim = new Segment(new double[][] {{1}}, new double[][] {{1}}, new double[][] {{1}});
        assertThatThrownBy(() -> m.predictionMse(oneDim)).hasMessageContaining("the model expects 2 and 1");
    }
}

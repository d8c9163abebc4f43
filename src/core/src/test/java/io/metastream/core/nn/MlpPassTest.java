package io.metastream.core.nn;

import static io.metastream.core.nn.MlpTest.randn;
import static io.metastream.core.nn.MlpTest.relErr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class MlpPassTest {

    @Test
    void forwardEqualsMlpForwardForEveryActivation() {
        for (Activation act : Activation.values()) {
            Mlp mlp = new Mlp(new int[] {4, 7, 5, 3}, act);
            Random rng = new Random(1);
            INDArray p = mlp.initParams(rng).addi(randn(rng, 1, mlp.numParams()).muli(0.1));
            INDArray x = randn(rng, 9, 4);
            MlpPass pass = mlp.pass(9);
            assertThat(relErr(pass.forward(p, x), mlp.forward(p, x))).isLessThan(1e-14);
        }
    }

    @Test
    void backwardOfTheMseOutputGradientEqualsTheTapeGradient() {
        for (Activation act : Activation.values()) {
            Mlp mlp = new Mlp(new int[] {4, 7, 5, 3}, act);
            Random rng = new Random(2);
            INDArray p = mlp.initParams(rng).addi(randn(rng, 1, mlp.numParams()).muli(0.1));
            INDArray x = randn(rng, 11, 4);
            INDArray y = randn(rng, 11, 3);
            INDArray dOut = mlp.forward(p, x).sub(y).muli(2.0 / (11 * 3));
            INDArray g = mlp.backward(p, x, dOut).paramGradient();
            assertThat(relErr(g, mlp.lossAndGradient(p, x, y).gradient())).as(act.name()).isLessThan(1e-12);
        }
    }

    @Test
    void inputGradientOfSomeRowsEqualsThoseRowsOfTheFullBackward() {
        for (Activation act : Activation.values()) {
            Mlp mlp = new Mlp(new int[] {4, 7, 5, 3}, act);
            Random rng = new Random(5);
            INDArray p = mlp.initParams(rng).addi(randn(rng, 1, mlp.numParams()).muli(0.1));
            INDArray x = randn(rng, 10, 4);
            MlpPass pass = mlp.pass(10);
            pass.forward(p, x);
            int[] rows = {7, 0, 3, 9, -1}; // the first 4 are used, in this order
            INDArray dOutRows = randn(rng, 4, 3);
            INDArray dOutAll = Nd4j.zeros(DataType.DOUBLE, 10, 3);
            for (int i = 0; i < 4; i++) {
                dOutAll.putRow(rows[i], dOutRows.getRow(i));
            }
            INDArray some = pass.inputGradientOfRows(rows, 4, dOutRows).dup();
            INDArray all = pass.backward(dOutAll, null, false, true);
            for (int i = 0; i < 4; i++) {
                assertThat(some.getRow(i).toDoubleVector()).as(act + " row " + rows[i])
                        .containsExactly(all.getRow(rows[i]).toDoubleVector());
            }
            assertThat(pass.inputGradientOfRows(new int[] {2}, 1, dOutRows.getRow(0).reshape(1, 3)).shape())
                    .containsExactly(1, 4);
        }
    }

    @Test
    void inputGradientOfRowsRejectsBadRowsAndNeedsAForwardPass() {
        Mlp mlp = new Mlp(new int[] {2, 3, 1}, Activation.RELU);
        MlpPass pass = mlp.pass(4);
        INDArray one = Nd4j.ones(DataType.DOUBLE, 1, 1);
        assertThatThrownBy(() -> pass.inputGradientOfRows(new int[] {0}, 1, one)).isInstanceOf(IllegalStateException.class);
        pass.forward(mlp.initParams(new Random(1)));
        assertThatThrownBy(() -> pass.inputGradientOfRows(new int[] {4}, 1, one)).hasMessageContaining("row index 4");
        assertThatThrownBy(() -> pass.inputGradientOfRows(new int[] {0}, 0, one)).hasMessageContaining("count is 0");
        assertThatThrownBy(() -> pass.inputGradientOfRows(new int[] {0}, 2, one)).hasMessageContaining("count is 2");
    }

    @Test
    void inputAndParameterGradientsOfALinearFunctionalMatchFiniteDifferences() {
        Mlp mlp = new Mlp(new int[] {3, 6, 4, 2}, Activation.TANH);
        Random rng = new Random(3);
        INDArray p = mlp.initParams(rng).addi(randn(rng, 1, mlp.numParams()).muli(0.2));
        INDArray x = randn(rng, 5, 3);
        INDArray w = randn(rng, 5, 2); // L = Σ w ⊙ f(x), so dL/dY = w
        Mlp.Backward b = mlp.backward(p, x, w);
        double h = 1e-6;
        double[] fdx = new double[15];
        for (int i = 0; i < 15; i++) {
            INDArray xp = x.dup();
            xp.putScalar(i / 3, i % 3, x.getDouble(i / 3, i % 3) + h);
            INDArray xm = x.dup();
            xm.putScalar(i / 3, i % 3, x.getDouble(i / 3, i % 3) - h);
            fdx[i] = (mlp.forward(p, xp).mul(w).sumNumber().doubleValue() - mlp.forward(p, xm).mul(w).sumNumber().doubleValue())
                    / (2 * h);
        }
        assertThat(relErr(b.inputGradient(), Nd4j.create(fdx, new long[] {5, 3}, DataType.DOUBLE))).isLessThan(1e-8);
        double[] fdp = new double[mlp.numParams()];
        for (int i = 0; i < fdp.length; i++) {
            INDArray pp = p.dup();
            pp.putScalar(i, p.getDouble(i) + h);
            INDArray pm = p.dup();
            pm.putScalar(i, p.getDouble(i) - h);
            fdp[i] = (mlp.forward(pp, x).mul(w).sumNumber().doubleValue() - mlp.forward(pm, x).mul(w).sumNumber().doubleValue())
                    / (2 * h);
        }
        assertThat(relErr(b.paramGradient(), Nd4j.create(fdp, new long[] {1, fdp.length}, DataType.DOUBLE)))
                .isLessThan(1e-8);
    }

    @Test
    void accumulateAddsToTheGradientAndSkippingParametersStillGivesTheInputGradient() {
        Mlp mlp = new Mlp(new int[] {3, 8, 2}, Activation.RELU);
        Random rng = new Random(4);
        INDArray p = mlp.initParams(rng);
        INDArray x = randn(rng, 6, 3);
        INDArray d = randn(rng, 6, 2);
        MlpPass pass = mlp.pass(6);
        pass.forward(p, x);
        INDArray g = Nd4j.zeros(DataType.DOUBLE, 1, mlp.numParams());
        INDArray dx = pass.backward(d, g, false, true).dup();
        INDArray once = g.dup();
        pass.backward(d, g, true, false);
        assertThat(relErr(g, once.mul(2))).isLessThan(1e-15);
        assertThat(relErr(pass.backward(d, null, false, true), dx)).isLessThan(1e-15);
    }

    @Test
    void passesSharingAnInputReadWhatIsWrittenOnce() {
        Mlp a = new Mlp(new int[] {3, 5, 1}, Activation.TANH);
        Mlp b = new Mlp(new int[] {3, 4, 2}, Activation.RELU);
        Random rng = new Random(5);
        INDArray pa = a.initParams(rng);
        INDArray pb = b.initParams(rng);
        INDArray x = randn(rng, 4, 3);
        MlpPass first = a.pass(4);
        MlpPass second = b.pass(first);
        first.inputColumns(0, 2).assign(x.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)));
        first.inputColumns(2, 1).assign(x.getColumn(2).reshape(4, 1));
        assertThat(relErr(first.forward(pa), a.forward(pa, x))).isLessThan(1e-14);
        assertThat(relErr(second.forward(pb), b.forward(pb, x))).isLessThan(1e-14);
        assertThatThrownBy(() -> new Mlp(new int[] {2, 3, 1}, Activation.TANH).pass(a.pass(5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot share");
        assertThatThrownBy(() -> a.pass(4).backward(Nd4j.zeros(DataType.DOUBLE, 4, 1), null, false, true))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("forward");
    }
}

package io.metastream.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.grbal.Normalizer;
import io.metastream.core.grbal.Segment;
import io.metastream.core.internal.NdArrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class RowForwardTest {

    @Test
    void tanhApproximationIsWithinFiveMillionthsEverywhere() {
        double worst = 0;
        for (double x = -20; x <= 20; x += 1e-4) {
            worst = Math.max(worst, Math.abs(RowForward.tanh(x) - Math.tanh(x)));
        }
        assertThat(worst).isLessThan(5e-6);
        assertThat(RowForward.tanh(0.0)).isZero();
        assertThat(RowForward.tanh(1e-3)).isCloseTo(Math.tanh(1e-3), org.assertj.core.data.Offset.offset(1e-15));
    }

    @Test
    void matchesTheNd4jForwardPassForEveryActivationAndAnyRowRange() {
        Random rng = new Random(4);
        for (Activation act : Activation.values()) {
            Mlp mlp = new Mlp(new int[] {5, 64, 32, 3}, act);
            INDArray params = mlp.initParams(rng).muli(2.0); // large enough to reach tanh's saturated range
            int rows = 600; // spans three blocks
            double[] x1 = gaussian(rng, rows * 3);
            double[] x2 = gaussian(rng, rows * 2);
            double[] base = gaussian(rng, rows * 3);
            double[] x = new double[rows * 5];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(x1, r * 3, x, r * 5, 3);
                System.arraycopy(x2, r * 2, x, r * 5 + 3, 2);
            }
            double[] exact = NdArrays.toFlatArray(mlp.forward(params, NdArrays.matrix(x, rows, 5)));
            RowForward f = new RowForward(mlp, NdArrays.toFlatArray(params));
            double[] out = new double[rows * 3];
            java.util.Arrays.fill(out, 42.0);
            f.forward(x1, 3, x2, base, 100, 450, out);
            for (int i = 0; i < rows * 3; i++) {
                int r = i / 3;
                if (r < 100 || r >= 550) {
                    assertThat(out[i]).as("row %d outside the range is untouched", r).isEqualTo(42.0);
                } else {
                    assertThat(out[i]).as("%s row %d", act, r).isCloseTo(base[i] + exact[i], org.assertj.core.data.Offset.offset(2e-4));
                }
            }
        }
    }

    @Test
    void aDynamicsModelRollsOutWhatItPredicts() {
        Random rng = new Random(9);
        Mlp mlp = new Mlp(new int[] {4, 32, 32, 3}, Activation.TANH);
        Normalizer norm = new Normalizer(3, 1);
        double[][] o = new double[50][];
        double[][] a = new double[50][];
        double[][] n = new double[50][];
        for (int i = 0; i < 50; i++) {
            o[i] = new double[] {rng.nextGaussian(), 3 * rng.nextGaussian(), 0.5 + rng.nextGaussian()};
            a[i] = new double[] {2 * rng.nextGaussian()};
            n[i] = new double[] {o[i][0] + 0.1 * rng.nextGaussian(), o[i][1], o[i][2] - 0.2};
        }
        norm.update(new Segment(o, a, n));
        DynamicsModel model = new DynamicsModel(mlp, mlp.initParams(rng), norm);
        int rows = 50;
        double[] obs = new double[rows * 3];
        double[] act = new double[rows];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(o[i], 0, obs, i * 3, 3);
            act[i] = a[i][0];
        }
        double[] exact = NdArrays.toFlatArray(model.predictNext(NdArrays.matrix(obs, rows, 3), NdArrays.matrix(act, rows, 1)));
        double[] out = new double[rows * 3];
        model.rollout().next(obs, act, 0, rows, out);
        for (int i = 0; i < out.length; i++) {
            assertThat(out[i]).isCloseTo(exact[i], org.assertj.core.data.Offset.offset(1e-4 * (1 + Math.abs(exact[i]))));
        }
        assertThat(model.rollout()).isSameAs(model.rollout());
    }

    @Test
    void rejectsArraysTooShortForTheRows() {
        Mlp mlp = new Mlp(new int[] {2, 4, 1}, Activation.TANH);
        RowForward f = new RowForward(mlp, new double[mlp.numParams()]);
        assertThatThrownBy(() -> f.forward(new double[4], 2, null, null, 0, 3, new double[3]))
                .hasMessageContaining("needs x1 [>= 3, 2]");
        assertThatThrownBy(() -> new RowForward(mlp, new double[3])).hasMessageContaining("must hold the " + mlp.numParams());
    }

    private static double[] gaussian(Random rng, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = rng.nextGaussian();
        }
        return v;
    }
}

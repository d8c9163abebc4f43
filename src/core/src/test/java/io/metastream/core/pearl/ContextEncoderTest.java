package io.metastream.core.pearl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.Activation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class ContextEncoderTest {

    static INDArray randn(Random rng, int rows, int cols, double scale) {
        double[] v = new double[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = scale * rng.nextGaussian();
        }
        return NdArrays.matrix(v, rows, cols);
    }

    /** Relative error ||a − b|| / ||b||. */
    static double relErr(double[] a, double[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }
        return Math.sqrt(num) / Math.max(1e-300, Math.sqrt(den));
    }

    /** The rows of {@code ctx} in a random order. */
    static INDArray shuffledRows(INDArray ctx, Random rng) {
        int n = (int) ctx.rows();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        Collections.shuffle(order, rng);
        INDArray shuffled = ctx.dup();
        for (int i = 0; i < n; i++) {
            shuffled.putRow(i, ctx.getRow(order.get(i)));
        }
        return shuffled;
    }

    /** Central finite differences (step 1e-6) of {@code loss} at every entry of {@code p}, restoring p. */
    static double[] finiteDifferences(INDArray p, ToDoubleFunction<INDArray> loss) {
        double h = 1e-6;
        double[] fd = new double[(int) p.length()];
        for (int i = 0; i < fd.length; i++) {
            double v = p.getDouble(i);
            p.putScalar(i, v + h);
            double up = loss.applyAsDouble(p);
            p.putScalar(i, v - h);
            double down = loss.applyAsDouble(p);
            p.putScalar(i, v);
            fd[i] = (up - down) / (2 * h);
        }
        return fd;
    }

    private static final ContextEncoder ENC = new ContextEncoder(7, 3, new int[] {8, 8}, Activation.TANH);

    private static INDArray params(long seed) {
        Random rng = new Random(seed);
        return ENC.initParams(rng).addi(randn(rng, 1, ENC.mlp().numParams(), 0.1));
    }

    @Test
    void posteriorDoesNotDependOnTheOrderOfTheContext() {
        INDArray p = params(1);
        Random rng = new Random(2);
        INDArray ctx = randn(rng, 12, 7, 1.0);
        INDArray shuffled = shuffledRows(ctx, rng);
        Posterior a = ENC.infer(p, ctx);
        Posterior b = ENC.infer(p, shuffled);
        assertThat(relErr(b.mean(), a.mean())).isLessThan(1e-13);
        assertThat(relErr(b.variance(), a.variance())).isLessThan(1e-13);
    }

    @Test
    void productOfFactorsEqualsSequentialBayesianUpdates() {
        INDArray p = params(3);
        INDArray ctx = randn(new Random(4), 6, 7, 1.0);
        double[] out = NdArrays.toFlatArray(ENC.mlp().forward(p, ctx));
        int l = 3;
        // start from the first factor, then condition on each further factor as an observation of z
        double[] mu = new double[l];
        double[] var = new double[l];
        for (int j = 0; j < l; j++) {
            mu[j] = out[j];
            var[j] = Math.log1p(Math.exp(out[l + j]));
        }
        for (int n = 1; n < 6; n++) {
            for (int j = 0; j < l; j++) {
                double mN = out[n * 2 * l + j];
                double vN = Math.log1p(Math.exp(out[n * 2 * l + l + j]));
                double gain = var[j] / (var[j] + vN);
                mu[j] = mu[j] + gain * (mN - mu[j]);
                var[j] = var[j] * vN / (var[j] + vN);
            }
        }
        Posterior q = ENC.infer(p, ctx);
        assertThat(relErr(q.mean(), mu)).isLessThan(1e-12);
        assertThat(relErr(q.variance(), var)).isLessThan(1e-12);
        // the batched inference over several tasks gives the same posteriors
        INDArray other = randn(new Random(5), 3, 7, 1.0);
        Posterior[] both = ENC.infer(p, List.of(ctx, other));
        assertThat(relErr(both[0].mean(), q.mean())).isLessThan(1e-13);
        assertThat(relErr(both[1].variance(), ENC.infer(p, other).variance())).isLessThan(1e-13);
    }

    @Test
    void klMatchesAMonteCarloEstimate() {
        Posterior q = new Posterior(new double[] {0.7, -1.2, 0.1}, new double[] {0.3, 2.0, 0.05});
        Random rng = new Random(6);
        int n = 200_000;
        double sum = 0;
        double sumSq = 0;
        for (int i = 0; i < n; i++) {
            double[] z = q.sample(rng);
            double logRatio = 0; // log q(z) − log N(z; 0, I)
            for (int j = 0; j < 3; j++) {
                double v = q.variance()[j];
                double m = q.mean()[j];
                logRatio += -0.5 * Math.log(v) - 0.5 * (z[j] - m) * (z[j] - m) / v + 0.5 * z[j] * z[j];
            }
            sum += logRatio;
            sumSq += logRatio * logRatio;
        }
        double mean = sum / n;
        double stdErr = Math.sqrt((sumSq / n - mean * mean) / n);
        assertThat(q.klToStandardNormal()).isCloseTo(mean, within(4 * stdErr));
        assertThat(stdErr).isLessThan(0.02);
        assertThat(Posterior.prior(3).klToStandardNormal()).isEqualTo(0.0);
    }

    @Test
    void gradientOfALatentLossPlusWeightedKlMatchesCentralFiniteDifferences() {
        INDArray p = params(7);
        Random rng = new Random(8);
        List<INDArray> ctx = List.of(randn(rng, 5, 7, 1.0), randn(rng, 1, 7, 1.0), randn(rng, 9, 7, 1.0));
        double[][] eps = new double[3][3];
        double[][] c = new double[3][3];
        for (int t = 0; t < 3; t++) {
            for (int j = 0; j < 3; j++) {
                eps[t][j] = rng.nextGaussian();
                c[t][j] = rng.nextGaussian();
            }
        }
        double beta = 0.7;
        // L(z) = Σ_t Σ_j c_tj z_tj + sin(z_tj), dL/dz = c + cos(z)
        double[][] dLdz = new double[3][3];
        Posterior[] q = ENC.infer(p, ctx);
        for (int t = 0; t < 3; t++) {
            double[] z = q[t].sample(eps[t]);
            for (int j = 0; j < 3; j++) {
                dLdz[t][j] = c[t][j] + Math.cos(z[j]);
            }
        }
        double[] analytic = NdArrays.toFlatArray(ENC.gradient(p, ctx, eps, dLdz, beta));
        double[] fd = finiteDifferences(p, q2 -> loss(q2, ctx, eps, c, beta));
        double err = relErr(analytic, fd);
        System.out.printf("encoder gradient check: %d parameters, relative error %.3e%n", fd.length, err);
        assertThat(err).isLessThan(1e-5);
    }

    private static double loss(INDArray p, List<INDArray> ctx, double[][] eps, double[][] c, double beta) {
        Posterior[] q = ENC.infer(p, ctx);
        double l = 0;
        for (int t = 0; t < q.length; t++) {
            double[] z = q[t].sample(eps[t]);
            for (int j = 0; j < z.length; j++) {
                l += c[t][j] * z[j] + Math.sin(z[j]);
            }
            l += beta * q[t].klToStandardNormal();
        }
        return l;
    }

    @Test
    void factorVariancesAreSoftplusWithAFloorAndTheFloorPassesNoGradient() {
        assertThat(ContextEncoder.factorVariance(0.0)).isCloseTo(Math.log(2), within(1e-15));
        assertThat(ContextEncoder.factorVariance(800.0)).isEqualTo(800.0);
        assertThat(ContextEncoder.factorVariance(-40.0)).isEqualTo(ContextEncoder.MIN_VARIANCE);
        // a network whose variance outputs are all far below the floor: the raw outputs get no gradient
        ContextEncoder enc = new ContextEncoder(2, 1, new int[0], Activation.TANH);
        INDArray p = NdArrays.row(new double[] {0.5, 0.0, 0.2, 0.0, 0.0, -50.0}); // W [2,2] then b [2]
        List<INDArray> ctx = List.of(NdArrays.matrix(new double[] {1, 2, 3, 4}, 2, 2));
        assertThat(enc.infer(p, ctx.get(0)).variance()[0]).isCloseTo(ContextEncoder.MIN_VARIANCE / 2, within(1e-20));
        double[] g = NdArrays.toFlatArray(enc.gradient(p, ctx, new double[][] {{0.3}}, new double[][] {{1.0}}, 0.1));
        assertThat(g[1]).isZero();
        assertThat(g[3]).isZero();
        assertThat(g[5]).isZero();
        assertThat(g[4]).isNotZero();
    }

    @Test
    void priorIsTheStandardNormalAndSamplesFollowTheReparameterisation() {
        Posterior prior = ENC.prior();
        assertThat(prior.mean()).containsExactly(0, 0, 0);
        assertThat(prior.variance()).containsExactly(1, 1, 1);
        Posterior q = new Posterior(new double[] {1, 2}, new double[] {4, 9});
        assertThat(q.sample(new double[] {0.5, -1})).containsExactly(2.0, -1.0);
        assertThat(q.std()).containsExactly(2.0, 3.0);
    }
}

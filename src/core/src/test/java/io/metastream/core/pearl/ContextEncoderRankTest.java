package io.metastream.core.pearl;

import static io.metastream.core.pearl.ContextEncoderTest.finiteDifferences;
import static io.metastream.core.pearl.ContextEncoderTest.randn;
import static io.metastream.core.pearl.ContextEncoderTest.relErr;
import static io.metastream.core.pearl.ContextEncoderTest.shuffledRows;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.Activation;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The encoder with rank factors: full-covariance posteriors in information form. */
class ContextEncoderRankTest {

    private static final int L = 3;
    private static final int R = 2;
    private static final ContextEncoder ENC = new ContextEncoder(7, L, new int[] {8, 8}, Activation.TANH, R);

    private static INDArray params(long seed) {
        Random rng = new Random(seed);
        return ENC.initParams(rng).addi(randn(rng, 1, ENC.mlp().numParams(), 0.3));
    }

    @Test
    void networkWidthAndNoiseFollowTheRank() {
        assertThat(ENC.mlp().layerSizes()[ENC.mlp().layerSizes().length - 1]).isEqualTo(2 * L + R * (L + 1));
        assertThat(ENC.rank()).isEqualTo(R);
        assertThat(ENC.noiseSize(4)).isEqualTo(L + 4 * (L + R));
        assertThatThrownBy(() -> new ContextEncoder(7, L, new int[] {8}, Activation.TANH, -1))
                .hasMessageContaining("rank is -1");
    }

    /** Λ = I + Σ_n (diag(1/σ²_n) + Σ_k u uᵀ), η = Σ_n (μ_n/σ²_n + Σ_k b u), assembled and inverted here by Gauss-Jordan. */
    @Test
    void posteriorEqualsTheDirectInformationFormProduct() {
        INDArray p = params(3);
        INDArray ctx = randn(new Random(4), 6, 7, 1.0);
        double[] out = NdArrays.toFlatArray(ENC.mlp().forward(p, ctx));
        int w = 2 * L + R * (L + 1);
        double[][] lam = new double[L][L];
        double[] eta = new double[L];
        for (int j = 0; j < L; j++) {
            lam[j][j] = 1.0;
        }
        for (int n = 0; n < 6; n++) {
            for (int j = 0; j < L; j++) {
                double prec = 1.0 / Math.log1p(Math.exp(out[n * w + L + j]));
                lam[j][j] += prec;
                eta[j] += prec * out[n * w + j];
            }
            for (int k = 0; k < R; k++) {
                int u0 = n * w + 2 * L + k * (L + 1);
                for (int i = 0; i < L; i++) {
                    eta[i] += out[u0 + L] * out[u0 + i];
                    for (int j = 0; j < L; j++) {
                        lam[i][j] += out[u0 + i] * out[u0 + j];
                    }
                }
            }
        }
        double[][] cov = gaussJordanInverse(lam);
        double[] mu = new double[L];
        for (int i = 0; i < L; i++) {
            for (int j = 0; j < L; j++) {
                mu[i] += cov[i][j] * eta[j];
            }
        }
        Posterior q = ENC.infer(p, ctx);
        assertThat(q.fullCovariance()).isTrue();
        assertThat(relErr(q.mean(), mu)).isLessThan(1e-12);
        double[] c = q.covarianceFactor();
        for (int i = 0; i < L; i++) {
            for (int j = 0; j < L; j++) {
                double s = 0;
                for (int k = 0; k < L; k++) {
                    s += c[i * L + k] * c[j * L + k];
                }
                assertThat(s).isCloseTo(cov[i][j], within(1e-12));
            }
            assertThat(q.variance()[i]).isCloseTo(cov[i][i], within(1e-12));
        }
        // the batched inference over several tasks gives the same posterior
        Posterior[] both = ENC.infer(p, List.of(randn(new Random(5), 3, 7, 1.0), ctx));
        assertThat(relErr(both[1].mean(), q.mean())).isLessThan(1e-12);
        assertThat(relErr(both[1].covarianceFactor(), q.covarianceFactor())).isLessThan(1e-12);
    }

    @Test
    void posteriorDoesNotDependOnTheOrderOfTheContext() {
        INDArray p = params(1);
        Random rng = new Random(2);
        INDArray ctx = randn(rng, 12, 7, 1.0);
        INDArray shuffled = shuffledRows(ctx, rng);
        Posterior a = ENC.infer(p, ctx);
        Posterior b = ENC.infer(p, shuffled);
        assertThat(relErr(b.mean(), a.mean())).isLessThan(1e-12);
        assertThat(relErr(b.covarianceFactor(), a.covarianceFactor())).isLessThan(1e-12);
    }

    /** The training sample z = Σ(η + w) has the posterior's mean and covariance. */
    @Test
    void trainingSamplesFollowThePosterior() {
        INDArray p = params(9);
        INDArray ctx = randn(new Random(10), 4, 7, 1.0);
        EncoderPass pass = new EncoderPass(ENC, new int[] {4});
        pass.forward(p, ctx);
        Posterior q = pass.posterior(0);
        Random rng = new Random(11);
        int n = 200_000;
        double[] sum = new double[L];
        double[][] sumSq = new double[L][L];
        double[] noise = new double[pass.noiseSize()];
        double[] z = new double[L];
        for (int s = 0; s < n; s++) {
            for (int i = 0; i < noise.length; i++) {
                noise[i] = rng.nextGaussian();
            }
            pass.sample(noise, z);
            for (int i = 0; i < L; i++) {
                sum[i] += z[i];
                for (int j = 0; j < L; j++) {
                    sumSq[i][j] += z[i] * z[j];
                }
            }
        }
        double[] c = q.covarianceFactor();
        for (int i = 0; i < L; i++) {
            double m = sum[i] / n;
            double sd = Math.sqrt(q.variance()[i]);
            assertThat(m).isCloseTo(q.mean()[i], within(5 * sd / Math.sqrt(n)));
            for (int j = 0; j < L; j++) {
                double cov = sumSq[i][j] / n - m * sum[j] / n;
                double exact = 0;
                for (int k = 0; k < L; k++) {
                    exact += c[i * L + k] * c[j * L + k];
                }
                assertThat(cov).isCloseTo(exact, within(0.02 * Math.sqrt(q.variance()[i] * q.variance()[j])));
            }
        }
        assertThat(pass.klSum()).isCloseTo(q.klToStandardNormal(), within(1e-10));
    }

    /** KL(N(μ, CCᵀ) ‖ N(0, I)) against the mean of log q(z) − log N(z; 0, I) over samples of q. */
    @Test
    void fullCovarianceKlMatchesAMonteCarloEstimate() {
        Posterior q = ENC.infer(params(12), randn(new Random(13), 5, 7, 1.0));
        double[] c = q.covarianceFactor();
        double logDetC = 0;
        for (int j = 0; j < L; j++) {
            logDetC += Math.log(c[j * L + j]);
        }
        Random rng = new Random(14);
        int n = 200_000;
        double sum = 0;
        double sumSq = 0;
        for (int i = 0; i < n; i++) {
            double[] eps = new double[L];
            for (int j = 0; j < L; j++) {
                eps[j] = rng.nextGaussian();
            }
            double[] z = q.sample(eps);
            // (z − μ)ᵀ Σ⁻¹ (z − μ) = εᵀε for z = μ + Cε
            double logRatio = -logDetC;
            for (int j = 0; j < L; j++) {
                logRatio += -0.5 * eps[j] * eps[j] + 0.5 * z[j] * z[j];
            }
            sum += logRatio;
            sumSq += logRatio * logRatio;
        }
        double mean = sum / n;
        double stdErr = Math.sqrt((sumSq / n - mean * mean) / n);
        assertThat(q.klToStandardNormal()).isCloseTo(mean, within(4 * stdErr));
        assertThat(stdErr).isLessThan(0.02);
    }

    @Test
    void gradientOfALatentLossPlusWeightedKlMatchesCentralFiniteDifferences() {
        INDArray p = params(7);
        Random rng = new Random(8);
        int[] rows = {5, 1, 9};
        List<INDArray> ctx = List.of(randn(rng, 5, 7, 1.0), randn(rng, 1, 7, 1.0), randn(rng, 9, 7, 1.0));
        double[][] eps = new double[3][];
        double[][] c = new double[3][L];
        for (int t = 0; t < 3; t++) {
            eps[t] = new double[ENC.noiseSize(rows[t])];
            for (int i = 0; i < eps[t].length; i++) {
                eps[t][i] = rng.nextGaussian();
            }
            for (int j = 0; j < L; j++) {
                c[t][j] = rng.nextGaussian();
            }
        }
        double beta = 0.7;
        // L(z) = Σ_t Σ_j c_tj z_tj + sin(z_tj), dL/dz = c + cos(z)
        double[] z = sample(p, rows, ctx, eps);
        double[][] dLdz = new double[3][L];
        for (int t = 0; t < 3; t++) {
            for (int j = 0; j < L; j++) {
                dLdz[t][j] = c[t][j] + Math.cos(z[t * L + j]);
            }
        }
        double[] analytic = NdArrays.toFlatArray(ENC.gradient(p, ctx, eps, dLdz, beta));
        double[] fd = finiteDifferences(p, q -> loss(q, rows, ctx, eps, c, beta));
        double err = relErr(analytic, fd);
        System.out.printf("rank encoder gradient check: %d parameters, relative error %.3e%n", fd.length, err);
        assertThat(err).isLessThan(1e-5);
    }

    private static double[] sample(INDArray p, int[] rows, List<INDArray> ctx, double[][] eps) {
        EncoderPass pass = new EncoderPass(ENC, rows);
        pass.forward(p, Nd4j.vstack(ctx.toArray(new INDArray[0])));
        double[] flat = new double[pass.noiseSize()];
        for (int t = 0; t < eps.length; t++) {
            System.arraycopy(eps[t], 0, flat, pass.noiseOffset(t), eps[t].length);
        }
        double[] z = new double[rows.length * L];
        pass.sample(flat, z);
        return z;
    }

    private static double loss(INDArray p, int[] rows, List<INDArray> ctx, double[][] eps, double[][] c, double beta) {
        double[] z = sample(p, rows, ctx, eps);
        double l = 0;
        for (int t = 0; t < rows.length; t++) {
            for (int j = 0; j < L; j++) {
                l += c[t][j] * z[t * L + j] + Math.sin(z[t * L + j]);
            }
        }
        return l + beta * klSum(p, ctx);
    }

    private static double klSum(INDArray p, List<INDArray> ctx) {
        double kl = 0;
        for (Posterior q : ENC.infer(p, ctx)) {
            kl += q.klToStandardNormal();
        }
        return kl;
    }

    /** A precision with eigenvalues from 1 to 1e14 (one row pinning a direction very tightly). */
    @Test
    void theCovarianceFactorStaysExactForAnIllConditionedPrecision() {
        double[] u = {0.6, -0.8, 0.0};
        double[] lam = new double[L * L];
        for (int i = 0; i < L; i++) {
            lam[i * L + i] = 1.0;
            for (int j = 0; j < L; j++) {
                lam[i * L + j] += 1e14 * u[i] * u[j];
            }
        }
        double[] c = new double[L * L];
        SmallMatrices.covarianceFactorFromPrecision(lam, 0, L, c, 0);
        double[] cov = new double[L * L];
        SmallMatrices.timesTranspose(c, 0, L, cov, 0);
        for (int i = 0; i < L; i++) {
            assertThat(c[i * L + i]).isPositive();
            for (int j = i + 1; j < L; j++) {
                assertThat(c[i * L + j]).isZero();
            }
        }
        // Σ = I − u uᵀ · 1e14/(1 + 1e14) (Sherman–Morrison)
        double k = 1e14 / (1 + 1e14);
        for (int i = 0; i < L; i++) {
            for (int j = 0; j < L; j++) {
                assertThat(cov[i * L + j]).isCloseTo((i == j ? 1.0 : 0.0) - k * u[i] * u[j], within(1e-12));
            }
        }
        Posterior q = Posterior.withCovarianceFactor(new double[L], c);
        assertThat(q.variance()[2]).isCloseTo(1.0, within(1e-12));
    }

    @Test
    void overflowingNetworkOutputsGiveANonFinitePosteriorInsteadOfAnException() {
        INDArray p = params(15).muli(1e200); // tanh saturates; the output layer gives ~1e200, u uᵀ overflows
        EncoderPass pass = new EncoderPass(ENC, new int[] {3});
        pass.forward(p, randn(new Random(16), 3, 7, 1e150));
        assertThat(pass.klSum()).isNaN();
        assertThatThrownBy(() -> ENC.infer(p, randn(new Random(16), 3, 7, 1e150)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("finite");
    }

    @Test
    void fullCovariancePosteriorSamplesWithItsFactorAndRejectsABadOne() {
        double[] chol = {1.0, 0, 0.5, 2.0};
        Posterior q = Posterior.withCovarianceFactor(new double[] {1, -1}, chol);
        assertThat(q.variance()).containsExactly(1.0, 4.25);
        assertThat(q.sample(new double[] {1, 1})).containsExactly(2.0, 1.5);
        // KL = ½ (tr Σ + μᵀμ − L − log det Σ), det Σ = (1·2)²
        assertThat(q.klToStandardNormal()).isCloseTo(0.5 * (5.25 + 2 - 2 - Math.log(4.0)), within(1e-12));
        assertThatThrownBy(() -> new Posterior(new double[] {0, 0}, new double[] {1, 1}, new double[] {1, 0.3, 0, 1}))
                .hasMessageContaining("lower triangular");
        assertThatThrownBy(() -> new Posterior(new double[] {0, 0}, new double[] {1, 2}, new double[] {1, 0, 0, 1}))
                .hasMessageContaining("must agree");
        assertThat(new Posterior(new double[] {0, 0}, new double[] {1, 1})).isNotEqualTo(
                new Posterior(new double[] {0, 0}, new double[] {1, 1}, new double[] {1, 0, 0, 1}));
    }

    private static double[][] gaussJordanInverse(double[][] a) {
        int n = a.length;
        double[][] m = new double[n][2 * n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a[i], 0, m[i], 0, n);
            m[i][n + i] = 1.0;
        }
        for (int col = 0; col < n; col++) {
            int piv = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(m[r][col]) > Math.abs(m[piv][col])) {
                    piv = r;
                }
            }
            double[] tmp = m[col];
            m[col] = m[piv];
            m[piv] = tmp;
            double d = m[col][col];
            for (int k = 0; k < 2 * n; k++) {
                m[col][k] /= d;
            }
            for (int r = 0; r < n; r++) {
                if (r != col) {
                    double f = m[r][col];
                    for (int k = 0; k < 2 * n; k++) {
                        m[r][k] -= f * m[col][k];
                    }
                }
            }
        }
        double[][] inv = new double[n][n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(m[i], n, inv[i], 0, n);
        }
        return inv;
    }
}

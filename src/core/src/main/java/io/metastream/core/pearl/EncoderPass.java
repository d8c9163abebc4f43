package io.metastream.core.pearl;

import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.MlpPass;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The {@link ContextEncoder} over the contexts of several tasks at once: one network pass over all
 * stacked context rows, then per task the product of Gaussians, the sample and the KL term, and the
 * backward pass of {@code Σ_t dL/dz_t · z_t + β Σ_t KL_t} (equations in {@link ContextEncoder}).
 * The element-wise math runs in plain Java on the {@code [rows, width]} network output: a few
 * thousand values, where each ND4J op would cost more than the arithmetic. With rank factors each
 * task also has {@code L × L} matrices (precision, covariance), also in plain Java.
 *
 * <p>Noise layout: task t's draws are a block of {@link ContextEncoder#noiseSize} values starting
 * at {@link #noiseOffset}: ε for diagonal factors; ε₀, then per row (ε_n, ξ_n1..ξ_nR) with rank factors.
 *
 * <p>Not thread-safe; reused by its owner for meta-batches with the same context sizes.
 */
final class EncoderPass {

    private final ContextEncoder enc;
    private final int latent;
    private final int rank;
    private final int width;
    private final int[] noiseStart;
    // rank factors only: per task Λ and Σ row-major [L, L], η [L], Cholesky of Σ [L, L]
    private final double[] lam;
    private final double[] cov;
    private final double[] eta;
    private final double[] covChol;
    private final int[] sizes;
    private final int[] start;
    private final int rows;
    private final MlpPass pass;
    private double[] out;
    private final double[] prec;
    private final double[] mu;
    private final double[] var;
    private final double[] dOut;
    private boolean forwardDone;

    EncoderPass(ContextEncoder enc, int[] contextRows) {
        if (contextRows.length == 0) {
            throw new IllegalArgumentException("a meta-batch needs at least one task");
        }
        this.enc = enc;
        this.latent = enc.latentDim();
        this.rank = enc.rank();
        this.width = ContextEncoder.outputWidth(latent, rank);
        this.sizes = contextRows.clone();
        this.start = new int[sizes.length + 1];
        this.noiseStart = new int[sizes.length + 1];
        for (int t = 0; t < sizes.length; t++) {
            if (sizes[t] <= 0) {
                throw new IllegalArgumentException("task " + t + " has an empty context; use the prior for such tasks");
            }
            start[t + 1] = start[t] + sizes[t];
            noiseStart[t + 1] = noiseStart[t] + enc.noiseSize(sizes[t]);
        }
        this.rows = start[sizes.length];
        this.pass = enc.mlp().pass(rows);
        this.prec = new double[rows * latent];
        this.mu = new double[sizes.length * latent];
        this.var = new double[sizes.length * latent];
        this.dOut = new double[rows * width];
        int mats = rank == 0 ? 0 : sizes.length * latent * latent;
        this.lam = new double[mats];
        this.cov = new double[mats];
        this.covChol = new double[mats];
        this.eta = new double[rank == 0 ? 0 : sizes.length * latent];
    }

    /** Standard-normal draws one {@link #sample} needs for all tasks. */
    int noiseSize() {
        return noiseStart[sizes.length];
    }

    /** Where task t's draws start in the noise array. */
    int noiseOffset(int t) {
        return noiseStart[t];
    }

    /** True when this pass serves contexts of exactly these sizes. */
    boolean fits(int[] contextRows) {
        return Arrays.equals(sizes, contextRows);
    }

    int tasks() {
        return sizes.length;
    }

    /** Runs the network on the stacked contexts {@code [Σ N_t, contextDim]} and forms the posteriors. */
    void forward(INDArray params, INDArray stackedContext) {
        NdArrays.requireDoubleMatrix(stackedContext, rows, enc.contextDim(), "stacked context");
        out = NdArrays.toFlatArray(pass.forward(params, stackedContext));
        computePosteriors();
    }

    /** As {@link #forward(INDArray, INDArray)} with the context rows given row-major in a Java array. */
    void forward(INDArray params, double[] stackedContext) {
        pass.input().assign(NdArrays.matrix(stackedContext, rows, enc.contextDim()));
        out = NdArrays.toFlatArray(pass.forward(params));
        computePosteriors();
    }

    private void computePosteriors() {
        for (int t = 0; t < sizes.length; t++) {
            if (rank == 0) {
                ContextEncoder.productOfFactors(out, start[t], sizes[t], latent, mu, var, t * latent, prec);
            } else {
                rankPosterior(t);
            }
        }
        forwardDone = true;
    }

    /** Λ = I + Σ_n Λ_n, η = Σ_n η_n, Σ = Λ⁻¹, μ = Ση for task t (rank factors). */
    private void rankPosterior(int t) {
        int l = latent;
        int m0 = t * l * l;
        int v0 = t * l;
        Arrays.fill(lam, m0, m0 + l * l, 0.0);
        Arrays.fill(eta, v0, v0 + l, 0.0);
        for (int j = 0; j < l; j++) {
            lam[m0 + j * l + j] = 1.0;
        }
        for (int r = start[t]; r < start[t + 1]; r++) {
            int o = r * width;
            for (int j = 0; j < l; j++) {
                double p = 1.0 / ContextEncoder.factorVariance(out[o + l + j]);
                prec[r * l + j] = p;
                lam[m0 + j * l + j] += p;
                eta[v0 + j] += p * out[o + j];
            }
            for (int k = 0; k < rank; k++) {
                int u0 = o + 2 * l + k * (l + 1);
                double b = out[u0 + l];
                for (int i = 0; i < l; i++) {
                    double ui = out[u0 + i];
                    eta[v0 + i] += b * ui;
                    for (int j = 0; j < l; j++) {
                        lam[m0 + i * l + j] += ui * out[u0 + j];
                    }
                }
            }
        }
        boolean finite = true;
        for (int i = 0; i < l * l && finite; i++) {
            finite = Double.isFinite(lam[m0 + i]) && (i >= l || Double.isFinite(eta[v0 + i]));
        }
        if (!finite) {
            // overflowing network outputs: a non-finite posterior, which the learner rejects as a step
            Arrays.fill(cov, m0, m0 + l * l, Double.NaN);
            Arrays.fill(covChol, m0, m0 + l * l, Double.NaN);
            Arrays.fill(mu, v0, v0 + l, Double.NaN);
            Arrays.fill(var, v0, v0 + l, Double.NaN);
            return;
        }
        SmallMatrices.covarianceFactorFromPrecision(lam, m0, l, covChol, m0);
        SmallMatrices.timesTranspose(covChol, m0, l, cov, m0);
        SmallMatrices.multiply(cov, m0, l, eta, v0, mu, v0);
        for (int j = 0; j < l; j++) {
            var[v0 + j] = cov[m0 + j * l + j];
        }
    }

    Posterior posterior(int t) {
        requireForward();
        double[] m = Arrays.copyOfRange(mu, t * latent, (t + 1) * latent);
        if (rank == 0) {
            return new Posterior(m, Arrays.copyOfRange(var, t * latent, (t + 1) * latent));
        }
        int ll = latent * latent;
        return Posterior.withCovarianceFactor(m, Arrays.copyOfRange(covChol, t * ll, (t + 1) * ll));
    }

    /**
     * A sample of z for all tasks, row-major {@code [tasks, latent]}: {@code z = μ + σ ⊙ ε} (diagonal)
     * or {@code z = Σ (η + w)} (rank factors) from the draws in {@code noise} ({@link #noiseSize()}).
     */
    void sample(double[] noise, double[] z) {
        requireForward();
        if (rank == 0) {
            for (int i = 0; i < mu.length; i++) {
                z[i] = mu[i] + Math.sqrt(var[i]) * noise[i];
            }
            return;
        }
        double[] v = new double[latent];
        for (int t = 0; t < sizes.length; t++) {
            rankSample(t, noise, v, z);
        }
    }

    /** Task t with rank factors: writes {@code v = η + w} and {@code z = Σ v} (at {@code z[t·L..]}). */
    private void rankSample(int t, double[] noise, double[] v, double[] z) {
        int l = latent;
        int n0 = noiseStart[t];
        for (int j = 0; j < l; j++) {
            v[j] = eta[t * l + j] + noise[n0 + j];
        }
        int per = l + rank;
        for (int r = start[t]; r < start[t + 1]; r++) {
            int e0 = n0 + l + (r - start[t]) * per;
            for (int j = 0; j < l; j++) {
                v[j] += Math.sqrt(prec[r * l + j]) * noise[e0 + j];
            }
            for (int k = 0; k < rank; k++) {
                int u0 = r * width + 2 * l + k * (l + 1);
                double xi = noise[e0 + l + k];
                for (int j = 0; j < l; j++) {
                    v[j] += out[u0 + j] * xi;
                }
            }
        }
        SmallMatrices.multiply(cov, t * l * l, l, v, 0, z, t * l);
    }

    /** {@code Σ_t KL(q_t ‖ N(0, I))}. */
    double klSum() {
        requireForward();
        double kl = 0;
        if (rank == 0) {
            for (int i = 0; i < mu.length; i++) {
                kl += 0.5 * (var[i] + mu[i] * mu[i] - 1.0 - Math.log(var[i]));
            }
            return kl;
        }
        int l = latent;
        for (int t = 0; t < sizes.length; t++) {
            double logDetCov = 0;
            for (int j = 0; j < l; j++) {
                double m = mu[t * l + j];
                logDetCov += 2.0 * Math.log(covChol[t * l * l + j * l + j]);
                kl += 0.5 * (var[t * l + j] + m * m - 1.0);
            }
            kl -= 0.5 * logDetCov;
        }
        return kl;
    }

    /**
     * Writes into {@code gradInto} the gradient of {@code Σ_t dLdz_t · z_t + β Σ_t KL_t} with respect
     * to the parameters of the last forward pass.
     */
    void backward(double[] eps, double[] dLdz, double beta, INDArray gradInto) {
        requireForward();
        if (rank > 0) {
            rankBackward(eps, dLdz, beta, gradInto);
            return;
        }
        int l2 = 2 * latent;
        for (int t = 0; t < sizes.length; t++) {
            for (int j = 0; j < latent; j++) {
                int k = t * latent + j;
                double s2 = var[k];
                double s = Math.sqrt(s2);
                double dMu = dLdz[k] + beta * mu[k];
                double dVar = dLdz[k] * eps[k] / (2.0 * s) + beta * 0.5 * (1.0 - 1.0 / s2);
                for (int r = start[t]; r < start[t + 1]; r++) {
                    double p = prec[r * latent + j];
                    double muN = out[r * l2 + j];
                    double raw = out[r * l2 + latent + j];
                    double dP = dMu * s2 * (muN - mu[k]) - dVar * s2 * s2;
                    dOut[r * l2 + j] = dMu * s2 * p;
                    // the floor max(softplus, MIN_VARIANCE) passes no gradient where it is active
                    boolean floored = ContextEncoder.softplus(raw) < ContextEncoder.MIN_VARIANCE;
                    dOut[r * l2 + latent + j] = floored ? 0.0 : -p * p * dP * ContextEncoder.sigmoid(raw);
                }
            }
        }
        pass.backward(NdArrays.matrix(dOut, rows, l2), gradInto, false, false);
    }

    /**
     * Rank factors. With {@code g = dL/dz}, {@code a = Σg}, {@code c = Σμ}: {@code dJ/dv = a},
     * {@code dJ/dη = a + βc}, and {@code G = dJ/dΛ = −a zᵀ − β c μᵀ + β(Σ − ΣΣ)/2}; then per row
     * {@code dJ/dμ_n = dJ/dη ⊙ p_n}, {@code dJ/dp_n = dJ/dη ⊙ μ_n + diag G + a ⊙ ε_n / (2√p_n)},
     * {@code dJ/du_nk = dJ/dη b_nk + (G + Gᵀ) u_nk + a ξ_nk}, {@code dJ/db_nk = dJ/dη · u_nk}.
     */
    private void rankBackward(double[] noise, double[] dLdz, double beta, INDArray gradInto) {
        int l = latent;
        double[] v = new double[l];
        double[] z = new double[sizes.length * l];
        double[] a = new double[l];
        double[] c = new double[l];
        double[] gEta = new double[l];
        double[] gMat = new double[l * l];
        double[] gu = new double[l];
        int per = l + rank;
        for (int t = 0; t < sizes.length; t++) {
            rankSample(t, noise, v, z);
            int m0 = t * l * l;
            SmallMatrices.multiply(cov, m0, l, dLdz, t * l, a, 0);
            SmallMatrices.multiply(cov, m0, l, mu, t * l, c, 0);
            for (int i = 0; i < l; i++) {
                gEta[i] = a[i] + beta * c[i];
                for (int j = 0; j < l; j++) {
                    double covSq = 0;
                    for (int k = 0; k < l; k++) {
                        covSq += cov[m0 + i * l + k] * cov[m0 + k * l + j];
                    }
                    gMat[i * l + j] = -a[i] * z[t * l + j] - beta * c[i] * mu[t * l + j]
                            + 0.5 * beta * (cov[m0 + i * l + j] - covSq);
                }
            }
            for (int r = start[t]; r < start[t + 1]; r++) {
                int o = r * width;
                int e0 = noiseStart[t] + l + (r - start[t]) * per;
                for (int j = 0; j < l; j++) {
                    double p = prec[r * l + j];
                    double raw = out[o + l + j];
                    dOut[o + j] = gEta[j] * p;
                    double dP = gEta[j] * out[o + j] + gMat[j * l + j] + a[j] * noise[e0 + j] / (2.0 * Math.sqrt(p));
                    boolean floored = ContextEncoder.softplus(raw) < ContextEncoder.MIN_VARIANCE;
                    dOut[o + l + j] = floored ? 0.0 : -p * p * dP * ContextEncoder.sigmoid(raw);
                }
                for (int k = 0; k < rank; k++) {
                    int u0 = o + 2 * l + k * (l + 1);
                    double b = out[u0 + l];
                    double xi = noise[e0 + l + k];
                    double dB = 0;
                    for (int i = 0; i < l; i++) {
                        double s = gEta[i] * b + a[i] * xi;
                        for (int j = 0; j < l; j++) {
                            s += (gMat[i * l + j] + gMat[j * l + i]) * out[u0 + j];
                        }
                        gu[i] = s;
                        dB += gEta[i] * out[u0 + i];
                    }
                    System.arraycopy(gu, 0, dOut, u0, l);
                    dOut[u0 + l] = dB;
                }
            }
        }
        pass.backward(NdArrays.matrix(dOut, rows, width), gradInto, false, false);
    }

    private void requireForward() {
        if (!forwardDone) {
            throw new IllegalStateException("run forward(..) on this encoder pass first");
        }
    }
}

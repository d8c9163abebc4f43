package io.metastream.core.pearl;

import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.MlpPass;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The {@link ContextEncoder} over the contexts of several tasks at once: one network pass over all
 * stacked context rows, then per task the product of Gaussians, the sample and the KL term, and the
 * backward pass of {@code Σ_t dL/dz_t · z_t + β Σ_t KL_t} (equations in {@link ContextEncoder}).
 * The element-wise math runs in plain Java on the {@code [rows, 2·latentDim]} network output: a
 * few thousand values, where each ND4J op would cost more than the arithmetic.
 *
 * <p>Not thread-safe; reused by its owner for meta-batches with the same context sizes.
 */
final class EncoderPass {

    private final ContextEncoder enc;
    private final int latent;
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
        this.sizes = contextRows.clone();
        this.start = new int[sizes.length + 1];
        for (int t = 0; t < sizes.length; t++) {
            if (sizes[t] <= 0) {
                throw new IllegalArgumentException("task " + t + " has an empty context; use the prior for such tasks");
            }
            start[t + 1] = start[t] + sizes[t];
        }
        this.rows = start[sizes.length];
        this.pass = enc.mlp().pass(rows);
        this.prec = new double[rows * latent];
        this.mu = new double[sizes.length * latent];
        this.var = new double[sizes.length * latent];
        this.dOut = new double[rows * 2 * latent];
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
            ContextEncoder.productOfFactors(out, start[t], sizes[t], latent, mu, var, t * latent, prec);
        }
        forwardDone = true;
    }

    Posterior posterior(int t) {
        requireForward();
        return new Posterior(Arrays.copyOfRange(mu, t * latent, (t + 1) * latent),
                Arrays.copyOfRange(var, t * latent, (t + 1) * latent));
    }

    /** {@code z = μ + σ ⊙ ε} for all tasks, row-major {@code [tasks, latent]}. */
    void sample(double[] eps, double[] z) {
        requireForward();
        for (int i = 0; i < mu.length; i++) {
            z[i] = mu[i] + Math.sqrt(var[i]) * eps[i];
        }
    }

    /** {@code Σ_t KL(q_t ‖ N(0, I))}. */
    double klSum() {
        requireForward();
        double kl = 0;
        for (int i = 0; i < mu.length; i++) {
            kl += 0.5 * (var[i] + mu[i] * mu[i] - 1.0 - Math.log(var[i]));
        }
        return kl;
    }

    /**
     * Writes into {@code gradInto} the gradient of {@code Σ_t dLdz_t · z_t + β Σ_t KL_t} with respect
     * to the parameters of the last forward pass.
     */
    void backward(double[] eps, double[] dLdz, double beta, INDArray gradInto) {
        requireForward();
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

    private void requireForward() {
        if (!forwardDone) {
            throw new IllegalStateException("run forward(..) on this encoder pass first");
        }
    }
}

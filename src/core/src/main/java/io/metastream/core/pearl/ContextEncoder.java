package io.metastream.core.pearl;

import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.Activation;
import io.metastream.core.nn.Mlp;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * PEARL's permutation-invariant, probabilistic context encoder {@code q(z | c)}. An {@link Mlp}
 * maps each context transition {@code c_n = (s, a, r, s')} to a Gaussian factor: the first
 * {@code latentDim} outputs are {@code μ_n}, the next {@code latentDim} a raw variance parameter with
 * {@code σ²_n = max(softplus(raw_n), }{@value #MIN_VARIANCE}{@code )}. The posterior is the
 * normalised product of the factors, in closed form per dimension:
 * {@code σ² = 1 / Σ_n 1/σ²_n}, {@code μ = σ² Σ_n μ_n/σ²_n}; it does not depend on the order of the
 * transitions. Sampling uses the reparameterisation {@code z = μ + σ ⊙ ε}, and the information
 * bottleneck is {@code KL(q ‖ N(0, I))} (see {@link Posterior}).
 *
 * <h2>Gradients</h2>
 * {@link #gradient} back-propagates a loss {@code L(z) + β Σ_tasks KL_t} through the sample, the
 * product of Gaussians, the softplus and the network. With {@code p_n = 1/σ²_n}, per dimension:
 * {@code dL/dμ = g + βμ}, {@code dL/dσ² = g ε / (2σ) + β(1 − 1/σ²)/2},
 * {@code dL/dμ_n = dL/dμ · σ² p_n}, {@code dL/dp_n = dL/dμ · σ²(μ_n − μ) − dL/dσ² · σ⁴},
 * {@code dL/dσ²_n = −p_n² dL/dp_n}, {@code dL/draw_n = dL/dσ²_n · sigmoid(raw_n)} (zero where the
 * floor is active), where {@code g = dL/dz}.
 *
 * <h2>Rank factors ({@code rank > 0}, an extension beyond the paper)</h2>
 * A diagonal factor can only say "z_j is near μ_nj" for each dimension on its own. One transition of
 * a goal-reaching task, though, pins the goal to a curve (its distance from s'), which in a suitable
 * embedding is a linear constraint along a direction that differs from row to row; averaging
 * per-dimension guesses cannot intersect such constraints. With {@code rank = R > 0} the network
 * also emits, per row, R directions {@code u_nk ∈ ℝ^L} and values {@code b_nk}, and each factor is a
 * Gaussian in information form with precision {@code Λ_n = diag(1/σ²_n) + Σ_k u_nk u_nkᵀ} and
 * information {@code η_n = μ_n/σ²_n + Σ_k b_nk u_nk}. The posterior is the product with the prior
 * {@code N(0, I)}: {@code Λ = I + Σ_n Λ_n}, {@code Σ = Λ⁻¹}, {@code μ = Σ Σ_n η_n}, a full-covariance
 * Gaussian (still closed form and order-free). Training samples {@code z = Σ (η + w)} with
 * {@code w = ε₀ + Σ_n (√p_n ⊙ ε_n + Σ_k u_nk ξ_nk) ~ N(0, Λ)}, so {@code z ~ N(μ, Σ)} with gradients
 * that need no Cholesky derivative; the KL term is {@code ½(tr Σ + μᵀμ − L + log det Λ)}. The
 * output width is {@code 2L + R(L + 1)}.
 *
 * <h2>Threading</h2>
 * Immutable and thread-safe; every method allocates its own buffers. The learner uses a reusable,
 * single-threaded batched pass over the contexts of a whole meta-batch instead.
 */
public final class ContextEncoder {

    /** Floor of each factor's variance, as in oyster ({@code torch.clamp(min=1e-7)}). */
    public static final double MIN_VARIANCE = 1e-7;

    private final int contextDim;
    private final int latentDim;
    private final int rank;
    private final Mlp mlp;

    /**
     * @param contextDim width of a context row, e.g. {@code 2·obsDim + actDim + 1} for {@code (s, a, r, s')}
     * @param latentDim dimension of z
     * @param hidden hidden layer sizes of the network (may be empty)
     * @param activation hidden activation
     */
    public ContextEncoder(int contextDim, int latentDim, int[] hidden, Activation activation) {
        this(contextDim, latentDim, hidden, activation, 0);
    }

    /**
     * As {@link #ContextEncoder(int, int, int[], Activation)} with {@code rank} directions per factor
     * (0: the paper's diagonal factors; see the class comment).
     */
    public ContextEncoder(int contextDim, int latentDim, int[] hidden, Activation activation, int rank) {
        if (rank < 0) {
            throw new IllegalArgumentException("rank is " + rank + "; use 0 (diagonal factors) or a value > 0");
        }
        if (contextDim <= 0 || latentDim <= 0) {
            throw new IllegalArgumentException("contextDim is " + contextDim + " and latentDim " + latentDim
                    + "; both must be > 0");
        }
        if (hidden == null) {
            throw new IllegalArgumentException("hidden is null; pass the hidden sizes, e.g. {200, 200, 200}");
        }
        this.contextDim = contextDim;
        this.latentDim = latentDim;
        this.rank = rank;
        this.mlp = PearlConfig.mlp(contextDim, hidden, outputWidth(latentDim, rank), activation);
    }

    /** Width of the network output: {@code 2L + rank·(L + 1)}. */
    static int outputWidth(int latentDim, int rank) {
        return 2 * latentDim + rank * (latentDim + 1);
    }

    /** Directions per factor; 0 for the paper's diagonal factors. */
    public int rank() {
        return rank;
    }

    /** The network {@code contextDim → 2L + rank·(L + 1)}. */
    public Mlp mlp() {
        return mlp;
    }

    public int contextDim() {
        return contextDim;
    }

    public int latentDim() {
        return latentDim;
    }

    /** Fresh network parameters (see {@link Mlp#initParams}). */
    public INDArray initParams(Random rng) {
        return mlp.initParams(rng);
    }

    /** The prior {@code N(0, I)}: the belief before any context. */
    public Posterior prior() {
        return Posterior.prior(latentDim);
    }

    /**
     * The posterior of one task given its context.
     *
     * @param params encoder parameters {@code [1, mlp().numParams()]}
     * @param context {@code [N, contextDim]}, N ≥ 1 (use {@link #prior()} for an empty context)
     */
    public Posterior infer(INDArray params, INDArray context) {
        int n = NdArrays.requireDoubleMatrix(context, -1, contextDim, "context");
        if (rank > 0) {
            return infer(params, List.of(context))[0];
        }
        double[] out = NdArrays.toFlatArray(mlp.forward(params, context));
        double[] mu = new double[latentDim];
        double[] var = new double[latentDim];
        productOfFactors(out, 0, n, latentDim, mu, var, 0, null);
        return new Posterior(mu, var);
    }

    /** The posteriors of several tasks, with one network pass over all their context rows. */
    public Posterior[] infer(INDArray params, List<INDArray> contexts) {
        EncoderPass pass = new EncoderPass(this, rowCounts(contexts));
        pass.forward(params, stack(contexts));
        Posterior[] out = new Posterior[contexts.size()];
        for (int t = 0; t < out.length; t++) {
            out[t] = pass.posterior(t);
        }
        return out;
    }

    /**
     * The gradient with respect to the encoder parameters of
     * {@code Σ_t dLdz[t] · z_t + β Σ_t KL(q_t ‖ N(0, I))}, where {@code z_t = μ_t + σ_t ⊙ eps[t]}
     * is the sample of task t: that is, back-propagation of an upstream gradient {@code dL/dz}
     * plus the weighted KL term.
     *
     * @param contexts one {@code [N_t, contextDim]} matrix per task
     * @param eps the standard-normal draws that produced each task's z: L per task for diagonal
     *     factors, {@code L + N_t(L + rank)} with rank factors (see {@link #noiseSize})
     * @param dLdz the upstream gradient for each task's z
     * @param beta the KL weight, ≥ 0
     * @return a new {@code [1, numParams]} array
     */
    public INDArray gradient(INDArray params, List<INDArray> contexts, double[][] eps, double[][] dLdz, double beta) {
        int[] rows = rowCounts(contexts);
        EncoderPass pass = new EncoderPass(this, rows);
        int[] noise = new int[rows.length];
        int[] lat = new int[rows.length];
        for (int t = 0; t < rows.length; t++) {
            noise[t] = noiseSize(rows[t]);
            lat[t] = latentDim;
        }
        double[] e = flattenPerTask(eps, noise, "eps");
        double[] g = flattenPerTask(dLdz, lat, "dLdz");
        pass.forward(params, stack(contexts));
        INDArray grad = Nd4j.zeros(DataType.DOUBLE, 1, mlp.numParams());
        pass.backward(e, g, beta, grad);
        return grad;
    }

    /**
     * Standard-normal draws behind one sample of z for a context of {@code contextRows} rows: L for
     * diagonal factors, {@code L + contextRows·(L + rank)} with rank factors.
     */
    public int noiseSize(int contextRows) {
        return rank == 0 ? latentDim : latentDim + contextRows * (latentDim + rank);
    }

    private static double[] flattenPerTask(double[][] v, int[] sizes, String what) {
        if (v == null || v.length != sizes.length) {
            throw new IllegalArgumentException(what + " must hold one array per task (" + sizes.length + ")");
        }
        int total = 0;
        for (int n : sizes) {
            total += n;
        }
        double[] out = new double[total];
        int at = 0;
        for (int t = 0; t < sizes.length; t++) {
            if (v[t] == null || v[t].length != sizes[t]) {
                throw new IllegalArgumentException(what + "[" + t + "] must hold " + sizes[t] + " values");
            }
            System.arraycopy(v[t], 0, out, at, sizes[t]);
            at += sizes[t];
        }
        return out;
    }

    private int[] rowCounts(List<INDArray> contexts) {
        if (contexts == null || contexts.isEmpty()) {
            throw new IllegalArgumentException("contexts is empty; pass one [N, " + contextDim + "] matrix per task");
        }
        int[] rows = new int[contexts.size()];
        for (int t = 0; t < rows.length; t++) {
            rows[t] = NdArrays.requireDoubleMatrix(contexts.get(t), -1, contextDim, "contexts[" + t + "]");
        }
        return rows;
    }

    private static INDArray stack(List<INDArray> contexts) {
        return contexts.size() == 1 ? contexts.get(0) : Nd4j.vstack(contexts.toArray(new INDArray[0]));
    }

    // ---------------------------------------------------------------------------------------------
    // shared math on network outputs (row-major [rows, 2L]: μ_n then raw_n)

    /** {@code max(softplus(x), MIN_VARIANCE)} with a stable softplus. */
    static double factorVariance(double raw) {
        return Math.max(softplus(raw), MIN_VARIANCE);
    }

    /** {@code log(1 + e^x)}, without overflow. */
    static double softplus(double x) {
        return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
    }

    static double sigmoid(double x) {
        return x >= 0 ? 1.0 / (1.0 + Math.exp(-x)) : Math.exp(x) / (1.0 + Math.exp(x));
    }

    /**
     * Product of the factors of rows {@code [row0, row0 + n)} of {@code out}: writes μ and σ² of the
     * task at {@code mu[at..at+L)}, {@code var[at..at+L)}, and each row's precision {@code 1/σ²_n}
     * into {@code prec} (row-major {@code [rows, L]}) when it is not null.
     */
    static void productOfFactors(double[] out, int row0, int n, int latent, double[] mu, double[] var, int at,
            double[] prec) {
        for (int j = 0; j < latent; j++) {
            double precSum = 0;
            double weighted = 0;
            for (int r = row0; r < row0 + n; r++) {
                double p = 1.0 / factorVariance(out[r * 2 * latent + latent + j]);
                if (prec != null) {
                    prec[r * latent + j] = p;
                }
                precSum += p;
                weighted += p * out[r * 2 * latent + j];
            }
            var[at + j] = 1.0 / precSum;
            mu[at + j] = weighted / precSum;
        }
    }

    @Override
    public String toString() {
        return "ContextEncoder[contextDim=" + contextDim + ", latentDim=" + latentDim + (rank == 0 ? "" : ", rank=" + rank)
                + ", mlp=" + mlp + "]";
    }
}

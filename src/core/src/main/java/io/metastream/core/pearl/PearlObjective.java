package io.metastream.core.pearl;

import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.Mlp;
import io.metastream.core.nn.MlpPass;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The SAC losses (Haarnoja et al. 2018, v2: twin critics, no value network) of PEARL conditioned on
 * the task variable z, and their hand-written gradients, over the RL batches of a whole meta-batch
 * stacked into {@code M} rows: every layer of every network is one ND4J GEMM over all tasks.
 *
 * <h2>Losses</h2>
 * With {@code z_r} the sample of row r's task and {@code z̄} the same values treated as constants:
 * <ul>
 *   <li>critic: {@code J_Q = Σ_i (1/M) Σ_r (Q_i(s, a, z) − y)²} with the target
 *       {@code y = rewardScale·r + γ(1 − d)(min_j Q̄_j(s', a', z̄) − α log π(a'|s', z̄))},
 *       {@code a' ~ π(·|s', z̄)}; gradients for both critics' parameters and for z (through which the
 *       encoder learns); the target is constant.
 *   <li>actor: {@code J_π = (1/M) Σ_r [α log π(ã|s, z̄) − min_i Q_i(s, ã, z̄)]},
 *       {@code ã = tanh(μ + σ ⊙ ξ)}; gradient for the policy parameters only, through the
 *       reparameterised, squashed action ({@link SquashedGaussian}) and {@code dQ_i/dã}.
 * </ul>
 * All noise ({@code ξ'} for {@code a'}, {@code ξ} for {@code ã}) is passed in, so the losses are
 * deterministic functions of the parameters: the gradient tests compare them with finite differences.
 *
 * <h2>Layout</h2>
 * Critic input columns {@code [s, a, z]}, policy input {@code [s, z]}, policy output
 * {@code [mean, log std]}. The two critics share one input buffer.
 *
 * <p>Not thread-safe; owned by one {@link PearlLearner} (or one test).
 */
final class PearlObjective {

    private final int obsDim;
    private final int actDim;
    private final int latent;
    private final Mlp qMlp;
    private final Mlp policyMlp;
    private final double gamma;
    private final double rewardScale;

    private int rows;
    private int[] start;
    private MlpPass q1;
    private MlpPass q2;
    private MlpPass pol;
    private INDArray qS;
    private INDArray qA;
    private INDArray qZ;
    private INDArray pS;
    private INDArray pZ;
    private SquashedGaussian nextPi;
    private SquashedGaussian pi;
    private double[] y;
    private double[] d1;
    private double[] d2;
    private double[] dA;
    private double[] dPolicyOut;
    private double[] zRows;
    /** Rows whose smaller critic is Q1 (ties included), then Q2, in the actor loss. */
    private int[] rows1;
    private int[] rows2;
    private INDArray onesColumn;

    private INDArray obs;
    private INDArray act;
    private INDArray nextObs;
    private double[] reward;
    private double[] done;

    PearlObjective(PearlConfig cfg) {
        this.obsDim = cfg.obsDim();
        this.actDim = cfg.actDim();
        this.latent = cfg.latentDim();
        this.qMlp = cfg.qMlp();
        this.policyMlp = cfg.policyMlp();
        this.gamma = cfg.gamma();
        this.rewardScale = cfg.rewardScale();
    }

    Mlp qMlp() {
        return qMlp;
    }

    Mlp policyMlp() {
        return policyMlp;
    }

    int rows() {
        return rows;
    }

    /**
     * Loads the stacked RL batches; row-major Java arrays, {@code batchRows[t]} rows per task in
     * task order. Reallocates the network passes only when the total row count changes.
     */
    void load(int[] batchRows, double[] obs, double[] act, double[] reward, double[] nextObs, double[] done) {
        int[] st = new int[batchRows.length + 1];
        for (int t = 0; t < batchRows.length; t++) {
            st[t + 1] = st[t] + batchRows[t];
        }
        int m = st[batchRows.length];
        if (m != rows) {
            allocate(m);
        }
        this.start = st;
        this.obs = NdArrays.matrix(obs, m, obsDim);
        this.act = NdArrays.matrix(act, m, actDim);
        this.nextObs = NdArrays.matrix(nextObs, m, obsDim);
        this.reward = reward;
        this.done = done;
    }

    private void allocate(int m) {
        rows = m;
        q1 = qMlp.pass(m);
        q2 = qMlp.pass(q1);
        pol = policyMlp.pass(m);
        qS = q1.inputColumns(0, obsDim);
        qA = q1.inputColumns(obsDim, actDim);
        qZ = q1.inputColumns(obsDim + actDim, latent);
        pS = pol.inputColumns(0, obsDim);
        pZ = pol.inputColumns(obsDim, latent);
        nextPi = new SquashedGaussian(m, actDim);
        pi = new SquashedGaussian(m, actDim);
        y = new double[m];
        d1 = new double[m];
        d2 = new double[m];
        dA = new double[m * actDim];
        dPolicyOut = new double[m * 2 * actDim];
        zRows = new double[m * latent];
        rows1 = new int[m];
        rows2 = new int[m];
        onesColumn = Nd4j.ones(DataType.DOUBLE, m, 1);
    }

    private INDArray zRowMatrix(double[] z) {
        for (int t = 0; t + 1 < start.length; t++) {
            for (int r = start[t]; r < start[t + 1]; r++) {
                System.arraycopy(z, t * latent, zRows, r * latent, latent);
            }
        }
        return NdArrays.matrix(zRows, rows, latent);
    }

    /** Result of {@link #critic}: {@code J_Q}, {@code dJ_Q/dz} per task ({@code [tasks·latent]}), mean Q and target. */
    record Critic(double loss, double[] dLdz, double meanQ, double meanTarget) {}

    /**
     * Critic loss and gradients.
     *
     * @param zQ task variables fed to the critics being trained, {@code [tasks·latent]}
     * @param zBar task variables for the target and the next actions (constants); the learner passes
     *     the same values as {@code zQ}
     * @param nextNoise {@code ξ'} for {@code a'}, {@code [M·act]}
     * @param g1 receives {@code dJ_Q/dθ_1}; {@code g2} likewise for the second critic
     */
    Critic critic(INDArray q1p, INDArray q2p, INDArray q1Target, INDArray q2Target, INDArray policy, double alpha,
            double[] zQ, double[] zBar, double[] nextNoise, INDArray g1, INDArray g2) {
        INDArray zBarRows = zRowMatrix(zBar);
        pS.assign(nextObs);
        pZ.assign(zBarRows);
        nextPi.sample(NdArrays.toFlatArray(pol.forward(policy)), nextNoise);
        qS.assign(nextObs);
        qA.assign(NdArrays.matrix(nextPi.action, rows, actDim));
        qZ.assign(zBarRows);
        double[] t1 = NdArrays.toFlatArray(q1.forward(q1Target));
        double[] t2 = NdArrays.toFlatArray(q2.forward(q2Target));
        double meanTarget = 0;
        for (int r = 0; r < rows; r++) {
            double soft = Math.min(t1[r], t2[r]) - alpha * nextPi.logPi[r];
            y[r] = rewardScale * reward[r] + gamma * (1.0 - done[r]) * soft;
            meanTarget += y[r];
        }
        qS.assign(obs);
        qA.assign(act);
        if (zQ != zBar) {
            qZ.assign(zRowMatrix(zQ));
        }
        double[] v1 = NdArrays.toFlatArray(q1.forward(q1p));
        double[] v2 = NdArrays.toFlatArray(q2.forward(q2p));
        double loss = 0;
        double meanQ = 0;
        double c = 2.0 / rows;
        for (int r = 0; r < rows; r++) {
            double e1 = v1[r] - y[r];
            double e2 = v2[r] - y[r];
            loss += e1 * e1 + e2 * e2;
            d1[r] = c * e1;
            d2[r] = c * e2;
            meanQ += 0.5 * (v1[r] + v2[r]);
        }
        double[] dz = new double[(start.length - 1) * latent];
        addLatentGradient(q1.backward(NdArrays.matrix(d1, rows, 1), g1, false, true), dz);
        addLatentGradient(q2.backward(NdArrays.matrix(d2, rows, 1), g2, false, true), dz);
        return new Critic(loss / rows, dz, meanQ / rows, meanTarget / rows);
    }

    private void addLatentGradient(INDArray dx, double[] dz) {
        double[] g = NdArrays.toFlatArray(dx);
        int in = obsDim + actDim + latent;
        for (int t = 0; t + 1 < start.length; t++) {
            for (int r = start[t]; r < start[t + 1]; r++) {
                for (int j = 0; j < latent; j++) {
                    dz[t * latent + j] += g[r * in + obsDim + actDim + j];
                }
            }
        }
    }

    /**
     * SAC's temperature loss {@code J(log α) = −log α · (mean log π + H̄)} (log π a constant) and its
     * derivative with respect to {@code log α}: {@code {loss, gradient}}. Descending it raises α
     * while the policy's entropy {@code −mean log π} is below the target {@code H̄} and lowers it above.
     */
    static double[] alphaLossAndGradient(double logAlpha, double meanLogPi, double targetEntropy) {
        double gap = meanLogPi + targetEntropy;
        return new double[] {-logAlpha * gap, -gap};
    }

    /** Result of {@link #actor}: {@code J_π} and the batch mean of {@code log π(ã|s, z̄)}. */
    record Actor(double loss, double meanLogPi) {}

    /**
     * Actor loss and its gradient for the policy parameters, written into {@code gPolicy}; the
     * critics are evaluated at {@code q1p}, {@code q2p} and not differentiated for their parameters.
     *
     * @param zBar task variables (constants), {@code [tasks·latent]}
     * @param noise {@code ξ} for {@code ã}, {@code [M·act]}
     */
    Actor actor(INDArray policy, INDArray q1p, INDArray q2p, double alpha, double[] zBar, double[] noise,
            INDArray gPolicy) {
        INDArray zBarRows = zRowMatrix(zBar);
        pS.assign(obs);
        pZ.assign(zBarRows);
        pi.sample(NdArrays.toFlatArray(pol.forward(policy)), noise);
        qS.assign(obs);
        qA.assign(NdArrays.matrix(pi.action, rows, actDim));
        qZ.assign(zBarRows);
        double[] v1 = NdArrays.toFlatArray(q1.forward(q1p));
        double[] v2 = NdArrays.toFlatArray(q2.forward(q2p));
        double loss = 0;
        double logPiSum = 0;
        // d min(Q1, Q2) / dã flows through one critic per row (Q1 on ties): each critic back-propagates
        // only its own rows, half the rows of two full backward passes
        int n1 = 0;
        int n2 = 0;
        for (int r = 0; r < rows; r++) {
            boolean first = v1[r] <= v2[r];
            loss += alpha * pi.logPi[r] - (first ? v1[r] : v2[r]);
            logPiSum += pi.logPi[r];
            if (first) {
                rows1[n1++] = r;
            } else {
                rows2[n2++] = r;
            }
        }
        java.util.Arrays.fill(dA, 0.0);
        addActionGradient(q1, rows1, n1, -1.0 / rows);
        addActionGradient(q2, rows2, n2, -1.0 / rows);
        pi.backward(alpha / rows, dA, dPolicyOut);
        pol.backward(NdArrays.matrix(dPolicyOut, rows, 2 * actDim), gPolicy, false, false);
        return new Actor(loss / rows, logPiSum / rows);
    }

    /** Adds {@code scale · dQ/dã} of {@code q} (its last forward pass) at the given rows to {@link #dA}. */
    private void addActionGradient(MlpPass q, int[] rowIndex, int count, double scale) {
        if (count == 0) {
            return;
        }
        INDArray dOut = count == rows ? onesColumn : NdArrays.view(onesColumn, 0, count, 1);
        double[] g = NdArrays.toFlatArray(q.inputGradientOfRows(rowIndex, count, dOut));
        int in = obsDim + actDim + latent;
        for (int i = 0; i < count; i++) {
            int r = rowIndex[i];
            for (int j = 0; j < actDim; j++) {
                dA[r * actDim + j] += scale * g[i * in + obsDim + j];
            }
        }
    }
}

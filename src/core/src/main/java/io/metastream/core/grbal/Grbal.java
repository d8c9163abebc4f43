package io.metastream.core.grbal;

import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.Mlp;
import io.metastream.core.nn.MlpTape;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.Axpy;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The GrBAL math: the inner loop (gradient steps on a task's adaptation window) and the
 * meta-gradient of the post-adaptation loss on the following window, all in normalised space.
 *
 * <p>With inner steps {@code φ_0 = θ}, {@code φ_{j+1} = φ_j − α ∇L_adapt(φ_j)} for
 * {@code j < k}, the meta-objective is {@code L_eval(φ_k)} and its exact gradient is
 * {@code (I − α H_adapt(φ_0)) ⋯ (I − α H_adapt(φ_{k−1})) ∇L_eval(φ_k)}, computed right to left
 * with exact Hessian-vector products ({@link MlpTape#hessianVectorProduct}). With
 * {@code firstOrder} the Hessian terms are dropped.
 *
 * <h2>Threading</h2>
 * Stateless and thread-safe; every call allocates its own buffers and leaves its arguments
 * unmodified.
 */
public final class Grbal {

    private final GrbalConfig cfg;
    private final Mlp mlp;

    public Grbal(GrbalConfig cfg) {
        if (cfg == null) {
            throw new IllegalArgumentException("cfg is null; build one with GrbalConfig.builder()");
        }
        this.cfg = cfg;
        this.mlp = cfg.mlp();
    }

    public GrbalConfig config() {
        return cfg;
    }

    /** The dynamics network of the configuration. */
    public Mlp mlp() {
        return mlp;
    }

    /**
     * {@code innerSteps} steps of {@code φ ← φ − innerLr ∇L(φ; x, y)} from {@code θ}.
     *
     * @param x normalised inputs {@code [M, obsDim + actDim]}
     * @param y normalised targets {@code [M, obsDim]}
     * @return new adapted parameters; {@code theta} is untouched
     */
    public INDArray adapt(INDArray theta, INDArray x, INDArray y) {
        return adapt(mlp, theta, x, y, cfg.innerLr(), cfg.innerSteps());
    }

    /** The inner loop for any network, step size and step count; shared with {@link DynamicsModel#adapt}. */
    static INDArray adapt(Mlp mlp, INDArray theta, INDArray x, INDArray y, double innerLr, int innerSteps) {
        NdArrays.requireDoubleLength(theta, mlp.numParams(), "theta");
        if (!(innerLr > 0) || !Double.isFinite(innerLr)) {
            throw new IllegalArgumentException("innerLr is " + innerLr + "; use a finite value > 0");
        }
        if (innerSteps < 0) {
            throw new IllegalArgumentException("innerSteps is " + innerSteps + "; use a value >= 0");
        }
        INDArray phi = NdArrays.contiguous(theta);
        if (innerSteps == 0) {
            return phi.dup().reshape(1, mlp.numParams());
        }
        for (int j = 0; j < innerSteps; j++) {
            phi = step(phi, mlp.tape(phi, x, y).gradient(), innerLr, mlp.numParams());
        }
        return phi;
    }

    private static INDArray step(INDArray phi, INDArray grad, double lr, int numParams) {
        INDArray next = Nd4j.createUninitialized(DataType.DOUBLE, 1, numParams);
        Nd4j.exec(new Axpy(grad, phi.reshape(1, numParams), next, -lr));
        return next;
    }

    /**
     * The meta-gradient of {@code θ ↦ L(adapt(θ; xAdapt, yAdapt); xEval, yEval)} (second order
     * unless the configuration says {@code firstOrder}), with the losses before and after
     * adaptation on the evaluation window.
     *
     * @param xAdapt normalised inputs of the adaptation window {@code [M, in]}
     * @param yAdapt normalised targets of the adaptation window {@code [M, obsDim]}
     * @param xEval normalised inputs of the evaluation window {@code [K, in]}
     * @param yEval normalised targets of the evaluation window {@code [K, obsDim]}
     */
    public MetaGradient metaGradient(INDArray theta, INDArray xAdapt, INDArray yAdapt, INDArray xEval, INDArray yEval) {
        NdArrays.requireDoubleLength(theta, mlp.numParams(), "theta");
        INDArray th = NdArrays.contiguous(theta);
        int k = cfg.innerSteps();
        double lr = cfg.innerLr();
        MlpTape[] tapes = new MlpTape[k];
        INDArray phi = th;
        for (int j = 0; j < k; j++) {
            tapes[j] = mlp.tape(phi, xAdapt, yAdapt);
            phi = step(phi, tapes[j].gradient(), lr, mlp.numParams());
        }
        MlpTape eval = mlp.tape(phi, xEval, yEval);
        INDArray v = eval.gradient();
        double post = eval.loss();
        double pre = k == 0 ? post : mlp.loss(th, xEval, yEval);
        if (!cfg.firstOrder()) {
            for (int j = k - 1; j >= 0; j--) {
                INDArray hv = tapes[j].hessianVectorProduct(v);
                Nd4j.exec(new Axpy(hv, v, v, -lr));
            }
        }
        return new MetaGradient(v, pre, post);
    }

    /**
     * A meta-gradient {@code [1, numParams]} (owned by the caller) and the evaluation-window losses
     * before ({@code L(θ)}) and after ({@code L(φ_k)}) adaptation, in normalised units.
     */
    public record MetaGradient(INDArray gradient, double preAdaptLoss, double postAdaptLoss) {}
}

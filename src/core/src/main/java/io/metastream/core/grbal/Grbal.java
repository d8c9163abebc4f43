package io.metastream.core.grbal;

import io.metastream.core.nn.Mlp;
import io.metastream.core.nn.InnerLoop;
import io.metastream.core.nn.MlpTape;
import org.nd4j.linalg.api.ndarray.INDArray;

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
 * Stateless and thread-safe: each thread gets its own reusable {@link InnerLoop} buffers (kept for
 * the lifetime of this object; a few hundred KB per thread for typical sizes), and calls leave their
 * arguments unmodified.
 */
public final class Grbal {

    private final GrbalConfig cfg;
    private final Mlp mlp;
    /** Per-thread reusable buffers; they carry no state between calls. */
    private final ThreadLocal<InnerLoop> loops;

    public Grbal(GrbalConfig cfg) {
        if (cfg == null) {
            throw new IllegalArgumentException("cfg is null; build one with GrbalConfig.builder()");
        }
        this.cfg = cfg;
        this.mlp = cfg.mlp();
        this.loops = ThreadLocal.withInitial(() -> new InnerLoop(mlp, cfg.innerLr(), cfg.innerSteps()));
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
        return loops.get().adapt(theta, x, y);
    }

    /** The inner loop for any network, step size and step count; shared with {@link DynamicsModel#adapt}. */
    static INDArray adapt(Mlp mlp, INDArray theta, INDArray x, INDArray y, double innerLr, int innerSteps) {
        return new InnerLoop(mlp, innerLr, innerSteps).adapt(theta, x, y);
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
        InnerLoop.Result r = loops.get().metaGradient(theta, xAdapt, yAdapt, xEval, yEval, cfg.firstOrder());
        return new MetaGradient(r.gradient(), r.preAdaptLoss(), r.postAdaptLoss());
    }

    /**
     * A meta-gradient {@code [1, numParams]} (owned by the caller) and the evaluation-window losses
     * before ({@code L(θ)}) and after ({@code L(φ_k)}) adaptation, in normalised units.
     */
    public record MetaGradient(INDArray gradient, double preAdaptLoss, double postAdaptLoss) {}
}

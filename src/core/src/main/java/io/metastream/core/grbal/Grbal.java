package io.metastream.core.grbal;

import io.metastream.core.nn.Mlp;
import io.metastream.core.nn.InnerLoop;
import io.metastream.core.nn.MlpTape;
import io.metastream.core.internal.NdArrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

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
 * <p>The configuration's {@link AdaptationRule} may replace the fixed step: {@code meta-sgd} learns a
 * step size per parameter ({@link InnerLoop#metaGradient(INDArray, INDArray, INDArray, INDArray,
 * INDArray, INDArray, boolean)}), {@code recurrent} (ReBAL) a GRU that shifts the biases
 * ({@link RecurrentAdaptation}), {@code ridge} the output layer's ridge solution ({@link RidgeAdaptation}).
 * Their parameters follow the network's in one meta-parameter vector.
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
    /** Meta-SGD's loop: step sizes are per parameter, so its scalar step is unused. */
    private final ThreadLocal<InnerLoop> metaSgdLoops;
    private final RecurrentAdaptation recurrent;
    private final RidgeAdaptation ridge;
    private final int networkParams;
    /** 1 where the gradient rules adapt (adaptedParams), null for all parameters. */
    private final double[] mask;
    /** The plain gradient rule restricted by the mask: innerLr where adapted, 0 elsewhere; null without a mask. */
    private final double[] maskedSteps;

    public Grbal(GrbalConfig cfg) {
        if (cfg == null) {
            throw new IllegalArgumentException("cfg is null; build one with GrbalConfig.builder()");
        }
        this.cfg = cfg;
        this.mlp = cfg.mlp();
        this.loops = ThreadLocal.withInitial(() -> new InnerLoop(mlp, cfg.innerLr(), cfg.innerSteps()));
        this.metaSgdLoops = ThreadLocal.withInitial(() -> new InnerLoop(mlp, 1.0, cfg.innerSteps()));
        this.recurrent = cfg.adaptation() == AdaptationRule.RECURRENT ? new RecurrentAdaptation(mlp, cfg.recurrentSize()) : null;
        this.ridge = cfg.adaptation() == AdaptationRule.RIDGE ? new RidgeAdaptation(mlp) : null;
        this.networkParams = mlp.numParams();
        this.mask = cfg.adaptation() == AdaptationRule.RECURRENT || cfg.adaptation() == AdaptationRule.RIDGE ? null
                : cfg.adaptedMask();
        if (mask != null) {
            maskedSteps = mask.clone();
            for (int i = 0; i < maskedSteps.length; i++) {
                maskedSteps[i] *= cfg.innerLr();
            }
        } else {
            maskedSteps = null;
        }
    }

    /**
     * Initial meta-parameters {@code [1, metaParams]}: the network's from {@code rng}, then the
     * adaptation rule's (Meta-SGD: every step size {@code innerLr}; ReBAL: {@link RecurrentAdaptation#initParams}).
     */
    public INDArray initMetaParams(java.util.Random rng) {
        INDArray net = mlp.initParams(rng);
        double[] rule = switch (cfg.adaptation()) {
            case GRADIENT -> new double[0];
            case META_SGD -> {
                double[] a = new double[networkParams];
                java.util.Arrays.fill(a, cfg.innerLr());
                yield maskedSteps != null ? maskedSteps.clone() : a;
            }
            case RECURRENT -> recurrent.initParams(rng);
            case RIDGE -> new double[] {0.0}; // λ = 1
        };
        return rule.length == 0 ? net : NdArrays.row(concat(NdArrays.toFlatArray(net), rule));
    }

    private static double[] concat(double[] a, double[] b) {
        double[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The network part of meta-parameters, {@code [1, numParams]} (a copy). */
    public INDArray networkPart(INDArray meta) {
        requireMeta(meta);
        return meta.reshape(1, meta.length()).get(NDArrayIndex.point(0), NDArrayIndex.interval(0, networkParams))
                .dup().reshape(1, networkParams);
    }

    /**
     * The adaptation rule a published model carries: the learned one in meta-parameters; for
     * {@link AdaptationRule#GRADIENT} restricted to some parameters ({@code adaptedParams}), the fixed
     * steps as a {@code meta-sgd} rule whose step sizes are {@code innerLr} or 0; null for the plain
     * gradient rule on all parameters (or with no inner steps).
     */
    public LearnedAdaptation learnedPart(INDArray meta) {
        requireMeta(meta);
        if (!cfg.adaptation().learned()) {
            return maskedSteps == null || cfg.innerSteps() == 0 ? null
                    : new LearnedAdaptation(AdaptationRule.META_SGD, cfg.innerSteps(), 0, maskedSteps);
        }
        double[] all = NdArrays.toFlatArray(meta);
        return LearnedAdaptation.of(cfg, java.util.Arrays.copyOfRange(all, networkParams, all.length));
    }

    private void requireMeta(INDArray meta) {
        NdArrays.requireDoubleLength(meta, cfg.metaParams(), "meta-parameters (network then " + cfg.adaptation().settingName()
                + " adaptation)");
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
     * With a learned rule ({@code meta-sgd}, {@code recurrent}) {@code theta} holds the meta-parameters
     * (network then rule, {@link GrbalConfig#metaParams()}) and the result is the adapted network.
     *
     * @param x normalised inputs {@code [M, obsDim + actDim]}
     * @param y normalised targets {@code [M, obsDim]}
     * @return new adapted network parameters; {@code theta} is untouched
     */
    public INDArray adapt(INDArray theta, INDArray x, INDArray y) {
        if (cfg.adaptation() == AdaptationRule.GRADIENT) {
            return maskedSteps == null || cfg.innerSteps() == 0 ? loops.get().adapt(theta, x, y)
                    : metaSgdLoops.get().adapt(theta, NdArrays.row(maskedSteps), x, y);
        }
        return learnedPart(theta).apply(mlp, networkPart(theta), x, y);
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
        InnerLoop.Result r = switch (cfg.adaptation()) {
            case GRADIENT -> {
                if (maskedSteps == null || cfg.innerSteps() == 0) {
                    yield loops.get().metaGradient(theta, xAdapt, yAdapt, xEval, yEval, cfg.firstOrder());
                }
                // fixed step sizes innerLr·mask: Meta-SGD's gradient, without the step sizes' part
                InnerLoop.Result both = metaSgdLoops.get().metaGradient(theta, NdArrays.row(maskedSteps), xAdapt, yAdapt,
                        xEval, yEval, cfg.firstOrder());
                double[] g = java.util.Arrays.copyOf(NdArrays.toFlatArray(both.gradient()), networkParams);
                yield new InnerLoop.Result(NdArrays.row(g), both.preAdaptLoss(), both.postAdaptLoss());
            }
            case META_SGD -> {
                INDArray flat = theta.reshape(1, theta.length());
                INDArray alpha = flat.get(NDArrayIndex.point(0), NDArrayIndex.interval(networkParams, 2L * networkParams))
                        .reshape(1, networkParams);
                InnerLoop.Result both = metaSgdLoops.get().metaGradient(networkPart(theta), alpha, xAdapt, yAdapt, xEval,
                        yEval, cfg.firstOrder());
                if (mask == null) {
                    yield both;
                }
                double[] g = NdArrays.toFlatArray(both.gradient());
                for (int i = 0; i < networkParams; i++) {
                    g[networkParams + i] *= mask[i]; // step sizes outside the adapted set stay 0
                }
                yield new InnerLoop.Result(NdArrays.row(g), both.preAdaptLoss(), both.postAdaptLoss());
            }
            case RECURRENT -> recurrentMetaGradient(theta, xAdapt, yAdapt, xEval, yEval);
            case RIDGE -> {
                requireMeta(theta);
                NdArrays.requireDoubleMatrix(xAdapt, -1, mlp.inputSize(), "xAdapt");
                NdArrays.requireDoubleMatrix(yAdapt, (int) xAdapt.rows(), mlp.outputSize(), "yAdapt");
                NdArrays.requireDoubleMatrix(xEval, -1, mlp.inputSize(), "xEval");
                NdArrays.requireDoubleMatrix(yEval, (int) xEval.rows(), mlp.outputSize(), "yEval");
                double[] all = NdArrays.toFlatArray(theta);
                RidgeAdaptation.Result rr = ridge.metaGradient(java.util.Arrays.copyOf(all, networkParams), all[networkParams],
                        NdArrays.toFlatArray(xAdapt), NdArrays.toFlatArray(yAdapt), (int) xAdapt.rows(),
                        NdArrays.toFlatArray(xEval), NdArrays.toFlatArray(yEval), (int) xEval.rows());
                yield new InnerLoop.Result(NdArrays.row(rr.gradient()), rr.preAdaptLoss(), rr.postAdaptLoss());
            }
        };
        return new MetaGradient(r.gradient(), r.preAdaptLoss(), r.postAdaptLoss());
    }

    /**
     * ReBAL: {@code φ = θ + shift(GRU(adaptation window))} touches only biases and additively, so
     * {@code ∂L/∂θ = ∇L(φ)}; the GRU's part is {@link RecurrentAdaptation#backward} of it.
     */
    private InnerLoop.Result recurrentMetaGradient(INDArray meta, INDArray xAdapt, INDArray yAdapt, INDArray xEval,
            INDArray yEval) {
        requireMeta(meta);
        NdArrays.requireDoubleMatrix(xAdapt, -1, mlp.inputSize(), "xAdapt");
        NdArrays.requireDoubleMatrix(yAdapt, (int) xAdapt.rows(), mlp.outputSize(), "yAdapt");
        double[] all = NdArrays.toFlatArray(meta);
        double[] theta = java.util.Arrays.copyOfRange(all, 0, networkParams);
        double[] rec = java.util.Arrays.copyOfRange(all, networkParams, all.length);
        double[] x = NdArrays.toFlatArray(xAdapt);
        double[] y = NdArrays.toFlatArray(yAdapt);
        int rows = (int) xAdapt.rows();
        INDArray phi = NdArrays.row(recurrent.adapt(rec, theta, x, y, rows));
        double pre = mlp.loss(NdArrays.row(theta), xEval, yEval);
        Mlp.LossGradient post = mlp.lossAndGradient(phi, xEval, yEval);
        double[] gPhi = NdArrays.toFlatArray(post.gradient());
        double[] gRec = recurrent.backward(rec, x, y, rows, gPhi);
        double[] g = java.util.Arrays.copyOf(gPhi, all.length);
        System.arraycopy(gRec, 0, g, networkParams, gRec.length);
        return new InnerLoop.Result(NdArrays.row(g), pre, post.loss());
    }

    /**
     * A meta-gradient {@code [1, numParams]} (owned by the caller) and the evaluation-window losses
     * before ({@code L(θ)}) and after ({@code L(φ_k)}) adaptation, in normalised units.
     */
    public record MetaGradient(INDArray gradient, double preAdaptLoss, double postAdaptLoss) {}
}

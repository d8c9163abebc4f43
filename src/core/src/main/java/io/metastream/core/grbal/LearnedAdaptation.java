package io.metastream.core.grbal;

import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.InnerLoop;
import io.metastream.core.nn.Mlp;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A learned adaptation rule as it travels with a published model: the rule, its sizes and its
 * meta-trained parameters ({@link GrbalConfig#adaptationParams()} of them). A model that carries one
 * adapts with it; a model without one adapts by plain gradient steps ({@link AdaptationRule#GRADIENT}).
 *
 * <p>Immutable and thread-safe: the constructor and {@link #params()} copy.
 *
 * @param rule {@link AdaptationRule#META_SGD}, {@link AdaptationRule#RECURRENT} or {@link AdaptationRule#RIDGE}
 * @param innerSteps Meta-SGD's step count (1..1000; ignored by the recurrent rule, which stores 0)
 * @param recurrentSize the GRU's hidden size (1..1024; ignored by Meta-SGD, which stores 0)
 * @param params the rule's parameters: step sizes per network parameter, the GRU's, or ridge's {@code log λ}
 */
public record LearnedAdaptation(AdaptationRule rule, int innerSteps, int recurrentSize, double[] params) {

    public LearnedAdaptation {
        if (rule == null || !rule.learned()) {
            throw new IllegalArgumentException("a learned adaptation needs rule meta-sgd, recurrent or ridge, got " + rule);
        }
        if (rule == AdaptationRule.META_SGD && (innerSteps < 1 || innerSteps > 1000)) {
            throw new IllegalArgumentException("meta-sgd adaptation has innerSteps " + innerSteps + "; 1..1000 are allowed");
        }
        if (rule == AdaptationRule.RECURRENT && (recurrentSize < 1 || recurrentSize > 1024)) {
            throw new IllegalArgumentException("recurrent adaptation has hidden size " + recurrentSize + "; 1..1024 are allowed");
        }
        if (params == null) {
            throw new IllegalArgumentException("adaptation parameters are null");
        }
        params = params.clone();
        for (int i = 0; i < params.length; i++) {
            if (!Double.isFinite(params[i])) {
                throw new IllegalArgumentException("adaptation parameter " + i + " is " + params[i] + "; all must be finite");
            }
        }
        if (rule != AdaptationRule.RECURRENT) {
            recurrentSize = 0;
        }
        if (rule != AdaptationRule.META_SGD) {
            innerSteps = 0;
        }
        if (rule == AdaptationRule.RIDGE && params.length == 1 && !(Math.abs(params[0]) <= 50)) {
            throw new IllegalArgumentException("ridge adaptation has log λ " + params[0] + "; |log λ| <= 50 is allowed");
        }
    }

    /** The rule of a configuration with its learned parameters. */
    static LearnedAdaptation of(GrbalConfig cfg, double[] params) {
        return new LearnedAdaptation(cfg.adaptation(), cfg.innerSteps(), cfg.recurrentSize(), params);
    }

    @Override
    public double[] params() {
        return params.clone();
    }

    /** Parameter count this rule needs for network {@code mlp}. */
    public int expectedParams(Mlp mlp) {
        return switch (rule) {
            case META_SGD -> mlp.numParams();
            case RECURRENT -> RecurrentAdaptation.numParams(mlp, recurrentSize);
            case RIDGE -> 1;
            case GRADIENT -> 0;
        };
    }

    /**
     * @throws IllegalArgumentException when the parameter count does not fit {@code mlp}
     */
    void requireFits(Mlp mlp) {
        int expected = expectedParams(mlp);
        if (params.length != expected) {
            throw new IllegalArgumentException(rule.settingName() + " adaptation has " + params.length + " parameters but "
                    + expected + " fit network " + mlp + (rule == AdaptationRule.RECURRENT ? " with hidden size " + recurrentSize : ""));
        }
    }

    /** The adapted network parameters for {@code theta} and normalised adaptation data. */
    INDArray apply(Mlp mlp, INDArray theta, INDArray x, INDArray y) {
        if (rule == AdaptationRule.META_SGD) {
            return new InnerLoop(mlp, 1.0, innerSteps).adapt(theta, NdArrays.row(params), x, y);
        }
        int rows = (int) x.rows();
        if (rule == AdaptationRule.RIDGE) {
            return NdArrays.row(new RidgeAdaptation(mlp).adapt(NdArrays.toFlatArray(theta), params[0],
                    NdArrays.toFlatArray(x), NdArrays.toFlatArray(y), rows));
        }
        return NdArrays.row(new RecurrentAdaptation(mlp, recurrentSize).adapt(params, NdArrays.toFlatArray(theta),
                NdArrays.toFlatArray(x), NdArrays.toFlatArray(y), rows));
    }

    /** True for the ridge rule, whose adaptation also scores the window ({@link RidgeAdaptation#adaptAndScore}). */
    boolean isRidge() {
        return rule == AdaptationRule.RIDGE;
    }

    /** The ridge rule's logλ. */
    double ridgeLogLambda() {
        if (rule != AdaptationRule.RIDGE) {
            throw new IllegalStateException("not the ridge rule: " + rule.settingName());
        }
        return params[0];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LearnedAdaptation a && a.rule == rule && a.innerSteps == innerSteps
                && a.recurrentSize == recurrentSize && java.util.Arrays.equals(a.params, params);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(rule, innerSteps, recurrentSize, java.util.Arrays.hashCode(params));
    }

    @Override
    public String toString() {
        return "LearnedAdaptation[" + rule.settingName() + ", " + params.length + " parameters]";
    }
}

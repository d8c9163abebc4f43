package io.metastream.core.grbal;

import io.metastream.core.internal.ConfigMaps;
import io.metastream.core.settings.Setting;
import io.metastream.core.settings.SettingsTable;
import io.metastream.core.nn.Activation;
import io.metastream.core.nn.Mlp;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Every setting of GrBAL meta-training, declared once with its default. Build with
 * {@link #builder()}, which validates each setting; {@link #toMap()} / {@link #fromMap(Map)} give
 * the canonical string form used at the edges (CLI, job parameters, model provenance) and
 * {@link #configHash()} identifies a configuration.
 *
 * @param obsDim observation dimension (required, > 0)
 * @param actDim action dimension (required, > 0)
 * @param hidden hidden layer sizes of the dynamics network (default {64, 64}; may be empty for a
 *     linear model; each > 0)
 * @param activation hidden activation (default TANH; smooth, so second-order meta-gradients are exact)
 * @param innerLr inner-loop step size, in the normalised space of inputs and targets (default 0.1: measured on the varied pendulum, 0.01 barely adapts, 0.5 is unstable)
 * @param innerSteps inner gradient steps on the adaptation window (default 1; 0 trains a
 *     non-adaptive multi-task model, a useful baseline)
 * @param adaptWindow M, the number of past transitions the model adapts on (default 32)
 * @param predictWindow K, the number of following transitions the adapted model is scored on (default 16)
 * @param metaLr Adam step size of the outer loop (default 1e-3)
 * @param metaBatchSize meta-gradients averaged per outer step (default 8)
 * @param firstOrder drop the second-order term of the meta-gradient (default false)
 * @param seed seed of the initial parameters (default 42)
 * @param maxGradNorm global-norm clipping threshold of the averaged meta-gradient; {@code <= 0}
 *     disables clipping (default 10.0)
 * @param normalizerWarmupTransitions transitions the learner's normalizer observes before it
 *     freezes (default 2000; 0 means no normalisation: mean 0, std 1)
 * @param outlierSigma a segment whose pre-adaptation loss lies more than this many standard
 *     deviations above the running mean (of log losses of the segments taken) is held back, and the
 *     normaliser's update from it undone (default 6.0; {@code <= 0} disables the check)
 * @param quarantineAfter a task with this many segments held back in a row is quarantined: its
 *     later segments are dropped and it is reported (default 3; 0 never quarantines)
 * @param adaptation how a model adapts to a task (default {@link AdaptationRule#RIDGE}, the output layer
 *     solved on the window, chosen by {@code bench grbal}; {@code gradient} is GrBAL's fixed step,
 *     {@code meta-sgd} learns a step size per parameter, {@code recurrent} is ReBAL)
 * @param recurrentSize hidden size of ReBAL's GRU (default 16; used only by {@code recurrent})
 * @param adaptedParams which network parameters the gradient rules ({@code gradient}, {@code meta-sgd})
 *     adapt: {@code all} (default), {@code biases} or {@code last-layer}; {@code recurrent} always
 *     shifts biases only
 */
public record GrbalConfig(
        int obsDim,
        int actDim,
        int[] hidden,
        Activation activation,
        double innerLr,
        int innerSteps,
        int adaptWindow,
        int predictWindow,
        double metaLr,
        int metaBatchSize,
        boolean firstOrder,
        long seed,
        double maxGradNorm,
        long normalizerWarmupTransitions,
        double outlierSigma,
        int quarantineAfter,
        AdaptationRule adaptation,
        int recurrentSize,
        String adaptedParams) {

    /** The values of {@link #adaptedParams()}. */
    public static final List<String> ADAPTED_PARAMS = List.of("all", "biases", "last-layer");

    static final int[] DEFAULT_HIDDEN = {64, 64};
    static final Activation DEFAULT_ACTIVATION = Activation.TANH;
    static final double DEFAULT_INNER_LR = 0.1;
    static final int DEFAULT_INNER_STEPS = 1;
    static final int DEFAULT_ADAPT_WINDOW = 32;
    static final int DEFAULT_PREDICT_WINDOW = 16;
    static final double DEFAULT_META_LR = 1e-3;
    static final int DEFAULT_META_BATCH_SIZE = 8;
    static final boolean DEFAULT_FIRST_ORDER = false;
    static final long DEFAULT_SEED = 42L;
    static final double DEFAULT_MAX_GRAD_NORM = 10.0;
    static final long DEFAULT_NORMALIZER_WARMUP = 2000L;
    static final double DEFAULT_OUTLIER_SIGMA = 6.0;
    static final int DEFAULT_QUARANTINE_AFTER = 3;
    static final AdaptationRule DEFAULT_ADAPTATION = AdaptationRule.RIDGE;
    static final int DEFAULT_RECURRENT_SIZE = 16;
    static final String DEFAULT_ADAPTED_PARAMS = "all";

    /** Every setting, declared once: key, type, default, description, and how it is read and set. */
    private static final SettingsTable<GrbalConfig, Builder> SETTINGS = SettingsTable.<GrbalConfig, Builder>of("GrbalConfig")
            .integer(SettingsTable.OBS_DIM, null, "observation dimension (the job sets it from metastream.obs-dim)",
                    GrbalConfig::obsDim, Builder::obsDim)
            .integer(SettingsTable.ACT_DIM, null, "action dimension (the job sets it from metastream.act-dim)",
                    GrbalConfig::actDim, Builder::actDim)
            .ints("hidden", DEFAULT_HIDDEN, "hidden layer sizes of the dynamics network (empty: a linear model)",
                    c -> c.hidden, Builder::hidden)
            .other("activation", "TANH|RELU", DEFAULT_ACTIVATION, "hidden activation (TANH is smooth, so "
                    + "second-order meta-gradients are exact)", GrbalConfig::activation, Activation::name,
                    Activation::fromName, Builder::activation)
            .decimal("innerLr", DEFAULT_INNER_LR, "inner-loop step size, in the normalised space of inputs and targets",
                    GrbalConfig::innerLr, Builder::innerLr)
            .integer("innerSteps", DEFAULT_INNER_STEPS, "inner gradient steps on the adaptation window (0: a "
                    + "non-adaptive multi-task model)", GrbalConfig::innerSteps, Builder::innerSteps)
            .integer("adaptWindow", DEFAULT_ADAPT_WINDOW, "M, past transitions the model adapts on",
                    GrbalConfig::adaptWindow, Builder::adaptWindow)
            .integer("predictWindow", DEFAULT_PREDICT_WINDOW, "K, following transitions the adapted model is scored on",
                    GrbalConfig::predictWindow, Builder::predictWindow)
            .decimal("metaLr", DEFAULT_META_LR, "Adam step size of the outer loop", GrbalConfig::metaLr, Builder::metaLr)
            .integer("metaBatchSize", DEFAULT_META_BATCH_SIZE, "meta-gradients averaged per outer step",
                    GrbalConfig::metaBatchSize, Builder::metaBatchSize)
            .bool("firstOrder", DEFAULT_FIRST_ORDER, "drop the second-order term of the meta-gradient",
                    GrbalConfig::firstOrder, Builder::firstOrder)
            .longValue(SettingsTable.SEED, DEFAULT_SEED, "seed of the initial parameters and of the task operators' replay draws",
                    GrbalConfig::seed, Builder::seed)
            .decimal("maxGradNorm", DEFAULT_MAX_GRAD_NORM, "global-norm clipping of the averaged meta-gradient "
                    + "(<= 0: none)", GrbalConfig::maxGradNorm, Builder::maxGradNorm)
            .longValue("normalizerWarmupTransitions", DEFAULT_NORMALIZER_WARMUP, "transitions the normaliser "
                    + "observes before it freezes (0: no normalisation)", GrbalConfig::normalizerWarmupTransitions,
                    Builder::normalizerWarmupTransitions)
            .decimal("outlierSigma", DEFAULT_OUTLIER_SIGMA, "hold back a segment whose pre-adaptation loss is more "
                    + "than this many standard deviations above the running mean of log losses, and undo its normaliser "
                    + "update (<= 0: no check)", GrbalConfig::outlierSigma, Builder::outlierSigma)
            .integer("quarantineAfter", DEFAULT_QUARANTINE_AFTER, "quarantine a task after this many of its segments "
                    + "were held back in a row: its later segments are dropped (0: never)", GrbalConfig::quarantineAfter,
                    Builder::quarantineAfter)
            .other("adaptation", "gradient|meta-sgd|recurrent|ridge", DEFAULT_ADAPTATION, "how a model adapts to a "
                    + "task from its last M transitions: gradient (GrBAL: innerSteps steps of innerLr), meta-sgd (the same steps "
                    + "with a learned step size per parameter), recurrent (ReBAL: a GRU over the M transitions shifts the "
                    + "network's biases), ridge (the output layer solved by ridge regression on the M transitions, shrunk "
                    + "toward θ's with a learned strength)", GrbalConfig::adaptation, AdaptationRule::settingName, AdaptationRule::fromName,
                    Builder::adaptation)
            .integer("recurrentSize", DEFAULT_RECURRENT_SIZE, "hidden size of ReBAL's GRU (adaptation recurrent only)",
                    GrbalConfig::recurrentSize, Builder::recurrentSize)
            .other("adaptedParams", "all|biases|last-layer", DEFAULT_ADAPTED_PARAMS, "which network parameters the "
                    + "gradient rules (gradient, meta-sgd) adapt; recurrent always shifts biases only",
                    GrbalConfig::adaptedParams, v -> v, v -> v, Builder::adaptedParams);

    /** The documentation of every setting, for {@code help} and the settings table. */
    public static List<Setting> settings() {
        return SETTINGS.settings();
    }

    /** Validates every setting; prefer {@link #builder()}. */
    public GrbalConfig {
        require(obsDim > 0, "obsDim is " + obsDim + "; set it to the observation dimension (> 0)");
        require(actDim > 0, "actDim is " + actDim + "; set it to the action dimension (> 0)");
        require(hidden != null, "hidden is null; pass the hidden layer sizes, e.g. {64, 64}, or {} for a linear model");
        hidden = hidden.clone();
        for (int i = 0; i < hidden.length; i++) {
            require(hidden[i] > 0, "hidden[" + i + "] is " + hidden[i] + "; every hidden layer size must be > 0");
        }
        require(activation != null, "activation is null; use TANH (default) or RELU");
        require(innerLr > 0 && Double.isFinite(innerLr), "innerLr is " + innerLr
                + "; use a finite value > 0 (default 0.1, in normalised units)");
        require(innerSteps >= 0 && innerSteps <= 1000, "innerSteps is " + innerSteps
                + "; use 0..1000 (default 1; 0 disables adaptation)");
        require(adaptWindow > 0, "adaptWindow (M) is " + adaptWindow + "; use a value > 0 (default 32)");
        require(predictWindow > 0, "predictWindow (K) is " + predictWindow + "; use a value > 0 (default 16)");
        require((long) adaptWindow + predictWindow <= Integer.MAX_VALUE / 2, "adaptWindow + predictWindow is too large");
        require(metaLr > 0 && Double.isFinite(metaLr), "metaLr is " + metaLr + "; use a finite value > 0 (default 1e-3)");
        require(metaBatchSize > 0, "metaBatchSize is " + metaBatchSize + "; use a value > 0 (default 8)");
        require(!Double.isNaN(maxGradNorm) && maxGradNorm != Double.POSITIVE_INFINITY, "maxGradNorm is " + maxGradNorm
                + "; use a finite value > 0 to clip, or <= 0 to disable clipping (default 10.0)");
        require(normalizerWarmupTransitions >= 0, "normalizerWarmupTransitions is " + normalizerWarmupTransitions
                + "; use a value >= 0 (default 2000; 0 disables normalisation)");
        require(!Double.isNaN(outlierSigma) && outlierSigma != Double.POSITIVE_INFINITY, "outlierSigma is " + outlierSigma
                + "; use a finite value > 0, or <= 0 to disable the check (default 6.0)");
        require(quarantineAfter >= 0, "quarantineAfter is " + quarantineAfter + "; use a value >= 0 (default 3; 0 never quarantines)");
        require(adaptation != null, "adaptation is null; use gradient (default), meta-sgd, recurrent or ridge");
        require(recurrentSize >= 1 && recurrentSize <= 1024, "recurrentSize is " + recurrentSize
                + "; use 1..1024 (default 16)");
        require(adaptedParams != null && ADAPTED_PARAMS.contains(adaptedParams), "adaptedParams is " + adaptedParams
                + "; use one of " + ADAPTED_PARAMS + " (default all)");
        require(adaptation != AdaptationRule.META_SGD || innerSteps >= 1, "adaptation meta-sgd needs innerSteps >= 1, "
                + "but innerSteps is 0");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("invalid GrbalConfig: " + message);
        }
    }

    /** A copy of the hidden layer sizes. */
    @Override
    public int[] hidden() {
        return hidden.clone();
    }

    /** Input size of the dynamics network: {@code obsDim + actDim}. */
    public int inputSize() {
        return obsDim + actDim;
    }

    /** Transitions used per meta-gradient: {@code adaptWindow + predictWindow}. */
    public int windowLength() {
        return adaptWindow + predictWindow;
    }

    /**
     * Parameters of the adaptation rule learned beside the network: 0 for {@code gradient}, one step
     * size per network parameter for {@code meta-sgd}, the GRU and its bias projection for
     * {@code recurrent}.
     */
    public int adaptationParams() {
        return switch (adaptation) {
            case GRADIENT -> 0;
            case META_SGD -> mlp().numParams();
            case RECURRENT -> RecurrentAdaptation.numParams(mlp(), recurrentSize);
            case RIDGE -> 1;
        };
    }

    /**
     * 1 for each network parameter the gradient rules adapt ({@link #adaptedParams()}), else 0; null
     * for {@code all}.
     */
    public double[] adaptedMask() {
        if (adaptedParams.equals("all")) {
            return null;
        }
        Mlp mlp = mlp();
        double[] mask = new double[mlp.numParams()];
        int layers = mlp.numLayers();
        int[] sizes = mlp.layerSizes();
        for (int l = 1; l <= layers; l++) {
            int from = (int) (adaptedParams.equals("biases") ? mlp.biasOffset(l) : l == layers ? mlp.weightOffset(l) : 0);
            int to = (int) mlp.biasOffset(l) + sizes[l];
            if (adaptedParams.equals("biases") || l == layers) {
                java.util.Arrays.fill(mask, from, to, 1.0);
            }
        }
        return mask;
    }

    /** Meta-parameters the learner trains: the network's, then the adaptation rule's. */
    public int metaParams() {
        return mlp().numParams() + adaptationParams();
    }

    /** The dynamics network: layer sizes {@code {obsDim + actDim, hidden..., obsDim}}. */
    public Mlp mlp() {
        int[] sizes = new int[hidden.length + 2];
        sizes[0] = obsDim + actDim;
        System.arraycopy(hidden, 0, sizes, 1, hidden.length);
        sizes[sizes.length - 1] = obsDim;
        return new Mlp(sizes, activation);
    }

    /**
     * Every setting as a string in a new sorted map (a {@link TreeMap}); {@link #fromMap} inverts it
     * exactly. {@code hidden} is comma-separated, {@code activation} its enum name, doubles in
     * {@link Double#toString(double)} form.
     */
    public Map<String, String> toMap() {
        return SETTINGS.toMap(this);
    }

    /** SHA-256 (lowercase hex) of the canonical map, as UTF-8 lines {@code key=value\n} in key order. */
    public String configHash() {
        return ConfigMaps.sha256(toMap());
    }

    /**
     * Parses the form written by {@link #toMap()}. Missing keys take their defaults; {@code obsDim}
     * and {@code actDim} have none and are required.
     *
     * @throws IllegalArgumentException for an unknown key (named), an unparsable value, or an
     *     invalid setting
     */
    public static GrbalConfig fromMap(Map<String, String> map) {
        return SETTINGS.apply(map, builder()).build();
    }

    /** Arrays compare by content. */
    @Override
    public boolean equals(Object o) {
        return o instanceof GrbalConfig c && toMap().equals(c.toMap());
    }

    @Override
    public int hashCode() {
        return toMap().hashCode();
    }

    @Override
    public String toString() {
        return "GrbalConfig" + toMap();
    }

    /** A builder holding every default; {@code obsDim} and {@code actDim} must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder initialised with this configuration's settings. */
    public Builder toBuilder() {
        return new Builder().obsDim(obsDim).actDim(actDim).hidden(hidden).activation(activation).innerLr(innerLr)
                .innerSteps(innerSteps).adaptWindow(adaptWindow).predictWindow(predictWindow).metaLr(metaLr)
                .metaBatchSize(metaBatchSize).firstOrder(firstOrder).seed(seed).maxGradNorm(maxGradNorm)
                .normalizerWarmupTransitions(normalizerWarmupTransitions).outlierSigma(outlierSigma)
                .quarantineAfter(quarantineAfter).adaptation(adaptation).recurrentSize(recurrentSize)
                .adaptedParams(adaptedParams);
    }

    /** Validating builder of {@link GrbalConfig}. Not thread-safe. */
    public static final class Builder {
        private int obsDim = -1;
        private int actDim = -1;
        private int[] hidden = DEFAULT_HIDDEN.clone();
        private Activation activation = DEFAULT_ACTIVATION;
        private double innerLr = DEFAULT_INNER_LR;
        private int innerSteps = DEFAULT_INNER_STEPS;
        private int adaptWindow = DEFAULT_ADAPT_WINDOW;
        private int predictWindow = DEFAULT_PREDICT_WINDOW;
        private double metaLr = DEFAULT_META_LR;
        private int metaBatchSize = DEFAULT_META_BATCH_SIZE;
        private boolean firstOrder = DEFAULT_FIRST_ORDER;
        private long seed = DEFAULT_SEED;
        private double maxGradNorm = DEFAULT_MAX_GRAD_NORM;
        private long normalizerWarmupTransitions = DEFAULT_NORMALIZER_WARMUP;
        private double outlierSigma = DEFAULT_OUTLIER_SIGMA;
        private int quarantineAfter = DEFAULT_QUARANTINE_AFTER;
        private AdaptationRule adaptation = DEFAULT_ADAPTATION;
        private int recurrentSize = DEFAULT_RECURRENT_SIZE;
        private String adaptedParams = DEFAULT_ADAPTED_PARAMS;

        Builder() {}

        public Builder obsDim(int v) {
            obsDim = v;
            return this;
        }

        public Builder actDim(int v) {
            actDim = v;
            return this;
        }

        public Builder hidden(int... v) {
            if (v == null) {
                throw new IllegalArgumentException("hidden is null; pass sizes such as 64, 64 (or none for a linear model)");
            }
            hidden = v.clone();
            return this;
        }

        public Builder activation(Activation v) {
            if (v == null) {
                throw new IllegalArgumentException("activation is null; use TANH (default) or RELU");
            }
            activation = v;
            return this;
        }

        public Builder innerLr(double v) {
            innerLr = v;
            return this;
        }

        public Builder innerSteps(int v) {
            innerSteps = v;
            return this;
        }

        public Builder adaptWindow(int v) {
            adaptWindow = v;
            return this;
        }

        public Builder predictWindow(int v) {
            predictWindow = v;
            return this;
        }

        public Builder metaLr(double v) {
            metaLr = v;
            return this;
        }

        public Builder metaBatchSize(int v) {
            metaBatchSize = v;
            return this;
        }

        public Builder firstOrder(boolean v) {
            firstOrder = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder maxGradNorm(double v) {
            maxGradNorm = v;
            return this;
        }

        public Builder normalizerWarmupTransitions(long v) {
            normalizerWarmupTransitions = v;
            return this;
        }

        public Builder outlierSigma(double v) {
            outlierSigma = v;
            return this;
        }

        public Builder quarantineAfter(int v) {
            quarantineAfter = v;
            return this;
        }

        public Builder adaptation(AdaptationRule v) {
            adaptation = v;
            return this;
        }

        public Builder recurrentSize(int v) {
            recurrentSize = v;
            return this;
        }

        public Builder adaptedParams(String v) {
            adaptedParams = v;
            return this;
        }

        /**
         * @throws IllegalArgumentException naming the first invalid setting and what is allowed
         */
        public GrbalConfig build() {
            if (obsDim == -1 || actDim == -1) {
                throw new IllegalArgumentException("invalid GrbalConfig: " + (obsDim == -1 ? "obsDim" : "actDim")
                        + " is not set; call builder().obsDim(..).actDim(..) with the environment's dimensions");
            }
            return new GrbalConfig(obsDim, actDim, hidden, activation, innerLr, innerSteps, adaptWindow, predictWindow,
                    metaLr, metaBatchSize, firstOrder, seed, maxGradNorm, normalizerWarmupTransitions,
                    outlierSigma, quarantineAfter, adaptation, recurrentSize, adaptedParams);
        }
    }
}

package io.metastream.core.pearl;

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
 * Every setting of PEARL meta-training, declared once with its default (the reference values of
 * Rakelly and Zhou et al. 2019 and of katerakelly/oyster's default config). Build with
 * {@link #builder()}, which validates each setting; {@link #toMap()} / {@link #fromMap(Map)} give
 * the canonical string form used at the edges (CLI, job parameters, model provenance) and
 * {@link #configHash()} identifies a configuration.
 *
 * <p>{@code batchSize}, {@code contextSize} and {@code metaBatch} describe what the operators feeding
 * a {@link PearlLearner} sample per step; the learner itself accepts meta-batches of any size.
 *
 * @param obsDim observation dimension (required, > 0)
 * @param actDim action dimension (required, > 0); actions live in {@code [-1, 1]^actDim}
 * @param latentDim dimension of the task variable z (default 5)
 * @param encoderHidden hidden sizes of the context encoder (default {200, 200, 200}; each > 0)
 * @param netHidden hidden sizes of the policy and of each critic (default {300, 300, 300}; each > 0)
 * @param activation hidden activation of every network (default RELU, as in oyster; TANH is smooth,
 *     which finite-difference checks need)
 * @param gamma discount (default 0.99, in [0, 1])
 * @param tau Polyak factor of the target critics, {@code θ̄ ← (1−τ) θ̄ + τ θ} (default 0.005, in (0, 1])
 * @param policyLr Adam step size of the policy (default 3e-4)
 * @param qLr Adam step size of the critics (default 3e-4)
 * @param encoderLr Adam step size of the context encoder (default 3e-4)
 * @param alphaLr Adam step size of {@code log α} (default 3e-4; unused unless learnAlpha)
 * @param klWeight β, weight of {@code Σ_tasks KL(q(z|c) ‖ N(0, I))} in the encoder loss (default 0.1)
 * @param rewardScale factor on rewards in the critic target (default 5.0, > 0)
 * @param learnAlpha learn the entropy temperature towards the target entropy {@code −actDim} (default true)
 * @param fixedAlpha α when {@code learnAlpha} is false, and the initial α when it is true (default 1.0, > 0)
 * @param batchSize RL transitions per task per step (default 256)
 * @param contextSize context transitions per task per step (default 100)
 * @param minContextSize how a task's context batch is drawn from its context rows (kept in arrival
 *     order). 0 (default): {@code contextSize} rows uniformly with replacement, as oyster does.
 *     {@code n} in {@code [1, contextSize]}: a contiguous run of rows whose length is uniform in
 *     {@code [n, contextSize]} (capped by the rows there are), so the encoder also trains on contexts
 *     like those at test time: the transitions of the first one or two episodes of a task
 * @param contextPreviousReward false (default, the paper's rows {@code (s, a, r, s')}); true appends the
 *     reward of the episode's previous step and a flag that it is known (see {@link TaskSampler}), so
 *     one transition tells how the reward changed along its action
 * @param encoderRank directions per context factor (see {@link ContextEncoder}): 0 (default) is the
 *     paper's diagonal Gaussian factors; R > 0 adds R rank-one precision terms per factor, so the
 *     posterior is a full-covariance Gaussian that can intersect the constraints single transitions
 *     put on the task (an extension beyond the paper)
 * @param metaBatch tasks per step (default 16)
 * @param seed seed of the initial parameters and of the per-step noise (default 42)
 * @param maxGradNorm global-norm clipping of each network's gradient (encoder, policy, each critic)
 *     before its Adam step (default 100; {@code <= 0} disables clipping). Not in the paper: it keeps
 *     one exploding but finite gradient from filling Adam's second moments for thousands of steps
 */
public record PearlConfig(
        int obsDim,
        int actDim,
        int latentDim,
        int[] encoderHidden,
        int[] netHidden,
        Activation activation,
        double gamma,
        double tau,
        double policyLr,
        double qLr,
        double encoderLr,
        double alphaLr,
        double klWeight,
        double rewardScale,
        boolean learnAlpha,
        double fixedAlpha,
        int batchSize,
        int contextSize,
        int minContextSize,
        boolean contextPreviousReward,
        int encoderRank,
        int metaBatch,
        long seed,
        double maxGradNorm) {

    static final int DEFAULT_LATENT_DIM = 5;
    static final int[] DEFAULT_ENCODER_HIDDEN = {200, 200, 200};
    static final int[] DEFAULT_NET_HIDDEN = {300, 300, 300};
    static final Activation DEFAULT_ACTIVATION = Activation.RELU;
    static final double DEFAULT_GAMMA = 0.99;
    static final double DEFAULT_TAU = 0.005;
    static final double DEFAULT_LR = 3e-4;
    static final double DEFAULT_KL_WEIGHT = 0.1;
    static final double DEFAULT_REWARD_SCALE = 5.0;
    static final boolean DEFAULT_LEARN_ALPHA = true;
    static final double DEFAULT_FIXED_ALPHA = 1.0;
    static final int DEFAULT_BATCH_SIZE = 256;
    static final int DEFAULT_CONTEXT_SIZE = 100;
    static final int DEFAULT_META_BATCH = 16;
    static final long DEFAULT_SEED = 42L;
    static final double DEFAULT_MAX_GRAD_NORM = 100.0;

    /** Every setting, declared once: key, type, default, description, and how it is read and set. */
    private static final SettingsTable<PearlConfig, Builder> SETTINGS = SettingsTable.<PearlConfig, Builder>of("PearlConfig")
            .integer(SettingsTable.OBS_DIM, null, "observation dimension (the job sets it from metastream.obs-dim)",
                    PearlConfig::obsDim, Builder::obsDim)
            .integer(SettingsTable.ACT_DIM, null, "action dimension; actions live in [-1, 1]^actDim (the job sets it from "
                    + "metastream.act-dim)", PearlConfig::actDim, Builder::actDim)
            .integer("latentDim", DEFAULT_LATENT_DIM, "dimension of the task variable z", PearlConfig::latentDim,
                    Builder::latentDim)
            .ints("encoderHidden", DEFAULT_ENCODER_HIDDEN, "hidden sizes of the context encoder",
                    c -> c.encoderHidden, Builder::encoderHidden)
            .ints("netHidden", DEFAULT_NET_HIDDEN, "hidden sizes of the policy and of each critic",
                    c -> c.netHidden, Builder::netHidden)
            .other("activation", "RELU|TANH", DEFAULT_ACTIVATION, "hidden activation of every network",
                    PearlConfig::activation, Activation::name, Activation::fromName, Builder::activation)
            .decimal("gamma", DEFAULT_GAMMA, "discount, in [0, 1]", PearlConfig::gamma, Builder::gamma)
            .decimal("tau", DEFAULT_TAU, "Polyak factor of the target critics, in (0, 1]", PearlConfig::tau, Builder::tau)
            .decimal("policyLr", DEFAULT_LR, "Adam step size of the policy", PearlConfig::policyLr, Builder::policyLr)
            .decimal("qLr", DEFAULT_LR, "Adam step size of the critics", PearlConfig::qLr, Builder::qLr)
            .decimal("encoderLr", DEFAULT_LR, "Adam step size of the context encoder", PearlConfig::encoderLr,
                    Builder::encoderLr)
            .decimal("alphaLr", DEFAULT_LR, "Adam step size of log alpha (with learnAlpha)", PearlConfig::alphaLr,
                    Builder::alphaLr)
            .decimal("klWeight", DEFAULT_KL_WEIGHT, "beta, weight of KL(q(z|c) || N(0, I)) in the encoder loss",
                    PearlConfig::klWeight, Builder::klWeight)
            .decimal("rewardScale", DEFAULT_REWARD_SCALE, "factor on rewards in the critic target",
                    PearlConfig::rewardScale, Builder::rewardScale)
            .bool("learnAlpha", DEFAULT_LEARN_ALPHA, "learn the entropy temperature towards the target entropy -actDim",
                    PearlConfig::learnAlpha, Builder::learnAlpha)
            .decimal("fixedAlpha", DEFAULT_FIXED_ALPHA, "alpha without learnAlpha, and the initial alpha with it",
                    PearlConfig::fixedAlpha, Builder::fixedAlpha)
            .integer("batchSize", DEFAULT_BATCH_SIZE, "RL transitions per task per step", PearlConfig::batchSize,
                    Builder::batchSize)
            .integer("contextSize", DEFAULT_CONTEXT_SIZE, "context transitions per task per step",
                    PearlConfig::contextSize, Builder::contextSize)
            .integer("minContextSize", 0, "0: context rows drawn uniformly (oyster); n: a contiguous run of n to "
                    + "contextSize rows in arrival order", PearlConfig::minContextSize, Builder::minContextSize)
            .bool("contextPreviousReward", false, "context rows also carry the previous step's reward and a flag "
                    + "(a departure from the paper)", PearlConfig::contextPreviousReward, Builder::contextPreviousReward)
            .integer("encoderRank", 0, "0: the paper's diagonal Gaussian factors; R: R rank-one precision terms per "
                    + "factor (a full-covariance posterior)", PearlConfig::encoderRank, Builder::encoderRank)
            .integer("metaBatch", DEFAULT_META_BATCH, "tasks per step", PearlConfig::metaBatch, Builder::metaBatch)
            .longValue(SettingsTable.SEED, DEFAULT_SEED, "seed of the initial parameters and of the per-step noise",
                    PearlConfig::seed, Builder::seed)
            .decimal("maxGradNorm", DEFAULT_MAX_GRAD_NORM, "global-norm clipping of each network's gradient before "
                    + "its Adam step (<= 0: none; not in the paper)", PearlConfig::maxGradNorm, Builder::maxGradNorm);

    /** The documentation of every setting, for {@code help} and the settings table. */
    public static List<Setting> settings() {
        return SETTINGS.settings();
    }

    /**
     * Named profiles: settings that differ from the reference defaults, as {@link #toMap()} writes them, so
     * that no other file keeps a second copy of a default. Each can be overridden key by key.
     *
     * <ul>
     *   <li>{@code cpu}: what the local run and the tests start from. The reference 3×300 nets take about
     *       0.6 s per learner step on 2 cores, so 2×64 nets, batch 128, context 64, meta-batch 8 and step
     *       sizes 1e-3; reward scale 100 with a fixed temperature of 1 as oyster's point-robot configuration.
     *       The encoder keeps the paper's diagonal factors: rank factors win offline over 40,000 steps
     *       ({@code bench pearl}), but in the stream's first few thousand steps they learned no faster on
     *       average and far less reliably (PearlJobIT's gain after 4,500 steps ranged from 0.6 to 5.7 over
     *       eight runs, against 3.0 to 3.8 over three with diagonal factors). The KL weight and the context
     *       sampling stay at the reference (0.1, uniform rows): with 10 and runs of 10 rows the stream's
     *       first few thousand steps learned more slowly.</li>
     *   <li>{@code bench-dense} / {@code bench-sparse}: {@code bench pearl} on point-robot and
     *       sparse-point-robot (2×64 nets, rank-one encoder factors, KL weight 10; see that benchmark).</li>
     * </ul>
     *
     * @throws IllegalArgumentException for an unknown profile, naming the known ones
     */
    public static Map<String, String> profile(String name) {
        Map<String, String> common = new TreeMap<>(Map.of("netHidden", "64,64", "encoderHidden", "64,64",
                "batchSize", "128", "metaBatch", "8", "rewardScale", "100", "learnAlpha", "false",
                "policyLr", "1e-3", "qLr", "1e-3", "encoderLr", "1e-3"));
        switch (name) {
            case "cpu" -> common.put("contextSize", "64");
            case "bench-dense", "bench-sparse" -> {
                boolean sparse = name.equals("bench-sparse");
                common.put("alphaLr", "1e-3");
                common.put("klWeight", "10.0");
                common.put("encoderRank", "1");
                common.put("gamma", sparse ? "0.9" : "0.99");
                common.put("contextSize", sparse ? "256" : "64");
                common.put("minContextSize", sparse ? "0" : "10");
            }
            default -> throw new IllegalArgumentException("unknown PEARL profile '" + name
                    + "'; known: cpu, bench-dense, bench-sparse");
        }
        SETTINGS.apply(common, builder()); // every key of a profile is a setting
        return Map.copyOf(common);
    }

    /** Validates every setting; prefer {@link #builder()}. */
    public PearlConfig {
        require(obsDim > 0, "obsDim is " + obsDim + "; set it to the observation dimension (> 0)");
        require(actDim > 0, "actDim is " + actDim + "; set it to the action dimension (> 0)");
        require(latentDim > 0, "latentDim is " + latentDim + "; use a value > 0 (default 5)");
        encoderHidden = checkHidden(encoderHidden, "encoderHidden", "200, 200, 200");
        netHidden = checkHidden(netHidden, "netHidden", "300, 300, 300");
        require(activation != null, "activation is null; use RELU (default) or TANH");
        require(gamma >= 0 && gamma <= 1, "gamma is " + gamma + "; use a discount in [0, 1] (default 0.99)");
        require(tau > 0 && tau <= 1, "tau is " + tau + "; use a Polyak factor in (0, 1] (default 0.005)");
        requirePositive(policyLr, "policyLr", "3e-4");
        requirePositive(qLr, "qLr", "3e-4");
        requirePositive(encoderLr, "encoderLr", "3e-4");
        requirePositive(alphaLr, "alphaLr", "3e-4");
        require(klWeight >= 0 && Double.isFinite(klWeight), "klWeight is " + klWeight
                + "; use a finite value >= 0 (default 0.1; 0 turns the information bottleneck off)");
        requirePositive(rewardScale, "rewardScale", "5.0");
        requirePositive(fixedAlpha, "fixedAlpha", "1.0");
        if (Double.isNaN(maxGradNorm) || maxGradNorm == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("invalid PearlConfig: maxGradNorm is " + maxGradNorm
                    + "; use a finite value > 0 to clip, or <= 0 to disable clipping (default 100)");
        }
        require(batchSize > 0, "batchSize is " + batchSize + "; use a value > 0 (default 256)");
        require(contextSize > 0, "contextSize is " + contextSize + "; use a value > 0 (default 100)");
        require(minContextSize >= 0 && minContextSize <= contextSize, "minContextSize is " + minContextSize
                + "; use 0 (uniform rows, default) or a run length in [1, contextSize = " + contextSize + "]");
        require(encoderRank >= 0, "encoderRank is " + encoderRank
                + "; use 0 (the paper's diagonal factors, default) or a number of directions per factor > 0");
        require(metaBatch > 0, "metaBatch is " + metaBatch + "; use a value > 0 (default 16)");
    }

    private static int[] checkHidden(int[] hidden, String name, String example) {
        require(hidden != null, name + " is null; pass the hidden layer sizes, e.g. {" + example + "}");
        int[] copy = hidden.clone();
        for (int i = 0; i < copy.length; i++) {
            require(copy[i] > 0, name + "[" + i + "] is " + copy[i] + "; every hidden layer size must be > 0");
        }
        return copy;
    }

    private static void requirePositive(double v, String name, String dflt) {
        require(v > 0 && Double.isFinite(v), name + " is " + v + "; use a finite value > 0 (default " + dflt + ")");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("invalid PearlConfig: " + message);
        }
    }

    /** A copy of the encoder's hidden sizes. */
    @Override
    public int[] encoderHidden() {
        return encoderHidden.clone();
    }

    /** A copy of the policy's and critics' hidden sizes. */
    @Override
    public int[] netHidden() {
        return netHidden.clone();
    }

    /** Width of a context row: {@code 2·obsDim + actDim + 1}, plus 2 with {@code contextPreviousReward}. */
    public int contextDim() {
        return TaskSampler.contextWidth(obsDim, actDim, contextPreviousReward);
    }

    /** SAC's target entropy, {@code −actDim}. */
    public double targetEntropy() {
        return -actDim;
    }

    /** The context encoder {@code (s, a, r, s') → (μ_n, raw variance_n)}. */
    public ContextEncoder encoder() {
        return new ContextEncoder(contextDim(), latentDim, encoderHidden, activation, encoderRank);
    }

    /** The policy network {@code [s, z] → [mean, log std]} of the pre-squash Gaussian. */
    public Mlp policyMlp() {
        return mlp(obsDim + latentDim, netHidden, 2 * actDim, activation);
    }

    /** One critic network {@code [s, a, z] → Q}. */
    public Mlp qMlp() {
        return mlp(obsDim + actDim + latentDim, netHidden, 1, activation);
    }

    static Mlp mlp(int in, int[] hidden, int out, Activation activation) {
        int[] sizes = new int[hidden.length + 2];
        sizes[0] = in;
        System.arraycopy(hidden, 0, sizes, 1, hidden.length);
        sizes[sizes.length - 1] = out;
        return new Mlp(sizes, activation);
    }

    /**
     * Every setting as a string in a new sorted map; {@link #fromMap} inverts it exactly. Hidden
     * sizes are comma-separated, {@code activation} its enum name, doubles in
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
    public static PearlConfig fromMap(Map<String, String> map) {
        return SETTINGS.apply(map, builder()).build();
    }

    /** Arrays compare by content. */
    @Override
    public boolean equals(Object o) {
        return o instanceof PearlConfig c && toMap().equals(c.toMap());
    }

    @Override
    public int hashCode() {
        return toMap().hashCode();
    }

    @Override
    public String toString() {
        return "PearlConfig" + toMap();
    }

    /** A builder holding every default; {@code obsDim} and {@code actDim} must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder initialised with this configuration's settings. */
    public Builder toBuilder() {
        return new Builder().obsDim(obsDim).actDim(actDim).latentDim(latentDim).encoderHidden(encoderHidden)
                .netHidden(netHidden).activation(activation).gamma(gamma).tau(tau).policyLr(policyLr).qLr(qLr)
                .encoderLr(encoderLr).alphaLr(alphaLr).klWeight(klWeight).rewardScale(rewardScale).learnAlpha(learnAlpha)
                .fixedAlpha(fixedAlpha).batchSize(batchSize).contextSize(contextSize).minContextSize(minContextSize).contextPreviousReward(contextPreviousReward)
                .encoderRank(encoderRank).metaBatch(metaBatch).seed(seed).maxGradNorm(maxGradNorm);
    }

    /** Validating builder of {@link PearlConfig}. Not thread-safe. */
    public static final class Builder {
        private int obsDim = -1;
        private int actDim = -1;
        private int latentDim = DEFAULT_LATENT_DIM;
        private int[] encoderHidden = DEFAULT_ENCODER_HIDDEN.clone();
        private int[] netHidden = DEFAULT_NET_HIDDEN.clone();
        private Activation activation = DEFAULT_ACTIVATION;
        private double gamma = DEFAULT_GAMMA;
        private double tau = DEFAULT_TAU;
        private double policyLr = DEFAULT_LR;
        private double qLr = DEFAULT_LR;
        private double encoderLr = DEFAULT_LR;
        private double alphaLr = DEFAULT_LR;
        private double klWeight = DEFAULT_KL_WEIGHT;
        private double rewardScale = DEFAULT_REWARD_SCALE;
        private boolean learnAlpha = DEFAULT_LEARN_ALPHA;
        private double fixedAlpha = DEFAULT_FIXED_ALPHA;
        private int batchSize = DEFAULT_BATCH_SIZE;
        private int contextSize = DEFAULT_CONTEXT_SIZE;
        private int minContextSize;
        private boolean contextPreviousReward;
        private int encoderRank;
        private int metaBatch = DEFAULT_META_BATCH;
        private long seed = DEFAULT_SEED;
        private double maxGradNorm = DEFAULT_MAX_GRAD_NORM;

        Builder() {}

        public Builder obsDim(int v) {
            obsDim = v;
            return this;
        }

        public Builder actDim(int v) {
            actDim = v;
            return this;
        }

        public Builder latentDim(int v) {
            latentDim = v;
            return this;
        }

        public Builder encoderHidden(int... v) {
            if (v == null) {
                throw new IllegalArgumentException("encoderHidden is null; pass sizes such as 200, 200, 200");
            }
            encoderHidden = v.clone();
            return this;
        }

        public Builder netHidden(int... v) {
            if (v == null) {
                throw new IllegalArgumentException("netHidden is null; pass sizes such as 300, 300, 300");
            }
            netHidden = v.clone();
            return this;
        }

        public Builder activation(Activation v) {
            if (v == null) {
                throw new IllegalArgumentException("activation is null; use RELU (default) or TANH");
            }
            activation = v;
            return this;
        }

        public Builder gamma(double v) {
            gamma = v;
            return this;
        }

        public Builder tau(double v) {
            tau = v;
            return this;
        }

        public Builder policyLr(double v) {
            policyLr = v;
            return this;
        }

        public Builder qLr(double v) {
            qLr = v;
            return this;
        }

        public Builder encoderLr(double v) {
            encoderLr = v;
            return this;
        }

        public Builder alphaLr(double v) {
            alphaLr = v;
            return this;
        }

        /** Sets all four Adam step sizes (policy, critics, encoder, α). */
        public Builder learningRate(double v) {
            return policyLr(v).qLr(v).encoderLr(v).alphaLr(v);
        }

        public Builder klWeight(double v) {
            klWeight = v;
            return this;
        }

        public Builder rewardScale(double v) {
            rewardScale = v;
            return this;
        }

        public Builder learnAlpha(boolean v) {
            learnAlpha = v;
            return this;
        }

        public Builder fixedAlpha(double v) {
            fixedAlpha = v;
            return this;
        }

        public Builder batchSize(int v) {
            batchSize = v;
            return this;
        }

        public Builder contextSize(int v) {
            contextSize = v;
            return this;
        }

        /** See {@link PearlConfig#minContextSize()}: 0 draws uniform rows, n > 0 contiguous runs of n..contextSize rows. */
        public Builder minContextSize(int v) {
            minContextSize = v;
            return this;
        }

        /** See {@link PearlConfig#encoderRank()}: 0 diagonal factors (default), R > 0 rank factors. */
        public Builder encoderRank(int v) {
            encoderRank = v;
            return this;
        }

        /** See {@link PearlConfig#contextPreviousReward()}. */
        public Builder contextPreviousReward(boolean v) {
            contextPreviousReward = v;
            return this;
        }

        public Builder metaBatch(int v) {
            metaBatch = v;
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

        /**
         * @throws IllegalArgumentException naming the first invalid setting and what is allowed
         */
        public PearlConfig build() {
            if (obsDim == -1 || actDim == -1) {
                throw new IllegalArgumentException("invalid PearlConfig: " + (obsDim == -1 ? "obsDim" : "actDim")
                        + " is not set; call builder().obsDim(..).actDim(..) with the environment's dimensions");
            }
            return new PearlConfig(obsDim, actDim, latentDim, encoderHidden, netHidden, activation, gamma, tau, policyLr,
                    qLr, encoderLr, alphaLr, klWeight, rewardScale, learnAlpha, fixedAlpha, batchSize, contextSize, minContextSize,
                    contextPreviousReward, encoderRank, metaBatch, seed, maxGradNorm);
        }
    }
}

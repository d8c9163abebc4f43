package io.metastream.core.mpc;

import io.metastream.core.settings.Setting;
import io.metastream.core.settings.SettingsTable;

import java.util.Arrays;

/**
 * Settings of {@link MpcPlanner}. Build with {@link #builder()}.
 *
 * @param horizon planning horizon in steps (default 10, > 0)
 * @param candidates action sequences evaluated per round (default 200, > 0)
 * @param cemIterations cross-entropy refits after the initial uniform round; 0 means plain random
 *     shooting (default 0)
 * @param elites best sequences a CEM round refits its Gaussian to (default 20, in [1, candidates])
 * @param actionLow per-dimension lower action bound (required)
 * @param actionHigh per-dimension upper action bound (required, each > the lower bound)
 */
public record MpcConfig(int horizon, int candidates, int cemIterations, int elites, double[] actionLow, double[] actionHigh) {

    static final int DEFAULT_HORIZON = 10;
    static final int DEFAULT_CANDIDATES = 200;
    static final int DEFAULT_CEM_ITERATIONS = 0;
    static final int DEFAULT_ELITES = 20;

    /** The planner's settings, declared once (the action bounds come from the task family, not from here). */
    private static final SettingsTable<MpcConfig, Builder> SETTINGS = SettingsTable.<MpcConfig, Builder>of("MpcConfig")
            .integer("horizon", DEFAULT_HORIZON, "planning horizon in steps", MpcConfig::horizon, Builder::horizon)
            .integer("candidates", DEFAULT_CANDIDATES, "action sequences evaluated per round", MpcConfig::candidates,
                    Builder::candidates)
            .integer("cemIterations", DEFAULT_CEM_ITERATIONS, "cross-entropy refits after the uniform round "
                    + "(0: random shooting)", MpcConfig::cemIterations, Builder::cemIterations)
            .integer("elites", DEFAULT_ELITES, "best sequences a CEM round refits to, in [1, candidates]",
                    MpcConfig::elites, Builder::elites);

    /** The documentation of the planner's settings. */
    public static java.util.List<Setting> settings() {
        return SETTINGS.settings();
    }

    /** Validates every setting; prefer {@link #builder()}. */
    public MpcConfig {
        require(horizon > 0, "horizon is " + horizon + "; use a value > 0 (default 10)");
        require(candidates > 0, "candidates is " + candidates + "; use a value > 0 (default 200)");
        require(cemIterations >= 0, "cemIterations is " + cemIterations + "; use 0 for random shooting or > 0 for CEM");
        require(elites > 0 && elites <= candidates, "elites is " + elites + " but must be in [1, candidates = " + candidates
                + "]; lower elites or raise candidates");
        require(actionLow != null && actionHigh != null, "action bounds are not set; call actionBounds(low, high) "
                + "or actionLow(..) and actionHigh(..)");
        require(actionLow.length > 0 && actionLow.length == actionHigh.length, "actionLow has " + actionLow.length
                + " and actionHigh " + actionHigh.length + " entries; give one bound per action dimension (>= 1) in each");
        actionLow = actionLow.clone();
        actionHigh = actionHigh.clone();
        for (int j = 0; j < actionLow.length; j++) {
            require(Double.isFinite(actionLow[j]) && Double.isFinite(actionHigh[j]) && actionLow[j] < actionHigh[j],
                    "action bounds of dimension " + j + " are [" + actionLow[j] + ", " + actionHigh[j]
                            + "]; they must be finite with low < high");
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("invalid MpcConfig: " + message);
        }
    }

    /** A copy of the lower bounds. */
    @Override
    public double[] actionLow() {
        return actionLow.clone();
    }

    /** A copy of the upper bounds. */
    @Override
    public double[] actionHigh() {
        return actionHigh.clone();
    }

    /** Number of action dimensions. */
    public int actDim() {
        return actionLow.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MpcConfig c && c.horizon == horizon && c.candidates == candidates
                && c.cemIterations == cemIterations && c.elites == elites && Arrays.equals(c.actionLow, actionLow)
                && Arrays.equals(c.actionHigh, actionHigh);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new int[] {horizon, candidates, cemIterations, elites}) * 31 * 31
                + Arrays.hashCode(actionLow) * 31 + Arrays.hashCode(actionHigh);
    }

    @Override
    public String toString() {
        return "MpcConfig[horizon=" + horizon + ", candidates=" + candidates + ", cemIterations=" + cemIterations
                + ", elites=" + elites + ", actionLow=" + Arrays.toString(actionLow) + ", actionHigh="
                + Arrays.toString(actionHigh) + "]";
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Validating builder of {@link MpcConfig}; action bounds are required. Not thread-safe. */
    public static final class Builder {
        private int horizon = DEFAULT_HORIZON;
        private int candidates = DEFAULT_CANDIDATES;
        private int cemIterations = DEFAULT_CEM_ITERATIONS;
        private int elites = DEFAULT_ELITES;
        private double[] low;
        private double[] high;

        Builder() {}

        /**
         * Sets the planner settings {@code map} names, keyed as {@link #settings()} lists them.
         *
         * @throws IllegalArgumentException for an unknown key or an unparsable value
         */
        public Builder settings(java.util.Map<String, String> map) {
            return SETTINGS.apply(map, this);
        }

        public Builder horizon(int v) {
            horizon = v;
            return this;
        }

        public Builder candidates(int v) {
            candidates = v;
            return this;
        }

        public Builder cemIterations(int v) {
            cemIterations = v;
            return this;
        }

        public Builder elites(int v) {
            elites = v;
            return this;
        }

        /** Per-dimension bounds; both arrays are copied. */
        public Builder actionBounds(double[] low, double[] high) {
            if (low == null || high == null) {
                throw new IllegalArgumentException("action bounds must be non-null arrays with one entry per action dimension");
            }
            this.low = low.clone();
            this.high = high.clone();
            return this;
        }

        /** Per-dimension lower bounds (copied); set {@link #actionHigh} too. */
        public Builder actionLow(double... low) {
            if (low == null) {
                throw new IllegalArgumentException("actionLow is null; pass one lower bound per action dimension");
            }
            this.low = low.clone();
            return this;
        }

        /** Per-dimension upper bounds (copied); set {@link #actionLow} too. */
        public Builder actionHigh(double... high) {
            if (high == null) {
                throw new IllegalArgumentException("actionHigh is null; pass one upper bound per action dimension");
            }
            this.high = high.clone();
            return this;
        }

        /** The same bounds {@code [low, high]} for each of {@code actDim} dimensions. */
        public Builder actionBounds(int actDim, double low, double high) {
            if (actDim <= 0) {
                throw new IllegalArgumentException("actDim is " + actDim + "; use the number of action dimensions (> 0)");
            }
            double[] l = new double[actDim];
            double[] h = new double[actDim];
            Arrays.fill(l, low);
            Arrays.fill(h, high);
            return actionBounds(l, h);
        }

        public MpcConfig build() {
            return new MpcConfig(horizon, candidates, cemIterations, elites, low, high);
        }
    }
}

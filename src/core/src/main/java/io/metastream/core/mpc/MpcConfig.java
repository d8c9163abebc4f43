package io.metastream.core.mpc;

import io.metastream.core.settings.Setting;
import io.metastream.core.settings.SettingsTable;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Settings of {@link MpcPlanner}. Build with {@link #builder()}.
 *
 * @param method how candidate sequences are drawn and the plan chosen (default {@link Method#MPPI})
 * @param horizon planning horizon in steps (default 15, > 0; a task family may ask for another)
 * @param candidates action sequences evaluated per round (default 64, > 1; a task family may ask for another)
 * @param iterations rounds of sampling per planning call (default 1, > 0; random shooting draws each
 *     round afresh and keeps the best)
 * @param elites best sequences a CEM round refits its Gaussian to (default 8, in [1, candidates])
 * @param noise standard deviation of the sampling noise, as a fraction of each action dimension's
 *     half range (default 0.5, > 0; CEM's first round and every MPPI round)
 * @param temperature MPPI's temperature in units of the round's standard deviation of returns (default
 *     0.5, > 0): each sequence weighs {@code exp((R − R_max) / (temperature · std R))}
 * @param warmStart start each call from the previous call's plan shifted by one step (default true);
 *     {@link MpcPlanner#reset()} forgets it
 * @param threads threads a batch of agents ({@link MpcPlanner#planAll}) is split over (default 2, in [1, 64]);
 *     the calling thread is one of them
 * @param actionLow per-dimension lower action bound (required)
 * @param actionHigh per-dimension upper action bound (required, each > the lower bound)
 */
public record MpcConfig(Method method, int horizon, int candidates, int iterations, int elites, double noise,
        double temperature, boolean warmStart, int threads, double[] actionLow, double[] actionHigh) {

    /** How the planner searches. */
    public enum Method {
        /** Uniform random sequences (plus the previous plan when warm), the best one executed. */
        RANDOM_SHOOTING,
        /** Cross-entropy method: refit a diagonal Gaussian to the elites each round, execute the best seen. */
        CEM,
        /** Model-predictive path integral: move the plan to the return-weighted mean of noisy copies of it. */
        MPPI;

        /** The setting's spelling: lower case with dashes ({@code random-shooting}, {@code cem}, {@code mppi}). */
        public String settingName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** Parses {@link #settingName()} (or the enum name), failing with the accepted names. */
        public static Method fromName(String name) {
            for (Method m : values()) {
                if (m.settingName().equals(name) || m.name().equals(name)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown planner method '" + name + "'; use random-shooting, cem or mppi");
        }
    }

    static final Method DEFAULT_METHOD = Method.MPPI;
    static final int DEFAULT_HORIZON = 15;
    static final int DEFAULT_CANDIDATES = 64;
    static final int DEFAULT_ITERATIONS = 1;
    static final int DEFAULT_ELITES = 8;
    static final double DEFAULT_NOISE = 0.5;
    static final double DEFAULT_TEMPERATURE = 0.5;
    static final boolean DEFAULT_WARM_START = true;
    static final int DEFAULT_THREADS = 2;

    /** The planner's settings, declared once (the action bounds come from the task family, not from here). */
    private static final SettingsTable<MpcConfig, Builder> SETTINGS = SettingsTable.<MpcConfig, Builder>of("MpcConfig")
            .other("method", "random-shooting|cem|mppi", DEFAULT_METHOD, "how sequences are sampled and the plan chosen",
                    MpcConfig::method, Method::settingName, Method::fromName, Builder::method)
            .integer("horizon", DEFAULT_HORIZON, "planning horizon in steps (a family may set its own: pendulum 30)", MpcConfig::horizon, Builder::horizon)
            .integer("candidates", DEFAULT_CANDIDATES, "action sequences evaluated per round (> 1; a family may set its own: pendulum 32)", MpcConfig::candidates,
                    Builder::candidates)
            .integer("iterations", DEFAULT_ITERATIONS, "sampling rounds per planning call", MpcConfig::iterations,
                    Builder::iterations)
            .integer("elites", DEFAULT_ELITES, "best sequences a CEM round refits to, in [1, candidates]",
                    MpcConfig::elites, Builder::elites)
            .decimal("noise", DEFAULT_NOISE, "sampling standard deviation as a fraction of the action half range",
                    MpcConfig::noise, Builder::noise)
            .decimal("temperature", DEFAULT_TEMPERATURE, "MPPI temperature in standard deviations of the round's returns",
                    MpcConfig::temperature, Builder::temperature)
            .bool("warmStart", DEFAULT_WARM_START, "start from the previous plan shifted by one step",
                    MpcConfig::warmStart, Builder::warmStart)
            .integer("threads", DEFAULT_THREADS,
                    "threads a batch of agents is planned on, the caller's included (plans are the same for any number)",
                    MpcConfig::threads, Builder::threads);

    /** The documentation of the planner's settings. */
    public static List<Setting> settings() {
        return SETTINGS.settings();
    }

    /** Validates every setting; prefer {@link #builder()}. */
    public MpcConfig {
        require(method != null, "method is null; use random-shooting, cem or mppi");
        require(horizon > 0, "horizon is " + horizon + "; use a value > 0 (default " + DEFAULT_HORIZON + ")");
        require(candidates > 1, "candidates is " + candidates + "; use a value > 1 (default " + DEFAULT_CANDIDATES + ")");
        require(iterations > 0, "iterations is " + iterations + "; use a value > 0 (default " + DEFAULT_ITERATIONS + ")");
        require(elites > 0 && elites <= candidates, "elites is " + elites + " but must be in [1, candidates = " + candidates
                + "]; lower elites or raise candidates");
        require(noise > 0 && Double.isFinite(noise), "noise is " + noise + "; use a finite value > 0 (default " + DEFAULT_NOISE + ")");
        require(temperature > 0 && Double.isFinite(temperature), "temperature is " + temperature
                + "; use a finite value > 0 (default " + DEFAULT_TEMPERATURE + ")");
        require(threads >= 1 && threads <= 64, "threads is " + threads + "; use a value in [1, 64] (default 1)");
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

    /** The planner settings as strings, keyed as {@link #settings()} lists them (no action bounds). */
    public Map<String, String> toMap() {
        return SETTINGS.toMap(this);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MpcConfig c && c.method == method && c.horizon == horizon && c.candidates == candidates
                && c.iterations == iterations && c.elites == elites && c.noise == noise && c.temperature == temperature
                && c.warmStart == warmStart && c.threads == threads && Arrays.equals(c.actionLow, actionLow) && Arrays.equals(c.actionHigh, actionHigh);
    }

    @Override
    public int hashCode() {
        return Objects.hash(method, horizon, candidates, iterations, elites, noise, temperature, warmStart, threads) * 31 * 31
                + Arrays.hashCode(actionLow) * 31 + Arrays.hashCode(actionHigh);
    }

    @Override
    public String toString() {
        return "MpcConfig" + toMap() + "[actionLow=" + Arrays.toString(actionLow) + ", actionHigh="
                + Arrays.toString(actionHigh) + "]";
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Validating builder of {@link MpcConfig}; action bounds are required. Not thread-safe. */
    public static final class Builder {
        private Method method = DEFAULT_METHOD;
        private int horizon = DEFAULT_HORIZON;
        private int candidates = DEFAULT_CANDIDATES;
        private int iterations = DEFAULT_ITERATIONS;
        private int elites = DEFAULT_ELITES;
        private double noise = DEFAULT_NOISE;
        private double temperature = DEFAULT_TEMPERATURE;
        private boolean warmStart = DEFAULT_WARM_START;
        private int threads = DEFAULT_THREADS;
        private double[] low;
        private double[] high;

        Builder() {}

        /**
         * Sets the planner settings {@code map} names, keyed as {@link #settings()} lists them.
         *
         * @throws IllegalArgumentException for an unknown key or an unparsable value
         */
        public Builder settings(Map<String, String> map) {
            return SETTINGS.apply(map, this);
        }

        public Builder method(Method v) {
            method = v;
            return this;
        }

        public Builder horizon(int v) {
            horizon = v;
            return this;
        }

        public Builder candidates(int v) {
            candidates = v;
            return this;
        }

        public Builder iterations(int v) {
            iterations = v;
            return this;
        }

        public Builder elites(int v) {
            elites = v;
            return this;
        }

        public Builder noise(double v) {
            noise = v;
            return this;
        }

        public Builder temperature(double v) {
            temperature = v;
            return this;
        }

        public Builder warmStart(boolean v) {
            warmStart = v;
            return this;
        }

        public Builder threads(int v) {
            threads = v;
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
            return new MpcConfig(method, horizon, candidates, iterations, elites, noise, temperature, warmStart, threads, low, high);
        }
    }
}

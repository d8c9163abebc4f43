package io.metastream.core.mpc;

import io.metastream.core.internal.NdArrays;
import java.util.Arrays;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Sampling-based model-predictive control. Each call samples {@code candidates} action sequences of
 * length {@code horizon}, uniformly within the action bounds; with {@code cemIterations > 0} it then
 * refits a diagonal Gaussian (per step and action dimension) to the {@code elites} best sequences
 * and resamples from it, clipped to the bounds, for that many rounds (the cross-entropy method).
 * All candidates are rolled forward together: one batched dynamics call and one batched reward call
 * per horizon step. The plan is the best sequence seen in any round; {@link #act} returns its first
 * action.
 *
 * <h2>Threading and ownership</h2>
 * Not thread-safe: the planner owns its {@link Random}, and results are reproducible for a given
 * seed and call sequence. Use one planner per agent thread.
 */
public final class MpcPlanner {

    private final MpcConfig cfg;
    private final Random rng;

    /**
     * @param rng the planner's own seeded random source (not shared with other users)
     */
    public MpcPlanner(MpcConfig cfg, Random rng) {
        if (cfg == null) {
            throw new IllegalArgumentException("cfg is null; build one with MpcConfig.builder()");
        }
        if (rng == null) {
            throw new IllegalArgumentException("rng is null; pass a seeded java.util.Random owned by this planner");
        }
        this.cfg = cfg;
        this.rng = rng;
    }

    public MpcConfig config() {
        return cfg;
    }

    /** The first action of the best planned sequence from {@code obs}. */
    public double[] act(BatchDynamics model, BatchReward reward, double[] obs) {
        return plan(model, reward, obs).firstAction();
    }

    /**
     * Plans from {@code obs} and returns the best sequence with its predicted return.
     *
     * @throws IllegalArgumentException on null arguments or an empty or non-finite observation
     * @throws IllegalStateException when the model or reward returns arrays of the wrong size
     */
    public Plan plan(BatchDynamics model, BatchReward reward, double[] obs) {
        if (model == null || reward == null) {
            throw new IllegalArgumentException("model and reward must be non-null");
        }
        if (obs == null || obs.length == 0) {
            throw new IllegalArgumentException("obs must hold the current observation (>= 1 element)");
        }
        for (int j = 0; j < obs.length; j++) {
            if (!Double.isFinite(obs[j])) {
                throw new IllegalArgumentException("obs[" + j + "] is " + obs[j] + "; planning needs a finite observation");
            }
        }
        int n = cfg.candidates();
        int h = cfg.horizon();
        int a = cfg.actDim();
        double[] low = cfg.actionLow();
        double[] high = cfg.actionHigh();
        double[] start = new double[n * obs.length];
        for (int i = 0; i < n; i++) {
            System.arraycopy(obs, 0, start, i * obs.length, obs.length);
        }
        INDArray obs0 = NdArrays.matrix(start, n, obs.length);

        // sequences laid out [t][candidate][dim], so step t is one contiguous [n, a] block
        double[] seq = new double[h * n * a];
        for (int t = 0; t < h; t++) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < a; j++) {
                    seq[(t * n + i) * a + j] = low[j] + (high[j] - low[j]) * rng.nextDouble();
                }
            }
        }
        double[] mean = new double[h * a];
        double[] std = new double[h * a];
        double bestReturn = Double.NEGATIVE_INFINITY;
        double[] best = null;
        Integer[] order = new Integer[n];
        for (int round = 0; round <= cfg.cemIterations(); round++) {
            if (round > 0) {
                for (int t = 0; t < h; t++) {
                    for (int i = 0; i < n; i++) {
                        for (int j = 0; j < a; j++) {
                            double v = mean[t * a + j] + std[t * a + j] * rng.nextGaussian();
                            seq[(t * n + i) * a + j] = Math.min(high[j], Math.max(low[j], v));
                        }
                    }
                }
            }
            double[] returns = rollout(model, reward, obs0, seq, n, h, a, obs.length);
            for (int i = 0; i < n; i++) {
                if (best == null || returns[i] > bestReturn) {
                    bestReturn = returns[i];
                    best = extract(seq, i, n, h, a);
                }
            }
            if (round < cfg.cemIterations()) {
                for (int i = 0; i < n; i++) {
                    order[i] = i;
                }
                final double[] r = returns;
                Arrays.sort(order, (x, y) -> Double.compare(r[y], r[x]));
                refit(seq, order, cfg.elites(), n, h, a, low, high, mean, std);
            }
        }
        double[][] actions = new double[h][];
        for (int t = 0; t < h; t++) {
            actions[t] = Arrays.copyOfRange(best, t * a, (t + 1) * a);
        }
        return new Plan(actions, bestReturn);
    }

    private static double[] rollout(BatchDynamics model, BatchReward reward, INDArray obs0, double[] seq, int n, int h,
            int a, int obsDim) {
        INDArray acts = NdArrays.matrix(seq, h * n, a);
        double[] returns = new double[n];
        INDArray o = obs0;
        for (int t = 0; t < h; t++) {
            INDArray at = NdArrays.view(acts, (long) t * n * a, n, a);
            INDArray next = model.next(o, at);
            if (next == null || next.rank() != 2 || next.rows() != n || next.columns() != obsDim) {
                throw new IllegalStateException("BatchDynamics returned " + (next == null ? "null" : Arrays.toString(next.shape()))
                        + " for " + n + " candidates; it must return [n, obsDim] = [" + n + ", " + obsDim + "]");
            }
            INDArray r = reward.reward(o, at, next);
            if (r == null || r.length() != n) {
                throw new IllegalStateException("BatchReward returned " + (r == null ? "null" : Arrays.toString(r.shape()))
                        + " for " + n + " candidates; it must return [n] or [n, 1]");
            }
            double[] rv = NdArrays.toFlatArray(r);
            for (int i = 0; i < n; i++) {
                returns[i] += rv[i];
            }
            o = next;
        }
        for (int i = 0; i < n; i++) {
            if (Double.isNaN(returns[i])) {
                returns[i] = Double.NEGATIVE_INFINITY; // a diverging prediction never wins
            }
        }
        return returns;
    }

    private static double[] extract(double[] seq, int i, int n, int h, int a) {
        double[] out = new double[h * a];
        for (int t = 0; t < h; t++) {
            System.arraycopy(seq, (t * n + i) * a, out, t * a, a);
        }
        return out;
    }

    private static void refit(double[] seq, Integer[] order, int elites, int n, int h, int a, double[] low, double[] high,
            double[] mean, double[] std) {
        for (int t = 0; t < h; t++) {
            for (int j = 0; j < a; j++) {
                double s = 0;
                for (int e = 0; e < elites; e++) {
                    s += seq[(t * n + order[e]) * a + j];
                }
                double m = s / elites;
                double ss = 0;
                for (int e = 0; e < elites; e++) {
                    double d = seq[(t * n + order[e]) * a + j] - m;
                    ss += d * d;
                }
                mean[t * a + j] = m;
                // keep a little spread so a round never collapses to a single point
                std[t * a + j] = Math.max(Math.sqrt(ss / elites), 1e-3 * (high[j] - low[j]));
            }
        }
    }

    /**
     * A planned action sequence.
     *
     * @param actions the best sequence, {@code [horizon][actDim]}
     * @param predictedReturn its summed predicted reward (negative infinity if every candidate's
     *     prediction was NaN)
     */
    public record Plan(double[][] actions, double predictedReturn) {

        public Plan {
            double[][] copy = new double[actions.length][];
            for (int t = 0; t < actions.length; t++) {
                copy[t] = actions[t].clone();
            }
            actions = copy;
        }

        /** A copy of the sequence. */
        @Override
        public double[][] actions() {
            double[][] copy = new double[actions.length][];
            for (int t = 0; t < actions.length; t++) {
                copy[t] = actions[t].clone();
            }
            return copy;
        }

        /** The action to execute now. */
        public double[] firstAction() {
            return actions[0].clone();
        }
    }
}

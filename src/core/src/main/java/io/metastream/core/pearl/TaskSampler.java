package io.metastream.core.pearl;

import java.util.List;
import java.util.Random;

/**
 * Row layouts of one task's PEARL data and the sampling of a {@link TaskBatch} from them. The same code
 * serves the streaming task operator (whose keyed state holds the rows) and the offline benchmark loop,
 * so both feed the learner identically.
 *
 * <ul>
 *   <li>A <b>replay row</b> is {@code (s, a, r, s', done)}, width {@code 2·obsDim + actDim + 2}; r is the
 *       reward the critic learns from (the dense one where a family has two).</li>
 *   <li>A <b>context row</b> is {@code (s, a, r, s')}, width {@code 2·obsDim + actDim + 1}; r is the reward
 *       the encoder infers the task from (the sparse one where a family has two). Context rows come only
 *       from fresh exploration of the task (garage issue #1365: a context drawn from the whole replay
 *       mixes data of old policies and breaks the posterior at test time).</li>
 *   <li>With {@link PearlConfig#contextPreviousReward()} a context row is {@code (s, a, r, s', r₋, k)},
 *       width {@code 2·obsDim + actDim + 3}: r₋ is the reward (of the same kind as r) of the episode's
 *       previous step, that is the reward at s, and k is 1; for an episode's first step, or when the
 *       previous step is unknown, r₋ = 0 and k = 0. Reward at s and at s' together tell the encoder
 *       how the reward changed along a, which one (s, a, r, s') cannot.</li>
 * </ul>
 */
public final class TaskSampler {

    private TaskSampler() {}

    /** Width of a replay row. */
    public static int replayWidth(int obsDim, int actDim) {
        return 2 * obsDim + actDim + 2;
    }

    /** A replay row {@code (s, a, r, s', done)}. */
    public static double[] replayRow(double[] s, double[] a, double r, double[] next, boolean done) {
        double[] row = new double[2 * s.length + a.length + 2];
        System.arraycopy(s, 0, row, 0, s.length);
        System.arraycopy(a, 0, row, s.length, a.length);
        row[s.length + a.length] = r;
        System.arraycopy(next, 0, row, s.length + a.length + 1, next.length);
        row[row.length - 1] = done ? 1.0 : 0.0;
        return row;
    }

    /** Width of a context row, with or without the previous reward and its flag. */
    public static int contextWidth(int obsDim, int actDim, boolean previousReward) {
        return 2 * obsDim + actDim + 1 + (previousReward ? 2 : 0);
    }

    /**
     * A context row in the layout {@code cfg} asks for: {@code (s, a, r, s')}, or with
     * {@code contextPreviousReward} {@code (s, a, r, s', r₋, 1)}, or {@code (s, a, r, s', 0, 0)} when
     * {@code previousReward} is NaN (unknown: the episode's first step).
     */
    public static double[] contextRow(PearlConfig cfg, double[] s, double[] a, double r, double[] next,
            double previousReward) {
        return contextRow(cfg.contextPreviousReward(), s, a, r, next, previousReward);
    }

    /** As {@link #contextRow(PearlConfig, double[], double[], double, double[], double)}, the layout given by a flag. */
    public static double[] contextRow(boolean withPreviousReward, double[] s, double[] a, double r, double[] next,
            double previousReward) {
        double[] base = contextRow(s, a, r, next);
        if (!withPreviousReward) {
            return base;
        }
        double[] row = java.util.Arrays.copyOf(base, base.length + 2);
        if (!Double.isNaN(previousReward)) {
            row[base.length] = previousReward;
            row[base.length + 1] = 1.0;
        }
        return row;
    }

    /** A context row {@code (s, a, r, s')}. */
    public static double[] contextRow(double[] s, double[] a, double r, double[] next) {
        double[] row = new double[2 * s.length + a.length + 1];
        System.arraycopy(s, 0, row, 0, s.length);
        System.arraycopy(a, 0, row, s.length, a.length);
        row[s.length + a.length] = r;
        System.arraycopy(next, 0, row, s.length + a.length + 1, next.length);
        return row;
    }

    /**
     * Samples one task's batch as {@code cfg} says: {@code batchSize} replay rows uniformly with
     * replacement (as oyster's samplers do), and the context batch by {@link PearlConfig#minContextSize()} (uniform rows, or a
     * contiguous run of {@code minContextSize..contextSize} rows).
     *
     * @throws IllegalArgumentException when either list is empty or a row has the wrong width
     */
    public static TaskBatch sample(List<double[]> replay, List<double[]> context, PearlConfig cfg, Random rng) {
        requireRows(replay, context);
        return batch(contextBatch(context, cfg, rng), pick(replay, cfg.batchSize(), rng), cfg.obsDim(), cfg.actDim());
    }

    /** The context rows of one task batch, drawn as {@link PearlConfig#minContextSize()} says. */
    public static double[][] contextBatch(List<double[]> context, PearlConfig cfg, Random rng) {
        return cfg.minContextSize() == 0 ? pick(context, cfg.contextSize(), rng)
                : window(context, cfg.minContextSize(), cfg.contextSize(), rng);
    }

    /**
     * The task batch of given context rows and replay rows (the layouts above).
     *
     * @throws IllegalArgumentException when a row is null or has the wrong width, or a value is not finite
     */
    public static TaskBatch batch(double[][] contextRows, double[][] replayRows, int obsDim, int actDim) {
        int rw = replayWidth(obsDim, actDim);
        int cw = contextRows.length > 0 && contextRows[0] != null
                && contextRows[0].length == contextWidth(obsDim, actDim, true) ? contextWidth(obsDim, actDim, true) : rw - 1;
        for (double[] row : contextRows) {
            checkWidth(row, cw, "context");
        }
        int n = replayRows.length;
        double[][] obs = new double[n][obsDim];
        double[][] act = new double[n][actDim];
        double[] rew = new double[n];
        double[][] next = new double[n][obsDim];
        double[] done = new double[n];
        for (int i = 0; i < n; i++) {
            double[] row = replayRows[i];
            checkWidth(row, rw, "replay");
            System.arraycopy(row, 0, obs[i], 0, obsDim);
            System.arraycopy(row, obsDim, act[i], 0, actDim);
            rew[i] = row[obsDim + actDim];
            System.arraycopy(row, obsDim + actDim + 1, next[i], 0, obsDim);
            done[i] = row[rw - 1];
        }
        return TaskBatch.of(contextRows, obs, act, rew, next, done);
    }

    /**
     * A contiguous run of the rows (shared, not copied): its length uniform in
     * {@code [min(minRows, size), min(maxRows, size)]}, its start uniform among the places it fits. Rows
     * kept in arrival order make such a run the transitions of one or a few consecutive episodes, which
     * is what a task's context is at test time, after one or two exploration episodes.
     *
     * @throws IllegalArgumentException when there are no rows, or {@code minRows} is not in {@code [1, maxRows]}
     */
    public static double[][] window(List<double[]> rows, int minRows, int maxRows, Random rng) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("cannot sample from no rows");
        }
        if (minRows < 1 || minRows > maxRows) {
            throw new IllegalArgumentException("window length range [" + minRows + ", " + maxRows
                    + "] is empty or starts below 1");
        }
        int hi = Math.min(maxRows, rows.size());
        int lo = Math.min(minRows, hi);
        int n = lo + rng.nextInt(hi - lo + 1);
        int start = rng.nextInt(rows.size() - n + 1);
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) {
            out[i] = rows.get(start + i);
        }
        return out;
    }

    /** {@code n} rows drawn uniformly with replacement (shared, not copied). */
    public static double[][] pick(List<double[]> rows, int n, Random rng) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("cannot sample from no rows");
        }
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) {
            out[i] = rows.get(rng.nextInt(rows.size()));
        }
        return out;
    }

    private static void requireRows(List<double[]> replay, List<double[]> context) {
        if (replay == null || replay.isEmpty()) {
            throw new IllegalArgumentException("the task's replay is empty; collect transitions before sampling");
        }
        if (context == null || context.isEmpty()) {
            throw new IllegalArgumentException("the task's context is empty; collect exploration transitions before sampling");
        }
    }

    private static void checkWidth(double[] row, int width, String what) {
        if (row == null || row.length != width) {
            throw new IllegalArgumentException(what + " row has " + (row == null ? "no" : row.length) + " values but "
                    + width + " are required");
        }
    }
}

package io.metastream.core.pearl;

/**
 * One task's sample for a {@link PearlLearner} step: a context (transitions {@code (s, a, r, s')}
 * the encoder infers z from, taken from recent exploration of the task) and an RL batch (from the
 * task's replay) on which the SAC losses are computed.
 *
 * <p>Immutable and thread-safe: the factory copies every array into private row-major storage.
 */
public final class TaskBatch {

    private final int obsDim;
    private final int actDim;
    private final int contextRows;
    private final int contextDim;
    private final int size;
    private final double[] context;
    private final double[] obs;
    private final double[] act;
    private final double[] reward;
    private final double[] nextObs;
    private final double[] done;

    private TaskBatch(int obsDim, int actDim, int contextRows, int contextDim, int size, double[] context, double[] obs, double[] act,
            double[] reward, double[] nextObs, double[] done) {
        this.obsDim = obsDim;
        this.actDim = actDim;
        this.contextRows = contextRows;
        this.contextDim = contextDim;
        this.size = size;
        this.context = context;
        this.obs = obs;
        this.act = act;
        this.reward = reward;
        this.nextObs = nextObs;
        this.done = done;
    }

    /**
     * @param context {@code [C][2·obsDim + actDim + 1]} rows {@code (s, a, r, s')}, C ≥ 1
     * @param obs {@code [B][obsDim]}, B ≥ 1
     * @param act {@code [B][actDim]}, in {@code [-1, 1]}
     * @param reward {@code [B]}
     * @param nextObs {@code [B][obsDim]}
     * @param done {@code [B]}, 1 where the episode terminated at {@code nextObs} (not at a time limit), else 0
     * @throws IllegalArgumentException when an array is null or empty, shapes disagree, or a value is
     *     not finite; the message names the array, row and column
     */
    public static TaskBatch of(double[][] context, double[][] obs, double[][] act, double[] reward, double[][] nextObs,
            double[] done) {
        if (context == null || obs == null || act == null || reward == null || nextObs == null || done == null) {
            throw new IllegalArgumentException("context, obs, act, reward, nextObs and done must all be non-null");
        }
        if (context.length == 0) {
            throw new IllegalArgumentException("context is empty; a task needs at least one context transition "
                    + "(agents use the prior until they have one)");
        }
        int b = obs.length;
        if (b == 0) {
            throw new IllegalArgumentException("obs is empty; the RL batch needs at least one transition");
        }
        if (act.length != b || reward.length != b || nextObs.length != b || done.length != b) {
            throw new IllegalArgumentException("the RL batch arrays need one entry per transition: obs has " + b
                    + " rows, act " + act.length + ", reward " + reward.length + ", nextObs " + nextObs.length + ", done "
                    + done.length);
        }
        if (obs[0] == null || obs[0].length == 0 || act[0] == null || act[0].length == 0) {
            throw new IllegalArgumentException("obs[0] and act[0] must be non-empty rows");
        }
        int obsDim = obs[0].length;
        int actDim = act[0].length;
        int contextDim = context[0] == null ? -1 : context[0].length;
        if (contextDim != TaskSampler.contextWidth(obsDim, actDim, false)
                && contextDim != TaskSampler.contextWidth(obsDim, actDim, true)) {
            throw new IllegalArgumentException("context[0] has " + contextDim + " values; a context row has "
                    + TaskSampler.contextWidth(obsDim, actDim, false) + " (s, a, r, s') or "
                    + TaskSampler.contextWidth(obsDim, actDim, true) + " (with the previous reward and its flag)");
        }
        double[] doneCopy = flatten1(done, "done");
        for (int r = 0; r < b; r++) {
            if (doneCopy[r] != 0.0 && doneCopy[r] != 1.0) {
                throw new IllegalArgumentException("done[" + r + "] is " + doneCopy[r] + "; use 1 for a terminal transition, else 0");
            }
        }
        return new TaskBatch(obsDim, actDim, context.length, contextDim, b, flatten(context, contextDim, "context"),
                flatten(obs, obsDim, "obs"), flatten(act, actDim, "act"), flatten1(reward, "reward"),
                flatten(nextObs, obsDim, "nextObs"), doneCopy);
    }

    private static double[] flatten(double[][] rows, int width, String what) {
        double[] out = new double[rows.length * width];
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] == null || rows[r].length != width) {
                throw new IllegalArgumentException(what + " row " + r + " has " + (rows[r] == null ? "no" : rows[r].length)
                        + " values but " + width + " are required" + (what.equals("context")
                        ? " (every context row as wide as the first)" : ""));
            }
            for (int c = 0; c < width; c++) {
                double v = rows[r][c];
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException(what + "[" + r + "][" + c + "] is " + v + "; every value must be finite");
                }
                out[r * width + c] = v;
            }
        }
        return out;
    }

    private static double[] flatten1(double[] values, String what) {
        for (int r = 0; r < values.length; r++) {
            if (!Double.isFinite(values[r])) {
                throw new IllegalArgumentException(what + "[" + r + "] is " + values[r] + "; every value must be finite");
            }
        }
        return values.clone();
    }

    public int obsDim() {
        return obsDim;
    }

    public int actDim() {
        return actDim;
    }

    /** Width of a context row: {@code 2·obsDim + actDim + 1}, plus 2 with the previous reward. */
    public int contextDim() {
        return contextDim;
    }

    /** Number of context transitions C. */
    public int contextRows() {
        return contextRows;
    }

    /** Number of RL transitions B. */
    public int size() {
        return size;
    }

    // row-major storage, read by the learner without copying; never mutated
    double[] contextData() {
        return context;
    }

    double[] obsData() {
        return obs;
    }

    double[] actData() {
        return act;
    }

    double[] rewardData() {
        return reward;
    }

    double[] nextObsData() {
        return nextObs;
    }

    double[] doneData() {
        return done;
    }

    /**
     * A synthetic task sample of {@code cfg}'s sizes (Gaussian observations, context and rewards times
     * {@code rewardScale}, actions uniform in [-1, 1], one step in ten terminal), for benchmarks and tests
     * of the learner's arithmetic. Draws from {@code rng} only.
     */
    public static TaskBatch random(PearlConfig cfg, java.util.Random rng, int contextRows, int size, double rewardScale) {
        double[][] ctx = new double[contextRows][cfg.contextDim()];
        for (double[] row : ctx) {
            for (int c = 0; c < row.length; c++) {
                row[c] = rng.nextGaussian();
            }
        }
        double[][] obs = new double[size][cfg.obsDim()];
        double[][] act = new double[size][cfg.actDim()];
        double[][] next = new double[size][cfg.obsDim()];
        double[] rew = new double[size];
        double[] done = new double[size];
        for (int r = 0; r < size; r++) {
            for (int c = 0; c < cfg.obsDim(); c++) {
                obs[r][c] = rng.nextGaussian();
                next[r][c] = rng.nextGaussian();
            }
            for (int c = 0; c < cfg.actDim(); c++) {
                act[r][c] = 2 * rng.nextDouble() - 1;
            }
            rew[r] = rewardScale * rng.nextGaussian();
            done[r] = rng.nextInt(10) == 0 ? 1 : 0;
        }
        return of(ctx, obs, act, rew, next, done);
    }

    /** {@code cfg.metaBatch()} synthetic task samples at the configured context and batch sizes, seeded. */
    public static java.util.List<TaskBatch> randomMetaBatch(PearlConfig cfg, long seed) {
        java.util.Random rng = new java.util.Random(seed);
        java.util.List<TaskBatch> out = new java.util.ArrayList<>();
        for (int t = 0; t < cfg.metaBatch(); t++) {
            out.add(random(cfg, rng, cfg.contextSize(), cfg.batchSize(), 1.0));
        }
        return out;
    }
}

package io.metastream.core.mpc;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Sampling-based model-predictive control over a learned batched model, for one agent
 * ({@link #plan}) or for many agents at once ({@link #planAll}). Three methods ({@link MpcConfig.Method}):
 * <ul>
 *   <li><b>random shooting</b>: {@code candidates} sequences uniform within the action bounds each round;
 *       the best sequence seen is the plan;
 *   <li><b>CEM</b>: the first round samples around the warm start (uniformly without one), every round
 *       refits a diagonal Gaussian per step and action dimension to the {@code elites} best sequences and
 *       the next round samples from it, clipped to the bounds; the best sequence seen is the plan;
 *   <li><b>MPPI</b>: each round perturbs the current plan with Gaussian noise ({@code noise} × half
 *       range), clips, and moves the plan to the mean of the sequences weighted by
 *       {@code exp((R − R_max) / (temperature · std R))}; the final mean is the plan.
 * </ul>
 * With {@code warmStart} each planner keeps its plan, shifted by one step (the last step repeated), as
 * the next call's starting point; the unperturbed warm plan is always one of the candidates. Call
 * {@link #reset()} when the agent starts a new episode or its task changes.
 *
 * <p>All candidates of all agents are rolled forward together, one horizon step at a time: per step one
 * {@link BatchDynamics} call per distinct model over the rows of every agent using it (agents sharing a
 * model form one call), and one {@link BatchReward} call per run of agents sharing a reward. A
 * sequence whose predicted return is NaN never wins.
 *
 * <h2>Threading and ownership</h2>
 * Not thread-safe: a planner owns its {@link Random} and its warm start, and results are reproducible
 * for a given seed and call sequence. Use one planner per agent. {@link #planAll} plans a batch on the
 * calling thread, or with {@code threads > 1} splits it into that many parts planned at once (the
 * caller's thread and shared daemon threads); each agent's plan is the same either way.
 */
public final class MpcPlanner {

    private final MpcConfig cfg;
    private final Random rng;
    /** The previous plan shifted by one step, [horizon · actDim]; null without one. */
    private double[] warm;

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

    /** Forgets the warm start: the next call plans from scratch (new episode, new task). */
    public void reset() {
        warm = null;
    }

    /** The first action of the plan from {@code obs}. */
    public double[] act(BatchDynamics model, BatchReward reward, double[] obs) {
        return plan(model, reward, obs).firstAction();
    }

    /** The first action of the plan from {@code obs}, the rollouts projected by {@code projection} (may be null). */
    public double[] act(BatchDynamics model, BatchReward reward, BatchProjection projection, double[] obs) {
        return planAll(List.of(new Request(this, model, reward, obs, projection))).get(0).firstAction();
    }

    /**
     * Plans from {@code obs}.
     *
     * @throws IllegalArgumentException on null arguments or an empty or non-finite observation
     */
    public Plan plan(BatchDynamics model, BatchReward reward, double[] obs) {
        return planAll(List.of(new Request(this, model, reward, obs))).get(0);
    }

    /**
     * One agent's planning call in a {@link #planAll} batch.
     *
     * @param planner the agent's planner (its settings, random source and warm start)
     * @param dynamics the model to plan with; agents passing the same instance are rolled out in one call
     * @param reward the agent's task reward
     * @param obs the agent's current observation
     * @param projection applied to the rows of this agent's candidates after every model step (see
     *     {@link BatchProjection}); {@link BatchProjection#NONE} or null for none
     */
    public record Request(MpcPlanner planner, BatchDynamics dynamics, BatchReward reward, double[] obs,
            BatchProjection projection) {

        /** A request whose rollouts are not projected. */
        public Request(MpcPlanner planner, BatchDynamics dynamics, BatchReward reward, double[] obs) {
            this(planner, dynamics, reward, obs, null);
        }
    }

    /**
     * Plans for every request together; the plans come back in the order of the requests. Every
     * planner must have the same horizon, candidates and action size, and may appear once.
     *
     * @throws IllegalArgumentException on a missing part, an empty or non-finite observation,
     *     observations of different sizes, planners whose settings differ, or a planner used twice
     */
    public static List<Plan> planAll(List<Request> requests) {
        if (requests == null || requests.isEmpty()) {
            throw new IllegalArgumentException("planAll needs at least one request");
        }
        MpcConfig cfg = check(requests);
        int parts = Math.min(cfg.threads(), requests.size());
        if (parts == 1) {
            return planTogether(requests, cfg);
        }
        // agents are independent: split them into contiguous parts, the caller plans the first
        int[] order = groupByModel(requests);
        List<List<Request>> split = new ArrayList<>();
        List<int[]> slots = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            int from = p * order.length / parts;
            int to = (p + 1) * order.length / parts;
            int[] idx = Arrays.copyOfRange(order, from, to);
            List<Request> part = new ArrayList<>(idx.length);
            for (int i : idx) {
                part.add(requests.get(i));
            }
            split.add(part);
            slots.add(idx);
        }
        List<java.util.concurrent.Future<List<Plan>>> others = new ArrayList<>();
        for (int p = 1; p < parts; p++) {
            List<Request> part = split.get(p);
            others.add(Workers.POOL.submit(() -> planTogether(part, cfg)));
        }
        Plan[] plans = new Plan[requests.size()];
        List<Plan> first = planTogether(split.get(0), cfg);
        for (int k = 0; k < first.size(); k++) {
            plans[slots.get(0)[k]] = first.get(k);
        }
        for (int p = 1; p < parts; p++) {
            List<Plan> got;
            try {
                got = others.get(p - 1).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the planner's other threads", e);
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw new IllegalStateException("a planner thread failed", e.getCause());
            }
            for (int k = 0; k < got.size(); k++) {
                plans[slots.get(p)[k]] = got.get(k);
            }
        }
        return List.of(plans);
    }

    /** Daemon threads shared by every planner that plans a batch on more than one thread. */
    private static final class Workers {
        static final java.util.concurrent.ExecutorService POOL = java.util.concurrent.Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "metastream-planner");
            t.setDaemon(true);
            return t;
        });
    }

    private static List<Plan> planTogether(List<Request> requests, MpcConfig cfg) {
        int b = requests.size();
        int n = cfg.candidates();
        int h = cfg.horizon();
        int a = cfg.actDim();
        int o = requests.get(0).obs().length;
        // rows of agents that share a model are adjacent: one dynamics call per model and horizon step
        int[] order = groupByModel(requests);
        Work[] work = new Work[b];
        for (int slot = 0; slot < b; slot++) {
            work[slot] = new Work(requests.get(order[slot]), slot * n, cfg);
        }
        int rows = b * n;
        double[][] seq = new double[h][rows * a];
        double[] start = new double[rows * o];
        for (Work w : work) {
            for (int i = 0; i < n; i++) {
                System.arraycopy(w.request.obs(), 0, start, (w.from + i) * o, o);
            }
        }
        double[] cur = new double[rows * o];
        double[] next = new double[rows * o];
        double[] reward = new double[rows];
        double[] returns = new double[rows];
        for (int round = 0; round < cfg.iterations(); round++) {
            for (Work w : work) {
                w.sample(seq, round);
            }
            System.arraycopy(start, 0, cur, 0, cur.length);
            Arrays.fill(returns, 0.0);
            for (int t = 0; t < h; t++) {
                predict(work, cur, seq[t], next, n, o);
                score(work, cur, seq[t], next, reward, n);
                for (int r = 0; r < rows; r++) {
                    returns[r] += reward[r];
                }
                double[] swap = cur;
                cur = next;
                next = swap;
            }
            for (int r = 0; r < rows; r++) {
                if (Double.isNaN(returns[r])) {
                    returns[r] = Double.NEGATIVE_INFINITY; // a diverging prediction never wins
                }
            }
            for (Work w : work) {
                w.update(seq, returns, round);
            }
        }
        Plan[] plans = new Plan[b];
        for (int slot = 0; slot < b; slot++) {
            plans[order[slot]] = work[slot].finish();
        }
        return List.of(plans);
    }

    private static MpcConfig check(List<Request> requests) {
        MpcConfig first = null;
        int obsDim = -1;
        Map<MpcPlanner, Boolean> seen = new IdentityHashMap<>();
        for (int i = 0; i < requests.size(); i++) {
            Request q = requests.get(i);
            if (q == null || q.planner() == null || q.dynamics() == null || q.reward() == null) {
                throw new IllegalArgumentException("request " + i + " lacks its planner, model or reward; all must be non-null");
            }
            double[] obs = q.obs();
            if (obs == null || obs.length == 0) {
                throw new IllegalArgumentException("request " + i + ": obs must hold the current observation (>= 1 element)");
            }
            for (int j = 0; j < obs.length; j++) {
                if (!Double.isFinite(obs[j])) {
                    throw new IllegalArgumentException("request " + i + ": obs[" + j + "] is " + obs[j]
                            + "; planning needs a finite observation");
                }
            }
            MpcConfig c = q.planner().cfg;
            if (first == null) {
                first = c;
                obsDim = obs.length;
            } else if (c.horizon() != first.horizon() || c.candidates() != first.candidates() || c.actDim() != first.actDim()
                    || c.iterations() != first.iterations() || c.threads() != first.threads()) {
                throw new IllegalArgumentException("request " + i + "'s planner has horizon " + c.horizon() + ", "
                        + c.candidates() + " candidates, " + c.iterations() + " iterations and " + c.actDim()
                        + " action dimensions, request 0's " + first.horizon() + ", " + first.candidates() + ", "
                        + first.iterations() + " and " + first.actDim() + "; plan them in separate batches");
            } else if (obs.length != obsDim) {
                throw new IllegalArgumentException("request " + i + " has " + obs.length + " observation values, request 0 "
                        + obsDim + "; plan agents of different families in separate batches");
            }
            if (seen.put(q.planner(), Boolean.TRUE) != null) {
                throw new IllegalArgumentException("request " + i + " uses a planner already in the batch; each agent "
                        + "needs its own planner (it holds the agent's warm start)");
            }
        }
        return first;
    }

    private static int[] groupByModel(List<Request> requests) {
        Map<BatchDynamics, List<Integer>> groups = new IdentityHashMap<>();
        List<BatchDynamics> firstSeen = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            BatchDynamics d = requests.get(i).dynamics();
            groups.computeIfAbsent(d, k -> {
                firstSeen.add(k);
                return new ArrayList<>();
            }).add(i);
        }
        int[] order = new int[requests.size()];
        int k = 0;
        for (BatchDynamics d : firstSeen) {
            for (int i : groups.get(d)) {
                order[k++] = i;
            }
        }
        return order;
    }

    private static void predict(Work[] work, double[] cur, double[] act, double[] next, int n, int o) {
        int i = 0;
        while (i < work.length) {
            BatchDynamics d = work[i].request.dynamics();
            int j = i + 1;
            while (j < work.length && work[j].request.dynamics() == d) {
                j++;
            }
            int from = work[i].from;
            int rows = (j - i) * n;
            d.next(cur, act, from, rows, next);
            for (int k = i; k < j; k++) {
                BatchProjection p = work[k].request.projection();
                if (p != null) {
                    p.project(next, work[k].from, n);
                }
            }
            i = j;
        }
    }

    private static void score(Work[] work, double[] cur, double[] act, double[] next, double[] reward, int n) {
        int i = 0;
        while (i < work.length) {
            BatchReward r = work[i].request.reward();
            int j = i + 1;
            while (j < work.length && work[j].request.reward() == r) {
                j++;
            }
            r.reward(cur, act, next, work[i].from, (j - i) * n, reward);
            i = j;
        }
    }

    /** One agent's search within a {@link #planAll} call. */
    private static final class Work {
        final Request request;
        final int from;
        final MpcConfig cfg;
        final MpcPlanner planner;
        final int h;
        final int n;
        final int a;
        final double[] low;
        final double[] high;
        /** CEM's and MPPI's current mean sequence, [h · a]. */
        final double[] mean;
        /** CEM's current standard deviations, [h · a]. */
        final double[] std;
        final boolean warm;
        double[] best;
        double bestReturn = Double.NEGATIVE_INFINITY;

        Work(Request request, int from, MpcConfig cfg) {
            this.request = request;
            this.from = from;
            this.cfg = cfg;
            this.planner = request.planner();
            this.h = cfg.horizon();
            this.n = cfg.candidates();
            this.a = cfg.actDim();
            this.low = planner.cfg.actionLow();
            this.high = planner.cfg.actionHigh();
            this.mean = new double[h * a];
            this.std = new double[h * a];
            this.warm = planner.cfg.warmStart() && planner.warm != null;
            for (int t = 0; t < h; t++) {
                for (int j = 0; j < a; j++) {
                    mean[t * a + j] = warm ? planner.warm[t * a + j] : 0.5 * (low[j] + high[j]);
                    std[t * a + j] = planner.cfg.noise() * 0.5 * (high[j] - low[j]);
                }
            }
        }

        void sample(double[][] seq, int round) {
            Random rng = planner.rng;
            MpcConfig.Method method = planner.cfg.method();
            boolean uniform = method == MpcConfig.Method.RANDOM_SHOOTING || (method == MpcConfig.Method.CEM && round == 0 && !warm);
            for (int i = 0; i < n; i++) {
                int row = from + i;
                // candidate 0 is the unperturbed warm plan (random shooting) or current mean (CEM, MPPI)
                boolean keepMean = i == 0 && (method != MpcConfig.Method.RANDOM_SHOOTING ? !(uniform) : warm && round == 0);
                for (int t = 0; t < h; t++) {
                    double[] s = seq[t];
                    for (int j = 0; j < a; j++) {
                        double v;
                        if (keepMean) {
                            v = mean[t * a + j];
                        } else if (uniform) {
                            v = low[j] + (high[j] - low[j]) * rng.nextDouble();
                        } else {
                            v = mean[t * a + j] + std[t * a + j] * rng.nextGaussian();
                        }
                        s[row * a + j] = v < low[j] ? low[j] : (v > high[j] ? high[j] : v);
                    }
                }
            }
        }

        void update(double[][] seq, double[] returns, int round) {
            for (int i = 0; i < n; i++) {
                double r = returns[from + i];
                if (best == null || r > bestReturn) {
                    bestReturn = r;
                    best = extract(seq, from + i);
                }
            }
            switch (planner.cfg.method()) {
                case RANDOM_SHOOTING -> { }
                case CEM -> refit(seq, returns);
                case MPPI -> reweight(seq, returns);
                default -> throw new IllegalStateException("unknown method " + planner.cfg.method());
            }
        }

        private double[] extract(double[][] seq, int row) {
            double[] out = new double[h * a];
            for (int t = 0; t < h; t++) {
                System.arraycopy(seq[t], row * a, out, t * a, a);
            }
            return out;
        }

        private void refit(double[][] seq, double[] returns) {
            Integer[] idx = new Integer[n];
            for (int i = 0; i < n; i++) {
                idx[i] = i;
            }
            Arrays.sort(idx, (x, y) -> Double.compare(returns[from + y], returns[from + x]));
            int e = planner.cfg.elites();
            for (int t = 0; t < h; t++) {
                for (int j = 0; j < a; j++) {
                    double s = 0;
                    for (int k = 0; k < e; k++) {
                        s += seq[t][(from + idx[k]) * a + j];
                    }
                    double m = s / e;
                    double ss = 0;
                    for (int k = 0; k < e; k++) {
                        double d = seq[t][(from + idx[k]) * a + j] - m;
                        ss += d * d;
                    }
                    mean[t * a + j] = m;
                    // keep a little spread so a round never collapses to a single point
                    std[t * a + j] = Math.max(Math.sqrt(ss / e), 1e-3 * (high[j] - low[j]));
                }
            }
        }

        private void reweight(double[][] seq, double[] returns) {
            double max = Double.NEGATIVE_INFINITY;
            double sum = 0;
            int finite = 0;
            for (int i = 0; i < n; i++) {
                double r = returns[from + i];
                if (r > Double.NEGATIVE_INFINITY && r < Double.POSITIVE_INFINITY) {
                    max = Math.max(max, r);
                    sum += r;
                    finite++;
                }
            }
            if (finite == 0) {
                return; // every prediction diverged: keep the plan
            }
            double avg = sum / finite;
            double var = 0;
            for (int i = 0; i < n; i++) {
                double r = returns[from + i];
                if (r > Double.NEGATIVE_INFINITY && r < Double.POSITIVE_INFINITY) {
                    var += (r - avg) * (r - avg);
                }
            }
            double scale = planner.cfg.temperature() * Math.sqrt(var / finite);
            double[] w = new double[n];
            double total = 0;
            for (int i = 0; i < n; i++) {
                double r = returns[from + i];
                if (r > Double.NEGATIVE_INFINITY && r < Double.POSITIVE_INFINITY) {
                    w[i] = scale > 0 ? Math.exp((r - max) / scale) : 1.0;
                    total += w[i];
                }
            }
            Arrays.fill(mean, 0.0);
            for (int i = 0; i < n; i++) {
                if (w[i] == 0) {
                    continue;
                }
                double wi = w[i] / total;
                int row = from + i;
                for (int t = 0; t < h; t++) {
                    for (int j = 0; j < a; j++) {
                        mean[t * a + j] += wi * seq[t][row * a + j];
                    }
                }
            }
        }

        Plan finish() {
            double[] chosen = planner.cfg.method() == MpcConfig.Method.MPPI ? mean : best;
            if (planner.cfg.warmStart()) {
                double[] shifted = new double[h * a];
                double[] from = planner.cfg.method() == MpcConfig.Method.CEM ? mean : chosen;
                System.arraycopy(from, a, shifted, 0, (h - 1) * a);
                System.arraycopy(from, (h - 1) * a, shifted, (h - 1) * a, a);
                planner.warm = shifted;
            }
            double[][] actions = new double[h][];
            for (int t = 0; t < h; t++) {
                actions[t] = Arrays.copyOfRange(chosen, t * a, (t + 1) * a);
            }
            return new Plan(actions, bestReturn);
        }
    }

    /**
     * A planned action sequence.
     *
     * @param actions the plan, {@code [horizon][actDim]}
     * @param predictedReturn the best summed predicted reward among the sequences evaluated (negative
     *     infinity if every candidate's prediction was NaN)
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

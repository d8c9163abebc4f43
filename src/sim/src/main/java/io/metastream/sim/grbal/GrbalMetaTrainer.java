package io.metastream.sim.grbal;

import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.grbal.GrbalConfig;
import io.metastream.core.grbal.GrbalLearner;
import io.metastream.core.grbal.Segment;
import io.metastream.core.mpc.BatchDynamics;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.core.mpc.MpcPlanner;
import io.metastream.sim.Environment;
import io.metastream.sim.StepResult;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * GrBAL meta-training in one seeded loop, with the data path of the streaming job and its fleet but no
 * Kafka or Flink: one agent per training task acts in lock-step (uniformly random until the learner's
 * first outer step, then MPC with its task's model, a random action with probability
 * {@code randomActionProbability}); the task's model is θ adapted on the task's last M transitions,
 * re-adapted every {@code adaptEvery} of them (the job's task operator adapts once per checkpoint instead,
 * which on a fleet at the local run's pace is every few transitions of a task); every
 * {@code segmentStride} new transitions of a task the learner is offered the last M + K of them plus
 * {@code replaySegments} windows drawn from the task's last {@code replayCapacity} (the job's
 * {@code segment-stride}, {@code replay-segments}, {@code replay-capacity}); the agents' θ is refreshed
 * every {@code publishEvery} outer steps (the learner's {@code publish-every}). So the data is on-policy
 * in the paper's sense: MPC rollouts under the adapted model, mixed with random actions.
 *
 * <p>Single-threaded apart from the planner's {@code threads}; a seed reproduces every number.
 */
public final class GrbalMetaTrainer {

    /** The data-path settings; the learner's are its {@link GrbalConfig}. */
    public record Schedule(long envSteps, int segmentStride, int replaySegments, int replayCapacity, int adaptEvery,
            int publishEvery, double randomActionProbability, MpcConfig mpc) {
        public Schedule {
            Objects.requireNonNull(mpc, "mpc");
            if (envSteps < 1 || segmentStride < 1 || replaySegments < 0 || replayCapacity < 1 || adaptEvery < 1
                    || publishEvery < 1 || !(randomActionProbability >= 0 && randomActionProbability <= 1)) {
                throw new IllegalArgumentException("invalid schedule " + this + ": counts must be >= 1 (replaySegments >= 0) "
                        + "and randomActionProbability in [0, 1]");
            }
        }
    }

    /**
     * What meta-training produced.
     *
     * @param theta the final meta-model
     * @param data every transition, one segment per task in time order (for a non-meta baseline)
     * @param envSteps environment steps taken
     * @param outerSteps the learner's outer steps
     * @param curve per refresh: {env steps, pre-adaptation loss, post-adaptation loss} of the last outer step
     * @param seconds wall time
     */
    public record Result(DynamicsModel theta, List<Segment> data, long envSteps, long outerSteps, List<double[]> curve,
            double seconds) {}

    private GrbalMetaTrainer() {}

    /**
     * Meta-trains on {@code tasks} (one agent each).
     *
     * @param progress receives a line about every 10% of the steps; may be a no-op
     */
    public static Result train(TaskFamily family, List<TaskSpec> tasks, GrbalConfig cfg, Schedule s, long seed,
            Consumer<String> progress) {
        Objects.requireNonNull(family, "family");
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("no training tasks");
        }
        if (cfg.obsDim() != family.obsDim() || cfg.actDim() != family.actDim()) {
            throw new IllegalArgumentException("the GrbalConfig's sizes " + cfg.obsDim() + "/" + cfg.actDim() + " are not family "
                    + family.name() + "'s " + family.obsDim() + "/" + family.actDim());
        }
        long started = System.nanoTime();
        int n = tasks.size();
        int m = cfg.adaptWindow();
        int window = cfg.windowLength();
        SplittableRandom seeds = new SplittableRandom(seed);
        Random rng = new Random(seeds.nextLong());
        GrbalLearner learner = new GrbalLearner(cfg);
        Environment[] envs = new Environment[n];
        MpcPlanner[] planners = new MpcPlanner[n];
        List<List<double[][]>> history = new ArrayList<>();
        double[][] obs = new double[n][];
        DynamicsModel[] adapted = new DynamicsModel[n];
        int[] sinceAdapt = new int[n];
        for (int i = 0; i < n; i++) {
            envs[i] = family.create(tasks.get(i), seeds.nextLong());
            planners[i] = new MpcPlanner(s.mpc(), new Random(seeds.nextLong()));
            obs[i] = envs[i].reset();
            history.add(new ArrayList<>());
        }
        double[] low = family.actionLow();
        double[] high = family.actionHigh();
        DynamicsModel theta = null;
        long published = 0;
        long steps = 0;
        long nextReport = s.envSteps() / 10;
        List<double[]> curve = new ArrayList<>();
        GrbalLearner.StepResult last = null;
        while (steps < s.envSteps()) {
            // 1. decide: every agent with a model plans, together
            double[][] actions = new double[n][];
            List<MpcPlanner.Request> requests = new ArrayList<>();
            List<Integer> planned = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                boolean random = theta == null || rng.nextDouble() < s.randomActionProbability();
                if (random) {
                    double[] a = new double[low.length];
                    for (int j = 0; j < a.length; j++) {
                        a[j] = low[j] + (high[j] - low[j]) * rng.nextDouble();
                    }
                    actions[i] = a;
                    continue;
                }
                List<double[][]> h = history.get(i);
                if (adapted[i] == null || sinceAdapt[i] >= s.adaptEvery()) {
                    adapted[i] = h.size() >= m ? theta.adapt(segment(h, h.size() - m, h.size()), cfg.innerLr(), cfg.innerSteps())
                            : theta;
                    sinceAdapt[i] = 0;
                }
                BatchDynamics model = adapted[i].rollout();
                requests.add(new MpcPlanner.Request(planners[i], model, family.reward(tasks.get(i)), obs[i],
                        family.projection()));
                planned.add(i);
            }
            if (!requests.isEmpty()) {
                List<MpcPlanner.Plan> plans = MpcPlanner.planAll(requests);
                for (int k = 0; k < plans.size(); k++) {
                    actions[planned.get(k)] = plans.get(k).firstAction();
                }
            }
            // 2. act, record, feed the learner
            for (int i = 0; i < n; i++) {
                double[] a = envs[i].clippedAction(actions[i]);
                StepResult r = envs[i].step(a);
                List<double[][]> h = history.get(i);
                h.add(new double[][] {obs[i], a, r.observation()});
                sinceAdapt[i]++;
                steps++;
                if (r.done()) {
                    obs[i] = envs[i].reset();
                    planners[i].reset();
                } else {
                    obs[i] = r.observation();
                }
                if (h.size() >= window && h.size() % s.segmentStride() == 0) {
                    List<Segment> offered = new ArrayList<>();
                    offered.add(segment(h, h.size() - window, h.size()));
                    int oldest = Math.max(0, h.size() - s.replayCapacity());
                    for (int k = 0; k < s.replaySegments() && h.size() - oldest > window; k++) {
                        int from = oldest + rng.nextInt(h.size() - oldest - window + 1);
                        offered.add(segment(h, from, from + window));
                    }
                    for (Segment seg : offered) {
                        java.util.Optional<GrbalLearner.StepResult> step = learner.offer(tasks.get(i).id(), seg);
                        if (step.isPresent() && step.get().accepted()) {
                            last = step.get();
                        }
                    }
                }
            }
            if (learner.outerSteps() >= published + s.publishEvery()) {
                published = learner.outerSteps();
                theta = learner.currentModel();
                java.util.Arrays.fill(adapted, null);
                if (last != null) {
                    curve.add(new double[] {steps, last.preAdaptLoss(), last.postAdaptLoss()});
                }
            }
            if (steps >= nextReport) {
                progress.accept(String.format("    %,d env steps, %d outer steps, meta-loss pre/post %.4f / %.4f", steps,
                        learner.outerSteps(), last == null ? Double.NaN : last.preAdaptLoss(),
                        last == null ? Double.NaN : last.postAdaptLoss()));
                nextReport += s.envSteps() / 10;
            }
        }
        List<Segment> data = new ArrayList<>();
        for (List<double[][]> h : history) {
            if (!h.isEmpty()) {
                data.add(segment(h, 0, h.size()));
            }
        }
        return new Result(learner.currentModel(), data, steps, learner.outerSteps(), curve,
                (System.nanoTime() - started) / 1e9);
    }

    private static Segment segment(List<double[][]> h, int from, int to) {
        double[][] o = new double[to - from][];
        double[][] a = new double[to - from][];
        double[][] x = new double[to - from][];
        for (int t = from; t < to; t++) {
            double[][] row = h.get(t);
            o[t - from] = row[0];
            a[t - from] = row[1];
            x[t - from] = row[2];
        }
        return new Segment(o, a, x);
    }
}

package io.metastream.sim.evaluation;

import io.metastream.sim.Environment;
import io.metastream.sim.StepResult;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.grbal.Segment;
import io.metastream.core.mpc.BatchDynamics;
import io.metastream.core.mpc.BatchReward;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.core.mpc.MpcPlanner;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Meta-test of a GrBAL dynamics model on held-out tasks, without Kafka or Flink.
 *
 * <p>Prediction: on a random-action trajectory of each task, for every window position t the model is
 * adapted on the M transitions before t and scored on the K transitions from t (one-step MSE in raw
 * observation space), against theta unadapted and an optional non-meta model. Control: MPC episodes in
 * which the agent re-adapts theta on the task's last M transitions before every step, carried across the
 * task's episodes as the task operator's window is (the GrBAL deployment), against MPC with theta
 * unadapted, from the same initial states.
 */
public final class MetaTest {

    /** Meta-test settings: the adaptation window and step size must match the learner's. */
    public record Config(int adaptWindow, int predictWindow, double innerLr, int innerSteps, int evalSteps,
            int mpcEpisodes, MpcConfig mpc, long seed) {
        public Config {
            if (adaptWindow < 1 || predictWindow < 1 || innerSteps < 0 || mpcEpisodes < 0) {
                throw new IllegalArgumentException("adaptWindow and predictWindow must be >= 1, innerSteps and "
                        + "mpcEpisodes >= 0");
            }
            if (evalSteps < adaptWindow + predictWindow) {
                throw new IllegalArgumentException("evalSteps (" + evalSteps + ") must cover adaptWindow + "
                        + "predictWindow (" + (adaptWindow + predictWindow) + ")");
            }
        }
    }

    public record TaskResult(String taskId, double adaptedMse, double unadaptedMse, double nonMetaMse,
            double mpcReturnAdapted, double mpcReturnUnadapted) {}

    /** Means over tasks; NaN where a part was not run (no non-meta model, no MPC episodes). */
    public record Result(int tasks, double adaptedMse, double unadaptedMse, double nonMetaMse,
            double mpcReturnAdapted, double mpcReturnUnadapted, List<TaskResult> perTask) {}

    private MetaTest() {}

    /** Prediction part only (no MPC, no non-meta model). */
    public static Result predictionOnly(TaskFamily family, List<TaskSpec> tasks, DynamicsModel theta, Config cfg) {
        Config c = new Config(cfg.adaptWindow(), cfg.predictWindow(), cfg.innerLr(), cfg.innerSteps(),
                cfg.evalSteps(), 0, cfg.mpc(), cfg.seed());
        return run(family, tasks, theta, null, c);
    }

    /**
     * @param nonMeta a model trained on all data without meta-learning, or null to skip that baseline
     */
    public static Result run(TaskFamily family, List<TaskSpec> tasks, DynamicsModel theta, DynamicsModel nonMeta,
            Config cfg) {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(theta, "theta");
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("no held-out tasks");
        }
        if (cfg.mpcEpisodes() > 0 && cfg.mpc() == null) {
            throw new IllegalArgumentException("MPC episodes need an MpcConfig");
        }
        SplittableRandom seeds = new SplittableRandom(cfg.seed());
        List<TaskResult> per = new ArrayList<>();
        for (TaskSpec task : tasks) {
            long dataSeed = seeds.nextLong();
            long mpcSeed = seeds.nextLong();
            Segment data = Evaluation.collect(family, task, null, dataSeed, cfg.evalSteps());
            double[] mse = predictionErrors(data, theta, nonMeta, cfg);
            double adaptedReturn = Double.NaN;
            double unadaptedReturn = Double.NaN;
            if (cfg.mpcEpisodes() > 0) {
                adaptedReturn = mpcReturn(family, task, theta, true, cfg, mpcSeed);
                unadaptedReturn = mpcReturn(family, task, theta, false, cfg, mpcSeed);
            }
            per.add(new TaskResult(task.id(), mse[0], mse[1], mse[2], adaptedReturn, unadaptedReturn));
        }
        return new Result(per.size(),
                mean(per, TaskResult::adaptedMse), mean(per, TaskResult::unadaptedMse),
                mean(per, TaskResult::nonMetaMse), mean(per, TaskResult::mpcReturnAdapted),
                mean(per, TaskResult::mpcReturnUnadapted), List.copyOf(per));
    }

    /**
     * The planner's ceiling: per task, the mean MPC return when planning with the task's exact dynamics
     * ({@link TaskFamily#trueDynamics}), from the same initial states {@link #run} uses for the same
     * configuration.
     *
     * @throws UnsupportedOperationException when the family has no true model
     */
    public static double[] trueModelReturns(TaskFamily family, List<TaskSpec> tasks, Config cfg) {
        Objects.requireNonNull(family, "family");
        return modelReturns(family, tasks, family::trueDynamics, cfg);
    }

    /**
     * How much a family's variation matters in control: per task, the mean MPC return when planning with
     * the exact dynamics of one fixed task (say {@link #meanTask} of the training tasks) instead of the
     * task's own, from the same initial states as {@link #run}. Where this is about the
     * {@link #trueModelReturns true-model} return, knowing the task does not help the planner, and no
     * adaptation has a gap to close.
     *
     * @throws UnsupportedOperationException when the family has no true model
     */
    public static double[] fixedModelReturns(TaskFamily family, List<TaskSpec> tasks, TaskSpec planWith, Config cfg) {
        Objects.requireNonNull(family, "family");
        BatchDynamics fixed = family.trueDynamics(planWith);
        return modelReturns(family, tasks, task -> fixed, cfg);
    }

    private static double[] modelReturns(TaskFamily family, List<TaskSpec> tasks,
            java.util.function.Function<TaskSpec, BatchDynamics> modelOf, Config cfg) {
        if (cfg.mpcEpisodes() < 1 || cfg.mpc() == null) {
            throw new IllegalArgumentException("model returns need mpcEpisodes >= 1 and an MpcConfig");
        }
        SplittableRandom seeds = new SplittableRandom(cfg.seed());
        double[] out = new double[tasks.size()];
        for (int i = 0; i < tasks.size(); i++) {
            TaskSpec task = tasks.get(i);
            seeds.nextLong(); // the prediction trajectory's seed in run()
            long mpcSeed = seeds.nextLong();
            BatchDynamics model = modelOf.apply(task);
            out[i] = mpcReturn(family, task, context -> model, cfg, mpcSeed);
        }
        return out;
    }

    /**
     * A task whose every parameter is the mean of that parameter over {@code tasks} (the "average
     * physics" of a training set).
     *
     * @throws IllegalArgumentException when the list is empty or the tasks do not share one parameter set
     */
    public static TaskSpec meanTask(String id, List<TaskSpec> tasks) {
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("the mean of no tasks is undefined; pass at least one");
        }
        java.util.SortedMap<String, Double> mean = new java.util.TreeMap<>();
        for (TaskSpec t : tasks) {
            if (!t.params().keySet().equals(tasks.get(0).params().keySet())) {
                throw new IllegalArgumentException("task '" + t.id() + "' has parameters " + t.params().keySet()
                        + ", task '" + tasks.get(0).id() + "' has " + tasks.get(0).params().keySet()
                        + "; a mean task needs one parameter set");
            }
            t.params().forEach((k, v) -> mean.merge(k, v / tasks.size(), Double::sum));
        }
        return new TaskSpec(id, mean);
    }

    /** θ fine-tuned on many of a task's transitions, scored as {@link #run} scores the adapted model; means over tasks. */
    public record FineTuned(double mse, double mpcReturn) {}

    /**
     * A ceiling for adaptation: per task, θ fine-tuned by Adam ({@code adamSteps} steps of 128, step
     * 1e-3) on {@code transitions} random-action transitions of that task (a trajectory of its own, not
     * the one scored), then scored on the same windows as {@link #run}'s adapted model and, when the
     * configuration has MPC episodes, planned with in MPC episodes from the same initial states. An
     * adaptation from M transitions can hardly beat a fit to hundreds of times as many: the ratio of this
     * MSE to the unadapted one is about the lowest adapted / unadapted ratio this network and θ allow, and
     * its MPC return tells how much of the gap to the true model a well-fitted network of this size closes.
     *
     * @return the means over tasks of the fine-tuned model's one-step MSE (raw observation space) and MPC
     *     return (NaN without MPC episodes)
     */
    public static FineTuned fineTuned(TaskFamily family, List<TaskSpec> tasks, DynamicsModel theta, Config cfg,
            int transitions, int adamSteps) {
        Objects.requireNonNull(family, "family");
        SplittableRandom seeds = new SplittableRandom(cfg.seed());
        double sum = 0;
        double returns = 0;
        for (TaskSpec task : tasks) {
            long dataSeed = seeds.nextLong();
            long mpcSeed = seeds.nextLong();
            Segment data = Evaluation.collect(family, task, null, dataSeed, cfg.evalSteps());
            Segment fitData = Evaluation.collect(family, task, null, ~dataSeed, transitions);
            DynamicsModel tuned = io.metastream.core.grbal.SupervisedTrainer.fineTune(theta.withParams(theta.params()),
                    List.of(fitData), adamSteps, 128, 1e-3, dataSeed);
            double mse = 0;
            int windows = 0;
            for (int t = cfg.adaptWindow(); t + cfg.predictWindow() <= data.length(); t += cfg.predictWindow()) {
                mse += tuned.predictionMse(data.slice(t, t + cfg.predictWindow()));
                windows++;
            }
            sum += mse / windows;
            if (cfg.mpcEpisodes() > 0) {
                BatchDynamics model = tuned.rollout();
                returns += mpcReturn(family, task, context -> model, cfg, mpcSeed);
            }
        }
        return new FineTuned(sum / tasks.size(), cfg.mpcEpisodes() > 0 ? returns / tasks.size() : Double.NaN);
    }

    /** {adapted, unadapted, non-meta} MSE averaged over every window of the trajectory. */
    static double[] predictionErrors(Segment data, DynamicsModel theta, DynamicsModel nonMeta, Config cfg) {
        int m = cfg.adaptWindow();
        int k = cfg.predictWindow();
        double adapted = 0;
        double unadapted = 0;
        double base = 0;
        int windows = 0;
        for (int t = m; t + k <= data.length(); t += k) {
            Segment context = data.slice(t - m, t);
            Segment target = data.slice(t, t + k);
            DynamicsModel phi = theta.adapt(context, cfg.innerLr(), cfg.innerSteps());
            adapted += phi.predictionMse(target);
            unadapted += theta.predictionMse(target);
            if (nonMeta != null) {
                base += nonMeta.predictionMse(target);
            }
            windows++;
        }
        return new double[] {adapted / windows, unadapted / windows, nonMeta == null ? Double.NaN : base / windows};
    }

    private static double mpcReturn(TaskFamily family, TaskSpec task, DynamicsModel theta, boolean adapt,
            Config cfg, long seed) {
        return mpcReturn(family, task, context -> context == null || !adapt ? theta.rollout()
                : theta.adapt(context, cfg.innerLr(), cfg.innerSteps()).rollout(), cfg, seed);
    }

    /**
     * Mean return of MPC episodes in which, before every step, {@code models} gives the model to plan
     * with from the task's last M transitions (null while there are fewer), across the task's episodes
     * as in the streaming job, where a task's window outlives an episode.
     */
    private static double mpcReturn(TaskFamily family, TaskSpec task, java.util.function.Function<Segment, BatchDynamics> models,
            Config cfg, long seed) {
        SplittableRandom seeds = new SplittableRandom(seed);
        Environment env = family.create(task, seeds.nextLong());
        MpcPlanner planner = new MpcPlanner(cfg.mpc(), new Random(seeds.nextLong()));
        BatchReward reward = family.reward(task);
        int m = cfg.adaptWindow();
        double total = 0;
        // the task's context carries across its episodes, as the task operator's window does
        List<double[]> obs = new ArrayList<>();
        List<double[]> act = new ArrayList<>();
        List<double[]> next = new ArrayList<>();
        for (int e = 0; e < cfg.mpcEpisodes(); e++) {
            double[] o = env.reset();
            planner.reset();
            boolean done = false;
            while (!done) {
                Segment context = null;
                if (obs.size() >= m) {
                    int n = obs.size();
                    context = new Segment(
                            obs.subList(n - m, n).toArray(new double[0][]),
                            act.subList(n - m, n).toArray(new double[0][]),
                            next.subList(n - m, n).toArray(new double[0][]));
                }
                double[] a = env.clippedAction(planner.act(models.apply(context), reward, family.projection(), o));
                StepResult r = env.step(a);
                obs.add(o);
                act.add(a);
                next.add(r.observation());
                total += r.reward();
                o = r.observation();
                done = r.done();
            }
        }
        return total / cfg.mpcEpisodes();
    }

    private static double mean(List<TaskResult> rs, java.util.function.ToDoubleFunction<TaskResult> f) {
        return rs.stream().mapToDouble(f).average().orElse(Double.NaN);
    }
}

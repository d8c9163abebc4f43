package io.metastream.sim.pearl;

import io.metastream.core.pearl.PearlConfig;
import io.metastream.core.pearl.PearlLearner;
import io.metastream.core.pearl.PearlPolicy;
import io.metastream.core.pearl.Posterior;
import io.metastream.core.pearl.TaskBatch;
import io.metastream.core.pearl.TaskSampler;
import io.metastream.sim.Environment;
import io.metastream.sim.StepResult;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * PEARL meta-training in one deterministic loop, without Kafka or Flink: the protocol of
 * katerakelly/oyster's {@code PEARLSoftActorCritic} (initial prior-z data for every training task, then
 * iterations that refresh the context of a few tasks with prior-z and posterior-z exploration and run
 * gradient steps on meta-batches of tasks), driving the same {@link PearlLearner} and the same
 * {@link TaskSampler} the streaming operators use. The benchmark uses it because a seeded loop
 * reproduces its numbers exactly; the stream runs the same pieces concurrently.
 *
 * <p>Oracle mode trains plain SAC that sees the task: the task's parameters (a goal, a target
 * velocity) are appended to every observation, and the context is constant (zero rows), so z carries
 * no information; z is drawn from the posterior of that constant context everywhere.
 *
 * <p>Context rows use the family's sparse reward where it has one (sparse-point-robot), replay rows the
 * dense reward, as in the paper. Not thread-safe.
 */
public final class PearlMetaTrainer {

    /**
     * The collection schedule.
     *
     * @param initialSteps prior-z steps collected for every training task before the first gradient step
     * @param tasksPerIteration tasks whose data is refreshed per iteration
     * @param priorSteps per refreshed task: steps with z from the prior (context cleared first)
     * @param posteriorSteps per refreshed task: steps with z from the posterior of the new context (also context)
     * @param extraRlSteps per refreshed task: posterior-z steps that go to the replay only
     * @param trainSteps gradient steps per iteration
     * @param replayCapacity replay rows kept per task (oldest dropped)
     */
    public record Schedule(int initialSteps, int tasksPerIteration, int priorSteps, int posteriorSteps,
            int extraRlSteps, int trainSteps, int replayCapacity) {
        public Schedule {
            if (initialSteps < 1 || tasksPerIteration < 1 || priorSteps < 0 || posteriorSteps < 0 || extraRlSteps < 0
                    || trainSteps < 0 || replayCapacity < 1 || priorSteps + posteriorSteps < 1) {
                throw new IllegalArgumentException("schedule needs initialSteps, tasksPerIteration, replayCapacity and "
                        + "priorSteps + posteriorSteps >= 1 and no negative count: " + thisToString(initialSteps,
                        tasksPerIteration, priorSteps, posteriorSteps, extraRlSteps, trainSteps, replayCapacity));
            }
        }

        private static String thisToString(int... v) {
            return Arrays.toString(v);
        }
    }

    /** Mean over tasks and repetitions of the return of episode k (k context episodes before it), and the goal-reached rate. */
    public record Evaluation(double[] returnAfter, double[] successAfter, int tasks, int repetitions) {}

    private final TaskFamily family;
    private final List<TaskSpec> tasks;
    private final PearlConfig cfg;
    private final Schedule schedule;
    private final boolean oracle;
    private final PearlLearner learner;
    private final Random rng;
    private final List<Environment> envs = new ArrayList<>();
    private final List<ArrayDeque<double[]>> replay = new ArrayList<>();
    private final List<List<double[]>> context = new ArrayList<>();
    private long envSteps;
    private int iterations;

    /**
     * @param cfg learner configuration; its obsDim must be the family's (plus the task parameter count
     *     in oracle mode) and actDim the family's
     */
    public PearlMetaTrainer(TaskFamily family, List<TaskSpec> trainTasks, PearlConfig cfg, Schedule schedule,
            boolean oracle) {
        this.family = Objects.requireNonNull(family, "family");
        this.tasks = List.copyOf(trainTasks);
        this.cfg = Objects.requireNonNull(cfg, "cfg");
        this.schedule = Objects.requireNonNull(schedule, "schedule");
        this.oracle = oracle;
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("no training tasks");
        }
        int expectedObs = family.obsDim() + (oracle ? tasks.get(0).params().size() : 0);
        if (cfg.obsDim() != expectedObs || cfg.actDim() != family.actDim()) {
            throw new IllegalArgumentException("config has obsDim " + cfg.obsDim() + ", actDim " + cfg.actDim() + " but "
                    + family.name() + (oracle ? " (oracle: observation + task parameters)" : "") + " needs obsDim "
                    + expectedObs + ", actDim " + family.actDim());
        }
        this.learner = new PearlLearner(cfg);
        this.rng = new Random(cfg.seed() * 31 + 17);
        for (int i = 0; i < tasks.size(); i++) {
            envs.add(family.create(tasks.get(i), cfg.seed() * 1000 + i));
            replay.add(new ArrayDeque<>());
            context.add(new ArrayList<>());
        }
    }

    /** Observation dimension a learner needs for this family (oracle: plus the task's parameters). */
    public static int obsDim(TaskFamily family, TaskSpec anyTask, boolean oracle) {
        return family.obsDim() + (oracle ? anyTask.params().size() : 0);
    }

    public PearlLearner learner() {
        return learner;
    }

    public long envSteps() {
        return envSteps;
    }

    public int iterations() {
        return iterations;
    }

    /** Collects the initial prior-z data of every task (once), then one iteration of collection and training. */
    public void iterate() {
        PearlPolicy policy = learner.currentPolicy();
        if (iterations == 0) {
            for (int t = 0; t < tasks.size(); t++) {
                collect(policy, t, schedule.initialSteps(), false, true);
            }
        }
        for (int i = 0; i < schedule.tasksPerIteration(); i++) {
            int t = rng.nextInt(tasks.size());
            context.get(t).clear();
            collect(policy, t, schedule.priorSteps(), false, true);
            collect(policy, t, schedule.posteriorSteps(), true, true);
            collect(policy, t, schedule.extraRlSteps(), true, false);
        }
        for (int s = 0; s < schedule.trainSteps(); s++) {
            learner.step(sampleMetaBatch());
        }
        iterations++;
    }

    private List<TaskBatch> sampleMetaBatch() {
        List<TaskBatch> batch = new ArrayList<>(cfg.metaBatch());
        for (int i = 0; i < cfg.metaBatch(); i++) {
            int t = rng.nextInt(tasks.size());
            batch.add(TaskSampler.sample(List.copyOf(replay.get(t)), context.get(t), cfg, rng));
        }
        return batch;
    }

    /** Collects whole episodes totalling at least {@code steps} steps in task t; z drawn per episode. */
    private void collect(PearlPolicy policy, int t, int steps, boolean posterior, boolean addToContext) {
        Environment env = envs.get(t);
        TaskSpec task = tasks.get(t);
        int done = 0;
        while (done < steps) {
            Posterior belief = oracle ? oracleBelief(policy)
                    : posterior && !context.get(t).isEmpty() ? policy.posterior(contextRows(context.get(t))) : policy.prior();
            double[] z = belief.sample(rng);
            double[] o = env.reset();
            double previous = Double.NaN;
            boolean end = false;
            while (!end) {
                double[] obs = observe(o, task);
                double[] a = policy.act(obs, z, rng, false);
                StepResult r = env.step(a);
                double[] next = observe(r.observation(), task);
                double[] applied = env.clippedAction(a);
                ArrayDeque<double[]> rb = replay.get(t);
                rb.addLast(TaskSampler.replayRow(obs, applied, r.reward(), next, false));
                if (rb.size() > schedule.replayCapacity()) {
                    rb.removeFirst();
                }
                if (addToContext) {
                    context.get(t).add(contextRow(obs, applied, r, next, previous));
                }
                previous = contextReward(r);
                envSteps++;
                done++;
                o = r.observation();
                end = r.done();
            }
        }
    }

    private double[] contextRow(double[] obs, double[] a, StepResult r, double[] next, double previousReward) {
        if (oracle) {
            return new double[cfg.contextDim()];
        }
        return TaskSampler.contextRow(cfg, obs, a, contextReward(r), next, previousReward);
    }

    /** The reward the context uses: the sparse one where the family has one. */
    private static double contextReward(StepResult r) {
        return r.sparseReward().orElse(r.reward());
    }

    /** Whether the policy's encoder takes context rows with the previous reward. */
    private static boolean previousRewardRows(PearlPolicy policy) {
        return policy.contextDim() == TaskSampler.contextWidth(policy.obsDim(), policy.actDim(), true);
    }

    private double[] observe(double[] o, TaskSpec task) {
        return oracle ? withTask(o, task) : o;
    }

    /** The observation followed by the task's parameters in key order (the oracle's input). */
    static double[] withTask(double[] o, TaskSpec task) {
        double[] x = Arrays.copyOf(o, o.length + task.params().size());
        int i = o.length;
        for (double v : task.params().values()) {
            x[i++] = v;
        }
        return x;
    }

    /**
     * The oracle's z: always from the posterior of its constant context (one zero row), in training
     * batches, when acting and at test time alike, so z carries nothing and the goal comes from the
     * observation.
     */
    private static Posterior oracleBelief(PearlPolicy policy) {
        return policy.posterior(new double[][] {new double[policy.contextDim()]});
    }

    private static double[][] contextRows(List<double[]> rows) {
        return rows.toArray(new double[0][]);
    }

    /** {@link #evaluate(TaskFamily, PearlPolicy, List, int, int, long, boolean)} of the current policy. */
    public Evaluation evaluate(List<TaskSpec> evalTasks, int episodes, int repetitions, long seed) {
        return evaluate(family, learner.currentPolicy(), evalTasks, episodes, repetitions, seed, oracle, false);
    }

    /** As {@link #evaluate(List, int, int, long)}, acting with the posterior mean after the first episode. */
    public Evaluation evaluateWithPosteriorMean(List<TaskSpec> evalTasks, int episodes, int repetitions, long seed) {
        return evaluate(family, learner.currentPolicy(), evalTasks, episodes, repetitions, seed, oracle, true);
    }

    /** Diagnostic: return of one deterministic episode with z from the posterior of {@code contextSteps} stochastic steps. */
    public double returnAfterStochasticContext(List<TaskSpec> evalTasks, int contextSteps, long seed) {
        PearlPolicy policy = learner.currentPolicy();
        Random r = new Random(seed);
        double total = 0;
        for (int ti = 0; ti < evalTasks.size(); ti++) {
            TaskSpec task = evalTasks.get(ti);
            Environment env = family.create(task, seed * 31 + ti);
            List<double[]> ctx = new ArrayList<>();
            double[] z = policy.prior().sample(r);
            double[] o = env.reset();
            double previous = Double.NaN;
            while (ctx.size() < contextSteps) {
                double[] a = policy.act(observe(o, task), z, r, false);
                StepResult s = env.step(a);
                ctx.add(contextRow(observe(o, task), env.clippedAction(a), s, observe(s.observation(), task), previous));
                previous = s.done() ? Double.NaN : contextReward(s);
                o = s.done() ? env.reset() : s.observation();
                if (s.done()) {
                    z = policy.posterior(contextRows(ctx)).sample(r);
                }
            }
            z = policy.posterior(contextRows(ctx)).sample(r);
            o = env.reset();
            boolean end = false;
            while (!end) {
                StepResult s = env.step(policy.act(observe(o, task), z, null, true));
                total += s.reward();
                o = s.observation();
                end = s.done();
            }
        }
        return total / evalTasks.size();
    }

    /**
     * Meta-test of a policy, PEARL's test-time protocol: explore with posterior sampling, then exploit.
     * For every task and repetition, starting from an empty context, for k = 0 … episodes − 1:
     * <ol>
     *   <li>an <b>evaluated episode</b> acts deterministically (the policy's mean action) with z sampled
     *       from the posterior of the context so far (the prior N(0, I) for k = 0, which is the
     *       {@code priorReturn}); its return and whether it reached the goal are recorded as
     *       {@code returnAfter[k]} / {@code successAfter[k]}; it does not join the context;</li>
     *   <li>then, unless k is the last, a <b>context episode</b> acts stochastically with z sampled from
     *       the same posterior, and its transitions (with the sparse reward where the family has one)
     *       join the context.</li>
     * </ol>
     * So {@code returnAfter[k]} is the return after k context episodes. In oracle mode the observation
     * carries the task's parameters and z is irrelevant. With {@code posteriorMean} the evaluated
     * episodes for k ≥ 1 act with the posterior mean instead of a sample.
     */
    public static Evaluation evaluate(TaskFamily family, PearlPolicy policy, List<TaskSpec> evalTasks, int episodes,
            int repetitions, long seed, boolean oracle, boolean posteriorMean) {
        double[] ret = new double[episodes];
        double[] success = new double[episodes];
        Random r = new Random(seed);
        for (int ti = 0; ti < evalTasks.size(); ti++) {
            TaskSpec task = evalTasks.get(ti);
            for (int rep = 0; rep < repetitions; rep++) {
                Environment env = family.create(task, seed * 7919 + ti * 131L + rep);
                List<double[]> ctx = new ArrayList<>();
                for (int k = 0; k < episodes; k++) {
                    Posterior belief = oracle ? oracleBelief(policy)
                            : ctx.isEmpty() ? policy.prior() : policy.posterior(contextRows(ctx));
                    double[] z = posteriorMean && k > 0 ? belief.mean() : belief.sample(r);
                    double[] outcome = episode(family, env, task, policy, z, null, oracle, null);
                    ret[k] += outcome[0];
                    success[k] += outcome[1];
                    if (k < episodes - 1) {
                        episode(family, env, task, policy, belief.sample(r), r, oracle, ctx);
                    }
                }
            }
        }
        int n = evalTasks.size() * repetitions;
        for (int k = 0; k < episodes; k++) {
            ret[k] /= n;
            success[k] /= n;
        }
        return new Evaluation(ret, success, evalTasks.size(), repetitions);
    }

    /**
     * One episode with a fixed z: deterministic when {@code rng} is null; transitions are appended to
     * {@code context} when it is non-null. Returns {return, 1 if the goal was reached else 0}.
     */
    private static double[] episode(TaskFamily family, Environment env, TaskSpec task, PearlPolicy policy, double[] z,
            Random rng, boolean oracle, List<double[]> context) {
        double[] o = env.reset();
        double total = 0;
        boolean reached = false;
        boolean end = false;
        boolean withPrevious = previousRewardRows(policy);
        double previous = Double.NaN;
        while (!end) {
            double[] obs = oracle ? withTask(o, task) : o;
            double[] a = policy.act(obs, z, rng, rng == null);
            StepResult s = env.step(a);
            if (context != null) {
                double[] next = oracle ? withTask(s.observation(), task) : s.observation();
                context.add(oracle ? new double[policy.contextDim()]
                        : TaskSampler.contextRow(withPrevious, obs, env.clippedAction(a), contextReward(s), next, previous));
            }
            previous = contextReward(s);
            total += s.reward();
            reached |= s.goalReached();
            o = s.observation();
            end = s.done();
        }
        return new double[] {total, reached ? 1 : 0};
    }
}

package io.metastream.sim.fleet;

import io.metastream.client.TaskModel;
import io.metastream.client.TaskPolicy;
import io.metastream.core.mpc.BatchReward;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.core.mpc.MpcPlanner;
import io.metastream.schema.Transition;
import io.metastream.schema.TransitionKind;
import io.metastream.sim.Environment;
import io.metastream.sim.StepResult;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * One simulated agent of a {@link Fleet}: owns an environment, plans each action with the latest model
 * for its task (ε-random otherwise) and turns every step into a {@link Transition}.
 *
 * <p>Per step: at an episode start the environment is reset to the agent's own task; with task
 * switching on, every {@code switchTaskEvery} steps the dynamics change to another task of the pool
 * while the transitions keep the agent's task id (the GrBAL setting). The model is looked up on every
 * step, so a new version takes effect on the next step. Randomness (initial states, ε-draws, random
 * actions, switch targets, planner samples) comes from the seed only.
 *
 * <p>Not thread-safe: the fleet's loop thread owns it.
 */
final class Agent {

    /**
     * What one step produced.
     *
     * @param transition the record to publish
     * @param planned true when the MPC planner chose the action, false when it was random
     * @param episodeReturn the episode's undiscounted return when {@code transition.getDone()}, else NaN
     */
    record StepOutcome(Transition transition, boolean planned, double episodeReturn) {}

    private final String agentId;
    private final TaskSpec task;
    private final List<TaskSpec> switchPool;
    private final int switchTaskEvery;
    private final double[] low;
    private final double[] high;
    private final TaskFamily family;
    /** The planner's reward: that of the task whose dynamics (and goal) the environment runs now. */
    private BatchReward reward;
    private final Environment env;
    private final ModelSource models;
    private final MpcPlanner planner;
    /** PEARL mode when non-null: the planner and model source are then unused. */
    private final PolicySource policies;
    /** The episode's policy and z (PEARL mode; null before the first version). */
    private TaskPolicy episodePolicy;
    private double[] episodeZ;
    private final double randomActionProbability;
    private final long episodeLimit;
    private final Random rng;

    private double[] observation;
    private long episodeId = -1;
    private int step;
    private double episodeReturn;
    private long episodesDone;

    /**
     * @param switchPool tasks whose dynamics may be switched to; must hold a task different from
     *     {@code task} when {@code switchTaskEvery > 0}
     * @param episodeLimit episodes after which the agent is {@link #finished()}; 0 for no limit
     */
    Agent(String agentId, TaskSpec task, List<TaskSpec> switchPool, int switchTaskEvery, TaskFamily family,
            ModelSource models, MpcConfig mpc, PolicySource policies, double randomActionProbability, long episodeLimit,
            long seed) {
        this.agentId = agentId;
        this.task = task;
        this.switchPool = List.copyOf(switchPool);
        this.switchTaskEvery = switchTaskEvery;
        this.low = family.actionLow();
        this.high = family.actionHigh();
        this.family = family;
        this.reward = family.reward(task);
        this.models = models;
        this.randomActionProbability = randomActionProbability;
        this.episodeLimit = episodeLimit;
        SplittableRandom seeds = new SplittableRandom(seed);
        this.env = family.create(task, seeds.nextLong());
        this.rng = new Random(seeds.nextLong());
        long plannerSeed = seeds.nextLong();
        this.planner = mpc == null ? null : new MpcPlanner(mpc, new Random(plannerSeed));
        this.policies = policies;
    }

    String agentId() {
        return agentId;
    }

    TaskSpec task() {
        return task;
    }

    /** The task whose dynamics the next step uses (differs from {@link #task()} after a switch). */
    TaskSpec dynamicsTask() {
        return env.task();
    }

    /** True once the agent has completed its episode limit. */
    boolean finished() {
        return episodeLimit > 0 && episodesDone >= episodeLimit;
    }

    /** Acts for one step and returns the transition stamped with {@code now}. */
    StepOutcome step(Instant now) {
        if (finished()) {
            throw new IllegalStateException(agentId + " has completed its " + episodeLimit + " episodes");
        }
        if (observation == null) {
            startEpisode();
        } else if (switchTaskEvery > 0 && step % switchTaskEvery == 0) {
            switchDynamics();
        }
        Choice c = policies != null ? pearlChoice() : mpcChoice();
        double[] applied = env.clippedAction(c.action());
        StepResult result = env.step(applied);
        Transition transition = Transition.newBuilder()
                .setTaskId(task.id())
                .setAgentId(agentId)
                .setEpisodeId(episodeId)
                .setStep(step)
                .setObservation(floats(observation))
                .setAction(floats(applied))
                .setReward((float) result.reward())
                .setNextObservation(floats(result.observation()))
                .setDone(result.done())
                .setPolicyVersion(c.version())
                .setTimestamp(now)
                .setKind(c.kind())
                .setSparseReward(result.sparseReward().isPresent() ? (float) result.sparseReward().getAsDouble() : null)
                .build();
        return finish(transition, c.planned(), result);
    }

    /** An action and how it was chosen: by a model (planned) or at random, with which version, and why. */
    private record Choice(double[] action, boolean planned, Long version, TransitionKind kind) {}

    /** GrBAL: MPC on the task's model (adapted when the job has adapted it), ε-random otherwise. */
    private Choice mpcChoice() {
        Optional<TaskModel> model = models.modelFor(task.id());
        boolean explore = rng.nextDouble() < randomActionProbability;
        boolean planned = model.isPresent() && !explore;
        double[] action = planned
                ? planner.act(model.get().model()::predictNext, reward, observation)
                : randomAction();
        return new Choice(action, planned, model.map(TaskModel::baseVersion).orElse(null),
                planned && model.get().adapted() ? TransitionKind.POST_ADAPTATION : TransitionKind.EXPLORATION);
    }

    /**
     * PEARL: at an episode start, take the newest policy and sample z from the task's belief (posterior
     * sampling; the prior before any context); act with the stochastic policy for the whole episode.
     * Every step is exploration data for the task's context.
     */
    private Choice pearlChoice() {
        if (step == 0) {
            episodePolicy = policies.policyFor(task.id()).orElse(null);
            episodeZ = episodePolicy == null ? null : episodePolicy.belief().sample(rng);
        }
        if (episodePolicy == null) {
            return new Choice(randomAction(), false, null, TransitionKind.EXPLORATION);
        }
        return new Choice(episodePolicy.policy().act(observation, episodeZ, rng, false), true,
                episodePolicy.baseVersion(), TransitionKind.EXPLORATION);
    }

    private StepOutcome finish(Transition transition, boolean planned, StepResult result) {
        episodeReturn += result.reward();
        step++;
        double finishedReturn = Double.NaN;
        if (result.done()) {
            finishedReturn = episodeReturn;
            episodesDone++;
            observation = null;
        } else {
            observation = result.observation();
        }
        return new StepOutcome(transition, planned, finishedReturn);
    }

    private void startEpisode() {
        if (!env.task().equals(task)) {
            runTask(task);
        }
        observation = env.reset();
        episodeId++;
        step = 0;
        episodeReturn = 0.0;
    }

    private void switchDynamics() {
        TaskSpec current = env.task();
        List<TaskSpec> others = new ArrayList<>(switchPool.size());
        for (TaskSpec candidate : switchPool) {
            if (!candidate.equals(current)) {
                others.add(candidate);
            }
        }
        runTask(others.get(rng.nextInt(others.size())));
    }

    /** Switches the environment to a task and the planner to that task's reward (it may have another goal). */
    private void runTask(TaskSpec next) {
        env.setTask(next);
        reward = family.reward(next);
    }

    private double[] randomAction() {
        double[] a = new double[low.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = low[i] + (high[i] - low[i]) * rng.nextDouble();
        }
        return a;
    }

    static List<Float> floats(double[] values) {
        List<Float> out = new ArrayList<>(values.length);
        for (double v : values) {
            out.add((float) v);
        }
        return out;
    }
}

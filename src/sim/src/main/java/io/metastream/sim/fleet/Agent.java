package io.metastream.sim.fleet;

import io.metastream.schema.Transition;
import io.metastream.sim.Environment;
import io.metastream.sim.StepResult;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * One simulated agent of a {@link Fleet}: owns an environment, asks its {@link AgentController} for
 * each action and turns every step into a {@link Transition}.
 *
 * <p>Per step: at an episode start the environment is reset to the agent's own task; with task
 * switching on, every {@code switchTaskEvery} steps the dynamics change to another task of the pool
 * while the transitions keep the agent's task id (the GrBAL setting). Randomness (initial states, random
 * actions, switch targets, and what the controller draws) comes from the seed only.
 *
 * <p>Not thread-safe: the fleet's loop thread owns it.
 */
final class Agent {

    /**
     * What one step produced.
     *
     * @param transition the record to publish
     * @param planned true when the controller's model or policy chose the action, false when it was random
     * @param episodeReturn the episode's undiscounted return when {@code transition.getDone()}, else NaN
     */
    record StepOutcome(Transition transition, boolean planned, double episodeReturn) {}

    private final String agentId;
    private final TaskSpec task;
    private final List<TaskSpec> switchPool;
    private final int switchTaskEvery;
    private final double[] low;
    private final double[] high;
    private final Environment env;
    private final TaskFamily family;
    private final AgentController.Factory controllers;
    private final long controllerSeed;
    /** This agent's own controller for {@link #step(Instant)}, made on first use. */
    private AgentController controller;
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
            AgentController.Factory controllers, long episodeLimit, long seed) {
        this.agentId = agentId;
        this.task = task;
        this.switchPool = List.copyOf(switchPool);
        this.switchTaskEvery = switchTaskEvery;
        this.low = family.actionLow();
        this.high = family.actionHigh();
        this.episodeLimit = episodeLimit;
        SplittableRandom seeds = new SplittableRandom(seed);
        this.env = family.create(task, seeds.nextLong());
        this.rng = new Random(seeds.nextLong());
        this.family = family;
        this.controllers = controllers;
        this.controllerSeed = seeds.nextLong();
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

    /** The seed of this agent's controller, for a fleet's {@link AgentController.Factory#batch}. */
    long controllerSeed() {
        return controllerSeed;
    }

    /** Acts for one step with its own controller and returns the transition stamped with {@code now}. */
    StepOutcome step(Instant now) {
        AgentController.Step s = begin();
        if (controller == null) {
            controller = controllers.create(family, controllerSeed);
        }
        return complete(controller.decide(s), now);
    }

    /**
     * Starts a step: resets at an episode start, switches the dynamics when due, and returns what the
     * agent sees; {@link #complete} must follow with the decision.
     */
    AgentController.Step begin() {
        if (finished()) {
            throw new IllegalStateException(agentId + " has completed its " + episodeLimit + " episodes");
        }
        if (observation == null) {
            startEpisode();
        } else if (switchTaskEvery > 0 && step % switchTaskEvery == 0) {
            switchDynamics();
        }
        return new AgentController.Step(task.id(), env.task(), step, observation, rng);
    }

    /** Completes the step {@link #begin} started with the controller's decision. */
    StepOutcome complete(AgentController.Decision c, Instant now) {
        double[] applied = env.clippedAction(c.action() == null ? randomAction() : c.action());
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
            env.setTask(task);
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
        env.setTask(others.get(rng.nextInt(others.size())));
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

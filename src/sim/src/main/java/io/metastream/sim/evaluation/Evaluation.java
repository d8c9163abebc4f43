package io.metastream.sim.evaluation;

import io.metastream.sim.Environment;
import io.metastream.sim.Policy;
import io.metastream.sim.StepResult;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import io.metastream.core.grbal.Segment;
import io.metastream.core.mpc.BatchDynamics;
import io.metastream.core.mpc.MpcConfig;
import java.util.Objects;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Offline meta-testing helpers: run a policy in one task without Kafka and report its return, or
 * record a trajectory for prediction-error tests. Deterministic for a given seed (and a deterministic
 * model). Stateless and thread-safe; each call creates its own environment.
 */
public final class Evaluation {

    private Evaluation() {}

    /**
     * Mean undiscounted return of MPC with {@code model} over {@code episodes} full episodes of
     * {@code task}; with a null model the actions are uniformly random (the baseline).
     *
     * @param mpc planner settings; may be null only when {@code model} is null
     * @throws IllegalArgumentException if {@code episodes < 1} or a model comes without planner settings
     */
    public static double evaluate(TaskFamily family, TaskSpec task, BatchDynamics model, MpcConfig mpc, long seed,
            int episodes) {
        Objects.requireNonNull(family, "family");
        SplittableRandom seeds = new SplittableRandom(seed);
        long envSeed = seeds.nextLong();
        Random policyRng = new Random(seeds.nextLong());
        Policy policy;
        if (model == null) {
            policy = Policy.random(family, policyRng);
        } else {
            if (mpc == null) {
                throw new IllegalArgumentException("a model needs planner settings: pass an MpcConfig, or a null model for random actions");
            }
            policy = Policy.mpc(family, task, model, mpc, policyRng);
        }
        return evaluate(family, task, policy, envSeed, episodes);
    }

    /** Mean undiscounted return of {@code policy} over {@code episodes} full episodes of {@code task}. */
    public static double evaluate(TaskFamily family, TaskSpec task, Policy policy, long seed, int episodes) {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(policy, "policy");
        if (episodes < 1) {
            throw new IllegalArgumentException("episodes must be >= 1, got " + episodes);
        }
        Environment env = family.create(task, seed);
        double total = 0;
        for (int e = 0; e < episodes; e++) {
            double[] obs = env.reset();
            policy.reset();
            boolean done = false;
            while (!done) {
                StepResult r = env.step(policy.act(obs));
                total += r.reward();
                obs = r.observation();
                done = r.done();
            }
        }
        return total / episodes;
    }

    /**
     * Runs {@code steps} steps of {@code task} (resetting at episode ends) and returns them as one
     * segment of (observation, applied action, next observation) rows. Rows across an episode boundary
     * never mix two episodes: each row is one real step.
     *
     * @param policy the acting policy; null for uniformly random actions
     * @throws IllegalArgumentException if {@code steps < 1}
     */
    public static Segment collect(TaskFamily family, TaskSpec task, Policy policy, long seed, int steps) {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(task, "task");
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        SplittableRandom seeds = new SplittableRandom(seed);
        Environment env = family.create(task, seeds.nextLong());
        Policy actor = policy != null ? policy : Policy.random(family, new Random(seeds.nextLong()));
        double[][] obs = new double[steps][];
        double[][] act = new double[steps][];
        double[][] next = new double[steps][];
        double[] current = env.reset();
        actor.reset();
        for (int i = 0; i < steps; i++) {
            double[] applied = env.clippedAction(actor.act(current));
            StepResult r = env.step(applied);
            obs[i] = current;
            act[i] = applied;
            next[i] = r.observation();
            if (r.done()) {
                current = env.reset();
                actor.reset();
            } else {
                current = r.observation();
            }
        }
        return new Segment(obs, act, next);
    }
}

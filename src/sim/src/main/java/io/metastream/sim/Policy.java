package io.metastream.sim;

import io.metastream.core.mpc.BatchDynamics;
import io.metastream.core.mpc.BatchProjection;
import io.metastream.core.mpc.BatchReward;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.core.mpc.MpcPlanner;
import java.util.Objects;
import java.util.Random;

/**
 * Chooses an action from an observation, for {@link Evaluation}. A policy may keep state (an MPC
 * planner's random stream) and is not assumed thread-safe. The returned action may exceed the action
 * bounds; environments clip it.
 */
@FunctionalInterface
public interface Policy {

    double[] act(double[] observation);

    /** Called before each episode's first step; a planner forgets its warm start here. */
    default void reset() {}

    /** Uniformly random actions within the family's bounds, drawn from {@code rng}. */
    static Policy random(TaskFamily family, Random rng) {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(rng, "rng");
        double[] low = family.actionLow();
        double[] high = family.actionHigh();
        return obs -> {
            double[] a = new double[low.length];
            for (int i = 0; i < a.length; i++) {
                a[i] = low[i] + (high[i] - low[i]) * rng.nextDouble();
            }
            return a;
        };
    }

    /**
     * Model-predictive control with a dynamics model and the family's task-independent reward; the planner
     * samples from {@code rng}.
     *
     * @throws UnsupportedOperationException if the family's reward depends on the task; use
     *     {@link #mpc(TaskFamily, TaskSpec, BatchDynamics, MpcConfig, Random)}
     */
    static Policy mpc(TaskFamily family, BatchDynamics model, MpcConfig mpc, Random rng) {
        Objects.requireNonNull(family, "family");
        return mpc(family.reward(), family.projection(), model, mpc, rng);
    }

    /** Model-predictive control with a dynamics model and the reward of {@code task}; the planner samples from {@code rng}. */
    static Policy mpc(TaskFamily family, TaskSpec task, BatchDynamics model, MpcConfig mpc, Random rng) {
        Objects.requireNonNull(family, "family");
        return mpc(family.reward(Objects.requireNonNull(task, "task")), family.projection(), model, mpc, rng);
    }

    private static Policy mpc(BatchReward reward, BatchProjection projection, BatchDynamics model, MpcConfig mpc,
            Random rng) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(mpc, "mpc");
        MpcPlanner planner = new MpcPlanner(mpc, Objects.requireNonNull(rng, "rng"));
        return new Policy() {
            @Override
            public double[] act(double[] observation) {
                return planner.act(model, reward, projection, observation);
            }

            @Override
            public void reset() {
                planner.reset();
            }
        };
    }
}

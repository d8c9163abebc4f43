package io.metastream.sim;

import io.metastream.core.mpc.BatchReward;
import java.util.List;

/**
 * A distribution of related control tasks that share observation and action spaces but differ in
 * physical parameters (mass, friction, actuator gains), plus the factory for their simulators.
 *
 * <p>Task sets are deterministic functions of the seed. {@link #trainTasks} and {@link #heldOutTasks}
 * draw from separate random streams, use different id prefixes ({@code "<name>-train-<i>"} and
 * {@code "<name>-test-<i>"}) and are checked to share no parameter vector, so meta-test tasks are never
 * seen in meta-training. The i-th task of a set does not depend on {@code n}: asking for more tasks
 * extends the list.
 *
 * <p>Implementations are immutable and thread-safe; the environments they create are not.
 */
public interface TaskFamily {

    /** Registry name, as accepted by {@link TaskFamilies#byName}. */
    String name();

    /** Length of every observation. */
    int obsDim();

    /** Length of every action. */
    int actDim();

    /** Lower action bounds (a fresh array of length {@link #actDim()}). */
    double[] actionLow();

    /** Upper action bounds (a fresh array of length {@link #actDim()}). */
    double[] actionHigh();

    /** Number of steps in an episode. */
    int horizon();

    /**
     * Returns {@code n >= 0} meta-training tasks with ids {@code "<name>-train-0" ... "<name>-train-(n-1)"}.
     *
     * @throws IllegalStateException in the (practically impossible) case that a drawn task equals a held-out one
     */
    List<TaskSpec> trainTasks(int n, long seed);

    /**
     * Returns {@code n >= 0} meta-test tasks with ids {@code "<name>-test-0" ...}, disjoint from
     * {@link #trainTasks} for the same seed.
     *
     * @throws IllegalStateException in the (practically impossible) case that a drawn task equals a training one
     */
    List<TaskSpec> heldOutTasks(int n, long seed);

    /**
     * Creates a simulator for a task. The seed drives the initial states of all its episodes.
     *
     * @throws IllegalArgumentException if the task lacks a parameter this family needs
     */
    Environment create(TaskSpec task, long seed);

    /**
     * The family's reward as a batched ND4J function for planners. It computes, row by row, exactly the
     * reward {@link Environment#step} returns for the same observation, applied (clipped) action and
     * next observation; it does not depend on the task parameters.
     */
    BatchReward reward();
}

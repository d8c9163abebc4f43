package io.metastream.sim;

import io.metastream.core.mpc.BatchDynamics;
import io.metastream.core.mpc.BatchProjection;
import io.metastream.core.mpc.BatchReward;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A distribution of related control tasks that share observation and action spaces but differ in
 * physical parameters (mass, friction, actuator gains) or in what they reward (a goal, a target
 * velocity), plus the factory for their simulators.
 *
 * <p>Task sets are deterministic functions of the seed. {@link #trainTasks} and {@link #heldOutTasks}
 * draw from separate random streams, use different id prefixes ({@code "<name>-train-<i>"} and
 * {@code "<name>-test-<i>"}) and are checked to share no parameter vector, so meta-test tasks are never
 * seen in meta-training. The i-th task of a set does not depend on {@code n}: asking for more tasks
 * extends the list.
 *
 * <p>A family may instead reproduce a published, fixed task list (PEARL's point-robot goals): then
 * {@link #maxTrainTasks()} and {@link #maxHeldOutTasks()} are finite, the two sets are prefixes of the
 * published train and eval splits, and the seed does not change them.
 *
 * <p>The reward may depend on the task (a goal position, a target velocity) as well as on the
 * transition; {@link #reward(TaskSpec)} is the batched reward of one task.
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
     * @throws IllegalArgumentException if {@code n < 0} or {@code n > }{@link #maxTrainTasks()}
     * @throws IllegalStateException in the (practically impossible) case that a drawn task equals a held-out one
     */
    List<TaskSpec> trainTasks(int n, long seed);

    /**
     * Returns {@code n >= 0} meta-test tasks with ids {@code "<name>-test-0" ...}, disjoint from
     * {@link #trainTasks} for the same seed.
     *
     * @throws IllegalArgumentException if {@code n < 0} or {@code n > }{@link #maxHeldOutTasks()}
     * @throws IllegalStateException in the (practically impossible) case that a drawn task equals a training one
     */
    List<TaskSpec> heldOutTasks(int n, long seed);

    /**
     * How many training tasks {@link #trainTasks} can return: {@link Integer#MAX_VALUE} for a family that
     * draws tasks from a distribution, the size of the published train split for a fixed task list
     * (whose tasks do not depend on the seed).
     */
    default int maxTrainTasks() {
        return Integer.MAX_VALUE;
    }

    /** How many held-out tasks {@link #heldOutTasks} can return; see {@link #maxTrainTasks()}. */
    default int maxHeldOutTasks() {
        return Integer.MAX_VALUE;
    }

    /**
     * Creates a simulator for a task. The seed drives the initial states of all its episodes.
     *
     * @throws IllegalArgumentException if the task lacks a parameter this family needs
     */
    Environment create(TaskSpec task, long seed);

    /**
     * The family's reward as a batched function over arrays for planners, for a family whose reward does not
     * depend on the task. It computes, row by row, exactly the reward {@link Environment#step} returns
     * for the same observation, applied (clipped) action and next observation, in every task.
     *
     * @throws UnsupportedOperationException if the reward depends on the task (a goal, a target
     *     velocity); use {@link #reward(TaskSpec)}
     */
    BatchReward reward();

    /**
     * The reward of one task as a batched function over arrays for planners: row by row exactly the reward
     * {@link Environment#step} returns in {@code task} for the same observation, applied (clipped) action
     * and next observation. Works for every family; the default, for task-independent rewards, is
     * {@link #reward()}.
     *
     * @throws IllegalArgumentException if the task lacks a parameter the reward needs
     */
    default BatchReward reward(TaskSpec task) {
        Objects.requireNonNull(task, "task must not be null");
        return reward();
    }

    /**
     * Settings this family's tasks need, keyed as on the command line with their prefix
     * ({@code mpc.horizon}); the default asks for none. Today the agents' planner reads the {@code mpc.}
     * ones, under the user's own (an explicit {@code --mpc.<key>} wins), in the local run, its fleet and
     * the benches. A swing-up, for instance, needs a longer planning horizon than the default to see its
     * payoff.
     */
    default Map<String, String> suggestedSettings() {
        return Map.of();
    }

    /** {@link #suggestedSettings()} under {@code prefix} (e.g. {@code "mpc."}), the prefix stripped. */
    default Map<String, String> suggestedSettings(String prefix) {
        Map<String, String> out = new java.util.TreeMap<>();
        suggestedSettings().forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

    /**
     * How a planner maps a learned model's predictions back onto this family's observations (unit
     * circles for angles, the simulator's speed limits), applied after every model step of a rollout; it
     * leaves every observation the environment produces unchanged. The default changes nothing. A family
     * whose observations have such structure should say so here: a model's errors otherwise carry a long
     * rollout into states no trajectory reaches, where its predictions are extrapolation.
     */
    default BatchProjection projection() {
        return BatchProjection.NONE;
    }

    /**
     * The task's exact dynamics as the planner's model: row by row the next observation
     * {@link Environment#step} would return from the state the observation shows under the (clipped)
     * action. Planning with it gives the planner's ceiling, what a perfect learned model would reach.
     * Thread-safe.
     *
     * @throws UnsupportedOperationException when the family's observations do not determine its state
     */
    default BatchDynamics trueDynamics(TaskSpec task) {
        throw new UnsupportedOperationException(name() + " has no true model: its observations do not determine its state");
    }
}

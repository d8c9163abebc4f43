package io.metastream.sim;

import java.util.Objects;
import java.util.OptionalDouble;

/**
 * Outcome of one {@link Environment#step(double[])}.
 *
 * <p>A family with a sparse reward (PEARL's {@code sparse-point-robot}) still returns its dense reward
 * in {@link #reward()}, as the reference returns it from {@code step()}, and carries the sparse one
 * alongside, as the reference carries it in {@code info['sparse_reward']}: PEARL trains its critic on
 * the dense reward and builds the task context and evaluates on the sparse one.
 *
 * @param observation the next observation s' (a fresh array the caller may keep)
 * @param reward the reward of the step, computed by the family's formula (the dense one where a family
 *     has both)
 * @param done true on the last step of the episode (the family's horizon); call {@link Environment#reset()} next
 * @param sparseReward the family's sparse reward for this step, or empty for a family that defines none.
 *     By contract it is positive exactly when the step ends inside the goal region and 0 otherwise,
 *     which {@link #goalReached()} relies on
 */
public record StepResult(double[] observation, double reward, boolean done, OptionalDouble sparseReward) {

    public StepResult {
        Objects.requireNonNull(observation, "observation");
        Objects.requireNonNull(sparseReward, "sparseReward must not be null; pass OptionalDouble.empty() for none");
    }

    /** A step of a family without a sparse reward (every family except {@code sparse-point-robot}). */
    public StepResult(double[] observation, double reward, boolean done) {
        this(observation, reward, done, OptionalDouble.empty());
    }

    /**
     * True when the step ended inside the family's goal region (for {@code sparse-point-robot}: within
     * 0.2 of the goal), the success criterion of sparse-reward benchmarks. Always false for a family
     * without a sparse reward.
     */
    public boolean goalReached() {
        return sparseReward.isPresent() && sparseReward.getAsDouble() > 0;
    }
}

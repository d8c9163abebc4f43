package io.metastream.sim;

import java.util.Objects;

/**
 * Outcome of one {@link Environment#step(double[])}.
 *
 * @param observation the next observation s' (a fresh array the caller may keep)
 * @param reward the reward of the step, computed by the family's formula
 * @param done true on the last step of the episode (the family's horizon); call {@link Environment#reset()} next
 */
public record StepResult(double[] observation, double reward, boolean done) {

    public StepResult {
        Objects.requireNonNull(observation, "observation");
    }
}

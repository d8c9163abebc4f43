package io.metastream.core.mpc;

/**
 * A batched one-step dynamics model over plain row-major arrays: for the rows
 * {@code [from, from + rows)} of observations {@code obs [·, obsDim]} and actions {@code act [·, actDim]}
 * it writes the predicted next observations into the same rows of {@code out [·, obsDim]}. The planner calls it once per horizon step for
 * all candidates of all agents it plans for. {@code DynamicsModel::rollout} gives a learned model's.
 *
 * <p>Implementations must not modify {@code obs} or {@code act}, must write only those
 * rows of {@code out} (a different array from both inputs), and may be called
 * from several threads at once with different arrays.
 */
@FunctionalInterface
public interface BatchDynamics {
    void next(double[] obs, double[] act, int from, int rows, double[] out);
}

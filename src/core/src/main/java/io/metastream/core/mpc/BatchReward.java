package io.metastream.core.mpc;

/**
 * A batched reward function over plain row-major arrays: one reward per row for the rows {@code [from, from + rows)}
 * of the transitions {@code (obs [·, obsDim], act [·, actDim], nextObs [·, obsDim])}, written to
 * {@code out[from .. from + rows)}. Rows may be a learned model's predictions, so nothing may assume they are
 * physically consistent.
 *
 * <p>Implementations must not modify their inputs and may be called from several threads at once with
 * different arrays.
 */
@FunctionalInterface
public interface BatchReward {
    void reward(double[] obs, double[] act, double[] nextObs, int from, int rows, double[] out);
}

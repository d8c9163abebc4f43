package io.metastream.core.mpc;

/**
 * Maps predicted observations back onto the set of observations the environment can produce, in place,
 * for the rows {@code [from, from + rows)} of {@code obs [·, obsDim]}: a (cos, sin) pair back onto the
 * unit circle, a velocity back inside the limit the simulator clips it to. The planner applies it after
 * every model step of a rollout, so a learned model's small errors do not carry it into states no
 * trajectory can reach, where its next predictions are extrapolation and a reward may pay for the
 * impossible. It must leave an observation the environment produced unchanged (up to rounding), must
 * write only those rows, and may be called from several threads at once with different arrays.
 */
@FunctionalInterface
public interface BatchProjection {

    /** Leaves every observation as it is: for observation spaces without structure to restore. */
    BatchProjection NONE = (obs, from, rows) -> {};

    void project(double[] obs, int from, int rows);
}

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

    /**
     * Scales the pair {@code (v[i], v[i + 1])} to length 1, as a (cos, sin) pair of an angle must be; a pair
     * of zeros becomes (1, 0) and a non-finite pair is left as it is (the planner discards that rollout).
     */
    static void onUnitCircle(double[] v, int i) {
        double n = Math.sqrt(v[i] * v[i] + v[i + 1] * v[i + 1]);
        if (n > 0 && Double.isFinite(n)) {
            v[i] /= n;
            v[i + 1] /= n;
        } else if (n == 0) {
            v[i] = 1;
        }
    }

    /** Clips {@code v[i]} into {@code [-limit, limit]}, as a simulator clips a speed or a position
     * (NaN stays NaN: the planner discards that rollout). */
    static void clip(double[] v, int i, double limit) {
        v[i] = v[i] > limit ? limit : (v[i] < -limit ? -limit : v[i]);
    }
}

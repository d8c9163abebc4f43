package io.metastream.sim;

/**
 * Checks for a planner batch handed to the families' batched rewards (each family writes its own, with
 * the very formula its environment's {@code step} uses, so the two cannot drift apart).
 *
 * <p>Rows are observations a learned model predicted, so nothing assumes physical consistency
 * (cos²+sin² need not be 1, positions may leave the walls): the state is read the way the environment
 * reads it and what the environment clips is clipped. Inputs are never modified.
 */
final class BatchRows {

    private BatchRows() {}

    /** Fails unless {@code values} holds rows {@code [from, from + rows)} of width {@code cols}. */
    static void require(double[] values, int cols, int from, int rows, String what) {
        if (values == null || from < 0 || rows < 0 || values.length < (long) (from + rows) * cols) {
            throw new IllegalArgumentException(what + " must hold rows [" + from + ", " + (from + rows) + ") of " + cols
                    + " values each for this family's reward, got " + (values == null ? "null" : values.length + " values"));
        }
    }

    /** Checks the three inputs and the output of a reward call. */
    static void require(double[] obs, int obsDim, double[] act, int actDim, double[] nextObs, int from, int rows,
            double[] out) {
        require(obs, obsDim, from, rows, "obs");
        require(act, actDim, from, rows, "act");
        require(nextObs, obsDim, from, rows, "nextObs");
        require(out, 1, from, rows, "out");
    }
}

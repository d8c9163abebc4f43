package io.metastream.core.grbal;

import java.util.Arrays;

/**
 * Consecutive transitions {@code (obs_t, act_t, nextObs_t)} of one task, in time order.
 *
 * <p>Immutable and thread-safe: the constructor copies its arguments and the accessors return
 * copies. Values are stored row-major in flat arrays, so converting to network inputs is cheap.
 */
public final class Segment {

    private final int length;
    private final int obsDim;
    private final int actDim;
    private final double[] obs;
    private final double[] act;
    private final double[] nextObs;

    /**
     * @param obs {@code [T][obsDim]} observations
     * @param act {@code [T][actDim]} actions taken at {@code obs}
     * @param nextObs {@code [T][obsDim]} observations after each action
     * @throws IllegalArgumentException when arrays are null or empty, lengths or dimensions differ,
     *     or a value is NaN or infinite; the message names the array, row and column
     */
    public Segment(double[][] obs, double[][] act, double[][] nextObs) {
        if (obs == null || act == null || nextObs == null) {
            throw new IllegalArgumentException("obs, act and nextObs must all be non-null");
        }
        if (obs.length == 0) {
            throw new IllegalArgumentException("a segment needs at least one transition; obs is empty");
        }
        if (act.length != obs.length || nextObs.length != obs.length) {
            throw new IllegalArgumentException("obs, act and nextObs must have one row per transition, got " + obs.length
                    + ", " + act.length + " and " + nextObs.length + " rows");
        }
        if (obs[0] == null || obs[0].length == 0) {
            throw new IllegalArgumentException("obs row 0 is " + (obs[0] == null ? "null" : "empty")
                    + "; observations need at least one dimension");
        }
        if (act[0] == null || act[0].length == 0) {
            throw new IllegalArgumentException("act row 0 is " + (act[0] == null ? "null" : "empty")
                    + "; actions need at least one dimension");
        }
        this.length = obs.length;
        this.obsDim = obs[0].length;
        this.actDim = act[0].length;
        this.obs = flatten(obs, obsDim, "obs");
        this.act = flatten(act, actDim, "act");
        this.nextObs = flatten(nextObs, obsDim, "nextObs");
    }

    /**
     * A segment from row-major flat arrays, as they travel between operators: validated and copied once,
     * never unflattened.
     *
     * @throws IllegalArgumentException when a size is not positive, an array's length is not
     *     {@code length × dim}, or a value is NaN or infinite
     */
    public static Segment ofFlat(int length, int obsDim, int actDim, double[] obs, double[] act, double[] nextObs) {
        if (length <= 0 || obsDim <= 0 || actDim <= 0) {
            throw new IllegalArgumentException("a segment needs a positive length and dimensions, got length " + length
                    + ", obsDim " + obsDim + ", actDim " + actDim);
        }
        return new Segment(length, obsDim, actDim, checkedCopy(obs, length, obsDim, "obs"),
                checkedCopy(act, length, actDim, "act"), checkedCopy(nextObs, length, obsDim, "nextObs"));
    }

    private static double[] checkedCopy(double[] flat, int length, int dim, String name) {
        if (flat == null || flat.length != length * dim) {
            throw new IllegalArgumentException(name + " has " + (flat == null ? "no" : flat.length) + " values, expected "
                    + length + "x" + dim);
        }
        for (int i = 0; i < flat.length; i++) {
            if (!Double.isFinite(flat[i])) {
                throw new IllegalArgumentException(name + "[" + i / dim + "][" + i % dim + "] is " + flat[i]
                        + "; segments must hold finite values (drop or repair the transition upstream)");
            }
        }
        return flat.clone();
    }

    private Segment(int length, int obsDim, int actDim, double[] obs, double[] act, double[] nextObs) {
        this.length = length;
        this.obsDim = obsDim;
        this.actDim = actDim;
        this.obs = obs;
        this.act = act;
        this.nextObs = nextObs;
    }

    private static double[] flatten(double[][] rows, int dim, String name) {
        double[] flat = new double[rows.length * dim];
        for (int t = 0; t < rows.length; t++) {
            double[] row = rows[t];
            if (row == null || row.length != dim) {
                throw new IllegalArgumentException(name + " row " + t + " has " + (row == null ? "no" : row.length)
                        + " columns but row 0 of obs/act fixes " + dim);
            }
            for (int j = 0; j < dim; j++) {
                double v = row[j];
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException(name + "[" + t + "][" + j + "] is " + v
                            + "; segments must hold finite values (drop or repair the transition upstream)");
                }
                flat[t * dim + j] = v;
            }
        }
        return flat;
    }

    /** Number of transitions. */
    public int length() {
        return length;
    }

    public int obsDim() {
        return obsDim;
    }

    public int actDim() {
        return actDim;
    }

    /** Transitions {@code [from, to)} as a new segment. */
    public Segment slice(int from, int to) {
        if (from < 0 || to > length || from >= to) {
            throw new IllegalArgumentException("slice [" + from + ", " + to + ") is not a non-empty range within [0, " + length
                    + ")");
        }
        return new Segment(to - from, obsDim, actDim,
                Arrays.copyOfRange(obs, from * obsDim, to * obsDim),
                Arrays.copyOfRange(act, from * actDim, to * actDim),
                Arrays.copyOfRange(nextObs, from * obsDim, to * obsDim));
    }

    /** The last {@code n} transitions. */
    public Segment last(int n) {
        return slice(length - n, length);
    }

    /** A copy of the observations, {@code [length][obsDim]}. */
    public double[][] obs() {
        return unflatten(obs, obsDim);
    }

    /** A copy of the actions, {@code [length][actDim]}. */
    public double[][] act() {
        return unflatten(act, actDim);
    }

    /** A copy of the next observations, {@code [length][obsDim]}. */
    public double[][] nextObs() {
        return unflatten(nextObs, obsDim);
    }

    // Zero-copy row-major views for this package; callers must not modify them.
    double[] obsFlat() {
        return obs;
    }

    double[] actFlat() {
        return act;
    }

    double[] nextObsFlat() {
        return nextObs;
    }

    private double[][] unflatten(double[] flat, int dim) {
        double[][] out = new double[length][];
        for (int t = 0; t < length; t++) {
            out[t] = Arrays.copyOfRange(flat, t * dim, (t + 1) * dim);
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Segment s && s.length == length && s.obsDim == obsDim && s.actDim == actDim
                && Arrays.equals(s.obs, obs) && Arrays.equals(s.act, act) && Arrays.equals(s.nextObs, nextObs);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(obs) + Arrays.hashCode(act)) + Arrays.hashCode(nextObs);
    }

    @Override
    public String toString() {
        return "Segment[length=" + length + ", obsDim=" + obsDim + ", actDim=" + actDim + "]";
    }
}

package io.metastream.cli;

import java.util.Arrays;

/** Summary statistics the benchmarks report. */
public final class Stats {
    private Stats() {}

    /** The median of {@code v} (the mean of the two middle values for an even count); NaN when empty. */
    public static double median(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double[] s = v.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : 0.5 * (s[m - 1] + s[m]);
    }
}

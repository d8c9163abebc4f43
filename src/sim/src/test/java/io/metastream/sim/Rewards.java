package io.metastream.sim;

import io.metastream.core.mpc.BatchReward;

/** Calls a batched reward on rows given as arrays of rows, as tests write them. */
public final class Rewards {
    private Rewards() {}

    /** Row-major copy of {@code rows}. */
    public static double[] flat(double[][] rows) {
        int w = rows.length == 0 ? 0 : rows[0].length;
        double[] out = new double[rows.length * w];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, out, i * w, w);
        }
        return out;
    }

    /** One reward per row. */
    public static double[] score(BatchReward reward, double[][] obs, double[][] act, double[][] next) {
        double[] out = new double[obs.length];
        reward.reward(flat(obs), flat(act), flat(next), 0, obs.length, out);
        return out;
    }
}

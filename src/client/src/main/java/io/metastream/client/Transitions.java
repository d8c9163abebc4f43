package io.metastream.client;

import io.metastream.core.grbal.Segment;
import io.metastream.schema.Transition;

import java.util.List;

/** Conversions between the wire record {@link Transition} and the algorithms' {@link Segment}. */
public final class Transitions {
    private Transitions() {}

    /**
     * The transitions, in the given order, as one segment.
     *
     * @throws IllegalArgumentException if the list is empty or the vectors have inconsistent sizes
     */
    public static Segment toSegment(List<Transition> transitions) {
        int n = transitions.size();
        if (n == 0) {
            throw new IllegalArgumentException("cannot make a segment of no transitions");
        }
        double[][] obs = new double[n][];
        double[][] act = new double[n][];
        double[][] next = new double[n][];
        for (int i = 0; i < n; i++) {
            Transition t = transitions.get(i);
            obs[i] = toDoubles(t.getObservation());
            act[i] = toDoubles(t.getAction());
            next[i] = toDoubles(t.getNextObservation());
        }
        return new Segment(obs, act, next);
    }

    public static double[] toDoubles(List<Float> values) {
        double[] d = new double[values.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = values.get(i);
        }
        return d;
    }
}

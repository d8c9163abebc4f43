package io.metastream.core.grbal;

import java.util.Random;

/**
 * A family of 1-D dynamics tasks {@code s' = s + dt (g a − c s)} with a task-specific gain
 * {@code g} (either sign, so an unadapted model cannot know it) and damping {@code c}. A reusable
 * fake environment for GrBAL tests.
 */
final class ToyTasks {

    static final double DT = 0.1;

    record Task(double gain, double damping) {
        Segment rollout(Random rng, int length) {
            double[][] obs = new double[length][1];
            double[][] act = new double[length][1];
            double[][] next = new double[length][1];
            double s = 2 * rng.nextDouble() - 1;
            for (int t = 0; t < length; t++) {
                double a = 2 * rng.nextDouble() - 1;
                double s2 = s + DT * (gain * a - damping * s);
                obs[t][0] = s;
                act[t][0] = a;
                next[t][0] = s2;
                s = s2;
            }
            return new Segment(obs, act, next);
        }
    }

    static Task sample(Random rng) {
        double g = (0.5 + 1.5 * rng.nextDouble()) * (rng.nextBoolean() ? 1 : -1);
        double c = 0.5 * rng.nextDouble();
        return new Task(g, c);
    }

    private ToyTasks() {}
}

package io.metastream.sim;

import io.metastream.core.mpc.BatchReward;
import java.util.SortedMap;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A planar point mass (mass 1) that must reach the origin through an imperfect actuator: per-axis gains
 * (with probability 0.3 one axis is crippled to a gain below 0.2), a rotation ψ of the applied force and
 * viscous friction c. With a = clip(a, −1, 1): F = R(ψ)·diag(gx, gy)·a, v' = v + (F − c·v)·dt,
 * p' = clip(p + v'·dt, −5, 5); reward −‖p'‖ − 0.01‖a‖². The position clip is a hard wall that keeps the
 * velocity (a known simplification: the observation stays Markov, the wall is not elastic).
 */
final class PointMassFamily extends AbstractTaskFamily {

    static final String NAME = "point-mass";
    static final String GAIN_X = "gainX";
    static final String GAIN_Y = "gainY";
    static final String ROTATION = "rotation";
    static final String FRICTION = "friction";

    static final double DT = 0.1;
    static final double BOUND = 5.0;
    static final double CRIPPLE_PROBABILITY = 0.3;
    static final double ACTION_COST = 0.01;
    static final int HORIZON = 100;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int obsDim() {
        return 4;
    }

    @Override
    public int actDim() {
        return 2;
    }

    @Override
    public double[] actionLow() {
        return new double[] {-1.0, -1.0};
    }

    @Override
    public double[] actionHigh() {
        return new double[] {1.0, 1.0};
    }

    @Override
    public int horizon() {
        return HORIZON;
    }

    @Override
    protected SortedMap<String, Double> sampleParams(SplittableRandom rng) {
        double gx = rng.nextDouble(0.2, 1.5);
        double gy = rng.nextDouble(0.2, 1.5);
        if (rng.nextDouble() < CRIPPLE_PROBABILITY) {
            double crippled = rng.nextDouble(0.0, 0.2);
            if (rng.nextBoolean()) {
                gx = crippled;
            } else {
                gy = crippled;
            }
        }
        SortedMap<String, Double> p = new TreeMap<>();
        p.put(GAIN_X, gx);
        p.put(GAIN_Y, gy);
        p.put(ROTATION, rng.nextDouble(-Math.PI / 4, Math.PI / 4));
        p.put(FRICTION, rng.nextDouble(0.0, 1.0));
        return p;
    }

    @Override
    protected void validate(TaskSpec task) {
        requireNonNegative(task, GAIN_X);
        requireNonNegative(task, GAIN_Y);
        task.param(ROTATION);
        requireNonNegative(task, FRICTION);
    }

    @Override
    public Environment create(TaskSpec task, long seed) {
        return new Env(this, task, seed);
    }

    /**
     * Point mass: −‖p'‖ − 0.01·‖a‖² with p' the next position clipped to the walls and a the action
     * clipped to [−1, 1].
     */
    private static final BatchReward REWARD = (obs, a, s, from, rows, r) -> {
        BatchRows.require(obs, 4, a, 2, s, from, rows, r);
        double bound = PointMassFamily.BOUND;
        for (int i = from; i < from + rows; i++) {
            double x = Math.max(-bound, Math.min(bound, s[4 * i]));
            double y = Math.max(-bound, Math.min(bound, s[4 * i + 1]));
            double ax = Math.max(-1.0, Math.min(1.0, a[2 * i]));
            double ay = Math.max(-1.0, Math.min(1.0, a[2 * i + 1]));
            r[i] = PointMassFamily.reward(x, y, ax, ay);
        }
    };

    @Override
    public BatchReward reward() {
        return REWARD;
    }

    /** The reward for the new position and the applied action; shared with the batched reward's formula. */
    static double reward(double nextX, double nextY, double ax, double ay) {
        return -Math.hypot(nextX, nextY) - ACTION_COST * (ax * ax + ay * ay);
    }

    private static final class Env extends AbstractEnvironment {
        private double x;
        private double y;
        private double vx;
        private double vy;
        /** Actuator matrix B = R(ψ)·diag(gx, gy), row-major; recomputed on every task change. */
        private double b00;
        private double b01;
        private double b10;
        private double b11;
        private double friction;

        Env(PointMassFamily family, TaskSpec task, long seed) {
            super(family, seed);
            setTask(task);
        }

        @Override
        protected void applyTask(TaskSpec task) {
            double gx = task.param(GAIN_X);
            double gy = task.param(GAIN_Y);
            double psi = task.param(ROTATION);
            double cos = Math.cos(psi);
            double sin = Math.sin(psi);
            b00 = cos * gx;
            b01 = -sin * gy;
            b10 = sin * gx;
            b11 = cos * gy;
            friction = task.param(FRICTION);
        }

        @Override
        protected double[] resetState() {
            x = rng.nextDouble(-2.0, 2.0);
            y = rng.nextDouble(-2.0, 2.0);
            vx = 0.0;
            vy = 0.0;
            return observe();
        }

        @Override
        protected double advance(double[] a) {
            double fx = b00 * a[0] + b01 * a[1];
            double fy = b10 * a[0] + b11 * a[1];
            vx = vx + (fx - friction * vx) * DT;
            vy = vy + (fy - friction * vy) * DT;
            x = clip(x + vx * DT, -BOUND, BOUND);
            y = clip(y + vy * DT, -BOUND, BOUND);
            return reward(x, y, a[0], a[1]);
        }

        @Override
        protected double[] observe() {
            return new double[] {x, y, vx, vy};
        }

        @Override
        protected void restore(double[] o) {
            x = o[0];
            y = o[1];
            vx = o[2];
            vy = o[3];
        }
    }
}

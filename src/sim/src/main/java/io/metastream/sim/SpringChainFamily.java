package io.metastream.sim;

import io.metastream.core.mpc.BatchProjection;
import io.metastream.core.mpc.BatchReward;
import java.util.SortedMap;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Three masses on a line, joined by springs and dampers to a wall and to each other
 * (wall — m1 — m2 — m3), with motors on the first and the last mass; the last mass must be held at a
 * target position. Force reaches the end of the chain through the springs, so the response to an action
 * lags by several steps and depends on every varied parameter.
 *
 * <p>Task parameters: {@code mass1}, {@code mass2}, {@code mass3} in [0.5, 2]; {@code stiffness} (every
 * spring) in [0.5, 3]; {@code damping} (every damper) in [0.05, 0.5]; {@code gain1}, {@code gain3} in
 * [0.3, 1.5], the actuator gains of the motors on m1 and m3 (either may be reversed: with probability
 * 1/4 each gain is negated). Seven parameters, all varied.
 *
 * <p>Dynamics, with x the displacements from rest (springs relaxed at x = 0), v the velocities,
 * u = clip(u, −1, 1) and F = MAX_FORCE · (gain1 u1, 0, gain3 u2):
 * m_i v̇_i = F_i − k (x_i − x_{i−1}) − k (x_i − x_{i+1}) − c (v_i − v_{i−1}) − c (v_i − v_{i+1}), with
 * x_0 = v_0 = 0 (the wall) and no spring beyond m3. Semi-implicit Euler in 4 substeps of DT/4
 * (DT = 0.05), velocities clipped to ±MAX_SPEED.
 *
 * <p>Observation (x1, x2, x3, v1, v2, v3); action u in [−1, 1]²; horizon 100; episodes start at
 * displacements uniform in [−0.5, 0.5] and velocities uniform in [−0.2, 0.2]. Reward, on the observation
 * after the step: −(x3 − TARGET)² − 0.01 Σ v_i² − 0.01 ‖u‖², TARGET = 1.
 */
final class SpringChainFamily extends AbstractTaskFamily {

    static final String NAME = "spring-chain";
    static final String MASS1 = "mass1";
    static final String MASS2 = "mass2";
    static final String MASS3 = "mass3";
    static final String STIFFNESS = "stiffness";
    static final String DAMPING = "damping";
    static final String GAIN1 = "gain1";
    static final String GAIN3 = "gain3";

    static final double DT = 0.05;
    static final int SUBSTEPS = 4;
    static final double MAX_FORCE = 3.0;
    static final double MAX_SPEED = 10.0;
    static final double TARGET = 1.0;
    static final int HORIZON = 100;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int obsDim() {
        return 6;
    }

    @Override
    public int actDim() {
        return 2;
    }

    @Override
    public double[] actionLow() {
        return new double[] {-1, -1};
    }

    @Override
    public double[] actionHigh() {
        return new double[] {1, 1};
    }

    @Override
    public int horizon() {
        return HORIZON;
    }

    @Override
    protected SortedMap<String, Double> sampleParams(SplittableRandom rng) {
        SortedMap<String, Double> p = new TreeMap<>();
        p.put(MASS1, rng.nextDouble(0.5, 2.0));
        p.put(MASS2, rng.nextDouble(0.5, 2.0));
        p.put(MASS3, rng.nextDouble(0.5, 2.0));
        p.put(STIFFNESS, rng.nextDouble(0.5, 3.0));
        p.put(DAMPING, rng.nextDouble(0.05, 0.5));
        double g1 = rng.nextDouble(0.3, 1.5);
        double g3 = rng.nextDouble(0.3, 1.5);
        p.put(GAIN1, rng.nextInt(4) == 0 ? -g1 : g1);
        p.put(GAIN3, rng.nextInt(4) == 0 ? -g3 : g3);
        return p;
    }

    @Override
    protected void validate(TaskSpec task) {
        requirePositive(task, MASS1);
        requirePositive(task, MASS2);
        requirePositive(task, MASS3);
        requirePositive(task, STIFFNESS);
        requireNonNegative(task, DAMPING);
        task.param(GAIN1);
        task.param(GAIN3);
    }

    @Override
    public Environment create(TaskSpec task, long seed) {
        return new Env(this, task, seed);
    }

    /** The reward on the observation after the step and the applied action; shared by the batched reward. */
    static double reward(double x3, double v1, double v2, double v3, double u1, double u2) {
        double a1 = Math.max(-1.0, Math.min(1.0, u1));
        double a2 = Math.max(-1.0, Math.min(1.0, u2));
        double e = x3 - TARGET;
        return -e * e - 0.01 * (v1 * v1 + v2 * v2 + v3 * v3) - 0.01 * (a1 * a1 + a2 * a2);
    }

    private static final BatchReward REWARD = (obs, a, s, from, rows, r) -> {
        BatchRows.require(obs, 6, a, 2, s, from, rows, r);
        for (int i = from; i < from + rows; i++) {
            int o = 6 * i;
            r[i] = reward(s[o + 2], s[o + 3], s[o + 4], s[o + 5], a[2 * i], a[2 * i + 1]);
        }
    };

    private static final BatchProjection PROJECTION = (obs, from, rows) -> {
        BatchRows.require(obs, 6, from, rows, "obs");
        for (int i = from; i < from + rows; i++) {
            int o = 6 * i;
            BatchProjection.clip(obs, o + 3, MAX_SPEED);
            BatchProjection.clip(obs, o + 4, MAX_SPEED);
            BatchProjection.clip(obs, o + 5, MAX_SPEED);
        }
    };

    /** the three velocities clipped to ±MAX_SPEED, as the simulator clips them. */
    @Override
    public BatchProjection projection() {
        return PROJECTION;
    }

    @Override
    public BatchReward reward() {
        return REWARD;
    }

    private static final class Env extends AbstractEnvironment {
        private final double[] x = new double[3];
        private final double[] v = new double[3];
        private final double[] m = new double[3];
        private double k;
        private double c;
        private double gain1;
        private double gain3;

        Env(SpringChainFamily family, TaskSpec task, long seed) {
            super(family, seed);
            setTask(task);
        }

        @Override
        protected void applyTask(TaskSpec task) {
            m[0] = task.param(MASS1);
            m[1] = task.param(MASS2);
            m[2] = task.param(MASS3);
            k = task.param(STIFFNESS);
            c = task.param(DAMPING);
            gain1 = task.param(GAIN1);
            gain3 = task.param(GAIN3);
        }

        @Override
        protected double[] resetState() {
            for (int i = 0; i < 3; i++) {
                x[i] = rng.nextDouble(-0.5, 0.5);
                v[i] = rng.nextDouble(-0.2, 0.2);
            }
            return observe();
        }

        @Override
        protected double advance(double[] action) {
            double[] f = {MAX_FORCE * gain1 * action[0], 0.0, MAX_FORCE * gain3 * action[1]};
            double h = DT / SUBSTEPS;
            double[] acc = new double[3];
            for (int s = 0; s < SUBSTEPS; s++) {
                for (int i = 0; i < 3; i++) {
                    double left = i == 0 ? 0.0 : x[i - 1];
                    double leftV = i == 0 ? 0.0 : v[i - 1];
                    double force = f[i] - k * (x[i] - left) - c * (v[i] - leftV);
                    if (i < 2) {
                        force -= k * (x[i] - x[i + 1]) + c * (v[i] - v[i + 1]);
                    }
                    acc[i] = force / m[i];
                }
                for (int i = 0; i < 3; i++) {
                    v[i] = clip(v[i] + acc[i] * h, -MAX_SPEED, MAX_SPEED);
                    x[i] += v[i] * h;
                }
            }
            return reward(x[2], v[0], v[1], v[2], action[0], action[1]);
        }

        @Override
        protected double[] observe() {
            return new double[] {x[0], x[1], x[2], v[0], v[1], v[2]};
        }

        @Override
        protected void restore(double[] o) {
            for (int i = 0; i < 3; i++) {
                x[i] = o[i];
                v[i] = o[3 + i];
            }
        }
    }
}

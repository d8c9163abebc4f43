package io.metastream.sim;

import io.metastream.core.mpc.BatchProjection;
import io.metastream.core.mpc.BatchReward;
import java.util.SortedMap;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A planar two-link arm in a horizontal plane (no gravity) that must hold a target configuration, with
 * varied physics and a possibly crippled joint (GrBAL's "crippled leg" idea on an arm). Point masses
 * {@code m1}, {@code m2} sit at the ends of links of lengths {@code l1}, {@code l2}; both joints have
 * viscous damping {@code damping}; joint i's motor delivers {@code gain_i · MAX_TORQUE · u_i}.
 *
 * <p>Task parameters: {@code mass1}, {@code mass2} in [0.5, 1.5]; {@code length1}, {@code length2} in
 * [0.6, 1.2]; {@code damping} in [0.05, 0.5]; {@code gain1}, {@code gain2} in [0.8, 1.2], except that
 * with probability 1/2 one joint (either, equally likely) is crippled: its gain is drawn from [0.1, 0.4]
 * instead; then each gain is negated with probability 1/4 (a motor wired the wrong way round). Seven
 * parameters, all varied.
 *
 * <p>The reversed motors are what make the physics matter to a planner. With weak joints alone (the
 * family's first form) MPC planning with the training tasks' mean physics scored as well as planning
 * with each task's own (held-out returns −52.8 against −55.5 for the true physics, seed 1; within noise on
 * all five bench seeds): re-planning every step absorbs a gain or a mass that is off by a factor of three,
 * so no adaptation had a control gap to close. A motor that turns the wrong way is not absorbed: the
 * planner must know it.
 *
 * <p>Dynamics, with q the joint angles, u = clip(u, −1, 1) and τ = MAX_TORQUE · (gain1 u1, gain2 u2):
 * M(q) q̈ = τ − h(q, q̇) − damping · q̇, where M11 = (m1 + m2) l1² + m2 l2² + 2 m2 l1 l2 cos q2,
 * M12 = M21 = m2 l2² + m2 l1 l2 cos q2, M22 = m2 l2², and h = (−m2 l1 l2 sin q2 (2 q̇1 q̇2 + q̇2²),
 * m2 l1 l2 sin q2 q̇1²). Integrated by semi-implicit Euler in 4 substeps of DT/4 (DT = 0.05), the
 * velocities clipped to ±MAX_SPEED after each substep.
 *
 * <p>Observation (cos q1, sin q1, cos q2, sin q2, q̇1, q̇2); action u in [−1, 1]²; horizon 100; episodes
 * start at angles uniform in [−π, π) and velocities uniform in [−0.5, 0.5]. Reward, on the observation
 * after the step: −[(1 − cos(q1 − q1*)) + (1 − cos(q2 − q2*))] − 0.01 (q̇1² + q̇2²) − 0.01 ‖u‖², with the
 * target q* = (π/2, −π/2), the same in every task (only the physics vary).
 */
final class ArmFamily extends AbstractTaskFamily {

    static final String NAME = "arm";
    static final String MASS1 = "mass1";
    static final String MASS2 = "mass2";
    static final String LENGTH1 = "length1";
    static final String LENGTH2 = "length2";
    static final String DAMPING = "damping";
    static final String GAIN1 = "gain1";
    static final String GAIN2 = "gain2";

    static final double DT = 0.05;
    static final int SUBSTEPS = 4;
    static final double MAX_TORQUE = 2.0;
    static final double MAX_SPEED = 10.0;
    static final int HORIZON = 100;
    static final double TARGET1 = Math.PI / 2;
    static final double TARGET2 = -Math.PI / 2;
    private static final double COS_T1 = Math.cos(TARGET1);
    private static final double SIN_T1 = Math.sin(TARGET1);
    private static final double COS_T2 = Math.cos(TARGET2);
    private static final double SIN_T2 = Math.sin(TARGET2);

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
        p.put(MASS1, rng.nextDouble(0.5, 1.5));
        p.put(MASS2, rng.nextDouble(0.5, 1.5));
        p.put(LENGTH1, rng.nextDouble(0.6, 1.2));
        p.put(LENGTH2, rng.nextDouble(0.6, 1.2));
        p.put(DAMPING, rng.nextDouble(0.05, 0.5));
        double g1 = rng.nextDouble(0.8, 1.2);
        double g2 = rng.nextDouble(0.8, 1.2);
        if (rng.nextBoolean()) {
            double crippled = rng.nextDouble(0.1, 0.4);
            if (rng.nextBoolean()) {
                g1 = crippled;
            } else {
                g2 = crippled;
            }
        }
        if (rng.nextInt(4) == 0) {
            g1 = -g1;
        }
        if (rng.nextInt(4) == 0) {
            g2 = -g2;
        }
        p.put(GAIN1, g1);
        p.put(GAIN2, g2);
        return p;
    }

    @Override
    protected void validate(TaskSpec task) {
        requirePositive(task, MASS1);
        requirePositive(task, MASS2);
        requirePositive(task, LENGTH1);
        requirePositive(task, LENGTH2);
        requireNonNegative(task, DAMPING);
        task.param(GAIN1);
        task.param(GAIN2);
    }

    @Override
    public Environment create(TaskSpec task, long seed) {
        return new Env(this, task, seed);
    }

    /** The reward on the observation after the step and the applied action; shared by the batched reward. */
    static double reward(double c1, double s1, double c2, double s2, double w1, double w2, double u1, double u2) {
        double a1 = Math.max(-1.0, Math.min(1.0, u1));
        double a2 = Math.max(-1.0, Math.min(1.0, u2));
        double off1 = 1 - (c1 * COS_T1 + s1 * SIN_T1) / norm(c1, s1);
        double off2 = 1 - (c2 * COS_T2 + s2 * SIN_T2) / norm(c2, s2);
        return -(off1 + off2) - 0.01 * (w1 * w1 + w2 * w2) - 0.01 * (a1 * a1 + a2 * a2);
    }

    /**
     * The length of a (cos, sin) pair, so that the reward reads the angle alone: an observation has
     * length 1, but a learned model's prediction need not, and a reward linear in (cos, sin) would pay a
     * planner for predicted points off the circle (sin q1 = 1.2 scores above the best reachable state).
     */
    private static double norm(double c, double s) {
        return Math.max(1e-9, Math.sqrt(c * c + s * s));
    }

    private static final BatchReward REWARD = (obs, a, s, from, rows, r) -> {
        BatchRows.require(obs, 6, a, 2, s, from, rows, r);
        for (int i = from; i < from + rows; i++) {
            int o = 6 * i;
            r[i] = reward(s[o], s[o + 1], s[o + 2], s[o + 3], s[o + 4], s[o + 5], a[2 * i], a[2 * i + 1]);
        }
    };

    private static final BatchProjection PROJECTION = (obs, from, rows) -> {
        BatchRows.require(obs, 6, from, rows, "obs");
        for (int i = from; i < from + rows; i++) {
            int o = 6 * i;
            BatchProjection.onUnitCircle(obs, o);
            BatchProjection.onUnitCircle(obs, o + 2);
            BatchProjection.clip(obs, o + 4, MAX_SPEED);
            BatchProjection.clip(obs, o + 5, MAX_SPEED);
        }
    };

    /** both (cos, sin) pairs onto the unit circle, both joint speeds clipped to ±MAX_SPEED. */
    @Override
    public BatchProjection projection() {
        return PROJECTION;
    }

    @Override
    public BatchReward reward() {
        return REWARD;
    }

    private static final class Env extends AbstractEnvironment {
        private double q1;
        private double q2;
        private double w1;
        private double w2;
        private double m1;
        private double m2;
        private double l1;
        private double l2;
        private double damping;
        private double gain1;
        private double gain2;

        Env(ArmFamily family, TaskSpec task, long seed) {
            super(family, seed);
            setTask(task);
        }

        @Override
        protected void applyTask(TaskSpec task) {
            m1 = task.param(MASS1);
            m2 = task.param(MASS2);
            l1 = task.param(LENGTH1);
            l2 = task.param(LENGTH2);
            damping = task.param(DAMPING);
            gain1 = task.param(GAIN1);
            gain2 = task.param(GAIN2);
        }

        @Override
        protected double[] resetState() {
            q1 = rng.nextDouble(-Math.PI, Math.PI);
            q2 = rng.nextDouble(-Math.PI, Math.PI);
            w1 = rng.nextDouble(-0.5, 0.5);
            w2 = rng.nextDouble(-0.5, 0.5);
            return observe();
        }

        @Override
        protected double advance(double[] action) {
            double tau1 = MAX_TORQUE * gain1 * action[0];
            double tau2 = MAX_TORQUE * gain2 * action[1];
            double h = DT / SUBSTEPS;
            for (int k = 0; k < SUBSTEPS; k++) {
                double c2 = Math.cos(q2);
                double s2 = Math.sin(q2);
                double m11 = (m1 + m2) * l1 * l1 + m2 * l2 * l2 + 2 * m2 * l1 * l2 * c2;
                double m12 = m2 * l2 * l2 + m2 * l1 * l2 * c2;
                double m22 = m2 * l2 * l2;
                double h1 = -m2 * l1 * l2 * s2 * (2 * w1 * w2 + w2 * w2);
                double h2 = m2 * l1 * l2 * s2 * w1 * w1;
                double f1 = tau1 - h1 - damping * w1;
                double f2 = tau2 - h2 - damping * w2;
                double det = m11 * m22 - m12 * m12;
                double acc1 = (m22 * f1 - m12 * f2) / det;
                double acc2 = (m11 * f2 - m12 * f1) / det;
                w1 = clip(w1 + acc1 * h, -MAX_SPEED, MAX_SPEED);
                w2 = clip(w2 + acc2 * h, -MAX_SPEED, MAX_SPEED);
                q1 += w1 * h;
                q2 += w2 * h;
            }
            double[] o = observe();
            return reward(o[0], o[1], o[2], o[3], o[4], o[5], action[0], action[1]);
        }

        @Override
        protected double[] observe() {
            return new double[] {Math.cos(q1), Math.sin(q1), Math.cos(q2), Math.sin(q2), w1, w2};
        }

        @Override
        protected void restore(double[] o) {
            q1 = Math.atan2(o[1], o[0]);
            q2 = Math.atan2(o[3], o[2]);
            w1 = o[4];
            w2 = o[5];
        }
    }
}

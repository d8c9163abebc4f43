package io.metastream.sim;

import io.metastream.core.mpc.BatchReward;
import java.util.SortedMap;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Velocity tracking on a body simulated exactly: the cheetah-vel idea (PEARL's {@code cheetah-vel},
 * reference METARL.md §3.11: reward −|v − v*| − 0.05‖a‖², the target v* varying per task) on a 1-D
 * sliding mass instead of a MuJoCo cheetah.
 *
 * <p>A mass (m = 1) driven by a force k·a (k = {@value #FORCE_GAIN}) against viscous friction
 * c = {@value #VISCOUS_FRICTION} and quadratic drag ρ = {@value #QUADRATIC_DRAG}; with a = clip(a, −1, 1)
 * and dt = {@value #DT}: v' = v + (k·a − c·v − ρ·v·|v|)·dt. The observation is the velocity (v), as the
 * cheetah's excludes its position, which matters to neither the dynamics nor the reward. The reward
 * −|v' − v*| − 0.05·a² uses the velocity after the step. The drag bounds the speed (about 3.9 at full
 * force) without clipping, so every target in [0, 3] can be held with about a third of the force in
 * reserve; from rest, full force passes 2.9 after 17 of the {@value #HORIZON} steps.
 * Reset: v₀ ~ U[−0.1, 0.1) from the environment's seed.
 *
 * <p>Tasks differ only in the target: task parameter {@code targetVelocity} ~ U[0, 3], drawn from the
 * seed as for every {@link AbstractTaskFamily}. The reward depends on it, so {@link #reward()} is
 * unsupported; use {@link #reward(TaskSpec)}.
 */
final class PointVelFamily extends AbstractTaskFamily {

    static final String NAME = "point-vel";
    static final String TARGET_VELOCITY = "targetVelocity";

    static final double MAX_TARGET = 3.0;
    static final double FORCE_GAIN = 5.0;
    static final double VISCOUS_FRICTION = 0.5;
    static final double QUADRATIC_DRAG = 0.2;
    static final double DT = 0.05;
    static final double CONTROL_COST = 0.05;
    static final double INITIAL_SPEED = 0.1;
    static final int HORIZON = 200;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int obsDim() {
        return 1;
    }

    @Override
    public int actDim() {
        return 1;
    }

    @Override
    public double[] actionLow() {
        return new double[] {-1.0};
    }

    @Override
    public double[] actionHigh() {
        return new double[] {1.0};
    }

    @Override
    public int horizon() {
        return HORIZON;
    }

    @Override
    protected SortedMap<String, Double> sampleParams(SplittableRandom rng) {
        SortedMap<String, Double> p = new TreeMap<>();
        p.put(TARGET_VELOCITY, rng.nextDouble(0.0, MAX_TARGET));
        return p;
    }

    @Override
    protected void validate(TaskSpec task) {
        task.param(TARGET_VELOCITY);
    }

    @Override
    public Environment create(TaskSpec task, long seed) {
        return new Env(this, task, seed);
    }

    /**
     * Unsupported: the reward depends on the task's target velocity.
     *
     * @throws UnsupportedOperationException always; the message points to {@link #reward(TaskSpec)}
     */
    /**
     * Velocity tracking: −|v' − v*| − 0.05·a² with v' the next observation's velocity, a the action
     * clipped to [−1, 1] and v* the target velocity of one task.
     */
    private static BatchReward batchReward(double targetVelocity) {
        return (obs, a, v, from, rows, r) -> {
            BatchRows.require(obs, 1, a, 1, v, from, rows, r);
            for (int i = from; i < from + rows; i++) {
                double u = Math.max(-1.0, Math.min(1.0, a[i]));
                r[i] = PointVelFamily.reward(v[i], u, targetVelocity);
            }
        };
    }

    @Override
    public BatchReward reward() {
        throw new UnsupportedOperationException(NAME + "'s reward depends on the task's target velocity; use reward(task)");
    }

    @Override
    public BatchReward reward(TaskSpec task) {
        validate(task);
        return batchReward(task.param(TARGET_VELOCITY));
    }

    /** The reward for the velocity after the step and the applied action; shared with the batched reward. */
    static double reward(double nextVelocity, double action, double target) {
        return -Math.abs(nextVelocity - target) - CONTROL_COST * action * action;
    }

    /** One step of the velocity dynamics under an already clipped action. */
    static double nextVelocity(double v, double action) {
        double force = FORCE_GAIN * action - VISCOUS_FRICTION * v - QUADRATIC_DRAG * v * Math.abs(v);
        return v + force * DT;
    }

    private static final class Env extends AbstractEnvironment {
        private double v;
        private double target;

        Env(PointVelFamily family, TaskSpec task, long seed) {
            super(family, seed);
            setTask(task);
        }

        @Override
        protected void applyTask(TaskSpec task) {
            target = task.param(TARGET_VELOCITY);
        }

        @Override
        protected double[] resetState() {
            v = rng.nextDouble(-INITIAL_SPEED, INITIAL_SPEED);
            return observe();
        }

        @Override
        protected double advance(double[] action) {
            v = nextVelocity(v, action[0]);
            return reward(v, action[0], target);
        }

        @Override
        protected double[] observe() {
            return new double[] {v};
        }

        @Override
        protected void restore(double[] o) {
            v = o[0];
        }
    }
}

package io.metastream.examples.cartpole;

import io.metastream.core.mpc.BatchProjection;
import io.metastream.core.mpc.BatchReward;
import io.metastream.sim.AbstractEnvironment;
import io.metastream.sim.AbstractTaskFamily;
import io.metastream.sim.Environment;
import io.metastream.sim.TaskSpec;


import java.util.SortedMap;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * An example of your own simulator, written outside the project's modules against their public API: a
 * cart-pole whose physics vary from task to task (cart mass, pole mass, pole length, motor gain), with
 * observation size 5 and action size 1, sizes no built-in family has. The agent keeps the pole upright
 * and the cart near the middle of a 4.8 m track.
 *
 * <p>State (x, ẋ, θ, θ̇) with θ = 0 upright; observation (x, ẋ, cos θ, sin θ, θ̇); action u ∈ [−1, 1],
 * force F = 10·gain·u newtons. Euler steps of 0.05 s with the classic cart-pole equations (Barto, Sutton
 * and Anderson 1983); the cart stops at the walls. Reward on the next state: cos θ' − 0.1·x'² − 0.01·u².
 * Episodes start near upright and last 100 steps.
 */
public final class CartPoleFamily extends AbstractTaskFamily {

    public static final String NAME = "cart-pole-varied";
    static final String CART_MASS = "cartMass";
    static final String POLE_MASS = "poleMass";
    static final String POLE_LENGTH = "poleLength";
    static final String GAIN = "gain";
    static final double G = 9.8;
    static final double DT = 0.05;
    static final double MAX_FORCE = 10.0;
    static final double TRACK = 2.4;
    static final int HORIZON = 100;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int obsDim() {
        return 5;
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
        p.put(CART_MASS, rng.nextDouble(0.5, 2.0));
        p.put(POLE_MASS, rng.nextDouble(0.05, 0.5));
        p.put(POLE_LENGTH, rng.nextDouble(0.3, 1.0));
        // a weak, healthy or reversed motor: adapting to the sign is what a model without context cannot do
        p.put(GAIN, rng.nextBoolean() ? rng.nextDouble(0.5, 1.5) : -rng.nextDouble(0.5, 1.5));
        return p;
    }

    @Override
    protected void validate(TaskSpec task) {
        requirePositive(task, CART_MASS);
        requirePositive(task, POLE_MASS);
        requirePositive(task, POLE_LENGTH);
        task.param(GAIN); // any sign; throws when absent
    }

    @Override
    public Environment create(TaskSpec task, long seed) {
        return new Env(this, task, seed);
    }

    /** The reward of a transition, shared by the simulator and the planner's batched reward. */
    static double reward(double nextX, double nextCosTheta, double u) {
        double x = Math.max(-TRACK, Math.min(TRACK, nextX));
        double a = Math.max(-1.0, Math.min(1.0, u));
        return nextCosTheta - 0.1 * x * x - 0.01 * a * a;
    }

    @Override
    public BatchReward reward() {
        return (obs, act, next, from, rows, r) -> {
            for (int i = from; i < from + rows; i++) {
                r[i] = reward(next[5 * i], next[5 * i + 2], act[i]);
            }
        };
    }

    /**
     * What a planner does to a learned model's predicted observations after every step: (cos θ, sin θ)
     * back onto the unit circle and the cart back between the walls. Without it a model predicting
     * cos θ' = 1.1 would be planned towards, as if more than upright were reachable.
     */
    @Override
    public BatchProjection projection() {
        return (obs, from, rows) -> {
            for (int i = from; i < from + rows; i++) {
                int o = 5 * i;
                BatchProjection.clip(obs, o, TRACK);
                BatchProjection.onUnitCircle(obs, o + 2);
            }
        };
    }

    private static final class Env extends AbstractEnvironment {
        private double x;
        private double xDot;
        private double theta;
        private double thetaDot;
        private double totalMass;
        private double poleMass;
        private double halfLength;
        private double forceScale;

        Env(CartPoleFamily family, TaskSpec task, long seed) {
            super(family, seed);
            setTask(task);
        }

        @Override
        protected void applyTask(TaskSpec task) {
            poleMass = task.param(POLE_MASS);
            totalMass = task.param(CART_MASS) + poleMass;
            halfLength = task.param(POLE_LENGTH) / 2;
            forceScale = MAX_FORCE * task.param(GAIN);
        }

        @Override
        protected double[] resetState() {
            x = rng.nextDouble(-0.5, 0.5);
            xDot = rng.nextDouble(-0.1, 0.1);
            theta = rng.nextDouble(-0.2, 0.2);
            thetaDot = rng.nextDouble(-0.1, 0.1);
            return observe();
        }

        @Override
        protected double advance(double[] action) {
            double force = forceScale * action[0];
            double sin = Math.sin(theta);
            double cos = Math.cos(theta);
            double temp = (force + poleMass * halfLength * thetaDot * thetaDot * sin) / totalMass;
            double thetaAcc = (G * sin - cos * temp)
                    / (halfLength * (4.0 / 3.0 - poleMass * cos * cos / totalMass));
            double xAcc = temp - poleMass * halfLength * thetaAcc * cos / totalMass;
            x += DT * xDot;
            xDot += DT * xAcc;
            theta += DT * thetaDot;
            thetaDot += DT * thetaAcc;
            if (Math.abs(x) > TRACK) {
                x = clip(x, -TRACK, TRACK);
                xDot = 0;
            }
            return reward(x, Math.cos(theta), action[0]);
        }

        @Override
        protected double[] observe() {
            return new double[] {x, xDot, Math.cos(theta), Math.sin(theta), thetaDot};
        }
    }
}

package io.metastream.sim;

import java.util.Objects;
import java.util.OptionalDouble;
import java.util.SplittableRandom;

/**
 * Episode bookkeeping shared by the built-in simulators: reset/step order, the horizon, action
 * validation and clipping. Subclasses hold only the physical state and the task-derived constants.
 */
abstract class AbstractEnvironment implements Environment {

    private final BaseTaskFamily family;
    private final double[] low;
    private final double[] high;
    private final int horizon;
    /** Source of initial states; seeded once at creation so episodes are reproducible. */
    final SplittableRandom rng;
    private TaskSpec task;
    private int step;
    private boolean running;

    /** Subclass constructors must end with {@code setTask(task)}, once their own fields are set. */
    AbstractEnvironment(BaseTaskFamily family, long seed) {
        this.family = family;
        this.low = family.actionLow();
        this.high = family.actionHigh();
        this.horizon = family.horizon();
        this.rng = new SplittableRandom(seed);
    }

    /** Draws a fresh initial state and returns its observation. */
    abstract double[] resetState();

    /** Recomputes every constant derived from the task; called on creation and on every task change. */
    abstract void applyTask(TaskSpec task);

    /** Advances the state by one step under an already clipped action and returns the reward. */
    abstract double advance(double[] action);

    /** The observation of the current state (a fresh array). */
    abstract double[] observe();

    /**
     * The sparse reward of the step {@link #advance} just computed, for families that define one
     * (see {@link StepResult#sparseReward()}); empty by default. Called once per step, right after
     * {@code advance}.
     */
    OptionalDouble lastSparseReward() {
        return OptionalDouble.empty();
    }

    @Override
    public final double[] reset() {
        step = 0;
        running = true;
        return resetState();
    }

    @Override
    public final StepResult step(double[] action) {
        if (!running) {
            throw new IllegalStateException("no episode is running in " + family.name()
                    + "; call reset() before the first step and after a step that returned done");
        }
        double reward = advance(clippedAction(action));
        step++;
        boolean done = step >= horizon;
        if (done) {
            running = false;
        }
        return new StepResult(observe(), reward, done, lastSparseReward());
    }

    @Override
    public final void setTask(TaskSpec task) {
        Objects.requireNonNull(task, "task must not be null");
        family.validate(task);
        applyTask(task);
        this.task = task;
    }

    @Override
    public final TaskSpec task() {
        return task;
    }

    @Override
    public final double[] clippedAction(double[] action) {
        Objects.requireNonNull(action, "action must not be null");
        if (action.length != low.length) {
            throw new IllegalArgumentException(family.name() + " expects actions of length " + low.length
                    + ", got " + action.length);
        }
        double[] clipped = new double[action.length];
        for (int i = 0; i < action.length; i++) {
            if (!Double.isFinite(action[i])) {
                throw new IllegalArgumentException("action[" + i + "] is " + action[i]
                        + "; actions must be finite (check the planner and the model's predictions)");
            }
            clipped[i] = Math.max(low[i], Math.min(high[i], action[i]));
        }
        return clipped;
    }

    static double clip(double v, double lo, double hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}

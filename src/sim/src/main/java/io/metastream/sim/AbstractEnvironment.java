package io.metastream.sim;

import java.util.Objects;
import java.util.OptionalDouble;
import java.util.SplittableRandom;

/**
 * The base class of a simulator: it does the episode bookkeeping (reset/step order, the horizon, action
 * validation and clipping to the family's bounds, the task check on every task change), so a subclass
 * holds only the physical state and the task-derived constants. Extend it for your own simulator.
 *
 * <p>A subclass implements {@link #applyTask} (recompute every constant derived from the task),
 * {@link #resetState} (draw an initial state from {@link #rng}), {@link #advance} (one step under an
 * already clipped action; returns the reward) and {@link #observe}; its constructor ends with
 * {@code setTask(task)}. Not thread-safe, as every {@link Environment}.
 */
public abstract class AbstractEnvironment implements Environment {

    private final BaseTaskFamily family;
    private final double[] low;
    private final double[] high;
    private final int horizon;
    /** Source of initial states; seeded once at creation so episodes are reproducible. */
    protected final SplittableRandom rng;
    private TaskSpec task;
    private int step;
    private boolean running;

    /** Subclass constructors must end with {@code setTask(task)}, once their own fields are set. */
    protected AbstractEnvironment(BaseTaskFamily family, long seed) {
        this.family = family;
        this.low = family.actionLow();
        this.high = family.actionHigh();
        this.horizon = family.horizon();
        this.rng = new SplittableRandom(seed);
    }

    /** Draws a fresh initial state and returns its observation. */
    protected abstract double[] resetState();

    /** Recomputes every constant derived from the task; called on creation and on every task change. */
    protected abstract void applyTask(TaskSpec task);

    /** Advances the state by one step under an already clipped action and returns the reward. */
    protected abstract double advance(double[] action);

    /** The observation of the current state (a fresh array). */
    protected abstract double[] observe();

    /**
     * Sets the state to the one {@code observation} shows, for a family whose observation is its whole
     * state; what makes {@link AbstractTaskFamily#trueDynamics} work. The default refuses: override it
     * when the observation determines the state.
     *
     * @throws UnsupportedOperationException when the observation does not determine the state
     */
    protected void restore(double[] observation) {
        throw new UnsupportedOperationException(family.name() + "'s observation is not its whole state; override "
                + "AbstractEnvironment.restore to give the family a true model");
    }

    /** The next observation from the state {@code observation} shows under {@code action} (clipped); no episode bookkeeping. */
    final double[] simulate(double[] observation, double[] action) {
        restore(observation);
        advance(clippedAction(action));
        return observe();
    }

    /**
     * The sparse reward of the step {@link #advance} just computed, for families that define one
     * (see {@link StepResult#sparseReward()}); empty by default. Called once per step, right after
     * {@code advance}.
     */
    protected OptionalDouble lastSparseReward() {
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

    /** {@code v} limited to [lo, hi]. */
    protected static double clip(double v, double lo, double hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}

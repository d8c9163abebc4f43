package io.metastream.sim;

import io.metastream.core.mpc.BatchReward;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * PEARL's point robot (katerakelly/oyster {@code rlkit/envs/point_robot.py} behind rlkit's
 * {@code NormalizedBoxEnv}), reference METARL.md §3.1 and §3.2, in its two variants:
 *
 * <ul>
 *   <li>{@code point-robot} (dense): s₀ ~ U[−1, 1]², resampled on every reset; the 100 published goals
 *       of Appendix A.</li>
 *   <li>{@code sparse-point-robot}: s₀ = (0, 0); the 100 goals (cos θ_k, sin θ_k), θ_k = kπ/99, in the
 *       published shuffled order. {@link Environment#step} returns the dense reward and carries the
 *       sparse one in {@link StepResult#sparseReward()}: 1 − ‖s − g‖ within {@value #GOAL_RADIUS} of
 *       the goal (inclusive), else 0.</li>
 * </ul>
 *
 * <p>Both: observation s ∈ ℝ² (unbounded); s ← s + Δ with no state clipping; reward −‖s − g‖₂ after the
 * step; never done before the horizon {@value #HORIZON}. Task parameters {@code goalX}, {@code goalY}.
 *
 * <p><b>Action space.</b> {@link #actionLow()}/{@link #actionHigh()} are the policy's [−1, 1]², as the
 * PEARL agent sees them through {@code NormalizedBoxEnv}; the mapping to the robot's displacement lives
 * inside the environment: Δ = clip(lb + (a + 1)/2·(ub − lb), lb, ub) with lb = −0.1, ub = 0.1, after the
 * usual clipping of a to [−1, 1] (which changes nothing, the map being monotone). So a recorded
 * transition carries the policy action, and {@link Environment#clippedAction} is in [−1, 1]. Known
 * deviation: gym's {@code Box} of the time stores the bounds as float32 and rlkit's policy emits float32,
 * so the reference's Δ is float32-rounded (|lb| = 0.10000000149); here everything is double, which moves
 * a state by at most about 1e-8 per step.
 *
 * <p><b>Tasks.</b> The task lists are the published ones and do not depend on the seed:
 * {@code trainTasks(n, seed)} is goals 0..n−1 ({@code n ≤ 80}), {@code heldOutTasks(n, seed)} is goals
 * 80..80+n−1 ({@code n ≤ 20}); task ids are {@code "<name>-train-<i>"} for goal i and
 * {@code "<name>-test-<j>"} for goal 80 + j.
 *
 * <p>The reward depends on the task's goal, so {@link #reward()} is unsupported; use
 * {@link #reward(TaskSpec)}.
 */
public final class PointRobotFamily extends BaseTaskFamily {

    static final String DENSE_NAME = "point-robot";
    public static final String SPARSE_NAME = "sparse-point-robot";
    public static final String GOAL_X = "goalX";
    public static final String GOAL_Y = "goalY";

    /** The robot's displacement bounds per axis, [−0.1, 0.1]. */
    public static final double MAX_DISPLACEMENT = 0.1;
    static final double GOAL_RADIUS = 0.2;
    static final int HORIZON = 20;

    private final String name;
    private final boolean sparse;
    private final List<TaskSpec> train;
    private final List<TaskSpec> test;

    private PointRobotFamily(String name, boolean sparse, double[][] goals) {
        this.name = name;
        this.sparse = sparse;
        List<TaskSpec> tr = new ArrayList<>(PearlGoals.TRAIN_GOALS);
        List<TaskSpec> te = new ArrayList<>(PearlGoals.EVAL_GOALS);
        for (int i = 0; i < goals.length; i++) {
            if (i < PearlGoals.TRAIN_GOALS) {
                tr.add(goalTask(name + "-train-" + i, goals[i]));
            } else {
                te.add(goalTask(name + "-test-" + (i - PearlGoals.TRAIN_GOALS), goals[i]));
            }
        }
        this.train = List.copyOf(tr);
        this.test = List.copyOf(te);
    }

    /** The dense {@code point-robot}. */
    static PointRobotFamily dense() {
        return new PointRobotFamily(DENSE_NAME, false, PearlGoals.pointRobot());
    }

    /** The {@code sparse-point-robot}. */
    static PointRobotFamily sparse() {
        return new PointRobotFamily(SPARSE_NAME, true, PearlGoals.sparsePointRobot());
    }

    private static TaskSpec goalTask(String id, double[] goal) {
        SortedMap<String, Double> p = new TreeMap<>();
        p.put(GOAL_X, goal[0]);
        p.put(GOAL_Y, goal[1]);
        return new TaskSpec(id, p);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int obsDim() {
        return 2;
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

    /** {@inheritDoc} The seed is ignored: the goals are the published train split. */
    @Override
    public List<TaskSpec> trainTasks(int n, long seed) {
        return prefix(train, n, "train", "trainTasks", PearlGoals.TRAIN_GOALS);
    }

    /** {@inheritDoc} The seed is ignored: the goals are the published eval split. */
    @Override
    public List<TaskSpec> heldOutTasks(int n, long seed) {
        return prefix(test, n, "eval", "heldOutTasks", PearlGoals.EVAL_GOALS);
    }

    @Override
    public int maxTrainTasks() {
        return PearlGoals.TRAIN_GOALS;
    }

    @Override
    public int maxHeldOutTasks() {
        return PearlGoals.EVAL_GOALS;
    }

    private List<TaskSpec> prefix(List<TaskSpec> tasks, int n, String split, String method, int max) {
        if (n < 0) {
            throw new IllegalArgumentException("number of tasks must be >= 0, got " + n);
        }
        if (n > max) {
            throw new IllegalArgumentException(name + " has exactly " + max + " published " + split + " goals; "
                    + method + "(" + n + ", seed) asks for more. Ask for at most " + max
                    + " (the seed does not change these goals)");
        }
        return tasks.subList(0, n);
    }

    @Override
    protected void validate(TaskSpec task) {
        task.param(GOAL_X);
        task.param(GOAL_Y);
    }

    @Override
    public Environment create(TaskSpec task, long seed) {
        return new Env(this, task, seed);
    }

    /**
     * Unsupported: the reward depends on the task's goal.
     *
     * @throws UnsupportedOperationException always; the message points to {@link #reward(TaskSpec)}
     */
    /**
     * PEARL point robot (dense and sparse variants alike, since their {@code step} returns the dense
     * reward): −‖s' − g‖ on the next observation for the goal g of one task; the action does not enter.
     */
    private static BatchReward batchReward(double goalX, double goalY) {
        return (obs, act, s, from, rows, r) -> {
            BatchRows.require(obs, 2, act, 2, s, from, rows, r);
            for (int i = from; i < from + rows; i++) {
                r[i] = PointRobotFamily.denseReward(s[2 * i], s[2 * i + 1], goalX, goalY);
            }
        };
    }

    @Override
    public BatchReward reward() {
        throw new UnsupportedOperationException(name + "'s reward depends on the task's goal; use reward(task)");
    }

    /** The dense reward −‖s' − g‖ of the task's goal g, which is also what {@code step} returns. */
    @Override
    public BatchReward reward(TaskSpec task) {
        validate(task);
        return batchReward(task.param(GOAL_X), task.param(GOAL_Y));
    }

    /** Maps one policy action component in [−1, 1] to the robot's displacement, as NormalizedBoxEnv does. */
    static double displacement(double a) {
        double lb = -MAX_DISPLACEMENT;
        double ub = MAX_DISPLACEMENT;
        double scaled = lb + (a + 1.0) * 0.5 * (ub - lb);
        return Math.max(lb, Math.min(ub, scaled));
    }

    /** The dense reward −‖s − g‖₂ for a position s; shared with the batched reward. */
    public static double denseReward(double x, double y, double goalX, double goalY) {
        double dx = x - goalX;
        double dy = y - goalY;
        return -Math.sqrt(dx * dx + dy * dy);
    }

    /** The sparse reward for a dense reward d = −‖s − g‖: 1 + d = 1 − ‖s − g‖ if ‖s − g‖ ≤ 0.2, else 0. */
    public static double sparseReward(double denseReward) {
        return denseReward >= -GOAL_RADIUS ? denseReward + 1.0 : 0.0;
    }

    private static final class Env extends AbstractEnvironment {
        private final boolean sparse;
        private double x;
        private double y;
        private double goalX;
        private double goalY;
        /** The dense reward of the last step, from which the sparse one is derived. */
        private double lastReward;

        Env(PointRobotFamily family, TaskSpec task, long seed) {
            super(family, seed);
            this.sparse = family.sparse;
            setTask(task);
        }

        @Override
        protected void applyTask(TaskSpec task) {
            goalX = task.param(GOAL_X);
            goalY = task.param(GOAL_Y);
        }

        @Override
        protected double[] resetState() {
            if (sparse) {
                x = 0.0;
                y = 0.0;
            } else {
                x = rng.nextDouble(-1.0, 1.0);
                y = rng.nextDouble(-1.0, 1.0);
            }
            return observe();
        }

        @Override
        protected double advance(double[] action) {
            x += displacement(action[0]);
            y += displacement(action[1]);
            lastReward = denseReward(x, y, goalX, goalY);
            return lastReward;
        }

        @Override
        protected OptionalDouble lastSparseReward() {
            return sparse ? OptionalDouble.of(sparseReward(lastReward)) : OptionalDouble.empty();
        }

        @Override
        protected double[] observe() {
            return new double[] {x, y};
        }

        @Override
        protected void restore(double[] o) {
            x = o[0];
            y = o[1];
        }
    }
}

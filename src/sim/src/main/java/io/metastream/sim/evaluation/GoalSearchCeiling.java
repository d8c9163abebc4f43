package io.metastream.sim.evaluation;

import io.metastream.sim.Environment;
import io.metastream.sim.PointRobotFamily;
import io.metastream.sim.StepResult;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The best success rate that posterior sampling can reach on {@code sparse-point-robot}, for comparing
 * a meta-learner's figure with what its exploration scheme allows at all.
 *
 * <p>The model is an idealised PEARL agent under the protocol of
 * {@code PearlMetaTrainer.evaluate}. It knows the task distribution exactly: the goal is one of the
 * family's 100 goals, uniformly. It keeps the exact set of goals consistent with every sparse reward it
 * has seen. Each episode it draws one goal of that set uniformly (Thompson sampling, which is what
 * sampling z from the posterior amounts to) and drives there as fast as the action bounds allow, then
 * stays. That is the behaviour a policy trained on the task that z identifies has. For every eval goal
 * and repetition, for k = 0 … {@code contextEpisodes}:
 *
 * <ol>
 *   <li>an evaluated episode with a fresh draw counts as a success if any of its steps earns a sparse
 *       reward (the goal was reached); it does not change the belief;</li>
 *   <li>then, unless k is the last, a context episode with another draw updates the belief.</li>
 * </ol>
 *
 * <p>One hit pins the goal (the sparse reward 1 − ‖s − g‖ gives the distance), so after it every
 * evaluated episode succeeds. Before one, each draw's path passes within the goal radius of about 13%
 * of the goals. With {@code exclusion} the belief also drops every goal that a miss rules out (the
 * exact Bayesian posterior). Without it the belief learns from hits only, as a product of Gaussian
 * factors can: it can say where the goal is but not where it is not.
 */
public final class GoalSearchCeiling {

    private static final double TOLERANCE = 1e-9;

    private GoalSearchCeiling() {}

    /**
     * Success rate after 0 … {@code contextEpisodes} context episodes, over the family's held-out goals.
     *
     * @param family {@code sparse-point-robot}
     * @param contextEpisodes how many context episodes at most (≥ 0)
     * @param repetitions episodes sequences per eval goal (≥ 1)
     * @param exclusion whether misses rule out goals (the exact posterior) or only hits count
     * @param seed seed of the draws
     * @return {@code contextEpisodes + 1} rates in [0, 1]
     * @throws IllegalArgumentException for another family or out-of-range counts
     */
    public static double[] successAfter(TaskFamily family, int contextEpisodes, int repetitions, boolean exclusion,
            long seed) {
        if (!PointRobotFamily.SPARSE_NAME.equals(family.name())) {
            throw new IllegalArgumentException("the goal-search ceiling is defined for " + PointRobotFamily.SPARSE_NAME
                    + " only (a sparse reward around a goal from a finite set); got '" + family.name() + "'");
        }
        if (contextEpisodes < 0 || repetitions < 1) {
            throw new IllegalArgumentException("contextEpisodes must be >= 0 and repetitions >= 1; got "
                    + contextEpisodes + " and " + repetitions);
        }
        List<double[]> goals = new ArrayList<>();
        for (TaskSpec t : family.trainTasks(family.maxTrainTasks(), seed)) {
            goals.add(goal(t));
        }
        List<TaskSpec> eval = family.heldOutTasks(family.maxHeldOutTasks(), seed);
        for (TaskSpec t : eval) {
            goals.add(goal(t));
        }
        double[] success = new double[contextEpisodes + 1];
        Random rng = new Random(seed);
        for (TaskSpec task : eval) {
            Environment env = family.create(task, seed);
            for (int rep = 0; rep < repetitions; rep++) {
                List<double[]> belief = new ArrayList<>(goals);
                for (int k = 0; k <= contextEpisodes; k++) {
                    if (drive(env, belief.get(rng.nextInt(belief.size()))).reached()) {
                        success[k]++;
                    }
                    if (k < contextEpisodes) {
                        List<double[]> seen = drive(env, belief.get(rng.nextInt(belief.size()))).rows();
                        belief.removeIf(g -> !consistent(g, seen, exclusion));
                    }
                }
            }
        }
        for (int k = 0; k <= contextEpisodes; k++) {
            success[k] /= (double) eval.size() * repetitions;
        }
        return success;
    }

    private static double[] goal(TaskSpec t) {
        return new double[] {t.param(PointRobotFamily.GOAL_X), t.param(PointRobotFamily.GOAL_Y)};
    }

    /** An episode's rows {x, y, sparse reward} after each step, and whether a step reached the goal. */
    private record Drive(List<double[]> rows, boolean reached) {}

    /** One episode driving at full speed towards {@code target}. */
    private static Drive drive(Environment env, double[] target) {
        List<double[]> rows = new ArrayList<>();
        boolean reached = false;
        double[] o = env.reset();
        boolean done = false;
        while (!done) {
            double[] a = new double[2];
            for (int i = 0; i < 2; i++) {
                a[i] = Math.max(-1.0, Math.min(1.0, (target[i] - o[i]) / PointRobotFamily.MAX_DISPLACEMENT));
            }
            StepResult st = env.step(a);
            o = st.observation();
            rows.add(new double[] {o[0], o[1], st.sparseReward().orElseThrow()});
            reached |= st.goalReached();
            done = st.done();
        }
        return new Drive(rows, reached);
    }

    /** Whether goal g would have produced the sparse rewards seen (only the hits, without exclusion). */
    private static boolean consistent(double[] g, List<double[]> rows, boolean exclusion) {
        for (double[] r : rows) {
            if (!exclusion && r[2] <= 0) {
                continue;
            }
            double expected = PointRobotFamily.sparseReward(PointRobotFamily.denseReward(r[0], r[1], g[0], g[1]));
            if (Math.abs(expected - r[2]) > TOLERANCE) {
                return false;
            }
        }
        return true;
    }
}

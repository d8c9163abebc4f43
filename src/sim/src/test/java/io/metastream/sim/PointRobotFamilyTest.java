package io.metastream.sim;

import io.metastream.sim.evaluation.Evaluation;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.metastream.core.mpc.BatchDynamics;
import io.metastream.core.mpc.MpcConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/** PEARL's dense point-robot, METARL.md §3.1. */
class PointRobotFamilyTest {

    private final TaskFamily family = TaskFamilies.byName("point-robot");

    static TaskSpec goal(String id, double gx, double gy) {
        return new TaskSpec(id, new TreeMap<>(Map.of("goalX", gx, "goalY", gy)));
    }

    @Test
    void shapesAndHorizonAreTheReferences() {
        assertThat(family.name()).isEqualTo("point-robot");
        assertThat(family.obsDim()).isEqualTo(2);
        assertThat(family.actDim()).isEqualTo(2);
        assertThat(family.actionLow()).containsExactly(-1.0, -1.0);
        assertThat(family.actionHigh()).containsExactly(1.0, 1.0);
        assertThat(family.horizon()).isEqualTo(20);
        assertThat(family.maxTrainTasks()).isEqualTo(80);
        assertThat(family.maxHeldOutTasks()).isEqualTo(20);
    }

    @Test
    void trainTasksAreGoals0To79AndHeldOutTasksGoals80To99WhateverTheSeed() {
        double[][] published = PearlGoals.pointRobot();
        List<TaskSpec> train = family.trainTasks(80, 1);
        List<TaskSpec> test = family.heldOutTasks(20, 1);

        assertThat(family.trainTasks(80, 123456)).isEqualTo(train);
        assertThat(family.heldOutTasks(20, -7)).isEqualTo(test);
        for (int i = 0; i < 80; i++) {
            assertThat(train.get(i).id()).isEqualTo("point-robot-train-" + i);
            assertThat(train.get(i).param("goalX")).isEqualTo(published[i][0]);
            assertThat(train.get(i).param("goalY")).isEqualTo(published[i][1]);
        }
        for (int j = 0; j < 20; j++) {
            assertThat(test.get(j).id()).isEqualTo("point-robot-test-" + j);
            assertThat(test.get(j).param("goalX")).isEqualTo(published[80 + j][0]);
            assertThat(test.get(j).param("goalY")).isEqualTo(published[80 + j][1]);
        }
        assertThat(train.get(0).params()).isEqualTo(Map.of("goalX", -0.4759506499688366, "goalY", -0.6826320556910688));
        assertThat(test.get(0).params()).isEqualTo(Map.of("goalX", 0.7966378440628668, "goalY", -0.4751950943033574));
        assertThat(test.get(19).params()).isEqualTo(Map.of("goalX", 0.7042328659939507, "goalY", 0.0948723942233416));
        assertThat(family.trainTasks(3, 9)).isEqualTo(train.subList(0, 3));
    }

    @Test
    void askingForMoreThanThePublishedGoalsIsRejected() {
        assertThatThrownBy(() -> family.trainTasks(81, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("exactly 80 published train goals")
                .hasMessageContaining("at most 80")
                .hasMessageContaining("seed does not change");
        assertThatThrownBy(() -> family.heldOutTasks(21, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("exactly 20 published eval goals");
        assertThatThrownBy(() -> family.heldOutTasks(-1, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void policyActionsMapLinearlyToDisplacementsOfAtMostATenth() {
        assertThat(PointRobotFamily.displacement(-1.0)).isEqualTo(-0.1);
        assertThat(PointRobotFamily.displacement(1.0)).isEqualTo(0.1);
        assertThat(PointRobotFamily.displacement(0.0)).isEqualTo(0.0);
        assertThat(PointRobotFamily.displacement(0.5)).isCloseTo(0.05, within(1e-16));
        assertThat(PointRobotFamily.displacement(-0.3)).isCloseTo(-0.03, within(1e-16));
        // the map alone also clips, as NormalizedBoxEnv does
        assertThat(PointRobotFamily.displacement(4.0)).isEqualTo(0.1);
        assertThat(PointRobotFamily.displacement(-4.0)).isEqualTo(-0.1);
    }

    @Test
    void outOfBoundsActionsAreClippedInPolicySpaceThenMapped() {
        Environment env = family.create(goal("g", 0, 0), 5);
        assertThat(env.clippedAction(new double[] {3.0, -0.5})).containsExactly(1.0, -0.5);

        double[] s0 = env.reset();
        double[] s1 = env.step(new double[] {7.0, -9.0}).observation();
        assertThat(s1).containsExactly(s0[0] + 0.1, s0[1] - 0.1);
    }

    @Test
    void oneStepMatchesTheFormulaByHand() {
        double gx = 0.3;
        double gy = -0.8;
        Environment env = family.create(goal("g", gx, gy), 11);
        double[] s0 = env.reset();

        StepResult r = env.step(new double[] {0.4, -0.6});

        double x = s0[0] + (-0.1 + (0.4 + 1) * 0.5 * 0.2); // = s0 + 0.04
        double y = s0[1] + (-0.1 + (-0.6 + 1) * 0.5 * 0.2); // = s0 − 0.06
        assertThat(r.observation()).containsExactly(new double[] {x, y}, within(1e-15));
        assertThat(r.observation()[0]).isCloseTo(s0[0] + 0.04, within(1e-15));
        assertThat(r.observation()[1]).isCloseTo(s0[1] - 0.06, within(1e-15));
        assertThat(r.reward()).isCloseTo(-Math.sqrt((x - gx) * (x - gx) + (y - gy) * (y - gy)), within(1e-15));
        assertThat(r.done()).isFalse();
        assertThat(r.sparseReward()).isEmpty();
        assertThat(r.goalReached()).isFalse();
    }

    @Test
    void theStateIsNotClipped() {
        Environment env = family.create(goal("g", 0, 0), 3);
        double[] s = env.reset();
        double x0 = s[0];
        for (int i = 0; i < 20; i++) {
            s = env.step(new double[] {1.0, 0.0}).observation();
        }
        assertThat(s[0]).isCloseTo(x0 + 2.0, within(1e-12)).isGreaterThan(1.0);
    }

    @Test
    void everyResetDrawsAFreshStartInTheSquare() {
        Environment env = family.create(goal("g", 0, 0), 8);
        Set<List<Double>> starts = new HashSet<>();
        double sumX = 0;
        for (int i = 0; i < 2000; i++) {
            double[] s = env.reset();
            assertThat(s[0]).isBetween(-1.0, 1.0);
            assertThat(s[1]).isBetween(-1.0, 1.0);
            starts.add(List.of(s[0], s[1]));
            sumX += s[0];
        }
        assertThat(starts).hasSize(2000);
        assertThat(sumX / 2000).isCloseTo(0.0, within(0.05));

        Environment same = family.create(goal("g", 0, 0), 8);
        Environment other = family.create(goal("g", 0, 0), 9);
        Environment again = family.create(goal("g", 0, 0), 8);
        assertThat(same.reset()).containsExactly(again.reset()).isNotEqualTo(other.reset());
    }

    @Test
    void rewardNeedsTheTask() {
        assertThatThrownBy(family::reward)
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("reward(task)");
        assertThatThrownBy(() -> family.reward(new TaskSpec("bad", new TreeMap<>())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("goalX");
    }

    @Test
    void batchedRewardScoresTheNextPositionAgainstTheTasksGoal() {
        double[] r = Rewards.score(family.reward(goal("g", 0.5, -0.5)), new double[][] {{9, 9}, {9, 9}},
                new double[][] {{1, 1}, {-5, 3}}, new double[][] {{0.5, -0.5}, {0.5 + 3, -0.5 + 4}});
        assertThat(r).containsExactly(new double[] {0.0, -5.0}, within(1e-15));
    }

    @Test
    void mpcWithTheTrueDynamicsPlansTowardsTheTasksGoal() {
        TaskSpec task = family.heldOutTasks(1, 0).get(0);
        MpcConfig mpc = MpcConfig.builder().horizon(5).candidates(200)
                .actionBounds(family.actionLow(), family.actionHigh()).build();

        double random = Evaluation.evaluate(family, task, (BatchDynamics) null, null, 4, 3);
        double planned = Evaluation.evaluate(family, task, trueDynamics(), mpc, 4, 3);

        assertThat(planned).isGreaterThan(random + 3);
    }

    /** s' = s + 0.1·clip(a, −1, 1), batched: the point robot's exact dynamics as a perfect model. */
    static BatchDynamics trueDynamics() {
        return (o, a, from, rows, out) -> {
            for (int i = from * 2; i < (from + rows) * 2; i++) {
                out[i] = o[i] + PointRobotFamily.displacement(Math.max(-1, Math.min(1, a[i])));
            }
        };
    }
}

package io.metastream.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** PEARL's sparse-point-robot, METARL.md §3.2. */
class SparsePointRobotFamilyTest {

    private final TaskFamily family = TaskFamilies.byName("sparse-point-robot");

    @Test
    void sharesThePointRobotsSpacesAndHorizon() {
        assertThat(family.name()).isEqualTo("sparse-point-robot");
        assertThat(family.obsDim()).isEqualTo(2);
        assertThat(family.actionLow()).containsExactly(-1.0, -1.0);
        assertThat(family.actionHigh()).containsExactly(1.0, 1.0);
        assertThat(family.horizon()).isEqualTo(20);
        assertThat(family.maxTrainTasks()).isEqualTo(80);
        assertThat(family.maxHeldOutTasks()).isEqualTo(20);
    }

    @Test
    void goalsAreTheHalfCircleInThePublishedShuffledOrder() {
        List<TaskSpec> train = family.trainTasks(80, 0);
        List<TaskSpec> test = family.heldOutTasks(20, 0);
        assertThat(family.trainTasks(80, 5)).isEqualTo(train);

        assertGoalAtAngleIndex(train.get(0), 2);
        assertGoalAtAngleIndex(train.get(1), 48);
        assertGoalAtAngleIndex(train.get(40), 0);
        assertGoalAtAngleIndex(train.get(79), 75);
        assertGoalAtAngleIndex(test.get(0), 66);
        assertGoalAtAngleIndex(test.get(6), 99);
        assertGoalAtAngleIndex(test.get(19), 23);
        assertThat(train.get(40).params()).containsEntry("goalX", 1.0).containsEntry("goalY", 0.0);
        assertThat(test.get(6).param("goalX")).isEqualTo(-1.0);
        assertThat(test.get(0).id()).isEqualTo("sparse-point-robot-test-0");
    }

    private static void assertGoalAtAngleIndex(TaskSpec task, int k) {
        double theta = k * Math.PI / 99;
        assertThat(task.param("goalX")).as("%s at k = %d", task.id(), k).isCloseTo(Math.cos(theta), within(1e-15));
        assertThat(task.param("goalY")).as("%s at k = %d", task.id(), k).isCloseTo(Math.sin(theta), within(1e-15));
    }

    @Test
    void everyEpisodeStartsAtTheOrigin() {
        Environment env = family.create(family.trainTasks(1, 0).get(0), 4);
        for (int i = 0; i < 3; i++) {
            assertThat(env.reset()).containsExactly(0.0, 0.0);
            env.step(new double[] {0.7, 0.2});
        }
    }

    @Test
    void stepReturnsTheDenseRewardAndCarriesTheSparseOne() {
        // goal on the x axis; full speed along x moves 0.1 per step: distances .35 .25 .15 .05 .05 .15 .25
        Environment env = family.create(PointRobotFamilyTest.goal("g", 0.45, 0.0), 1);
        env.reset();
        double[] expectedDistance = {0.35, 0.25, 0.15, 0.05, 0.05, 0.15, 0.25};
        for (int i = 0; i < expectedDistance.length; i++) {
            StepResult r = env.step(new double[] {1.0, 0.0});
            double d = expectedDistance[i];
            assertThat(r.reward()).as("dense reward, step %d", i).isCloseTo(-d, within(1e-12));
            assertThat(r.sparseReward()).as("step %d", i).isPresent();
            if (d <= 0.2) {
                assertThat(r.sparseReward().getAsDouble()).as("sparse, step %d", i).isCloseTo(1 - d, within(1e-12));
                assertThat(r.goalReached()).as("reached, step %d", i).isTrue();
            } else {
                assertThat(r.sparseReward().getAsDouble()).as("sparse, step %d", i).isZero();
                assertThat(r.goalReached()).as("reached, step %d", i).isFalse();
            }
        }
    }

    @Test
    void sparseRewardThresholdIsInclusiveAtTwoTenths() {
        assertThat(PointRobotFamily.sparseReward(-0.0)).isEqualTo(1.0);
        assertThat(PointRobotFamily.sparseReward(-0.05)).isEqualTo(0.95);
        assertThat(PointRobotFamily.sparseReward(-0.2)).isEqualTo(0.8);
        assertThat(PointRobotFamily.sparseReward(Math.nextDown(-0.2))).isEqualTo(0.0);
        assertThat(PointRobotFamily.sparseReward(-0.21)).isEqualTo(0.0);
        assertThat(PointRobotFamily.sparseReward(-3.0)).isEqualTo(0.0);
    }

    @Test
    void goalReachedFollowsTheSparseReward() {
        assertThat(new StepResult(new double[2], -0.1, false, OptionalDouble.of(0.9)).goalReached()).isTrue();
        assertThat(new StepResult(new double[2], -0.5, false, OptionalDouble.of(0.0)).goalReached()).isFalse();
        StepResult plain = new StepResult(new double[2], -0.1, false);
        assertThat(plain.sparseReward()).isEmpty();
        assertThat(plain.goalReached()).isFalse();
    }

    @Test
    void batchedRewardIsTheDenseOne() {
        TaskSpec task = family.heldOutTasks(1, 0).get(0);
        Environment env = family.create(task, 2);
        double[] s = env.reset();
        StepResult r = env.step(new double[] {-0.3, 0.9});
        double batched = Rewards.score(family.reward(task), new double[][] {s}, new double[][] {{-0.3, 0.9}},
                new double[][] {r.observation()})[0];
        assertThat(batched).isEqualTo(r.reward());
    }
}

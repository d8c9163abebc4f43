package io.metastream.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/** The velocity-tracking family (the cheetah-vel idea on a 1-D mass). */
class PointVelFamilyTest {

    private final TaskFamily family = TaskFamilies.byName("point-vel");

    static TaskSpec target(double v) {
        return new TaskSpec("v", new TreeMap<>(Map.of("targetVelocity", v)));
    }

    @Test
    void shapesAndHorizon() {
        assertThat(family.obsDim()).isEqualTo(1);
        assertThat(family.actDim()).isEqualTo(1);
        assertThat(family.actionLow()).containsExactly(-1.0);
        assertThat(family.actionHigh()).containsExactly(1.0);
        assertThat(family.horizon()).isEqualTo(200);
        assertThat(family.maxTrainTasks()).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void twoStepsMatchTheFormulaByHand() {
        Environment env = family.create(target(2.0), 6);
        double v0 = env.reset()[0];

        StepResult first = env.step(new double[] {0.6});
        StepResult second = env.step(new double[] {-0.4});

        double v1 = v0 + (5 * 0.6 - 0.5 * v0 - 0.2 * v0 * Math.abs(v0)) * 0.05;
        double v2 = v1 + (5 * -0.4 - 0.5 * v1 - 0.2 * v1 * Math.abs(v1)) * 0.05;
        assertThat(first.observation()).containsExactly(new double[] {v1}, within(1e-15));
        assertThat(first.reward()).isCloseTo(-Math.abs(v1 - 2.0) - 0.05 * 0.36, within(1e-15));
        assertThat(second.observation()).containsExactly(new double[] {v2}, within(1e-15));
        assertThat(second.reward()).isCloseTo(-Math.abs(v2 - 2.0) - 0.05 * 0.16, within(1e-15));
        assertThat(second.sparseReward()).isEmpty();
    }

    @Test
    void theRewardUsesTheClippedAction() {
        Environment a = family.create(target(1.0), 2);
        Environment b = family.create(target(1.0), 2);
        a.reset();
        b.reset();
        assertThat(a.step(new double[] {3.0}).reward()).isEqualTo(b.step(new double[] {1.0}).reward());
    }

    @Test
    void targetsAreUniformOnZeroToThreeAndDeterministicFromTheSeed() {
        List<TaskSpec> tasks = family.trainTasks(400, 3);
        double sum = 0;
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        for (TaskSpec t : tasks) {
            double v = t.param("targetVelocity");
            assertThat(v).isBetween(0.0, 3.0);
            sum += v;
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertThat(sum / tasks.size()).isCloseTo(1.5, within(0.15));
        assertThat(min).isLessThan(0.1);
        assertThat(max).isGreaterThan(2.9);
        assertThat(family.trainTasks(400, 3)).isEqualTo(tasks);
    }

    @Test
    void resetsStartNearlyAtRest() {
        Environment env = family.create(target(1.0), 1);
        double first = env.reset()[0];
        for (int i = 0; i < 500; i++) {
            assertThat(env.reset()[0]).isBetween(-0.1, 0.1);
        }
        assertThat(env.reset()[0]).isNotEqualTo(first);
    }

    @Test
    void everyTargetIsReachableWithinTheEpisode() {
        // full force settles near the drag-limited top speed, well above the largest target
        Environment full = family.create(target(3.0), 1);
        double v = full.reset()[0];
        for (int i = 0; i < 200; i++) {
            v = full.step(new double[] {1.0}).observation()[0];
        }
        assertThat(v).isCloseTo(3.904, within(0.005));

        // a feed-forward plus proportional controller holds the largest target
        Environment env = family.create(target(3.0), 1);
        v = env.reset()[0];
        double lastReward = 0;
        for (int i = 0; i < 200; i++) {
            double feedForward = (0.5 * 3.0 + 0.2 * 9.0) / 5.0;
            StepResult r = env.step(new double[] {feedForward + 2.0 * (3.0 - v)});
            v = r.observation()[0];
            lastReward = r.reward();
        }
        assertThat(v).isCloseTo(3.0, within(1e-3));
        assertThat(lastReward).isCloseTo(-0.05 * 0.66 * 0.66, within(1e-3));
    }

    @Test
    void rewardNeedsTheTask() {
        assertThatThrownBy(family::reward)
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("reward(task)");
        double[] r = Rewards.score(family.reward(target(2.0)), new double[][] {{0}, {0}}, new double[][] {{0.5}, {-4}},
                new double[][] {{1.5}, {2.0}});
        assertThat(r).containsExactly(new double[] {-0.5 - 0.05 * 0.25, -0.05}, within(1e-15));
    }
}

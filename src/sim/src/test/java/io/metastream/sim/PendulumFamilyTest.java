package io.metastream.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class PendulumFamilyTest {

    private final TaskFamily family = TaskFamilies.byName("pendulum");

    static TaskSpec task(String id, double mass, double length, double damping, double gain) {
        return new TaskSpec(id, new TreeMap<>(Map.of(
                "mass", mass, "length", length, "damping", damping, "gain", gain)));
    }

    @Test
    void oneStepMatchesTheFormulaByHand() {
        double m = 1.7;
        double l = 0.8;
        double b = 0.3;
        double k = 1.2;
        Environment env = family.create(task("p", m, l, b, k), 11);
        double[] obs = env.reset();
        double theta = Math.atan2(obs[1], obs[0]);
        double thetaDot = obs[2];
        double u = 1.3;

        StepResult r = env.step(new double[] {u});

        double expectedReward = -(theta * theta + 0.1 * thetaDot * thetaDot + 0.001 * u * u);
        double newThetaDot = thetaDot + (3 * 10.0 / (2 * l) * Math.sin(theta) + 3 / (m * l * l) * (k * u) - b * thetaDot) * 0.05;
        newThetaDot = Math.max(-8, Math.min(8, newThetaDot));
        double newTheta = theta + newThetaDot * 0.05;
        assertThat(r.reward()).isCloseTo(expectedReward, within(1e-12));
        assertThat(r.observation()[0]).isCloseTo(Math.cos(newTheta), within(1e-12));
        assertThat(r.observation()[1]).isCloseTo(Math.sin(newTheta), within(1e-12));
        assertThat(r.observation()[2]).isCloseTo(newThetaDot, within(1e-12));
    }

    @Test
    void torqueIsClippedToTwo() {
        Environment a = family.create(task("p", 1, 1, 0, 1), 3);
        Environment b = family.create(task("p", 1, 1, 0, 1), 3);
        a.reset();
        b.reset();
        assertThat(a.step(new double[] {9}).observation()).containsExactly(b.step(new double[] {2}).observation());
    }

    @Test
    void angleAdvancesByTheClippedVelocity() {
        // Current gym: θ' = θ + clip(θ̇')·dt. Old gym moved the angle with the unclipped velocity.
        // A light, short pole with a strong actuator saturates the velocity within a few steps.
        Environment env = family.create(task("p", 0.5, 0.5, 0, 1.6), 5);
        double[] prev = env.reset();
        int saturated = 0;
        for (int i = 0; i < 40; i++) {
            double[] next = env.step(new double[] {2}).observation();
            double dTheta = PendulumFamily.wrapAngle(Math.atan2(next[1], next[0]) - Math.atan2(prev[1], prev[0]));
            assertThat(Math.abs(next[2])).isLessThanOrEqualTo(8.0);
            assertThat(dTheta).isCloseTo(next[2] * 0.05, within(1e-9));
            if (Math.abs(next[2]) == 8.0) {
                saturated++;
            }
            prev = next;
        }
        assertThat(saturated).as("steps at the speed limit").isPositive();
    }

    @Test
    void heavierMassHalvesTheResponseToTorque() {
        // Guards the old-gym pitfall where the mass was a local constant and the task had no effect.
        double light = torqueResponse(task("light", 1.0, 1.0, 0.0, 1.0));
        double heavy = torqueResponse(task("heavy", 2.0, 1.0, 0.0, 1.0));
        assertThat(light).isCloseTo(3.0 * 2.0 * 0.05, within(1e-9));
        assertThat(heavy).isCloseTo(light / 2, within(1e-9));
    }

    @Test
    void everyParameterChangesTheTrajectory() {
        TaskSpec base = task("base", 1.0, 1.0, 0.2, 1.0);
        double[] reference = finalObservation(base);
        assertThat(finalObservation(task("m", 1.5, 1.0, 0.2, 1.0))).isNotEqualTo(reference);
        assertThat(finalObservation(task("l", 1.0, 1.3, 0.2, 1.0))).isNotEqualTo(reference);
        assertThat(finalObservation(task("b", 1.0, 1.0, 0.4, 1.0))).isNotEqualTo(reference);
        assertThat(finalObservation(task("k", 1.0, 1.0, 0.2, 1.4))).isNotEqualTo(reference);
    }

    @Test
    void setTaskMidEpisodeChangesTheFollowingSteps() {
        TaskSpec light = task("light", 0.6, 1.0, 0.0, 1.0);
        TaskSpec heavy = task("heavy", 2.0, 1.3, 0.25, 0.7);
        Environment switched = family.create(light, 9);
        Environment constant = family.create(light, 9);
        switched.reset();
        constant.reset();
        double[] u = {1.5};
        double[] obs = null;
        for (int i = 0; i < 10; i++) {
            obs = switched.step(u).observation();
            assertThat(obs).containsExactly(constant.step(u).observation());
        }

        switched.setTask(heavy);
        double[] next = switched.step(u).observation();

        double theta = Math.atan2(obs[1], obs[0]);
        double expectedThetaDot = obs[2] + (3 * 10.0 / (2 * 1.3) * Math.sin(theta)
                + 3 / (2.0 * 1.3 * 1.3) * (0.7 * 1.5) - 0.25 * obs[2]) * 0.05;
        assertThat(switched.task()).isEqualTo(heavy);
        assertThat(next[2]).isCloseTo(expectedThetaDot, within(1e-9));
        assertThat(next[2]).isNotCloseTo(constant.step(u).observation()[2], within(1e-6));
    }

    @Test
    void sampledParametersStayInTheirRanges() {
        for (TaskSpec t : family.trainTasks(500, 3)) {
            assertThat(t.param("mass")).isBetween(0.5, 2.0);
            assertThat(t.param("length")).isBetween(0.5, 1.5);
            assertThat(t.param("damping")).isBetween(0.0, 0.5);
            assertThat(t.param("gain")).isBetween(0.4, 1.6);
        }
    }

    @Test
    void resetDrawsFromTheStatedRanges() {
        Environment env = family.create(task("p", 1, 1, 0, 1), 1);
        for (int i = 0; i < 200; i++) {
            double[] obs = env.reset();
            assertThat(obs[0] * obs[0] + obs[1] * obs[1]).isCloseTo(1.0, within(1e-12));
            assertThat(obs[2]).isBetween(-1.0, 1.0);
        }
    }

    @Test
    void rejectsNonPhysicalParameters() {
        assertThatThrownBy(() -> family.create(task("p", 0.0, 1, 0, 1), 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'mass'")
                .hasMessageContaining("> 0");
        assertThatThrownBy(() -> family.create(task("p", 1, 1, -0.1, 1), 0))
                .hasMessageContaining("'damping'");
    }

    @Test
    void wrapsAnglesToMinusPiInclusivePiExclusive() {
        assertThat(PendulumFamily.wrapAngle(Math.PI)).isCloseTo(-Math.PI, within(1e-12));
        assertThat(PendulumFamily.wrapAngle(-Math.PI)).isCloseTo(-Math.PI, within(1e-12));
        assertThat(PendulumFamily.wrapAngle(1.5 * Math.PI)).isCloseTo(-0.5 * Math.PI, within(1e-12));
        assertThat(PendulumFamily.wrapAngle(-1.5 * Math.PI)).isCloseTo(0.5 * Math.PI, within(1e-12));
        assertThat(PendulumFamily.wrapAngle(0.3)).isCloseTo(0.3, within(1e-15));
        assertThat(PendulumFamily.wrapAngle(0.3 + 8 * Math.PI)).isCloseTo(0.3, within(1e-12));
    }

    /** Change of θ̇ caused by full torque, relative to no torque, from the same state. */
    private double torqueResponse(TaskSpec task) {
        Environment pushed = family.create(task, 21);
        Environment idle = family.create(task, 21);
        pushed.reset();
        idle.reset();
        return pushed.step(new double[] {2}).observation()[2] - idle.step(new double[] {0}).observation()[2];
    }

    private double[] finalObservation(TaskSpec task) {
        Environment env = family.create(task, 4);
        double[] obs = env.reset();
        for (int i = 0; i < 30; i++) {
            obs = env.step(new double[] {Math.sin(i * 0.3)}).observation();
        }
        return obs;
    }
}

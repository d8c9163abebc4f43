package io.metastream.sim.evaluation;

import io.metastream.sim.Policy;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.metastream.core.grbal.Segment;
import io.metastream.core.mpc.BatchDynamics;
import io.metastream.core.mpc.MpcConfig;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

class EvaluationTest {

    private final TaskFamily pointMass = TaskFamilies.byName("point-mass");
    private final TaskSpec task = new TaskSpec("p", new java.util.TreeMap<>(java.util.Map.of(
            "gainX", 1.0, "gainY", 1.0, "rotation", 0.3, "friction", 0.2)));
    private final MpcConfig mpc = MpcConfig.builder()
            .horizon(5).candidates(100)
            .actionBounds(pointMass.actionLow(), pointMass.actionHigh())
            .build();

    @Test
    void randomBaselineIsDeterministicForASeed() {
        double a = Evaluation.evaluate(pointMass, task, (BatchDynamics) null, null, 3, 2);
        double b = Evaluation.evaluate(pointMass, task, (BatchDynamics) null, null, 3, 2);
        assertThat(a).isEqualTo(b).isNegative();
    }

    @Test
    void mpcWithTheTrueDynamicsBeatsRandomActions() {
        double random = Evaluation.evaluate(pointMass, task, (BatchDynamics) null, null, 3, 2);
        double planned = Evaluation.evaluate(pointMass, task, trueDynamics(task), mpc, 3, 2);
        assertThat(planned).isGreaterThan(random + 20);
    }

    @Test
    void collectReturnsOneRowPerRealStep() {
        int steps = pointMass.horizon() + 30; // crosses an episode boundary
        Segment s = Evaluation.collect(pointMass, task, null, 9, steps);

        assertThat(s.length()).isEqualTo(steps);
        assertThat(s.obsDim()).isEqualTo(4);
        assertThat(s.actDim()).isEqualTo(2);
        double[][] obs = s.obs();
        double[][] next = s.nextObs();
        for (int i = 0; i + 1 < steps; i++) {
            if (i + 1 == pointMass.horizon()) {
                assertThat(obs[i + 1][2]).as("reset starts at rest").isZero();
            } else {
                assertThat(obs[i + 1]).containsExactly(next[i]);
            }
        }
        assertThat(Evaluation.collect(pointMass, task, null, 9, steps)).isEqualTo(s);
    }

    @Test
    void collectRecordsTheClippedAction() {
        Segment s = Evaluation.collect(pointMass, task, obs -> new double[] {7, -7}, 1, 5);
        for (double[] a : s.act()) {
            assertThat(a).containsExactly(1.0, -1.0);
        }
    }

    @Test
    void aModelNeedsPlannerSettings() {
        assertThatThrownBy(() -> Evaluation.evaluate(pointMass, task, trueDynamics(task), null, 1, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("MpcConfig");
        assertThatThrownBy(() -> Evaluation.evaluate(pointMass, task, Policy.random(pointMass, new Random(1)), 1, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void randomPolicyStaysInsideTheBounds() {
        Policy p = Policy.random(pointMass, new Random(5));
        for (int i = 0; i < 1000; i++) {
            double[] a = p.act(new double[4]);
            assertThat(a[0]).isBetween(-1.0, 1.0);
            assertThat(a[1]).isBetween(-1.0, 1.0);
        }
    }

    /** The exact point-mass dynamics, batched, as a stand-in for a perfectly learned model. */
    static BatchDynamics trueDynamics(TaskSpec task) {
        return (o, a, from, rows, out) -> {
            for (int i = from; i < from + rows; i++) {
                double[] next = step(task, java.util.Arrays.copyOfRange(o, 4 * i, 4 * i + 4),
                        java.util.Arrays.copyOfRange(a, 2 * i, 2 * i + 2));
                System.arraycopy(next, 0, out, 4 * i, 4);
            }
        };
    }

    private static double[] step(TaskSpec t, double[] s, double[] a) {
        double gx = t.param("gainX");
        double gy = t.param("gainY");
        double psi = t.param("rotation");
        double c = t.param("friction");
        double ax = Math.max(-1, Math.min(1, a[0]));
        double ay = Math.max(-1, Math.min(1, a[1]));
        double fx = Math.cos(psi) * gx * ax - Math.sin(psi) * gy * ay;
        double fy = Math.sin(psi) * gx * ax + Math.cos(psi) * gy * ay;
        double vx = s[2] + (fx - c * s[2]) * 0.1;
        double vy = s[3] + (fy - c * s[3]) * 0.1;
        return new double[] {
            Math.max(-5, Math.min(5, s[0] + vx * 0.1)), Math.max(-5, Math.min(5, s[1] + vy * 0.1)), vx, vy};
    }
}

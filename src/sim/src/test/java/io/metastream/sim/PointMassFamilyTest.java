package io.metastream.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class PointMassFamilyTest {

    private final TaskFamily family = TaskFamilies.byName("point-mass");

    static TaskSpec task(String id, double gainX, double gainY, double rotation, double friction) {
        return new TaskSpec(id, new TreeMap<>(Map.of(
                "gainX", gainX, "gainY", gainY, "rotation", rotation, "friction", friction)));
    }

    @Test
    void oneStepMatchesTheFormulaByHand() {
        double gx = 1.2;
        double gy = 0.7;
        double psi = 0.4;
        double c = 0.5;
        Environment env = family.create(task("p", gx, gy, psi, c), 2);
        double[] obs = env.reset();
        double[] a = {0.6, -0.9};

        // two steps, so the friction term acts on a non-zero velocity
        StepResult first = env.step(a);
        StepResult second = env.step(a);

        double fx = Math.cos(psi) * gx * a[0] - Math.sin(psi) * gy * a[1];
        double fy = Math.sin(psi) * gx * a[0] + Math.cos(psi) * gy * a[1];
        double vx = fx * 0.1;
        double vy = fy * 0.1;
        double x = obs[0] + vx * 0.1;
        double y = obs[1] + vy * 0.1;
        assertThat(first.observation()).containsExactly(new double[] {x, y, vx, vy}, within(1e-12));
        vx = vx + (fx - c * vx) * 0.1;
        vy = vy + (fy - c * vy) * 0.1;
        x += vx * 0.1;
        y += vy * 0.1;
        assertThat(second.observation()).containsExactly(new double[] {x, y, vx, vy}, within(1e-12));
        assertThat(second.reward()).isCloseTo(-Math.hypot(x, y) - 0.01 * (0.36 + 0.81), within(1e-12));
    }

    @Test
    void rotationTurnsTheForce() {
        Environment env = family.create(task("p", 1, 1, Math.PI / 2, 0), 1);
        env.reset();
        double[] v = env.step(new double[] {1, 0}).observation();
        assertThat(v[2]).isCloseTo(0.0, within(1e-12));
        assertThat(v[3]).isCloseTo(0.1, within(1e-12));
    }

    @Test
    void crippledAxisDoesNotMove() {
        Environment env = family.create(task("p", 0.0, 1, 0, 0), 1);
        double[] start = env.reset();
        double[] obs = start;
        for (int i = 0; i < 20; i++) {
            obs = env.step(new double[] {1, 0}).observation();
        }
        assertThat(obs[0]).isEqualTo(start[0]);
        assertThat(obs[2]).isEqualTo(0.0);
    }

    @Test
    void frictionDecaysVelocity() {
        Environment env = family.create(task("p", 1, 1, 0, 1.0), 1);
        env.reset();
        double v = env.step(new double[] {1, 0}).observation()[2];
        double next = env.step(new double[] {0, 0}).observation()[2];
        assertThat(next).isCloseTo(v * (1 - 1.0 * 0.1), within(1e-12));
    }

    @Test
    void positionsStayInsideTheWalls() {
        Environment env = family.create(task("p", 1.5, 1.5, 0, 0), 1);
        env.reset();
        double[] obs = null;
        for (int i = 0; i < 100; i++) {
            obs = env.step(new double[] {1, 1}).observation();
        }
        assertThat(obs[0]).isEqualTo(5.0);
        assertThat(obs[1]).isEqualTo(5.0);
    }

    @Test
    void aboutThirtyPercentOfTasksHaveACrippledActuator() {
        List<TaskSpec> tasks = family.trainTasks(4000, 8);
        long crippled = tasks.stream()
                .filter(t -> Math.min(t.param("gainX"), t.param("gainY")) < 0.2)
                .count();
        assertThat(crippled / 4000.0).isCloseTo(0.3, within(0.03));
        for (TaskSpec t : tasks) {
            assertThat(t.param("gainX")).isBetween(0.0, 1.5);
            assertThat(t.param("gainY")).isBetween(0.0, 1.5);
            assertThat(t.param("rotation")).isBetween(-Math.PI / 4, Math.PI / 4);
            assertThat(t.param("friction")).isBetween(0.0, 1.0);
        }
    }

    @Test
    void resetStartsAtRestInsideTheStartBox() {
        Environment env = family.create(task("p", 1, 1, 0, 0), 3);
        for (int i = 0; i < 100; i++) {
            double[] obs = env.reset();
            assertThat(obs[0]).isBetween(-2.0, 2.0);
            assertThat(obs[1]).isBetween(-2.0, 2.0);
            assertThat(obs[2]).isZero();
            assertThat(obs[3]).isZero();
        }
    }

    @Test
    void setTaskMidEpisodeRecomputesTheActuator() {
        Environment env = family.create(task("healthy", 1, 1, 0, 0), 5);
        env.reset();
        double vBefore = env.step(new double[] {1, 0}).observation()[2];
        env.setTask(task("crippled", 0.0, 1, 0, 0));
        double vAfter = env.step(new double[] {1, 0}).observation()[2];

        assertThat(vBefore).isCloseTo(0.1, within(1e-12));
        assertThat(vAfter).isCloseTo(vBefore, within(1e-12));
        assertThat(env.task().id()).isEqualTo("crippled");
    }
}

package io.metastream.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.metastream.core.mpc.BatchDynamics;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.sim.evaluation.Evaluation;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Every built-in family's true model, the planner's ceiling in {@code bench grbal}. */
class TrueDynamicsTest {

    static List<String> families() {
        return TaskFamilies.names();
    }

    @ParameterizedTest
    @MethodSource("families")
    void predictsExactlyWhatTheEnvironmentDoes(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        TaskSpec task = family.heldOutTasks(1, 5).get(0);
        BatchDynamics model = family.trueDynamics(task);
        Environment env = family.create(task, 8);
        Random rng = new Random(2);
        int rows = 30;
        double[] obs = new double[rows * family.obsDim()];
        double[] act = new double[rows * family.actDim()];
        double[] expected = new double[rows * family.obsDim()];
        double[] o = env.reset();
        double[] low = family.actionLow();
        double[] high = family.actionHigh();
        for (int r = 0; r < rows; r++) {
            double[] a = new double[low.length];
            for (int j = 0; j < a.length; j++) {
                a[j] = low[j] - 0.5 + (high[j] - low[j] + 1) * rng.nextDouble(); // some beyond the bounds
            }
            StepResult s = env.step(a);
            System.arraycopy(o, 0, obs, r * o.length, o.length);
            System.arraycopy(a, 0, act, r * a.length, a.length);
            System.arraycopy(s.observation(), 0, expected, r * o.length, o.length);
            o = s.done() ? env.reset() : s.observation();
        }
        double[] got = new double[expected.length];
        model.next(obs, act, 0, rows, got);
        for (int i = 0; i < got.length; i++) {
            assertThat(got[i]).as("%s element %d", name, i).isCloseTo(expected[i], within(1e-9));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"arm", "spring-chain", "pendulum"})
    void planningWithTheTrueModelBeatsRandomActions(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        TaskSpec task = family.heldOutTasks(1, 3).get(0);
        MpcConfig mpc = MpcConfig.builder().actionBounds(family.actionLow(), family.actionHigh()).build();
        double random = Evaluation.evaluate(family, task, (BatchDynamics) null, null, 4, 1);
        double planned = Evaluation.evaluate(family, task, family.trueDynamics(task), mpc, 4, 1);
        assertThat(planned).as("%s: MPC with the true model %.1f, random %.1f", name, planned, random)
                .isGreaterThan(random + 0.2 * Math.abs(random));
    }
}

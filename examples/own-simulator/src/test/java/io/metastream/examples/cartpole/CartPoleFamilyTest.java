package io.metastream.examples.cartpole;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.metastream.sim.Environment;
import io.metastream.sim.StepResult;
import io.metastream.sim.TaskSpec;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CartPoleFamilyTest {

    private final CartPoleFamily family = new CartPoleFamily();

    @Test
    void projectionKeepsRealObservationsAndRepairsPredictedOnes() {
        TaskSpec task = family.trainTasks(1, 3).get(0);
        Environment env = family.create(task, 3);
        Random rng = new Random(3);
        double[] o = env.reset();
        for (int t = 0; t < 100; t++) {
            double[] copy = o.clone();
            family.projection().project(copy, 0, 1);
            for (int j = 0; j < o.length; j++) {
                assertThat(copy[j]).as("step %d, value %d", t, j).isCloseTo(o[j], within(1e-12));
            }
            StepResult r = env.step(new double[] {2 * rng.nextDouble() - 1});
            if (r.done()) {
                break;
            }
            o = r.observation();
        }
        double[] predicted = {3.0, 0.5, 1.2, 0.9, 0.1};
        family.projection().project(predicted, 0, 1);
        assertThat(predicted[0]).isEqualTo(CartPoleFamily.TRACK);
        assertThat(predicted[2]).isCloseTo(0.8, within(1e-12));
        assertThat(predicted[3]).isCloseTo(0.6, within(1e-12));
    }
}

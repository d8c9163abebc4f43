package io.metastream.sim.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.metastream.core.mpc.MpcConfig;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The varied-dynamics families the GrBAL bench scores must be ones where knowing the task pays in control:
 * MPC with the task's own physics must beat MPC with the training tasks' mean physics by a clear margin,
 * or "the gap adaptation closes" measures the learned model's fit error, not adaptation.
 */
class VariationMattersInControlTest {

    @ParameterizedTest
    @ValueSource(strings = {"pendulum", "arm", "spring-chain"})
    void planningWithTheTasksOwnPhysicsBeatsPlanningWithTheMeanPhysics(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        long seed = 1;
        List<TaskSpec> heldOut = family.heldOutTasks(8, seed);
        TaskSpec mean = MetaTest.meanTask("mean", family.trainTasks(16, seed));
        MpcConfig mpc = MpcConfig.builder().actionBounds(family.actionLow(), family.actionHigh())
                .settings(family.suggestedSettings("mpc.")).build();
        MetaTest.Config cfg = new MetaTest.Config(32, 16, 0.1, 1, 200, 2, mpc, seed + 1000);
        double own = Arrays.stream(MetaTest.trueModelReturns(family, heldOut, cfg)).average().orElseThrow();
        double fixed = Arrays.stream(MetaTest.fixedModelReturns(family, heldOut, mean, cfg)).average().orElseThrow();
        assertThat(fixed).as("%s: mean return planning with the mean physics against the task's own (%.1f)", name, own)
                .isLessThan(own - 0.1 * Math.abs(own));
    }

    @Test
    void theMeanTaskAveragesEveryParameterAndRefusesMixedParameterSets() {
        TaskSpec a = new TaskSpec("a", new TreeMap<>(Map.of("m", 1.0, "k", -2.0)));
        TaskSpec b = new TaskSpec("b", new TreeMap<>(Map.of("m", 3.0, "k", 2.0)));
        TaskSpec mean = MetaTest.meanTask("mean", List.of(a, b));
        assertThat(mean.param("m")).isCloseTo(2.0, within(1e-12));
        assertThat(mean.param("k")).isCloseTo(0.0, within(1e-12));
        TaskSpec other = new TaskSpec("c", new TreeMap<>(Map.of("m", 1.0)));
        assertThatThrownBy(() -> MetaTest.meanTask("mean", List.of(a, other)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("task 'c' has parameters [m]");
        assertThatThrownBy(() -> MetaTest.meanTask("mean", List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}

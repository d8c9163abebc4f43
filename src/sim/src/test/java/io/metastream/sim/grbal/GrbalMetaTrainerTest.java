package io.metastream.sim.grbal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.metastream.core.grbal.GrbalConfig;
import io.metastream.core.grbal.Segment;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GrbalMetaTrainerTest {

    private final TaskFamily family = TaskFamilies.byName("pendulum");

    private GrbalMetaTrainer.Result train(long seed, List<String> lines) {
        GrbalConfig cfg = GrbalConfig.builder().obsDim(3).actDim(1).hidden(16, 16).metaBatchSize(4)
                .normalizerWarmupTransitions(200).seed(seed).build();
        MpcConfig mpc = MpcConfig.builder().horizon(5).candidates(16).actionBounds(family.actionLow(), family.actionHigh()).build();
        GrbalMetaTrainer.Schedule s = new GrbalMetaTrainer.Schedule(1600, 8, 1, 256, 8, 2, 0.1, mpc);
        List<TaskSpec> tasks = family.trainTasks(4, seed);
        return GrbalMetaTrainer.train(family, tasks, cfg, s, seed, lines::add);
    }

    @Test
    void takesTheStepsItIsGivenFeedsTheLearnerAndRepeatsForASeed() {
        List<String> lines = new ArrayList<>();
        GrbalMetaTrainer.Result a = train(3, lines);
        GrbalMetaTrainer.Result b = train(3, new ArrayList<>());
        assertThat(a.envSteps()).isEqualTo(1600);
        assertThat(a.data()).hasSize(4);
        assertThat(a.data().stream().mapToInt(Segment::length).sum()).isEqualTo(1600);
        // 400 transitions per task, a segment every 8 from the 32nd, each with one replay window, batches of 4
        assertThat(a.outerSteps()).isGreaterThan(50);
        assertThat(a.curve()).isNotEmpty();
        assertThat(lines).isNotEmpty();
        assertThat(a.theta().params().toDoubleVector()).containsExactly(b.theta().params().toDoubleVector());
    }

    @Test
    void refusesAConfigurationOfAnotherFamily() {
        GrbalConfig wrong = GrbalConfig.builder().obsDim(4).actDim(2).build();
        MpcConfig mpc = MpcConfig.builder().actionBounds(family.actionLow(), family.actionHigh()).build();
        GrbalMetaTrainer.Schedule s = new GrbalMetaTrainer.Schedule(100, 8, 1, 256, 8, 2, 0.1, mpc);
        assertThatThrownBy(() -> GrbalMetaTrainer.train(family, family.trainTasks(2, 1), wrong, s, 1, x -> { }))
                .hasMessageContaining("are not family pendulum's 3/1");
    }
}

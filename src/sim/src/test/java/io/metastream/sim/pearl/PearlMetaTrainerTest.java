package io.metastream.sim.pearl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.metastream.core.pearl.PearlConfig;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class PearlMetaTrainerTest {

    private final TaskFamily family = TaskFamilies.byName("point-robot");
    private final List<TaskSpec> train = family.trainTasks(4, 0);
    private final PearlMetaTrainer.Schedule schedule = new PearlMetaTrainer.Schedule(20, 2, 20, 20, 0, 3, 100);

    private PearlConfig.Builder small() {
        return PearlConfig.builder().latentDim(2).encoderHidden(8).netHidden(8).batchSize(8).contextSize(4).metaBatch(2)
                .seed(3);
    }

    @Test
    void countsEnvironmentStepsAndGradientStepsOfTheSchedule() {
        PearlMetaTrainer t = new PearlMetaTrainer(family, train, small().obsDim(2).actDim(2).build(), schedule, false);
        t.iterate();
        // 4 tasks x 20 initial steps, then 2 tasks x (20 prior + 20 posterior), in whole 20-step episodes
        assertThat(t.envSteps()).isEqualTo(4 * 20 + 2 * 40);
        assertThat(t.learner().version()).isEqualTo(3);
        t.iterate();
        assertThat(t.envSteps()).isEqualTo(4 * 20 + 4 * 40);
        assertThat(t.iterations()).isEqualTo(2);
    }

    @Test
    void isReproducibleFromTheSeed() {
        PearlMetaTrainer a = new PearlMetaTrainer(family, train, small().obsDim(2).actDim(2).build(), schedule, false);
        PearlMetaTrainer b = new PearlMetaTrainer(family, train, small().obsDim(2).actDim(2).build(), schedule, false);
        a.iterate();
        b.iterate();
        List<TaskSpec> eval = family.heldOutTasks(3, 0);
        assertThat(a.evaluate(eval, 3, 1, 5).returnAfter()).containsExactly(b.evaluate(eval, 3, 1, 5).returnAfter());
        assertThat(a.learner().currentPolicy().encode()).isEqualTo(b.learner().currentPolicy().encode());
    }

    @Test
    void theOracleSeesTheGoalAndMismatchedSizesAreRefused() {
        PearlMetaTrainer oracle = new PearlMetaTrainer(family, train,
                small().obsDim(PearlMetaTrainer.obsDim(family, train.get(0), true)).actDim(2).build(), schedule, true);
        oracle.iterate();
        PearlMetaTrainer.Evaluation e = oracle.evaluate(family.heldOutTasks(2, 0), 2, 1, 1);
        assertThat(e.returnAfter()).hasSize(2);
        assertThat(e.returnAfter()[0]).isFinite().isNegative();
        assertThat(e.returnAfter()[1]).isFinite().isNegative();
        assertThat(PearlMetaTrainer.withTask(new double[] {1, 2}, train.get(0))).hasSize(4);
        assertThatThrownBy(() -> new PearlMetaTrainer(family, train, small().obsDim(2).actDim(2).build(), schedule, true))
                .hasMessageContaining("oracle").hasMessageContaining("needs obsDim 4");
    }
}

package io.metastream.core.grbal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SupervisedTrainerTest {

    @Test
    void fitsASingleTaskAndIsDeterministicForItsSeed() {
        GrbalConfig cfg = GrbalConfig.builder().obsDim(1).actDim(1).hidden(16, 16).build();
        ToyTasks.Task task = new ToyTasks.Task(1.5, 0.2);
        Random rng = new Random(3);
        List<Segment> data = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            data.add(task.rollout(rng, 32));
        }
        Segment test = task.rollout(rng, 64);
        DynamicsModel untrained = new DynamicsModel(cfg.mlp(), cfg.mlp().initParams(new Random(5)), new Normalizer(1, 1));
        DynamicsModel fitted = SupervisedTrainer.train(cfg, data, 800, 64, 3e-3, 5);
        assertThat(fitted.predictionMse(test)).isLessThan(0.05 * untrained.predictionMse(test));
        assertThat(fitted.normalizer().count()).isEqualTo(640);
        assertThat(SupervisedTrainer.train(cfg, data, 5, 8, 1e-3, 9).params())
                .isEqualTo(SupervisedTrainer.train(cfg, data, 5, 8, 1e-3, 9).params());
        assertThatThrownBy(() -> SupervisedTrainer.train(cfg, List.of(), 5, 8, 1e-3, 9))
                .hasMessageContaining("at least one segment");
    }
}

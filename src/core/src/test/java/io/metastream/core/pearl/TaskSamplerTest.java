package io.metastream.core.pearl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TaskSamplerTest {

    @Test
    void rowsHaveTheDocumentedLayout() {
        double[] s = {1, 2};
        double[] a = {0.5};
        double[] n = {3, 4};
        assertThat(TaskSampler.replayRow(s, a, -7, n, true)).containsExactly(1, 2, 0.5, -7, 3, 4, 1);
        assertThat(TaskSampler.replayRow(s, a, -7, n, false)).containsExactly(1, 2, 0.5, -7, 3, 4, 0);
        assertThat(TaskSampler.contextRow(s, a, 0.25, n)).containsExactly(1, 2, 0.5, 0.25, 3, 4);
        assertThat(TaskSampler.replayWidth(2, 1)).isEqualTo(7);
    }

    @Test
    void samplesTheRequestedSizesFromTheRightLists() {
        List<double[]> replay = new ArrayList<>();
        List<double[]> context = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            replay.add(TaskSampler.replayRow(new double[] {i, i}, new double[] {0.1 * i}, -i, new double[] {i + 1, i + 1}, false));
            context.add(TaskSampler.contextRow(new double[] {100 + i, 0}, new double[] {0}, i, new double[] {0, 0}));
        }
        TaskBatch b = TaskSampler.sample(replay, context,
                PearlConfig.builder().obsDim(2).actDim(1).batchSize(32).contextSize(5).build(), new Random(1));
        assertThat(b.size()).isEqualTo(32);
        assertThat(b.contextRows()).isEqualTo(5);
        for (int r = 0; r < 32; r++) {
            double s0 = b.obsData()[2 * r];
            assertThat(s0).isBetween(0.0, 9.0);
            assertThat(b.actData()[r]).isCloseTo(0.1 * s0, org.assertj.core.data.Offset.offset(1e-12));
            assertThat(b.rewardData()[r]).isEqualTo(-s0);
            assertThat(b.nextObsData()[2 * r]).isEqualTo(s0 + 1);
        }
        for (int r = 0; r < 5; r++) {
            assertThat(b.contextData()[6 * r]).isGreaterThanOrEqualTo(100.0); // context rows, never replay rows
        }
    }

    @Test
    void refusesEmptyListsAndWrongWidths() {
        List<double[]> rows = List.of(new double[7]);
        PearlConfig one = PearlConfig.builder().obsDim(2).actDim(1).batchSize(1).contextSize(1).build();
        assertThatThrownBy(() -> TaskSampler.sample(List.of(), rows, one, new Random(1)))
                .hasMessageContaining("replay is empty");
        assertThatThrownBy(() -> TaskSampler.sample(rows, List.of(), one, new Random(1)))
                .hasMessageContaining("context is empty");
        assertThatThrownBy(() -> TaskSampler.sample(rows, rows, one, new Random(1)))
                .hasMessageContaining("context row has 7 values but 6 are required");
    }

    @Test
    void runsAreContiguousWithLengthsCoveringTheRange() {
        List<double[]> context = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            context.add(TaskSampler.contextRow(new double[] {i}, new double[] {0}, 0, new double[] {0}));
        }
        PearlConfig cfg = PearlConfig.builder().obsDim(1).actDim(1).contextSize(30).minContextSize(5).batchSize(3).build();
        Random rng = new Random(3);
        java.util.Set<Integer> lengths = new java.util.HashSet<>();
        for (int k = 0; k < 2000; k++) {
            double[][] run = TaskSampler.contextBatch(context, cfg, rng);
            assertThat(run.length).isBetween(5, 30);
            for (int i = 1; i < run.length; i++) {
                assertThat(run[i][0]).isEqualTo(run[i - 1][0] + 1); // consecutive rows in arrival order
            }
            lengths.add(run.length);
        }
        assertThat(lengths).hasSize(26);
        // fewer rows than the shortest run: the whole list
        assertThat(TaskSampler.contextBatch(context.subList(0, 3), cfg, rng).length).isEqualTo(3);
        TaskBatch b = TaskSampler.sample(context.subList(0, 1).stream().map(r -> new double[5]).toList(), context, cfg, rng);
        assertThat(b.size()).isEqualTo(3);
        assertThat(b.contextRows()).isBetween(5, 30);
        // 0 keeps oyster's uniform rows with replacement, exactly contextSize of them
        PearlConfig uniform = cfg.toBuilder().minContextSize(0).build();
        assertThat(TaskSampler.contextBatch(context, uniform, rng).length).isEqualTo(30);
        assertThatThrownBy(() -> TaskSampler.window(context, 0, 4, rng)).hasMessageContaining("starts below 1");
        assertThatThrownBy(() -> TaskSampler.window(List.of(), 1, 4, rng)).hasMessageContaining("no rows");
    }

    @Test
    void rowsWithThePreviousRewardAppendItAndAKnownFlag() {
        PearlConfig cfg = PearlConfig.builder().obsDim(2).actDim(1).contextPreviousReward(true).build();
        double[] s = {1, 2};
        double[] a = {0.5};
        double[] n = {3, 4};
        assertThat(cfg.contextDim()).isEqualTo(8).isEqualTo(TaskSampler.contextWidth(2, 1, true));
        assertThat(TaskSampler.contextRow(cfg, s, a, -0.5, n, -0.75)).containsExactly(1, 2, 0.5, -0.5, 3, 4, -0.75, 1);
        assertThat(TaskSampler.contextRow(cfg, s, a, -0.5, n, Double.NaN)).containsExactly(1, 2, 0.5, -0.5, 3, 4, 0, 0);
        PearlConfig plain = cfg.toBuilder().contextPreviousReward(false).build();
        assertThat(TaskSampler.contextRow(plain, s, a, -0.5, n, -0.75)).containsExactly(1, 2, 0.5, -0.5, 3, 4);
        double[] replayRow = TaskSampler.replayRow(s, a, -0.5, n, false);
        TaskBatch wide = TaskSampler.batch(new double[][] {TaskSampler.contextRow(cfg, s, a, -0.5, n, -0.75)},
                new double[][] {replayRow}, 2, 1);
        assertThat(wide.contextDim()).isEqualTo(8);
        assertThatThrownBy(() -> TaskSampler.batch(new double[][] {TaskSampler.contextRow(cfg, s, a, -0.5, n, -0.75),
                TaskSampler.contextRow(s, a, -0.5, n)}, new double[][] {replayRow}, 2, 1))
                .hasMessageContaining("context row has 6 values but 8 are required");
        assertThatThrownBy(() -> TaskSampler.batch(new double[][] {new double[7]}, new double[][] {replayRow}, 2, 1))
                .hasMessageContaining("context row has 7 values but 6 are required");
    }
}

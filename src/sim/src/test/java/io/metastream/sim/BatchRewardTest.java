package io.metastream.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.metastream.core.mpc.BatchReward;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The planner's batched reward must score a real transition exactly as the environment did. */
class BatchRewardTest {

    static List<String> families() {
        return TaskFamilies.names();
    }

    @ParameterizedTest
    @MethodSource("families")
    void batchedRewardEqualsTheEnvironmentReward(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        TaskSpec task = family.trainTasks(1, 2).get(0);
        Environment env = family.create(task, 2);
        Random rng = new Random(2);
        int n = 3 * family.horizon();
        double[][] obs = new double[n][];
        double[][] act = new double[n][];
        double[][] next = new double[n][];
        double[] expected = new double[n];
        double[] current = env.reset();
        for (int i = 0; i < n; i++) {
            double[] raw = new double[family.actDim()];
            for (int j = 0; j < raw.length; j++) {
                raw[j] = 3 * (2 * rng.nextDouble() - 1); // also out of bounds: both sides clip
            }
            StepResult r = env.step(raw);
            obs[i] = current;
            act[i] = raw;
            next[i] = r.observation();
            expected[i] = r.reward();
            current = r.done() ? env.reset() : r.observation();
        }
        INDArray o = Nd4j.createFromArray(obs);
        INDArray a = Nd4j.createFromArray(act);
        INDArray s = Nd4j.createFromArray(next);
        INDArray oCopy = o.dup();
        INDArray aCopy = a.dup();
        INDArray sCopy = s.dup();

        INDArray rewards = family.reward(task).reward(o, a, s);

        assertThat(rewards.dataType()).isEqualTo(DataType.DOUBLE);
        assertThat(rewards.length()).isEqualTo(n);
        double[] got = rewards.reshape(n).toDoubleVector();
        for (int i = 0; i < n; i++) {
            assertThat(got[i]).as("row %d", i).isCloseTo(expected[i], within(1e-9));
        }
        assertThat(o).as("arguments are not modified").isEqualTo(oCopy);
        assertThat(a).isEqualTo(aCopy);
        assertThat(s).isEqualTo(sCopy);
    }

    @ParameterizedTest
    @MethodSource("families")
    void worksOnStridedViewsAsThePlannerPassesThem(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        Random rng = new Random(4);
        int n = 7;
        double[][] wide = new double[2 * n][family.obsDim() + family.actDim()];
        List<double[]> rows = new ArrayList<>();
        for (double[] row : wide) {
            for (int j = 0; j < row.length; j++) {
                row[j] = 2 * rng.nextDouble() - 1;
            }
            rows.add(row);
        }
        INDArray all = Nd4j.createFromArray(wide);
        INDArray obsView = all.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(n, 2 * n),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, family.obsDim()));
        INDArray actView = all.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(n, 2 * n),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(family.obsDim(), family.obsDim() + family.actDim()));

        BatchReward reward = family.reward(family.trainTasks(1, 4).get(0));
        double[] fromViews = reward.reward(obsView, actView, obsView).reshape(n).toDoubleVector();
        double[] fromCopies = reward.reward(obsView.dup(), actView.dup(), obsView.dup()).reshape(n).toDoubleVector();

        assertThat(fromViews).containsExactly(fromCopies, within(1e-12));
    }
}

package io.metastream.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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
        double[] o = Rewards.flat(obs);
        double[] a = Rewards.flat(act);
        double[] s = Rewards.flat(next);
        double[] oCopy = o.clone();
        double[] aCopy = a.clone();
        double[] sCopy = s.clone();

        double[] got = new double[n];
        family.reward(task).reward(o, a, s, 0, n, got);

        for (int i = 0; i < n; i++) {
            assertThat(got[i]).as("row %d", i).isCloseTo(expected[i], within(1e-9));
        }
        assertThat(o).as("arguments are not modified").containsExactly(oCopy);
        assertThat(a).containsExactly(aCopy);
        assertThat(s).containsExactly(sCopy);
    }

    @ParameterizedTest
    @MethodSource("families")
    void scoresOnlyTheRowsItIsGivenAsThePlannerPassesThem(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        Random rng = new Random(4);
        int n = 7;
        double[] obs = rng.doubles(2L * n * family.obsDim(), -1, 1).toArray();
        double[] act = rng.doubles(2L * n * family.actDim(), -1, 1).toArray();
        double[] next = rng.doubles(2L * n * family.obsDim(), -1, 1).toArray();
        BatchReward reward = family.reward(family.trainTasks(1, 4).get(0));
        double[] all = new double[2 * n];
        reward.reward(obs, act, next, 0, 2 * n, all);
        double[] upper = new double[2 * n];
        java.util.Arrays.fill(upper, 42.0);
        reward.reward(obs, act, next, n, n, upper);
        for (int i = 0; i < 2 * n; i++) {
            assertThat(upper[i]).as("row %d", i).isEqualTo(i < n ? 42.0 : all[i]);
        }
        assertThatThrownBy(() -> reward.reward(obs, act, next, n, n + 1, upper)).hasMessageContaining("must hold rows");
    }
}

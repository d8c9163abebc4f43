package io.metastream.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.metastream.core.mpc.BatchReward;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Behaviour every registered family must show, independent of its physics. */
class TaskFamilyContractTest {

    static List<String> families() {
        return TaskFamilies.names();
    }

    @ParameterizedTest
    @MethodSource("families")
    void sameSeedGivesSameTasksAndTrajectories(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        assertThat(family.trainTasks(5, 42)).isEqualTo(family.trainTasks(5, 42));
        if (hasFixedTasks(family)) {
            assertThat(family.trainTasks(5, 42)).as("a published task list ignores the seed")
                    .isEqualTo(family.trainTasks(5, 43));
            assertThat(family.heldOutTasks(5, 42)).isEqualTo(family.heldOutTasks(5, 43));
        } else {
            assertThat(family.trainTasks(5, 42)).isNotEqualTo(family.trainTasks(5, 43));
        }

        TaskSpec task = family.trainTasks(1, 42).get(0);
        assertThat(rollout(family, task, 7, 3)).isEqualTo(rollout(family, task, 7, 3));
        assertThat(rollout(family, task, 7, 3)).isNotEqualTo(rollout(family, task, 8, 3));
    }

    @ParameterizedTest
    @MethodSource("families")
    void trainAndHeldOutSetsAreDisjoint(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        List<TaskSpec> train = family.trainTasks(Math.min(50, family.maxTrainTasks()), 1);
        List<TaskSpec> test = family.heldOutTasks(Math.min(50, family.maxHeldOutTasks()), 1);

        Set<String> ids = new HashSet<>();
        Set<Object> params = new HashSet<>();
        train.forEach(t -> {
            ids.add(t.id());
            params.add(t.params());
        });
        for (TaskSpec t : test) {
            assertThat(ids).doesNotContain(t.id());
            assertThat(params).doesNotContain(t.params());
        }
        assertThat(train.get(7).id()).isEqualTo(name + "-train-7");
        assertThat(test.get(3).id()).isEqualTo(name + "-test-3");
    }

    @ParameterizedTest
    @MethodSource("families")
    void askingForMoreTasksExtendsTheList(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        assertThat(family.trainTasks(10, 5).subList(0, 4)).isEqualTo(family.trainTasks(4, 5));
        assertThat(family.heldOutTasks(10, 5).subList(0, 4)).isEqualTo(family.heldOutTasks(4, 5));
    }

    @ParameterizedTest
    @MethodSource("families")
    void episodeEndsExactlyAtTheHorizon(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        Environment env = family.create(family.trainTasks(1, 0).get(0), 0);
        env.reset();
        double[] zero = new double[family.actDim()];
        for (int i = 1; i < family.horizon(); i++) {
            assertThat(env.step(zero).done()).as("step %d", i).isFalse();
        }
        assertThat(env.step(zero).done()).isTrue();
        assertThatThrownBy(() -> env.step(zero))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("reset()");
    }

    @ParameterizedTest
    @MethodSource("families")
    void stepBeforeResetIsRejected(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        Environment env = family.create(family.trainTasks(1, 0).get(0), 0);
        assertThatThrownBy(() -> env.step(new double[family.actDim()]))
                .isInstanceOf(IllegalStateException.class);
    }

    @ParameterizedTest
    @MethodSource("families")
    void actionsAreValidatedAndClippedToTheBounds(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        Environment env = family.create(family.trainTasks(1, 0).get(0), 0);
        double[] huge = new double[family.actDim()];
        java.util.Arrays.fill(huge, 1e6);
        assertThat(env.clippedAction(huge)).containsExactly(family.actionHigh());
        java.util.Arrays.fill(huge, -1e6);
        assertThat(env.clippedAction(huge)).containsExactly(family.actionLow());

        assertThatThrownBy(() -> env.clippedAction(new double[family.actDim() + 1]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("length " + family.actDim());
        double[] nan = new double[family.actDim()];
        nan[0] = Double.NaN;
        assertThatThrownBy(() -> env.clippedAction(nan)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @MethodSource("families")
    void clippedAndRawOutOfBoundsActionsGiveTheSameStep(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        TaskSpec task = family.trainTasks(1, 0).get(0);
        Environment a = family.create(task, 3);
        Environment b = family.create(task, 3);
        a.reset();
        b.reset();
        double[] raw = new double[family.actDim()];
        java.util.Arrays.fill(raw, 50.0);
        StepResult ra = a.step(raw);
        StepResult rb = b.step(b.clippedAction(raw));
        assertThat(ra.observation()).containsExactly(rb.observation());
        assertThat(ra.reward()).isEqualTo(rb.reward());
    }

    @ParameterizedTest
    @MethodSource("families")
    void rejectsTasksMissingAParameter(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        TaskSpec incomplete = new TaskSpec("bad", new java.util.TreeMap<>());
        assertThatThrownBy(() -> family.create(incomplete, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has no parameter");
    }

    @ParameterizedTest
    @MethodSource("families")
    void negativeTaskCountIsRejected(String name) {
        assertThatThrownBy(() -> TaskFamilies.byName(name).trainTasks(-1, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TaskFamilies.byName(name).heldOutTasks(-1, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @MethodSource("families")
    void aFixedTaskListServesAllItsTasksAndRejectsMore(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        if (!hasFixedTasks(family)) {
            assertThat(family.maxHeldOutTasks()).isEqualTo(Integer.MAX_VALUE);
            return;
        }
        assertThat(family.maxHeldOutTasks()).isLessThan(Integer.MAX_VALUE);
        assertThat(family.trainTasks(family.maxTrainTasks(), 0)).hasSize(family.maxTrainTasks());
        assertThat(family.heldOutTasks(family.maxHeldOutTasks(), 0)).hasSize(family.maxHeldOutTasks());
        assertThatThrownBy(() -> family.trainTasks(family.maxTrainTasks() + 1, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at most " + family.maxTrainTasks());
        assertThatThrownBy(() -> family.heldOutTasks(family.maxHeldOutTasks() + 1, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at most " + family.maxHeldOutTasks());
    }

    @ParameterizedTest
    @MethodSource("families")
    void theTaskFreeRewardIsEitherEveryTasksRewardOrRefused(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        List<TaskSpec> tasks = family.trainTasks(2, 0);
        Random rng = new Random(0);
        double[][] obs = randomMatrix(rng, 4, family.obsDim());
        double[][] act = randomMatrix(rng, 4, family.actDim());
        double[][] next = randomMatrix(rng, 4, family.obsDim());
        BatchReward taskFree;
        try {
            taskFree = family.reward();
        } catch (UnsupportedOperationException e) {
            assertThat(e).hasMessageContaining("reward(task)");
            assertThat(Rewards.score(family.reward(tasks.get(0)), obs, act, next))
                    .as("a task-dependent reward differs between tasks")
                    .isNotEqualTo(Rewards.score(family.reward(tasks.get(1)), obs, act, next));
            return;
        }
        for (TaskSpec t : tasks) {
            assertThat(Rewards.score(family.reward(t), obs, act, next)).isEqualTo(Rewards.score(taskFree, obs, act, next));
        }
    }

    private static double[][] randomMatrix(Random rng, int rows, int cols) {
        double[][] m = new double[rows][cols];
        for (double[] row : m) {
            for (int j = 0; j < cols; j++) {
                row[j] = 2 * rng.nextDouble() - 1;
            }
        }
        return m;
    }

    /** A family that serves a published, finite task list instead of drawing tasks from the seed. */
    @ParameterizedTest
    @MethodSource("families")
    void projectionLeavesEveryObservationTheEnvironmentProducesUnchanged(String name) {
        TaskFamily family = TaskFamilies.byName(name);
        int d = family.obsDim();
        for (TaskSpec task : family.trainTasks(3, 11)) {
            Environment env = family.create(task, 5);
            Random actions = new Random(5);
            List<double[]> seen = new ArrayList<>();
            for (int e = 0; e < 2; e++) {
                seen.add(env.reset());
                boolean done = false;
                while (!done) {
                    double[] a = new double[family.actDim()];
                    for (int i = 0; i < a.length; i++) {
                        a[i] = 6 * actions.nextDouble() - 3; // far outside the bounds: the fastest states
                    }
                    StepResult r = env.step(a);
                    seen.add(r.observation());
                    done = r.done();
                }
            }
            double[] rows = new double[seen.size() * d];
            for (int i = 0; i < seen.size(); i++) {
                System.arraycopy(seen.get(i), 0, rows, i * d, d);
            }
            double[] projected = rows.clone();
            family.projection().project(projected, 0, seen.size());
            for (int i = 0; i < rows.length; i++) {
                assertThat(projected[i]).as("%s, row %d, column %d", task.id(), i / d, i % d)
                        .isCloseTo(rows[i], org.assertj.core.data.Offset.offset(1e-12));
            }
        }
    }

    static boolean hasFixedTasks(TaskFamily family) {
        return family.maxTrainTasks() < Integer.MAX_VALUE;
    }

    /** Observations and rewards of a few random-action episodes, flattened for equality checks. */
    static List<Double> rollout(TaskFamily family, TaskSpec task, long seed, int episodes) {
        Environment env = family.create(task, seed);
        Random actions = new Random(seed);
        List<Double> out = new ArrayList<>();
        for (int e = 0; e < episodes; e++) {
            for (double v : env.reset()) {
                out.add(v);
            }
            boolean done = false;
            while (!done) {
                double[] a = new double[family.actDim()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = 4 * actions.nextDouble() - 2;
                }
                StepResult r = env.step(a);
                for (double v : r.observation()) {
                    out.add(v);
                }
                out.add(r.reward());
                done = r.done();
            }
        }
        return out;
    }
}

package io.metastream.sim.fleet;

import io.metastream.sim.fleet.grbal.GrbalAgents;
import static org.assertj.core.api.Assertions.assertThat;

import io.metastream.client.TaskModel;
import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.mpc.BatchReward;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import io.metastream.sim.TestModels;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cost of one planned agent step at the default planner size (200 candidates, horizon 10, random
 * shooting) with a {4, 64, 64, 3} pendulum model. Run with {@code mvn -Pslow}; the bound is loose, the
 * measured numbers are logged.
 */
@Tag("slow")
class AgentStepBenchmarkTest {

    private static final Logger LOG = LoggerFactory.getLogger(AgentStepBenchmarkTest.class);

    @Test
    void onePlannedStepTakesMilliseconds() {
        TaskFamily family = TaskFamilies.byName("pendulum");
        List<TaskSpec> tasks = family.trainTasks(1, 0);
        DynamicsModel model = TestModels.untrained(family, 0);
        MpcConfig mpc = MpcConfig.builder().horizon(10).candidates(200)
                .actionBounds(family.actionLow(), family.actionHigh()).build();
        Agent agent = new Agent("agent-0", tasks.get(0), tasks, 0, family,
                GrbalAgents.mpc(mpc, new FakeModelSource().put(tasks.get(0).id(), new TaskModel(model, 1, false)), 0.0), 0, 0);

        double stepMs = millisPerCall(() -> agent.step(Instant.EPOCH), 100, 300);

        java.util.Random rng = new java.util.Random(0);
        double[] obs = rng.doubles(600, -1, 1).toArray();
        double[] act = rng.doubles(200, -2, 2).toArray();
        double[] next = new double[600];
        double[] rewards = new double[200];
        BatchReward reward = family.reward();
        double rewardMs = millisPerCall(() -> reward.reward(obs, act, next, 0, 200, rewards), 500, 2000);
        double modelMs = millisPerCall(() -> model.rollout().next(obs, act, 0, 200, next), 500, 2000);
        LOG.info("pendulum agent step, MPC 200x10: {} ms/step; per planner step: model {} ms, reward {} ms",
                String.format("%.2f", stepMs), String.format("%.3f", modelMs), String.format("%.3f", rewardMs));
        assertThat(stepMs).isLessThan(500);
    }

    private static double millisPerCall(Runnable call, int warmup, int reps) {
        for (int i = 0; i < warmup; i++) {
            call.run();
        }
        long start = System.nanoTime();
        for (int i = 0; i < reps; i++) {
            call.run();
        }
        return (System.nanoTime() - start) / 1e6 / reps;
    }
}

package io.metastream.sim.fleet;

import io.metastream.sim.fleet.pearl.PolicySource;
import io.metastream.sim.fleet.pearl.PearlAgents;
import static org.assertj.core.api.Assertions.assertThat;

import io.metastream.client.TaskPolicy;
import io.metastream.core.pearl.PearlConfig;
import io.metastream.core.pearl.PearlLearner;
import io.metastream.core.pearl.PearlPolicy;
import io.metastream.core.pearl.Posterior;
import io.metastream.schema.Transition;
import io.metastream.schema.TransitionKind;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Fleet agents in PEARL mode: posterior sampling per episode, the sparse reward on the wire. */
class PearlAgentTest {

    private final TaskFamily family = TaskFamilies.byName("sparse-point-robot");
    private final List<TaskSpec> tasks = family.trainTasks(2, 0);
    private final PearlPolicy policy = new PearlLearner(PearlConfig.builder().obsDim(2).actDim(2).latentDim(2)
            .encoderHidden(8).netHidden(8).seed(4).build()).currentPolicy();

    private Agent agent(PolicySource source) {
        return new Agent("agent-1", tasks.get(0), tasks, 0, family, PearlAgents.posteriorSampling(source), 0, 9);
    }

    @Test
    void actsRandomlyWithoutAVersionAndRecordsTheSparseReward() {
        Agent agent = agent(taskId -> Optional.empty());
        for (int i = 0; i < family.horizon(); i++) {
            Agent.StepOutcome o = agent.step(Instant.EPOCH);
            Transition t = o.transition();
            assertThat(o.planned()).isFalse();
            assertThat(t.getPolicyVersion()).isNull();
            assertThat(t.getKind()).isEqualTo(TransitionKind.EXPLORATION);
            assertThat(t.getSparseReward()).isNotNull();
            assertThat(t.getSparseReward()).isBetween(0f, 1f);
            assertThat(t.getAction()).allSatisfy(a -> assertThat(a).isBetween(-1f, 1f));
        }
    }

    @Test
    void samplesZOncePerEpisodeFromTheTasksBeliefAndActsWithThePolicy() {
        List<String> asked = new ArrayList<>();
        // a sharp belief far from the prior: z is (almost) fixed, so the agent's actions are the policy's
        Posterior belief = new Posterior(new double[] {3.0, -3.0}, new double[] {1e-12, 1e-12});
        Agent agent = agent(taskId -> {
            asked.add(taskId);
            return Optional.of(new TaskPolicy(policy, 7, belief, 6, true));
        });
        List<Agent.StepOutcome> out = new ArrayList<>();
        for (int i = 0; i < 2 * family.horizon(); i++) {
            out.add(agent.step(Instant.EPOCH));
        }
        assertThat(asked).hasSize(2).containsOnly(tasks.get(0).id()); // once per episode
        for (Agent.StepOutcome o : out) {
            assertThat(o.planned()).isTrue();
            assertThat(o.transition().getPolicyVersion()).isEqualTo(7L);
            assertThat(o.transition().getKind()).isEqualTo(TransitionKind.EXPLORATION);
        }
        // the policy's mean action at s0 = (0, 0) with z = (3, -3), plus its exploration noise, stays near
        // the deterministic action only when the std is small, so check the distribution's mean instead
        double[] mean = policy.act(new double[] {0, 0}, new double[] {3.0, -3.0}, null, true);
        Transition first = out.get(0).transition();
        assertThat(first.getObservation()).containsExactly(0f, 0f);
        assertThat(mean).hasSize(2);
        assertThat(out.get(family.horizon() - 1).episodeReturn()).isFinite();
    }
}

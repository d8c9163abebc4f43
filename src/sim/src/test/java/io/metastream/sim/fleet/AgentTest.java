package io.metastream.sim.fleet;

import io.metastream.sim.fleet.grbal.ModelSource;
import io.metastream.sim.fleet.grbal.GrbalAgents;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.metastream.client.TaskModel;
import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.schema.Transition;
import io.metastream.schema.TransitionKind;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import io.metastream.sim.TestModels;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AgentTest {

    static final Instant NOW = Instant.parse("2025-01-01T00:00:00Z");

    private final TaskFamily family = TaskFamilies.byName("pendulum");
    private final List<TaskSpec> tasks = family.trainTasks(3, 1);
    private final TaskSpec task = tasks.get(0);
    private final DynamicsModel model = TestModels.untrained(family, 3);
    private final MpcConfig mpc = MpcConfig.builder().horizon(3).candidates(20).elites(5)
            .actionBounds(family.actionLow(), family.actionHigh()).build();

    private Agent agent(ModelSource source, double randomActionProbability, int switchEvery, long episodes, long seed) {
        return new Agent("agent-7", task, tasks, switchEvery, family, GrbalAgents.mpc(mpc, source, randomActionProbability),
                episodes, seed);
    }

    private static List<Agent.StepOutcome> steps(Agent agent, int n) {
        List<Agent.StepOutcome> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(agent.step(NOW));
        }
        return out;
    }

    @Test
    void withoutAModelEveryStepIsRandomExplorationWithoutAVersion() {
        Agent agent = agent(ModelSource.none(), 0.1, 0, 0, 1);
        List<Agent.StepOutcome> outcomes = steps(agent, 2 * family.horizon());

        double episodeReward = 0;
        for (int i = 0; i < outcomes.size(); i++) {
            Agent.StepOutcome o = outcomes.get(i);
            Transition t = o.transition();
            int step = i % family.horizon();
            assertThat(o.planned()).isFalse();
            assertThat(t.getPolicyVersion()).isNull();
            assertThat(t.getKind()).isEqualTo(TransitionKind.EXPLORATION);
            assertThat(t.getTaskId()).isEqualTo(task.id());
            assertThat(t.getAgentId()).isEqualTo("agent-7");
            assertThat(t.getEpisodeId()).isEqualTo(i / family.horizon());
            assertThat(t.getStep()).isEqualTo(step);
            assertThat(t.getDone()).isEqualTo(step == family.horizon() - 1);
            assertThat(t.getTimestamp()).isEqualTo(NOW);
            assertThat(t.getObservation()).hasSize(3);
            assertThat(t.getNextObservation()).hasSize(3);
            assertThat(t.getAction()).hasSize(1);
            assertThat((double) t.getAction().get(0)).isBetween(-2.0, 2.0);
            if (step > 0) {
                assertThat(t.getObservation()).isEqualTo(outcomes.get(i - 1).transition().getNextObservation());
            }
            episodeReward += t.getReward();
            if (t.getDone()) {
                assertThat(o.episodeReturn()).isCloseTo(episodeReward, within(1e-3));
                episodeReward = 0;
            } else {
                assertThat(o.episodeReturn()).isNaN();
            }
        }
    }

    @Test
    void plansWithTheBaseModelAndRecordsItsVersion() {
        Agent agent = agent(new FakeModelSource().put(task.id(), new TaskModel(model, 7, false)), 0.0, 0, 0, 1);
        for (Agent.StepOutcome o : steps(agent, 20)) {
            assertThat(o.planned()).isTrue();
            assertThat(o.transition().getPolicyVersion()).isEqualTo(7L);
            assertThat(o.transition().getKind()).isEqualTo(TransitionKind.EXPLORATION);
        }
    }

    @Test
    void stepsPlannedWithAnAdaptedModelArePostAdaptation() {
        Agent agent = agent(new FakeModelSource().put(task.id(), new TaskModel(model, 9, true)), 0.0, 0, 0, 1);
        for (Agent.StepOutcome o : steps(agent, 20)) {
            assertThat(o.planned()).isTrue();
            assertThat(o.transition().getPolicyVersion()).isEqualTo(9L);
            assertThat(o.transition().getKind()).isEqualTo(TransitionKind.POST_ADAPTATION);
        }
    }

    @Test
    void randomStepsWithAModelKeepItsVersionAndAreExploration() {
        Agent agent = agent(new FakeModelSource().put(task.id(), new TaskModel(model, 9, true)), 1.0, 0, 0, 1);
        for (Agent.StepOutcome o : steps(agent, 20)) {
            assertThat(o.planned()).isFalse();
            assertThat(o.transition().getPolicyVersion()).isEqualTo(9L);
            assertThat(o.transition().getKind()).isEqualTo(TransitionKind.EXPLORATION);
        }
    }

    @Test
    void randomActionProbabilityIsRespected() {
        Agent agent = agent(new FakeModelSource().put(task.id(), new TaskModel(model, 1, false)), 0.3, 0, 0, 4);
        long random = steps(agent, 400).stream().filter(o -> !o.planned()).count();
        assertThat(random / 400.0).isCloseTo(0.3, within(0.08));
    }

    @Test
    void aNewModelVersionIsUsedFromTheNextStep() {
        FakeModelSource source = new FakeModelSource();
        Agent agent = agent(source, 0.0, 0, 0, 1);
        assertThat(agent.step(NOW).transition().getPolicyVersion()).isNull();
        source.put(task.id(), new TaskModel(model, 1, false));
        assertThat(agent.step(NOW).transition().getPolicyVersion()).isEqualTo(1L);
        source.put(task.id(), new TaskModel(model, 2, true));
        Transition t = agent.step(NOW).transition();
        assertThat(t.getPolicyVersion()).isEqualTo(2L);
        assertThat(t.getKind()).isEqualTo(TransitionKind.POST_ADAPTATION);
    }

    @Test
    void sameSeedGivesTheSameTransitions() {
        FakeModelSource source = new FakeModelSource().put(task.id(), new TaskModel(model, 1, false));
        List<Transition> a = steps(agent(source, 0.5, 7, 0, 11), 60).stream().map(Agent.StepOutcome::transition).toList();
        List<Transition> b = steps(agent(source, 0.5, 7, 0, 11), 60).stream().map(Agent.StepOutcome::transition).toList();
        List<Transition> c = steps(agent(source, 0.5, 7, 0, 12), 60).stream().map(Agent.StepOutcome::transition).toList();
        assertThat(a).isEqualTo(b);
        assertThat(a).isNotEqualTo(c);
    }

    @Test
    void switchesDynamicsEveryNStepsButKeepsTheTaskId() {
        Agent agent = agent(ModelSource.none(), 0.1, 10, 0, 1);
        for (int k = 0; k < family.horizon(); k++) {
            Transition t = agent.step(NOW).transition();
            assertThat(t.getTaskId()).isEqualTo(task.id());
            if (k < 10) {
                assertThat(agent.dynamicsTask()).as("step %d", k).isEqualTo(task);
            } else if (k < 20) {
                assertThat(agent.dynamicsTask()).as("step %d", k).isNotEqualTo(task).isIn(tasks);
            }
        }
        agent.step(NOW);
        assertThat(agent.dynamicsTask()).as("a new episode starts in the agent's own task").isEqualTo(task);
    }

    @Test
    void plansWithItsOwnTasksRewardInAFamilyWhoseRewardDependsOnTheTask() {
        TaskFamily robot = TaskFamilies.byName("point-robot");
        List<TaskSpec> goals = robot.trainTasks(3, 0);
        MpcConfig robotMpc = MpcConfig.builder().horizon(3).candidates(20).elites(5)
                .actionBounds(robot.actionLow(), robot.actionHigh()).build();
        FakeModelSource source = new FakeModelSource()
                .put(goals.get(0).id(), new TaskModel(TestModels.untrained(robot, 1), 4, false));
        Agent agent = new Agent("agent-1", goals.get(0), goals, 5, robot, GrbalAgents.mpc(robotMpc, source, 0.0), 0, 3);

        for (Agent.StepOutcome o : steps(agent, 2 * robot.horizon())) {
            assertThat(o.planned()).isTrue();
            assertThat(o.transition().getTaskId()).isEqualTo(goals.get(0).id());
            assertThat(o.transition().getAction()).allSatisfy(a -> assertThat((double) a).isBetween(-1.0, 1.0));
        }
    }

    @Test
    void stopsAfterItsEpisodeLimit() {
        Agent agent = agent(ModelSource.none(), 0.1, 0, 1, 1);
        steps(agent, family.horizon() - 1);
        assertThat(agent.finished()).isFalse();
        assertThat(agent.step(NOW).transition().getDone()).isTrue();
        assertThat(agent.finished()).isTrue();
        assertThatThrownBy(() -> agent.step(NOW)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("agent-7");
    }
}

package io.metastream.sim.fleet.grbal;

import io.metastream.client.TaskModel;
import io.metastream.core.mpc.BatchReward;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.core.mpc.MpcPlanner;
import io.metastream.schema.TransitionKind;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import io.metastream.sim.fleet.AgentController;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;

/**
 * GrBAL's agents: model-predictive control on the task's model from a {@link ModelSource} (its adapted
 * model once the job has adapted it), looked up on every step so a new version takes effect on the
 * next one. With probability {@code randomActionProbability}, and always before a first model, an
 * agent acts uniformly at random so the data keeps covering the state-action space. Steps planned with
 * an adapted model are {@code POST_ADAPTATION}, the rest {@code EXPLORATION}. The planner's reward is
 * that of the task whose dynamics the environment runs (it may have another goal after a switch).
 *
 * <p>In a fleet all agents plan together ({@link MpcPlanner#planAll}): one rollout over every agent's
 * candidates per horizon step, agents on the same task model in one call. Each agent keeps its own
 * planner (seed, warm start), so its actions are those it would take alone; the warm start is dropped
 * at an episode start and when the dynamics switch.
 */
public final class GrbalAgents {

    /** Default probability of a uniformly random action even when a model is available. */
    public static final double DEFAULT_RANDOM_ACTION_PROBABILITY = 0.1;

    private GrbalAgents() {}

    /** Planning agents with the default random-action probability. */
    public static AgentController.Factory mpc(MpcConfig mpc, ModelSource models) {
        return mpc(mpc, models, DEFAULT_RANDOM_ACTION_PROBABILITY);
    }

    /**
     * Planning agents.
     *
     * @param mpc planner settings; the action bounds must be the family's
     * @param models {@code ModelClient::modelFor}, or {@link ModelSource#none()} to explore only
     * @param randomActionProbability probability in [0, 1] of a random action when a model is available
     */
    public static AgentController.Factory mpc(MpcConfig mpc, ModelSource models, double randomActionProbability) {
        Objects.requireNonNull(mpc, "mpc is required; build an MpcConfig with the family's action bounds");
        Objects.requireNonNull(models, "models is required; pass ModelClient::modelFor, or ModelSource.none() to explore only");
        if (!(randomActionProbability >= 0 && randomActionProbability <= 1)) {
            throw new IllegalArgumentException("randomActionProbability must lie in [0, 1], got " + randomActionProbability);
        }
        return new AgentController.Factory() {
            @Override
            public AgentController create(TaskFamily family, long seed) {
                Planning one = new Planning(checked(mpc, family), models, new long[] {seed}, mpc, randomActionProbability);
                return s -> one.decide(new int[] {0}, new AgentController.Step[] {s})[0];
            }

            @Override
            public AgentController.Batch batch(TaskFamily family, long[] seeds) {
                return new Planning(checked(mpc, family), models, seeds, mpc, randomActionProbability)::decide;
            }
        };
    }

    private static TaskFamily checked(MpcConfig mpc, TaskFamily family) {
        if (!Arrays.equals(mpc.actionLow(), family.actionLow()) || !Arrays.equals(mpc.actionHigh(), family.actionHigh())) {
            throw new IllegalArgumentException("the MpcConfig's action bounds " + Arrays.toString(mpc.actionLow()) + ".."
                    + Arrays.toString(mpc.actionHigh()) + " differ from family " + family.name() + "'s "
                    + Arrays.toString(family.actionLow()) + ".." + Arrays.toString(family.actionHigh())
                    + "; build the MpcConfig with family.actionLow() and family.actionHigh()");
        }
        return family;
    }

    /** The planners of a group of agents and the reward of the dynamics each last planned for. */
    private static final class Planning {
        private final TaskFamily family;
        private final ModelSource models;
        private final MpcPlanner[] planners;
        private final TaskSpec[] rewardTasks;
        private final BatchReward[] rewards;
        private final double randomActionProbability;

        Planning(TaskFamily family, ModelSource models, long[] seeds, MpcConfig mpc, double randomActionProbability) {
            this.family = family;
            this.models = models;
            this.randomActionProbability = randomActionProbability;
            planners = new MpcPlanner[seeds.length];
            for (int i = 0; i < seeds.length; i++) {
                planners[i] = new MpcPlanner(mpc, new Random(seeds[i]));
            }
            rewardTasks = new TaskSpec[seeds.length];
            rewards = new BatchReward[seeds.length];
        }

        AgentController.Decision[] decide(int[] agents, AgentController.Step[] steps) {
            AgentController.Decision[] out = new AgentController.Decision[agents.length];
            List<MpcPlanner.Request> requests = new ArrayList<>(agents.length);
            int[] planned = new int[agents.length];
            TaskModel[] used = new TaskModel[agents.length];
            for (int k = 0; k < agents.length; k++) {
                AgentController.Step s = steps[k];
                int agent = agents[k];
                Optional<TaskModel> model = models.modelFor(s.taskId());
                boolean explore = s.rng().nextDouble() < randomActionProbability;
                if (s.step() == 0 || !s.dynamicsTask().equals(rewardTasks[agent])) {
                    planners[agent].reset(); // a new episode or new dynamics: the old plan means nothing
                }
                if (!s.dynamicsTask().equals(rewardTasks[agent])) {
                    rewardTasks[agent] = s.dynamicsTask();
                    rewards[agent] = family.reward(rewardTasks[agent]);
                }
                if (model.isEmpty() || explore) {
                    out[k] = AgentController.Decision.random(model.map(TaskModel::baseVersion).orElse(null));
                    continue;
                }
                used[requests.size()] = model.get();
                planned[requests.size()] = k;
                requests.add(new MpcPlanner.Request(planners[agent], model.get().model().rollout(), rewards[agent],
                        s.observation(), family.projection()));
            }
            if (!requests.isEmpty()) {
                List<MpcPlanner.Plan> plans = MpcPlanner.planAll(requests);
                for (int i = 0; i < plans.size(); i++) {
                    TaskModel m = used[i];
                    out[planned[i]] = new AgentController.Decision(plans.get(i).firstAction(), m.baseVersion(), true,
                            m.adapted() ? TransitionKind.POST_ADAPTATION : TransitionKind.EXPLORATION);
                }
            }
            return out;
        }
    }
}

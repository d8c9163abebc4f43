package io.metastream.sim.fleet.grbal;

import io.metastream.client.TaskModel;
import io.metastream.core.mpc.BatchReward;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.core.mpc.MpcPlanner;
import io.metastream.schema.TransitionKind;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import io.metastream.sim.fleet.AgentController;

import java.util.Arrays;
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
        return (family, seed) -> {
            if (!Arrays.equals(mpc.actionLow(), family.actionLow()) || !Arrays.equals(mpc.actionHigh(), family.actionHigh())) {
                throw new IllegalArgumentException("the MpcConfig's action bounds " + Arrays.toString(mpc.actionLow()) + ".."
                        + Arrays.toString(mpc.actionHigh()) + " differ from family " + family.name() + "'s "
                        + Arrays.toString(family.actionLow()) + ".." + Arrays.toString(family.actionHigh())
                        + "; build the MpcConfig with family.actionLow() and family.actionHigh()");
            }
            return new Planning(family, models, new MpcPlanner(mpc, new Random(seed)), randomActionProbability);
        };
    }

    /** One agent's planner and the reward of the dynamics it last planned for. */
    private static final class Planning implements AgentController {
        private final TaskFamily family;
        private final ModelSource models;
        private final MpcPlanner planner;
        private final double randomActionProbability;
        private TaskSpec rewardTask;
        private BatchReward reward;

        Planning(TaskFamily family, ModelSource models, MpcPlanner planner, double randomActionProbability) {
            this.family = family;
            this.models = models;
            this.planner = planner;
            this.randomActionProbability = randomActionProbability;
        }

        @Override
        public Decision decide(Step s) {
            Optional<TaskModel> model = models.modelFor(s.taskId());
            boolean explore = s.rng().nextDouble() < randomActionProbability;
            if (model.isEmpty() || explore) {
                return Decision.random(model.map(TaskModel::baseVersion).orElse(null));
            }
            if (!s.dynamicsTask().equals(rewardTask)) {
                rewardTask = s.dynamicsTask();
                reward = family.reward(rewardTask);
            }
            TaskModel m = model.get();
            double[] action = planner.act(m.model()::predictNext, reward, s.observation());
            return new Decision(action, m.baseVersion(), true,
                    m.adapted() ? TransitionKind.POST_ADAPTATION : TransitionKind.EXPLORATION);
        }
    }
}

package io.metastream.sim.fleet;

import io.metastream.schema.TransitionKind;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;

import java.util.Objects;
import java.util.Random;

/**
 * How one agent of a {@link Fleet} chooses its actions: the agent side of an algorithm. The fleet owns
 * the environment, episodes, task switching, rate and records; a controller only turns what the agent
 * sees into an action, typically with the model or policy the algorithm's client serves for the task
 * ({@code ModelClient.forTask}). Model-based planning lives in {@code fleet.grbal}, posterior sampling
 * in {@code fleet.pearl}; an algorithm adds its own factory in its own package.
 *
 * <p>Threading: called from the fleet's single loop thread, once per step of its agent (or once per
 * lock-step round for all agents, through {@link Factory#batch}); a controller belongs to one agent and
 * may keep per-episode state.
 */
@FunctionalInterface
public interface AgentController {

    /**
     * What the agent sees before acting.
     *
     * @param taskId the agent's task (the key of its transitions)
     * @param dynamicsTask the task whose dynamics (and goal) the environment runs now; differs from the
     *     agent's task after a switch
     * @param step the step within the episode, 0 at an episode start
     * @param observation the current observation
     * @param rng the agent's random stream: draw exploration and sampling from it so a seeded fleet repeats
     */
    record Step(String taskId, TaskSpec dynamicsTask, int step, double[] observation, Random rng) {}

    /**
     * The chosen action and how it was chosen.
     *
     * @param action the action, or null for a uniformly random one drawn by the agent within the family's bounds
     * @param version the base model version acted with (the transition's {@code policyVersion}), null for none
     * @param planned true when a model or policy chose the action
     * @param kind the transition's kind
     */
    record Decision(double[] action, Long version, boolean planned, TransitionKind kind) {
        public Decision {
            Objects.requireNonNull(kind, "kind");
        }

        /** A uniformly random action, recorded with {@code version} (null for none) as exploration. */
        public static Decision random(Long version) {
            return new Decision(null, version, false, TransitionKind.EXPLORATION);
        }
    }

    /** Chooses the action for one step. */
    Decision decide(Step step);

    /** Builds each agent's controller when the fleet is built. */
    @FunctionalInterface
    interface Factory {
        /**
         * @param family the fleet's task family (its action bounds, rewards)
         * @param seed the agent's seed for the controller's own randomness (a planner's samples)
         * @throws IllegalArgumentException when the controller's settings do not fit the family
         */
        AgentController create(TaskFamily family, long seed);

        /**
         * The controllers of a whole fleet, which steps its agents in lock-step and asks for every
         * active agent's action at once. The default makes one controller per agent with
         * {@link #create} and lets each decide alone; a controller that gains from deciding together
         * (one batched model call for all agents' plans) overrides it. Agent {@code i}'s decisions must
         * depend on its own seed and steps only, as they would alone.
         *
         * @param seeds one seed per agent, indexed by agent
         */
        default Batch batch(TaskFamily family, long[] seeds) {
            AgentController[] each = new AgentController[seeds.length];
            for (int i = 0; i < seeds.length; i++) {
                each[i] = create(family, seeds[i]);
            }
            return (agents, steps) -> {
                Decision[] out = new Decision[agents.length];
                for (int i = 0; i < agents.length; i++) {
                    out[i] = each[agents[i]].decide(steps[i]);
                }
                return out;
            };
        }
    }

    /** The controllers of all agents of one fleet, deciding one lock-step round together. */
    @FunctionalInterface
    interface Batch {
        /**
         * @param agents the indexes of the agents acting this round, ascending
         * @param steps what each of them sees, {@code steps[i]} for agent {@code agents[i]}
         * @return one decision per agent, in the same order
         */
        Decision[] decide(int[] agents, Step[] steps);
    }

    /** Agents that act uniformly at random with no model: a fleet that seeds the first training data. */
    static Factory explore() {
        return (family, seed) -> step -> Decision.random(null);
    }
}

package io.metastream.sim.fleet.pearl;

import io.metastream.client.TaskPolicy;
import io.metastream.schema.TransitionKind;
import io.metastream.sim.fleet.AgentController;

import java.util.Objects;

/**
 * PEARL's agents: posterior sampling. At an episode start an agent takes the newest policy and samples
 * z from its task's belief (the prior before the job has published a posterior) and acts with the
 * stochastic policy for the whole episode; before a first version it acts uniformly at random. Every
 * step is exploration data for the task's context.
 */
public final class PearlAgents {

    private PearlAgents() {}

    /** @param policies {@code ModelClient::policyFor} */
    public static AgentController.Factory posteriorSampling(PolicySource policies) {
        Objects.requireNonNull(policies, "policies is required; pass ModelClient::policyFor");
        return (family, seed) -> new PosteriorSampling(policies);
    }

    private static final class PosteriorSampling implements AgentController {
        private final PolicySource policies;
        private TaskPolicy episodePolicy;
        private double[] episodeZ;

        PosteriorSampling(PolicySource policies) {
            this.policies = policies;
        }

        @Override
        public Decision decide(Step s) {
            if (s.step() == 0) {
                episodePolicy = policies.policyFor(s.taskId()).orElse(null);
                episodeZ = episodePolicy == null ? null : episodePolicy.belief().sample(s.rng());
            }
            if (episodePolicy == null) {
                return Decision.random(null);
            }
            return new Decision(episodePolicy.policy().act(s.observation(), episodeZ, s.rng(), false),
                    episodePolicy.baseVersion(), true, TransitionKind.EXPLORATION);
        }
    }
}

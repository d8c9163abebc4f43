package io.metastream.client;

import io.metastream.core.pearl.PearlPolicy;
import io.metastream.core.pearl.Posterior;

import java.util.Objects;

/**
 * The PEARL policy to act with in one task, as returned by {@link ModelClient#policyFor(String)}.
 *
 * @param policy the newest policy (context encoder + z-conditioned actor)
 * @param baseVersion its version; record it with the actions taken, as the transition's {@code policyVersion}
 * @param belief the task's belief q(z | context): its newest published posterior, or the prior N(0, I)
 * @param beliefVersion the version whose encoder inferred the belief; -1 for the prior
 * @param adapted true when {@code belief} is a posterior published by the job
 */
public record TaskPolicy(PearlPolicy policy, long baseVersion, Posterior belief, long beliefVersion, boolean adapted) {
    public TaskPolicy {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(belief, "belief");
    }
}

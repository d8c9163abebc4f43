package io.metastream.client.pearl;

import io.metastream.client.ModelFormat;
import io.metastream.client.ModelVerifier;
import io.metastream.client.TaskPolicy;
import io.metastream.core.pearl.PearlPolicy;
import io.metastream.core.pearl.Posterior;
import io.metastream.schema.GaussianPosterior;

/**
 * PEARL's versions: the context encoder and the z-conditioned policy ({@value PearlPolicy#ENCODING});
 * a task's adaptation is its belief q(z | context), which the newest policy conditions on even when an
 * older version's encoder inferred it. A task without one acts with the prior.
 */
public final class PearlPolicyFormat implements ModelFormat<PearlPolicy, TaskPolicy> {

    @Override
    public String encoding() {
        return PearlPolicy.ENCODING;
    }

    @Override
    public Class<PearlPolicy> modelType() {
        return PearlPolicy.class;
    }

    @Override
    public Class<TaskPolicy> taskType() {
        return TaskPolicy.class;
    }

    @Override
    public PearlPolicy decode(byte[] blob) {
        return PearlPolicy.decode(blob);
    }

    @Override
    public Class<?> adaptationType() {
        return GaussianPosterior.class;
    }

    @Override
    public void checkAdaptation(Object adaptation) {
        GaussianPosterior g = (GaussianPosterior) adaptation;
        ModelVerifier.verifyPosterior(g, g.getMean().size());
    }

    @Override
    public boolean adaptationBoundToItsBase() {
        return false;
    }

    @Override
    public TaskPolicy unadapted(PearlPolicy policy, long version) {
        return new TaskPolicy(policy, version, policy.prior(), -1, false);
    }

    @Override
    public TaskPolicy adapted(PearlPolicy policy, long baseVersion, Object adaptation, long adaptationBaseVersion) {
        Posterior belief = ModelVerifier.verifyPosterior((GaussianPosterior) adaptation, policy.latentDim());
        return new TaskPolicy(policy, baseVersion, belief, adaptationBaseVersion, true);
    }
}

package io.metastream.sim.fleet.pearl;

import io.metastream.client.TaskPolicy;
import java.util.Optional;

/**
 * Where PEARL fleet agents get their policy and task belief. Production fleets pass
 * {@code ModelClient::policyFor}; tests pass a fake. Same contract as the model-based agents' {@code ModelSource}: called from
 * the fleet's thread (once per agent episode), cheap, safe while models change; empty makes the agent
 * act uniformly at random (the initial exploration before the first version).
 */
@FunctionalInterface
public interface PolicySource {

    /** The policy and belief to act with in a task, or empty when no PEARL version has been published yet. */
    Optional<TaskPolicy> policyFor(String taskId);
}

package io.metastream.sim.fleet.grbal;

import io.metastream.client.TaskModel;
import java.util.Optional;

/**
 * Where fleet agents get the model to plan with. Production fleets pass {@code ModelClient::modelFor},
 * which serves the task's adapted model when one exists for a known base version and the base model
 * otherwise; tests pass a fake.
 *
 * <p>Contract: called from the fleet's single thread once per agent step, so it must be cheap (a map
 * lookup) and safe while models are replaced concurrently. The returned model is used for that one
 * step only and is not kept; an empty result makes the agent act randomly with no policy version.
 */
@FunctionalInterface
public interface ModelSource {

    /** The model to act with in a task, or empty when none has been published yet. */
    Optional<TaskModel> modelFor(String taskId);

    /** A source that never has a model: a purely exploring fleet that seeds the first training data. */
    static ModelSource none() {
        return taskId -> Optional.empty();
    }
}

package io.metastream.client;

import io.metastream.core.grbal.DynamicsModel;

import java.util.Objects;

/**
 * The model to use for one task, as returned by {@link ModelClient#modelFor(String)}.
 *
 * @param model       the dynamics model: the task's adapted model, or the base model when no usable
 *                    adaptation exists
 * @param baseVersion version of the base model (meta-parameters) it derives from; record it with the
 *                    actions taken, as the transition's {@code policyVersion}
 * @param adapted     true if {@code model} is the base model plus the task's published fast weights
 */
public record TaskModel(DynamicsModel model, long baseVersion, boolean adapted) {
    public TaskModel {
        Objects.requireNonNull(model, "model");
    }
}

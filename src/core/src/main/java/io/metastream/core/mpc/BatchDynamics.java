package io.metastream.core.mpc;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A batched one-step dynamics model: next observations {@code [n, obsDim]} for observations
 * {@code [n, obsDim]} and actions {@code [n, actDim]}. {@code DynamicsModel::predictNext} fits.
 * Implementations must not modify their arguments and must return a new array.
 */
@FunctionalInterface
public interface BatchDynamics {
    INDArray next(INDArray obs, INDArray act);
}

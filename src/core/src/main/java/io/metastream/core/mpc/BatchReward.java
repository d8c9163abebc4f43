package io.metastream.core.mpc;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A batched reward function: one reward per row for transitions {@code (obs, act, nextObs)} of
 * shapes {@code [n, obsDim]}, {@code [n, actDim]}, {@code [n, obsDim]}; returns {@code [n]} or
 * {@code [n, 1]}. Implementations must not modify their arguments.
 */
@FunctionalInterface
public interface BatchReward {
    INDArray reward(INDArray obs, INDArray act, INDArray nextObs);
}

package io.metastream.sim;

/**
 * What every built-in family shares, however it produces its task lists: the parameter check that
 * {@link AbstractEnvironment} runs on creation and on every task change. {@link AbstractTaskFamily}
 * draws tasks from a distribution; {@link PointRobotFamily} serves a fixed published list.
 */
abstract class BaseTaskFamily implements TaskFamily {

    /** Throws {@link IllegalArgumentException} if the task lacks a parameter or has one out of range. */
    abstract void validate(TaskSpec task);
}

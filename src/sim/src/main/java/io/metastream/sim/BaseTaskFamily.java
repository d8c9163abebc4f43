package io.metastream.sim;

/**
 * What every family built on {@link AbstractEnvironment} shares, however it produces its task lists:
 * the parameter check the environment runs on creation and on every task change.
 * {@link AbstractTaskFamily} draws tasks from a distribution (extend it for your own simulator); a family
 * that serves a fixed, published task list (as {@code point-robot} does) extends this class directly.
 */
public abstract class BaseTaskFamily implements TaskFamily {

    /** Throws {@link IllegalArgumentException} if the task lacks a parameter or has one out of range. */
    protected abstract void validate(TaskSpec task);
}

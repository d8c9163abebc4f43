package io.metastream.sim;

/**
 * One agent's simulator instance of a {@link TaskFamily}, created by {@link TaskFamily#create}.
 *
 * <p>Lifecycle: {@link #reset()} starts an episode and must be called before the first {@link #step}
 * and after every step that returned {@code done}; stepping a finished episode throws
 * {@link IllegalStateException}. An episode ends after exactly {@link TaskFamily#horizon()} steps.
 *
 * <p>{@link #setTask} may be called at any time, also mid-episode: the following steps use the new
 * dynamics while the state carries over (the GrBAL "changing dynamics" setting). Every constant derived
 * from the task parameters is recomputed there, so no stale value survives a task change.
 *
 * <p>Randomness (the initial states) comes only from the seed given to {@link TaskFamily#create}: the
 * same seed, task and action sequence give the same trajectory.
 *
 * <p>Not thread-safe: one instance belongs to one thread.
 */
public interface Environment {

    /** Starts a new episode and returns its first observation (a fresh array). */
    double[] reset();

    /**
     * Applies an action for one time step. The action is first clipped to the family's bounds (see
     * {@link #clippedAction}); the reward uses the clipped action.
     *
     * @throws IllegalArgumentException if the action has the wrong length or a non-finite entry
     * @throws IllegalStateException if no episode is running (call {@link #reset()})
     */
    StepResult step(double[] action);

    /**
     * Changes the dynamics to those of another task of the same family, effective from the next step.
     *
     * @throws IllegalArgumentException if the task lacks a parameter the family needs or a value is out of range
     */
    void setTask(TaskSpec task);

    /** The task whose dynamics the next step uses. */
    TaskSpec task();

    /**
     * Returns the action as {@link #step} will apply it: clipped element-wise to the family's bounds.
     * Producers record this, not the raw planner output, because a transition must carry the applied action.
     *
     * @throws IllegalArgumentException if the action has the wrong length or a non-finite entry
     */
    double[] clippedAction(double[] action);
}

package io.metastream.sim;

/**
 * What every family built on {@link AbstractEnvironment} shares, however it produces its task lists:
 * the parameter check the environment runs on creation and on every task change, and the true model
 * ({@link #trueDynamics}) for environments that restore their state from an observation.
 * {@link AbstractTaskFamily} draws tasks from a distribution (extend it for your own simulator); a family
 * that serves a fixed, published task list (as {@code point-robot} does) extends this class directly.
 */
public abstract class BaseTaskFamily implements TaskFamily {

    /** Throws {@link IllegalArgumentException} if the task lacks a parameter or has one out of range. */
    protected abstract void validate(TaskSpec task);

    /**
     * The task's exact dynamics, stepping a private environment (one per thread) from each row's
     * observation through {@link AbstractEnvironment#restore}.
     *
     * @throws UnsupportedOperationException when the family's environments do not restore a state from
     *     an observation
     */
    @Override
    public io.metastream.core.mpc.BatchDynamics trueDynamics(TaskSpec task) {
        validate(task);
        Environment probe = create(task, 0L);
        if (!(probe instanceof AbstractEnvironment first)) {
            throw new UnsupportedOperationException(name() + "'s environments are not AbstractEnvironments; it has no true model");
        }
        first.simulate(first.reset(), new double[actDim()]); // fails now, not while planning, without restore
        ThreadLocal<AbstractEnvironment> envs = ThreadLocal.withInitial(() -> (AbstractEnvironment) create(task, 0L));
        int o = obsDim();
        int a = actDim();
        return (obs, act, from, rows, out) -> {
            AbstractEnvironment env = envs.get();
            double[] row = new double[o];
            double[] u = new double[a];
            for (int r = from; r < from + rows; r++) {
                System.arraycopy(obs, r * o, row, 0, o);
                System.arraycopy(act, r * a, u, 0, a);
                System.arraycopy(env.simulate(row, u), 0, out, r * o, o);
            }
        };
    }
}

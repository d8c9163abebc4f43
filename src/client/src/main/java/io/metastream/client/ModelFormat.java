package io.metastream.client;

/**
 * How a client reads one parameter encoding and turns a version plus a task's adaptation into what an
 * agent acts with in that task: the agent side of an algorithm. {@link ModelClient#forTask} dispatches
 * on the encoding a version declares and the adaptation type a record carries, never on an algorithm's
 * name; an algorithm adds its format in its own package and one line in {@link ModelFormats}.
 *
 * <p>Implementations are stateless and thread-safe; {@link ModelClient} caches what {@link #adapted}
 * returns per task until the task's adaptation or the base it applies to changes.
 *
 * @param <M> the decoded version (a dynamics model, a policy, ...)
 * @param <T> what an agent acts with in one task (the model or policy with the task's adaptation applied)
 */
public interface ModelFormat<M, T> {

    /** The {@code ModelVersion.parameterEncoding} this format reads. */
    String encoding();

    /** The type {@link #decode} returns. */
    Class<M> modelType();

    /** The type {@link #unadapted} and {@link #adapted} return. */
    Class<T> taskType();

    /**
     * Decodes a version's parameters (their checksum already verified).
     *
     * @throws IllegalArgumentException for bytes this encoding cannot read, saying why
     */
    M decode(byte[] blob);

    /** The {@code AdaptedModel.adaptation} branch this format applies (a generated schema class). */
    Class<?> adaptationType();

    /**
     * Checks an adaptation when it arrives, before it replaces the task's held one: checksums and
     * values that need no base model.
     *
     * @throws ModelIntegrityException saying what is wrong
     */
    void checkAdaptation(Object adaptation);

    /**
     * True when an adaptation applies only to the version it was computed on (fast weights are a
     * difference to that version's parameters); false when it applies to the newest version (a task
     * belief that any version's policy can condition on).
     */
    boolean adaptationBoundToItsBase();

    /** What an agent acts with in a task that has no usable adaptation. */
    T unadapted(M model, long version);

    /**
     * What an agent acts with in a task with an adaptation.
     *
     * @param base the version the adaptation applies to: its own base version when
     *     {@link #adaptationBoundToItsBase()}, else the newest
     * @param adaptationBaseVersion the version the job computed the adaptation on
     * @throws ModelIntegrityException when the adaptation does not fit {@code base}
     */
    T adapted(M base, long baseVersion, Object adaptation, long adaptationBaseVersion);
}

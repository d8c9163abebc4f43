package io.metastream.flink.internal;

import java.util.Map;

/**
 * How much of the meta-learner's wall-clock time its gradient steps may take, so that a learner which
 * cannot keep up skips work instead of holding back the task operators. Every operator thread in Flink
 * takes its input in the same thread that computes; a learner busy all the time back-pressures the task
 * operators, and with them ingestion and every task's adaptation. Under the limit the learner takes all
 * the work it is offered; over it, it skips steps (counted by the caller) until its share falls back.
 *
 * <p>A credit of compute time grows with wall time at the limit's rate, up to {@link #BURST_NANOS}, and
 * each step spends what it took; a step is allowed while the credit is positive. The learner starts
 * with a full credit.
 */
public final class ComputeBudget {

    /** Global job parameter: the share of wall time, in (0, 1]; 1 never skips. */
    public static final String KEY = "metastream.learner.busy-limit";

    /** The default of {@link #KEY}. */
    public static final double DEFAULT_LIMIT = 0.9;

    /**
     * The most compute time the credit holds: a burst after idle time. Short, because while the learner
     * computes it takes no input: a credit of 2 s let it compute for about 4 s at a time at a limit of 0.5,
     * and `bench stream` saw the task operators stand still for 3 to 5 s, over and over.
     */
    static final long BURST_NANOS = 100_000_000L;

    private final double limit;
    private final java.util.function.LongSupplier clock;
    private long credit = BURST_NANOS;
    private long last;

    public ComputeBudget(double limit, java.util.function.LongSupplier nanoClock) {
        if (!(limit > 0 && limit <= 1)) {
            throw new IllegalArgumentException(KEY + " must be in (0, 1], got " + limit);
        }
        this.limit = limit;
        this.clock = nanoClock;
        this.last = nanoClock.getAsLong();
    }

    /** The limit of {@code jobParameters} ({@link #DEFAULT_LIMIT} when absent) on the system clock. */
    public static ComputeBudget from(Map<String, String> jobParameters) {
        String v = jobParameters.get(KEY);
        double limit;
        try {
            limit = v == null || v.isBlank() ? DEFAULT_LIMIT : Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(KEY + " must be a number in (0, 1], got '" + v + "'", e);
        }
        return new ComputeBudget(limit, System::nanoTime);
    }

    /** Whether a step may run now. */
    public boolean allows() {
        if (limit >= 1) {
            return true;
        }
        long now = clock.getAsLong();
        credit = (long) Math.min(BURST_NANOS, credit + limit * (now - last));
        last = now;
        return credit > 0;
    }

    /** Records a step that took {@code nanos}. */
    public void spent(long nanos) {
        credit -= nanos;
    }

    public double limit() {
        return limit;
    }
}

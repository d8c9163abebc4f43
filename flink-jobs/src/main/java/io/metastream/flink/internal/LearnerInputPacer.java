package io.metastream.flink.internal;

import io.metastream.schema.ModelVersion;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

import java.util.SplittableRandom;

/**
 * Sends the learner about what it can use, no more. The learner (parallelism 1) skips input over its busy
 * limit ({@link ComputeBudget}); every version it publishes carries how much input it was offered and how
 * much it used, both counted since the learner started ({@link #OFFERED_METRIC}, {@link #USED_METRIC}).
 * Each task subtask keeps a send probability p. Once the learner has been offered at least
 * {@link #MIN_WINDOW} more units since p last changed, and at least {@link #MIN_INTERVAL_MS} have passed,
 * p becomes {@code p * factor} within
 * [{@link #MIN_P}, 1], where the share {@code s = Δused / Δoffered} gives {@code factor = 2} when
 * {@code s >= 0.95} (the learner took everything: it may take more) and {@code min(1.25, s / TARGET_SHARE)}
 * otherwise, so the learner settles at using about {@link #TARGET_SHARE} of what it is sent. Versions
 * arrive in bursts (all those of one learner checkpoint at once, through the exactly-once sink), each
 * measured while p had the same value: the interval keeps a burst to one correction. A task operator draws before it builds a segment or sample and,
 * when the draw says no, skips building it (the state reads, the copy and the shipping to the learner are
 * what a fast stream could not afford) and counts it ({@link #METRIC}).
 *
 * <p>p is not state: it starts at 1 after a restore and follows the next versions. Without the counts (an
 * older learner) p stays where it is. Input the learner drops as stale or late is not counted as offered:
 * a learner that falls behind without skipping (busy limit 1) is not thinned for.
 */
public final class LearnerInputPacer {

    /** The version metric: the units of input (segments, or steps samples offered) the learner was offered so far. */
    public static final String OFFERED_METRIC = "learnerInputOffered";
    /** The version metric: the units of input the learner used so far (not skipped over its busy limit). */
    public static final String USED_METRIC = "learnerInputUsed";
    /** Offered units a share is measured over. */
    static final long MIN_WINDOW = 16;
    /** The least time between two changes of p. */
    static final long MIN_INTERVAL_MS = 1000;
    /** The task operators' counter of segments and samples not built. */
    public static final String METRIC = "thinnedLearnerInput";
    static final double TARGET_SHARE = 0.8;
    static final double MIN_P = 0.01;

    private final SplittableRandom rng;
    private final Counter thinned;
    private double p = 1;
    private double offeredAt = -1;
    private double usedAt;
    private long changedAt = Long.MIN_VALUE;

    public LearnerInputPacer(MetricGroup metrics, long seed) {
        this.rng = new SplittableRandom(seed);
        this.thinned = metrics.counter(METRIC);
    }

    /** Follows a newly accepted version's counts. */
    public void onVersion(ModelVersion v) {
        onVersion(v, System.currentTimeMillis());
    }

    void onVersion(ModelVersion v, long nowMillis) {
        Double offered = v.getMetrics() == null ? null : v.getMetrics().get(OFFERED_METRIC);
        Double used = v.getMetrics() == null ? null : v.getMetrics().get(USED_METRIC);
        if (offered == null || used == null || !Double.isFinite(offered) || !Double.isFinite(used) || offered < 0
                || used < 0) {
            return;
        }
        if (offeredAt < 0 || offered < offeredAt || used < usedAt) {
            offeredAt = offered; // the first counts seen, or a learner that started counting again (a restore)
            usedAt = used;
            return;
        }
        double dOffered = offered - offeredAt;
        if (dOffered < MIN_WINDOW || (changedAt != Long.MIN_VALUE && nowMillis - changedAt < MIN_INTERVAL_MS)) {
            return;
        }
        double s = Math.min(1, (used - usedAt) / dOffered);
        double factor = s >= 0.95 ? 2 : Math.min(1.25, s / TARGET_SHARE);
        p = Math.max(MIN_P, Math.min(1, p * factor));
        offeredAt = offered;
        usedAt = used;
        changedAt = nowMillis;
    }

    /** True when this segment or sample should be built and sent; false (and counted) when not. */
    public boolean send() {
        if (p >= 1 || rng.nextDouble() < p) {
            return true;
        }
        thinned.inc();
        return false;
    }

    /** The current send probability. */
    public double probability() {
        return p;
    }

    /** The learner's side: input offered and used since it started, for {@link #OFFERED_METRIC} and {@link #USED_METRIC}. */
    public static final class Usage {
        private long offered;
        private long used;

        public void offered(long n) {
            offered += n;
        }

        public void used(long n) {
            used += n;
        }

        public long offered() {
            return offered;
        }

        public long used() {
            return used;
        }
    }
}

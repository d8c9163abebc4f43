package io.metastream.flink.internal;

import io.metastream.schema.ModelVersion;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

import java.util.SplittableRandom;

/**
 * Sends the learner about what it can use, no more. The learner (parallelism 1) skips input over its busy
 * limit ({@link ComputeBudget}); every version it publishes carries the share of its input it used since
 * the previous one ({@link #SHARE_METRIC}). Each task subtask keeps a send probability p: when a version
 * arrives, p becomes {@code p * min(2, share / TARGET_SHARE)} within [{@link #MIN_P}, 1], so the learner
 * settles at using about {@link #TARGET_SHARE} of what it is sent. A task operator draws before it builds
 * a segment or sample and, when the draw says no, skips building it (the state reads, the copy and the
 * shipping to the learner are what a fast stream could not afford) and counts it ({@link #METRIC}).
 *
 * <p>p is not state: it starts at 1 after a restore and follows the next versions. Without the metric (an
 * older learner) p stays where it is.
 */
public final class LearnerInputPacer {

    /** The version metric: the share of the learner's input it used since the previous version, in [0, 1]. */
    public static final String SHARE_METRIC = "learnerInputShare";
    /** The task operators' counter of segments and samples not built. */
    public static final String METRIC = "thinnedLearnerInput";
    static final double TARGET_SHARE = 0.8;
    static final double MIN_P = 0.01;

    private final SplittableRandom rng;
    private final Counter thinned;
    private double p = 1;

    public LearnerInputPacer(MetricGroup metrics, long seed) {
        this.rng = new SplittableRandom(seed);
        this.thinned = metrics.counter(METRIC);
    }

    /** Follows a newly accepted version's share. */
    public void onVersion(ModelVersion v) {
        Double share = v.getMetrics() == null ? null : v.getMetrics().get(SHARE_METRIC);
        if (share == null || !Double.isFinite(share)) {
            return;
        }
        double s = Math.max(0, Math.min(1, share));
        p = Math.max(MIN_P, Math.min(1, p * Math.min(2, s / TARGET_SHARE)));
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

    /**
     * The learner's side: what it was offered and what it used since its last version; {@link #share}
     * gives the metric and starts the next window.
     */
    public static final class Usage {
        private long offered;
        private long used;

        public void offered(long n) {
            offered += n;
        }

        public void used(long n) {
            used += n;
        }

        /** used / offered since the last call (1 when nothing was offered), and a new window. */
        public double share() {
            double s = offered == 0 ? 1 : Math.min(1, (double) used / offered);
            offered = 0;
            used = 0;
            return s;
        }
    }
}

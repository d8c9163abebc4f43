package io.metastream.flink.internal;

import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

import java.time.Instant;

/**
 * The histograms a task operator reports with every adaptation it emits, over its last
 * {@value #WINDOW} adaptations: {@value #WINDOW_SIZE}, the rows the task's window held (its context),
 * and {@value #LATENCY}, the milliseconds from the newest transition's {@code timestamp} (the producer's
 * clock) to the adaptation (the TaskManager's clock; negative values, a producer clock ahead, count as 0).
 */
public final class AdaptationMetrics {

    public static final String WINDOW_SIZE = "taskWindowSize";
    public static final String LATENCY = "adaptationLatencyMs";
    static final int WINDOW = 1024;

    private final Histogram windowSize;
    private final Histogram latency;

    public AdaptationMetrics(MetricGroup group) {
        this.windowSize = group.histogram(WINDOW_SIZE, new DescriptiveStatisticsHistogram(WINDOW));
        this.latency = group.histogram(LATENCY, new DescriptiveStatisticsHistogram(WINDOW));
    }

    /** One adaptation emitted from a window of {@code rows}, its newest transition produced at {@code newest}. */
    public void adapted(int rows, Instant newest) {
        windowSize.update(rows);
        if (newest != null) {
            latency.update(Math.max(0, System.currentTimeMillis() - newest.toEpochMilli()));
        }
    }
}

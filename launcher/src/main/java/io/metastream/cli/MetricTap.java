package io.metastream.cli;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A Flink metric reporter for jobs that run in this JVM (a MiniCluster): it keeps every counter the job
 * registers, so a benchmark reads a counter's live total across subtasks without waiting for a reporting
 * interval. Enabled by {@link #enable}; one tap per JVM, counters of a finished job stay until
 * {@link #clear}.
 */
public final class MetricTap implements MetricReporter {

    /** The reporter's name in the Flink configuration. */
    static final String NAME = "metastream-tap";

    private static final Map<String, List<Counter>> COUNTERS = new ConcurrentHashMap<>();

    /** Sets {@code conf} up to report to the tap. */
    static void enable(org.apache.flink.configuration.Configuration conf) {
        conf.setString("metrics.reporter." + NAME + ".factory.class", Factory.class.getName());
    }

    /** The sum of every registered counter named {@code name} (0 when none is). */
    static long sum(String name) {
        long total = 0;
        for (Counter c : COUNTERS.getOrDefault(name, List.of())) {
            total += c.getCount();
        }
        return total;
    }

    /** Forgets the counters of earlier jobs. */
    static void clear() {
        COUNTERS.clear();
    }

    @Override
    public void open(MetricConfig config) {}

    @Override
    public void close() {}

    @Override
    public void notifyOfAddedMetric(Metric metric, String metricName, MetricGroup group) {
        if (metric instanceof Counter c) {
            COUNTERS.computeIfAbsent(metricName, k -> new CopyOnWriteArrayList<>()).add(c);
        }
    }

    @Override
    public void notifyOfRemovedMetric(Metric metric, String metricName, MetricGroup group) {
        // kept: a benchmark reads the total of a job that has just finished
    }

    /** Flink finds reporters through this factory (listed in META-INF/services). */
    public static final class Factory implements MetricReporterFactory {
        @Override
        public MetricReporter createMetricReporter(Properties properties) {
            return new MetricTap();
        }
    }
}

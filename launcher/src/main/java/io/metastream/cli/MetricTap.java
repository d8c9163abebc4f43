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
 * A Flink metric reporter for jobs that run in this JVM (a MiniCluster): it keeps every counter, gauge
 * and histogram the job registers, so a benchmark reads a counter's live total across subtasks without
 * waiting for a reporting interval and the local run prints the figures the job exports. Enabled by
 * {@link #enable}; one tap per JVM, metrics of a finished job stay until {@link #clear}.
 */
public final class MetricTap implements MetricReporter {

    /** The reporter's name in the Flink configuration. */
    static final String NAME = "metastream-tap";

    private static final Map<String, List<Counter>> COUNTERS = new ConcurrentHashMap<>();
    private static final Map<String, List<org.apache.flink.metrics.Gauge<?>>> GAUGES = new ConcurrentHashMap<>();
    private static final Map<String, List<org.apache.flink.metrics.Histogram>> HISTOGRAMS = new ConcurrentHashMap<>();

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

    /** Whether any counter named {@code name} is registered. */
    static boolean hasCounter(String name) {
        return COUNTERS.containsKey(name);
    }

    /** The largest numeric value of the gauges named {@code name}, or NaN when there is none. */
    static double gaugeMax(String name) {
        double max = Double.NaN;
        for (org.apache.flink.metrics.Gauge<?> g : GAUGES.getOrDefault(name, List.of())) {
            if (g.getValue() instanceof Number v && !(max >= v.doubleValue())) {
                max = v.doubleValue();
            }
        }
        return max;
    }

    /** The values held by every histogram named {@code name} (each its recent window), pooled and sorted. */
    static long[] histogramValues(String name) {
        List<long[]> parts = new java.util.ArrayList<>();
        for (org.apache.flink.metrics.Histogram h : HISTOGRAMS.getOrDefault(name, List.of())) {
            parts.add(h.getStatistics().getValues());
        }
        long[] all = parts.stream().flatMapToLong(java.util.Arrays::stream).toArray();
        java.util.Arrays.sort(all);
        return all;
    }

    /** The counters by name (summed over subtasks), sorted by name. */
    static Map<String, Long> counters() {
        Map<String, Long> m = new java.util.TreeMap<>();
        COUNTERS.keySet().forEach(k -> m.put(k, sum(k)));
        return m;
    }

    /** Forgets the metrics of earlier jobs. */
    static void clear() {
        COUNTERS.clear();
        GAUGES.clear();
        HISTOGRAMS.clear();
    }

    @Override
    public void open(MetricConfig config) {}

    @Override
    public void close() {}

    @Override
    public void notifyOfAddedMetric(Metric metric, String metricName, MetricGroup group) {
        if (metric instanceof Counter c) {
            COUNTERS.computeIfAbsent(metricName, k -> new CopyOnWriteArrayList<>()).add(c);
        } else if (metric instanceof org.apache.flink.metrics.Gauge<?> g) {
            GAUGES.computeIfAbsent(metricName, k -> new CopyOnWriteArrayList<>()).add(g);
        } else if (metric instanceof org.apache.flink.metrics.Histogram h) {
            HISTOGRAMS.computeIfAbsent(metricName, k -> new CopyOnWriteArrayList<>()).add(h);
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

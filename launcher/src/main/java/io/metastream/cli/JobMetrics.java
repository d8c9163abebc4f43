package io.metastream.cli;

import org.apache.flink.configuration.Configuration;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The job's own metrics, as Flink exports them (the Prometheus reporter on a cluster, {@code --metrics-port}
 * in the local run) and as the local run prints them at its end: the same registered metrics, read in
 * this JVM through {@link MetricTap}. Counters are summed over subtasks, gauges take their largest value,
 * histograms pool the recent windows of every subtask.
 */
final class JobMetrics {

    /** The reporter's name in Flink's configuration ({@code metrics.reporter.prom.*}). */
    static final String PROMETHEUS = "prom";

    /** The job's counters (the validator's, the task operators', the learners'), in the order printed. */
    static final List<String> COUNTERS = List.of("transitionsAccepted", "deadLetters", "repeatedSteps", "adaptations",
            "posteriors", "nonFiniteAdaptations", "failedPosteriors", "segments", "replaySegments", "taskSamples",
            "outerSteps", "rejectedSteps", "staleSegments", "lateSamples", "badSamples", "skippedSegments", "skippedSteps",
            io.metastream.flink.internal.LearnerInputPacer.METRIC,
            "rejectedModels", "undecodableModels");
    static final List<String> GAUGES = List.of("modelVersion", "secondsSinceLastVersion", "heldBackSegments",
            "quarantinedTasks", "clippedGradients");
    static final List<String> HISTOGRAMS = List.of(io.metastream.flink.internal.AdaptationMetrics.WINDOW_SIZE,
            io.metastream.flink.internal.AdaptationMetrics.LATENCY);

    private JobMetrics() {}

    /** Sets {@code conf} up to serve the job's metrics for Prometheus on {@code port} (Flink's reporter, in this JVM). */
    static void enablePrometheus(Configuration conf, int port) {
        conf.setString("metrics.reporter." + PROMETHEUS + ".factory.class",
                "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        conf.setString("metrics.reporter." + PROMETHEUS + ".port", Integer.toString(port));
    }

    /**
     * Whether nothing listens on {@code port} now. Flink's reporter only logs a port it cannot bind, and
     * the run would then point at another process's endpoint.
     */
    static boolean portFree(int port) {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(port)) {
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    static String endpointNote(int port) {
        return "http://localhost:" + port + "/metrics (the job's metrics are flink_taskmanager_job_task_operator_<name>)";
    }

    /** The job's metrics now: counters (including {@code deadLetters.<REASON>}), gauges, histogram summaries. */
    static Map<String, Object> snapshot() {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Long> all = MetricTap.counters();
        for (String name : COUNTERS) {
            if (all.containsKey(name)) {
                m.put(name, all.get(name));
            }
            if (name.equals("deadLetters")) {
                all.forEach((k, v) -> {
                    if (k.startsWith("deadLetters.") && v > 0) {
                        m.put(k, v);
                    }
                });
            }
        }
        for (String name : GAUGES) {
            double v = MetricTap.gaugeMax(name);
            if (!Double.isNaN(v)) {
                m.put(name, v);
            }
        }
        for (String name : HISTOGRAMS) {
            long[] v = MetricTap.histogramValues(name);
            if (v.length > 0) {
                Map<String, Object> h = new LinkedHashMap<>();
                h.put("samples", v.length);
                h.put("p50", v[(int) Math.ceil(0.50 * v.length) - 1]);
                h.put("p99", v[(int) Math.ceil(0.99 * v.length) - 1]);
                h.put("max", v[v.length - 1]);
                m.put(name, h);
            }
        }
        return m;
    }

    /** Prints {@code metrics} as the local run's "job metrics" lines. */
    static void print(Map<String, Object> metrics, PrintStream out) {
        out.println("  job metrics (what the job exports; histograms over each subtask's last "
                + "adaptations):");
        StringBuilder line = new StringBuilder("   ");
        for (Map.Entry<String, Object> e : metrics.entrySet()) {
            String item = " " + e.getKey() + " " + format(e.getValue());
            if (line.length() + item.length() > 110) {
                out.println(line);
                line = new StringBuilder("   ");
            }
            line.append(item);
        }
        if (line.length() > 3) {
            out.println(line);
        }
    }

    private static String format(Object v) {
        if (v instanceof Double d) {
            return d == Math.rint(d) ? Long.toString(d.longValue()) : String.format("%.1f", d);
        }
        if (v instanceof Map<?, ?> h) {
            return "p50 " + h.get("p50") + " p99 " + h.get("p99") + " max " + h.get("max") + " (" + h.get("samples") + ")";
        }
        return String.valueOf(v);
    }
}

package io.metastream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

class JobMetricsTest {

    @Test
    void sumsCountersOverSubtasksTakesTheLargestGaugeAndPoolsHistograms() {
        MetricTap.clear();
        MetricTap tap = new MetricTap();
        for (int subtask = 0; subtask < 2; subtask++) {
            SimpleCounter accepted = new SimpleCounter();
            accepted.inc(100 + subtask);
            tap.notifyOfAddedMetric(accepted, "transitionsAccepted", null);
            SimpleCounter malformed = new SimpleCounter();
            malformed.inc(subtask);
            tap.notifyOfAddedMetric(malformed, "deadLetters.MALFORMED", null);
            tap.notifyOfAddedMetric(new SimpleCounter(), "deadLetters.TOO_LARGE", null);
            tap.notifyOfAddedMetric(new SimpleCounter(), "numRecordsIn", null); // Flink's own: not the job's figure
            DescriptiveStatisticsHistogram latency = new DescriptiveStatisticsHistogram(16);
            for (int i = 1; i <= 50; i++) {
                latency.update(subtask * 50 + i); // 1..100 over both subtasks, each keeping its last 16
            }
            tap.notifyOfAddedMetric(latency, "adaptationLatencyMs", null);
        }
        long version = 41;
        tap.notifyOfAddedMetric((Gauge<Long>) () -> version, "modelVersion", null);

        Map<String, Object> m = JobMetrics.snapshot();
        assertThat(m).containsEntry("transitionsAccepted", 201L).containsEntry("deadLetters.MALFORMED", 1L)
                .containsEntry("modelVersion", 41.0).doesNotContainKeys("numRecordsIn", "deadLetters.TOO_LARGE");
        @SuppressWarnings("unchecked")
        Map<String, Object> h = (Map<String, Object>) m.get("adaptationLatencyMs");
        assertThat(h).containsEntry("samples", 32).containsEntry("max", 100L).containsEntry("p50", 50L);

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        JobMetrics.print(m, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("transitionsAccepted 201", "deadLetters.MALFORMED 1",
                "modelVersion 41", "adaptationLatencyMs p50 50 p99 100 max 100 (32)");
        MetricTap.clear();
    }
    @Test
    void aPortInUseIsNotFree() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0)) {
            assertThat(JobMetrics.portFree(taken.getLocalPort())).isFalse();
        }
    }
}

package io.metastream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code bench stream} end to end at a tiny size: a real broker, the GrBAL job on a MiniCluster, every
 * measurement once. Checks the figures exist, are consistent with one another, and that the job read
 * every pre-filled record (the counter it waits on is the task operator's own).
 */
class StreamBenchIT {

    @Test
    void measuresIngestLatencyAndScaleAndWritesThemWithThePlot(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("stream.json");
        int rc = Main.run(new String[] {"bench", "stream", "--out", out.toString(), "--work", dir.resolve("work").toString(),
                "--algorithms", "grbal", "--transitions", "4000", "--tasks", "20", "--repetitions", "1",
                "--intervals", "1", "--rate", "400", "--latency-tasks", "4", "--latency-seconds", "4", "--warmup", "1",
                "--latency-repetitions", "2",
                "--scale-tasks", "20,400", "--backends", "hashmap,rocksdb"});
        assertThat(rc).isZero();
        JsonNode j = new ObjectMapper().readTree(Files.readString(out));
        assertThat(j.get("cores").asInt()).isPositive();
        JsonNode ingest = j.get("ingest").get("grbal");
        assertThat(ingest.get("run").get("records").asLong()).as("every pre-filled record accepted").isEqualTo(4000);
        assertThat(ingest.get("run").get("timedOut").asBoolean()).isFalse();
        assertThat(ingest.get("run").get("recordsPerSecond").asDouble()).isPositive();
        assertThat(ingest.get("rawConsumeDecodePerSecond").asDouble()).isPositive();
        assertThat(ingest.get("sourceValidatePerSecond").asDouble()).as("the source-only ceiling").isPositive();
        assertThat(ingest.get("keyedCountPerSecond").asDouble()).as("the keyed-count ceiling").isPositive();
        // the ingest figure counts from the first adaptation; at this size the job may finish before it
        if (!ingest.get("ingestRecordsPerSecond").isNull()) {
            assertThat(ingest.get("ingestRatio").asDouble()).isPositive().isCloseTo(ingest.get("ingestRecordsPerSecond").asDouble()
                    / ingest.get("rawConsumeDecodePerSecond").asDouble(), org.assertj.core.data.Offset.offset(1e-9));
            assertThat(ingest.get("run").get("acceptedBeforeFirstAdaptation").asLong()).isBetween(1L, 3999L);
        }
        JsonNode lat = j.get("adaptationLatency").get("grbal").get(0);
        assertThat(lat.get("checkpointIntervalMs").asDouble()).isEqualTo(1000);
        assertThat(lat.get("p99OverCheckpointIntervalPerRun")).as("one figure per repetition").hasSize(2);
        assertThat(lat.get("transitionsMeasured").asLong()).isPositive();
        assertThat(lat.get("p50Ms").asDouble()).isPositive().isLessThanOrEqualTo(lat.get("p99Ms").asDouble());
        assertThat(lat.get("p99Ms").asDouble()).isLessThanOrEqualTo(lat.get("maxMs").asDouble());
        assertThat(j.get("versionLatency").get("samples").asLong()).isPositive();
        for (String backend : new String[] {"hashmap", "rocksdb"}) {
            for (String tasks : new String[] {"20", "400"}) {
                assertThat(j.get("scale").get(backend).get(tasks).get("records").asLong()).as(backend + " " + tasks).isEqualTo(4000);
            }
            assertThat(j.get("scale").get(backend + "400Over20").asDouble()).isPositive();
        }
        assertThat(j.get("scale").get("transitionsPerTaskAtMostTasks").asLong()).isEqualTo(10);
        assertThat(j.get("scale").get("fair").asBoolean()).as("10 transitions per task at 400 tasks: below M + K").isFalse();
        assertThat(dir.resolve("stream-latency.png")).exists();
    }
}

package io.metastream.cli;

import io.metastream.client.Codecs;
import io.metastream.client.TopicReader;
import io.metastream.schema.DeadLetter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A producer in another language, written from {@code schemas/} alone (examples/python, Debian's
 * python3-avro and python3-confluent-kafka), feeds the job-only mode: its records are accepted (no dead
 * letter) and each of its tasks receives an adaptation, which it reads back and checks itself.
 *
 * <p>Skipped where {@value #PYTHON} lacks those packages; {@code .ci/run} installs them and fails when
 * this test was skipped.
 */
class PythonProducerIT {

    static final String PYTHON = "/usr/bin/python3";

    @Test
    void aPythonProducerWritingFromTheSchemasAloneIsAcceptedAndItsTasksAreAdapted(@TempDir Path work) throws Exception {
        Assumptions.assumeTrue(pythonHasTheClients(), PYTHON + " with python3-avro and python3-confluent-kafka "
                + "(apt-get install python3-avro python3-confluent-kafka) is needed for this test");
        Path script = Path.of(System.getProperty("user.dir")).getParent().resolve("examples/python/metastream_producer.py");
        assertThat(script).exists();
        try (JobOnly job = JobOnly.start(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                "--metastream.obs-dim", "2", "--metastream.act-dim", "1", "--metastream.model-name", "py-model",
                "--metastream.publish-every", "5", "--work", work.toString(), "--parallelism", "2")) {
            List<String> lines = run(List.of(PYTHON, script.toString(), "--bootstrap-servers", job.bootstrapServers(),
                    "--model-name", "py-model", "--experience-topic", job.topics().experience(),
                    "--adapted-topic", job.topics().adapted(), "--tasks", "4", "--rate", "300", "--seconds", "200"), 260);
            JsonNode summary = new ObjectMapper().readTree(lines.get(lines.size() - 1));
            assertThat(summary.get("deliveryErrors").asInt()).as(String.join("\n", lines)).isZero();
            assertThat(summary.get("sent").asLong()).isGreaterThan(500);
            assertThat(summary.get("adaptedTasks").asInt()).as(String.join("\n", lines)).isEqualTo(4);
            assertThat(summary.get("badChecksum").asInt()).isZero();
            assertThat(summary.get("otherSchema").asInt()).as("adaptations written with a schema the script does not know")
                    .isZero();

            List<DeadLetter> dead = new ArrayList<>();
            TopicReader.read(props(job.bootstrapServers()), job.topics().deadLetters(), Long.MAX_VALUE,
                    java.time.Duration.ofSeconds(30), r -> dead.add(Codecs.deadLetter().decode(r.value())));
            assertThat(dead).as("records of the Python producer that the job refused").isEmpty();
        }
    }

    private static java.util.Properties props(String servers) {
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", servers);
        return p;
    }

    static boolean pythonHasTheClients() throws Exception {
        if (!Files.isExecutable(Path.of(PYTHON))) {
            return false;
        }
        Process p = new ProcessBuilder(PYTHON, "-c", "import avro.schema, confluent_kafka").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    /** Runs a command, returns its output lines; fails on a non-zero exit or when it outlives {@code seconds}. */
    static List<String> run(List<String> command, int seconds) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    synchronized (lines) {
                        lines.add(l);
                    }
                }
            } catch (java.io.IOException ignored) {
                // the process ended
            }
        });
        reader.start();
        boolean ended = p.waitFor(seconds, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        reader.join(10_000);
        synchronized (lines) {
            assertThat(ended).as("the command ended within " + seconds + " s:\n" + String.join("\n", lines)).isTrue();
            assertThat(p.exitValue()).as(String.join("\n", lines)).isZero();
            assertThat(lines).isNotEmpty();
            return List.copyOf(lines);
        }
    }
}

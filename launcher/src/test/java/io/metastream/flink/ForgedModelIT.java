package io.metastream.flink;

import io.metastream.cli.JobOnly;
import io.metastream.client.Codecs;
import io.metastream.client.ModelClient;
import io.metastream.client.ModelSignatures;
import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.io.ModelBlob;
import io.metastream.schema.AdaptedModel;
import io.metastream.schema.ModelVersion;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.fleet.AgentController;
import io.metastream.sim.fleet.Fleet;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static io.metastream.flink.JobTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Versions written straight to the models topic by someone without the learner's key, with numbers the
 * learner will not reach during the test, reach neither the job's task operators (no adaptation names
 * them as its base) nor a client that trusts the learner's key; the job keeps publishing signed versions.
 * Without signatures the client would have jumped to the forged number and stayed there.
 */
class ForgedModelIT {

    @Test
    void forgedVersionsReachNoTaskOperatorAndNoClient(@TempDir Path work) throws Exception {
        TaskFamily family = TaskFamilies.byName("point-mass");
        try (JobOnly job = JobOnly.start(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                "--family", "point-mass", "--metastream.publish-every", "5", "--work", work.toString(),
                "--parallelism", "2");
             ModelClient client = ModelClient.builder().bootstrapServers(job.bootstrapServers())
                     .modelsTopic(job.topics().models()).adaptedTopic(job.topics().adapted()).modelName(job.modelName())
                     .trustedKeys(work.resolve("keys/learner.pub")).build();
             Fleet fleet = Fleet.builder().bootstrapServers(job.bootstrapServers()).topic(job.topics().experience())
                     .family(family).tasks(family.trainTasks(4, 1)).agents(4).seed(1)
                     .controllers(AgentController.explore()).maxTransitionsPerSecond(800).build()) {
            client.start();
            fleet.start();
            await("a first signed version", Duration.ofSeconds(180), () -> client.latestVersion().orElse(0) >= 1);
            ModelVersion genuine = client.latestModelVersion().orElseThrow();
            assertThat(genuine.getSignature()).isNotNull();
            assertThat(genuine.getRunId()).isNotEmpty();
            long base = genuine.getVersion();
            long forgedUnsigned = base + 5000;
            long forgedForeign = base + 5001;

            DynamicsModel theta = client.base(DynamicsModel.class).orElseThrow();
            ModelVersion unsigned = forge(genuine, forgedUnsigned, theta);
            ModelVersion foreign = forge(genuine, forgedForeign, theta);
            KeyPair intruder = ModelSignatures.generate();
            ModelSignatures.sign(foreign, intruder.getPrivate(), intruder.getPublic());
            ModelVersion maxed = forge(genuine, Long.MAX_VALUE, theta);
            byte[] key = job.modelName().getBytes(StandardCharsets.UTF_8);
            JobTestSupport.send(job.bootstrapServers(), List.of(
                    new ProducerRecord<>(job.topics().models(), key, Codecs.modelVersion().encode(unsigned)),
                    new ProducerRecord<>(job.topics().models(), key, Codecs.modelVersion().encode(foreign)),
                    new ProducerRecord<>(job.topics().models(), key, Codecs.modelVersion().encode(maxed))));

            await("three refused records, genuine versions beyond the forgery and adaptations on them",
                    Duration.ofSeconds(180), () -> client.rejectedRecords() >= 3 && client.latestVersion().orElse(0) >= base + 10
                            && TopicReaderSupport.adaptations(job.bootstrapServers(), job.topics().adapted()).stream()
                                    .anyMatch(a -> a.getBaseVersion() > base));
            assertThat(client.latestVersion().getAsLong()).isLessThan(forgedUnsigned);
            assertThat(client.latestModelVersion().orElseThrow().getSignature()).isNotNull();

            List<AdaptedModel> adapted = TopicReaderSupport.adaptations(job.bootstrapServers(), job.topics().adapted());
            Set<Long> bases = adapted.stream().map(AdaptedModel::getBaseVersion).collect(Collectors.toSet());
            assertThat(adapted).as("adaptations published").isNotEmpty();
            assertThat(bases).as("no task operator adapted a forged version")
                    .doesNotContain(forgedUnsigned, forgedForeign, Long.MAX_VALUE);
        }
    }

    /** A version with {@code number} and θ perturbed, consistent (checksum right) but not the learner's. */
    private static ModelVersion forge(ModelVersion genuine, long number, DynamicsModel theta) {
        byte[] blob = ModelBlob.encode(theta.withParams(theta.params().mul(-3.0)));
        ModelVersion v = ModelVersion.newBuilder(genuine).setVersion(number).setParentVersion(number - 1)
                .setParameters(ByteBuffer.wrap(blob)).setParametersSha256(ModelBlob.sha256Hex(blob))
                .setSignature(null).setSigningKeyId(null).build();
        return v;
    }

    /** Reading the adapted topic. */
    static final class TopicReaderSupport {
        static List<AdaptedModel> adaptations(String servers, String topic) {
            var codec = Codecs.adaptedModel();
            return JobTestSupport.readAll(servers, topic).stream().filter(r -> r.value() != null)
                    .map(r -> codec.decode(r.value())).collect(Collectors.toList());
        }
    }
}

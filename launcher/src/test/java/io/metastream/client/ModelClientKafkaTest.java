package io.metastream.client;

import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.grbal.Normalizer;
import io.metastream.core.io.ModelBlob;
import io.metastream.core.nn.Activation;
import io.metastream.core.nn.Mlp;
import io.metastream.client.TopicNames;
import io.metastream.schema.AdaptedModel;
import io.metastream.schema.FastWeights;
import io.metastream.schema.ModelVersion;
import io.metastream.testing.KafkaExtension;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link ModelClient} against a real broker: compacted topics, transactions, bad records. */
class ModelClientKafkaTest {

    @RegisterExtension
    static final KafkaExtension KAFKA = new KafkaExtension();

    private static final String MODEL = "pendulum";

    @Test
    void followsCommittedVersionsAndAdaptationsAndSkipsBadRecords() throws Exception {
        TopicNames topics = KAFKA.freshTopics("modelClient");
        DynamicsModel v1 = model(1);
        INDArray delta = Nd4j.valueArrayOf(new long[] {1, v1.mlp().numParams()}, 0.25, DataType.DOUBLE);

        java.util.List<Long> announced = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = producer();
             ModelClient client = ModelClient.builder().bootstrapServers(KAFKA.bootstrapServers())
                     .modelsTopic(topics.models()).adaptedTopic(topics.adapted()).modelName(MODEL).keepVersions(4)
                     .onVersion(v -> announced.add(v.getVersion())).build()) {
            producer.initTransactions();
            publish(producer, topics.models(), "garbage".getBytes(StandardCharsets.UTF_8), MODEL);
            publish(producer, topics.models(), Codecs.modelVersion().encode(version(1, v1)), MODEL);
            ModelVersion otherModel = version(9, model(9));
            otherModel.setModelName("other");
            publish(producer, topics.models(), Codecs.modelVersion().encode(otherModel), "other");
            publish(producer, topics.adapted(), Codecs.adaptedModel().encode(adaptation("task-A", 1, delta)), "task-A");

            client.start();

            assertThat(client.awaitVersion(1, Duration.ofSeconds(60))).isTrue();
            await(() -> client.modelFor("task-A").map(TaskModel::adapted).orElse(false), "task-A adapted");
            TaskModel a = client.modelFor("task-A").orElseThrow();
            assertThat(a.baseVersion()).isEqualTo(1);
            assertThat(a.model().params()).isEqualTo(v1.params().add(delta));
            assertThat(client.modelFor("task-B").orElseThrow().adapted()).isFalse();
            assertThat(client.rejectedRecords()).isEqualTo(1);
            assertThat(client.latestVersion()).hasValue(1);

            // An aborted version is never seen; the next committed one is.
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topics.models(), bytes(MODEL), Codecs.modelVersion().encode(version(2, model(2)))));
            producer.flush();
            producer.abortTransaction();
            publish(producer, topics.models(), Codecs.modelVersion().encode(version(3, model(3))), MODEL);

            assertThat(client.awaitVersion(3, Duration.ofSeconds(60))).isTrue();
            await(() -> announced.contains(3L), "version 3 announced");
            assertThat(announced).as("every accepted version, once, in order").containsExactly(1L, 3L);
            assertThat(client.latestVersionAge()).get().satisfies(age -> assertThat(age).isPositive());
            assertThat(client.version(2, DynamicsModel.class)).isEmpty();
            assertThat(client.versionsSeen()).isEqualTo(2);
            assertThat(client.modelFor("task-A").orElseThrow().baseVersion()).isEqualTo(1);

            // A tombstone on the adapted topic forgets the task's adaptation.
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topics.adapted(), bytes("task-A"), null));
            producer.commitTransaction();
            await(() -> !client.modelFor("task-A").orElseThrow().adapted(), "task-A falls back to the base model");
            assertThat(client.modelFor("task-A").orElseThrow().baseVersion()).isEqualTo(3);
        }

        // A new client rebuilds the state from the beginning of the topics.
        try (ModelClient again = client(topics)) {
            again.start();
            assertThat(again.awaitVersion(3, Duration.ofSeconds(60))).isTrue();
            assertThat(again.latestModelVersion().orElseThrow().getVersion()).isEqualTo(3);
        }
    }

    @Test
    void waitsForTopicsThatDoNotExistYet() {
        TopicNames later = TopicNames.defaults().withSuffix(".later-" + UUID.randomUUID().toString().substring(0, 6));
        try (ModelClient client = client(later)) {
            client.start();
            assertThat(client.awaitVersion(1, Duration.ofSeconds(2))).isFalse();

            TopicLayout.create(KAFKA.admin(), TopicLayout.defaults(later, 1), Duration.ofSeconds(60));
            try (KafkaProducer<byte[], byte[]> producer = producer()) {
                producer.initTransactions();
                publish(producer, later.models(), Codecs.modelVersion().encode(version(1, model(1))), MODEL);
            }

            assertThat(client.awaitVersion(1, Duration.ofSeconds(60))).isTrue();
        }
    }

    private static ModelClient client(TopicNames topics) {
        return ModelClient.builder().bootstrapServers(KAFKA.bootstrapServers()).modelsTopic(topics.models())
                .adaptedTopic(topics.adapted()).modelName(MODEL).keepVersions(4).build();
    }

    private static KafkaProducer<byte[], byte[]> producer() {
        return new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "model-client-test-" + UUID.randomUUID(),
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60_000,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
    }

    private static void publish(KafkaProducer<byte[], byte[]> producer, String topic, byte[] value, String key) {
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topic, bytes(key), value));
        producer.commitTransaction();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private static DynamicsModel model(long seed) {
        Mlp mlp = new Mlp(new int[] {4, 8, 3}, Activation.TANH);
        return new DynamicsModel(mlp, mlp.initParams(new Random(seed)), new Normalizer(3, 1));
    }

    private static ModelVersion version(long version, DynamicsModel model) {
        byte[] blob = ModelBlob.encode(model);
        return ModelVersion.newBuilder()
                .setModelName(MODEL).setVersion(version).setParentVersion(null).setAlgorithm("GRBAL")
                .setConfigHash("0".repeat(64)).setConfig(Map.of()).setSeed(7)
                .setParameterEncoding(ModelBlob.ENCODING).setParameters(ByteBuffer.wrap(blob))
                .setParametersSha256(ModelBlob.sha256Hex(blob)).setTasksSeen(0).setTransitionsSeen(0)
                .setOuterSteps(version).setMetrics(Map.of()).setCreatedAt(Instant.ofEpochMilli(version))
                .setCodeVersion("test").setPlatform(null).build();
    }

    private static AdaptedModel adaptation(String taskId, long baseVersion, INDArray delta) {
        byte[] bytes = ModelBlob.encodeDelta(delta);
        return AdaptedModel.newBuilder()
                .setTaskId(taskId).setModelName(MODEL).setBaseVersion(baseVersion).setAlgorithm("GRBAL")
                .setAdaptation(FastWeights.newBuilder().setDelta(ByteBuffer.wrap(bytes))
                        .setDeltaSha256(ModelBlob.sha256Hex(bytes)).build())
                .setContextTransitions(16).setInnerSteps(1).setContextLossBefore(null).setContextLossAfter(null)
                .setCreatedAt(Instant.ofEpochMilli(1)).build();
    }
}

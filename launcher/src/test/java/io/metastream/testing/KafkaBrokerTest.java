package io.metastream.testing;

import io.metastream.local.KafkaBroker;
import io.metastream.client.TopicNames;
import io.metastream.client.TopicLayout;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KafkaBrokerTest {

    @RegisterExtension
    static final KafkaExtension KAFKA = new KafkaExtension();

    @Test
    void readCommittedConsumerSeesExactlyTheCommittedRecords() throws Exception {
        TopicNames topics = KAFKA.freshTopics("readCommitted");
        String topic = topics.experience();
        try (KafkaProducer<String, String> producer = transactionalProducer(KAFKA.bootstrapServers())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, "task-" + (i % 7), "aborted-" + i));
            }
            producer.flush();
            producer.abortTransaction();

            producer.beginTransaction();
            for (int i = 0; i < 100; i++) {
                producer.send(new ProducerRecord<>(topic, "task-" + (i % 7), "committed-" + i));
            }
            producer.commitTransaction();
        }

        List<ConsumerRecord<String, String>> read = readAll(KAFKA.bootstrapServers(), topic, 100);

        assertThat(read).hasSize(100);
        assertThat(read).extracting(ConsumerRecord::value).allMatch(v -> v.startsWith("committed-"));
        assertThat(read).extracting(ConsumerRecord::value).doesNotHaveDuplicates();
    }

    @Test
    void topicsGetTheDefaultLayout() throws Exception {
        TopicNames topics = KAFKA.freshTopics("layout", 3);
        Admin admin = KAFKA.admin();

        Map<String, TopicDescription> described = admin.describeTopics(topics.all()).allTopicNames().get(30, TimeUnit.SECONDS);
        assertThat(described.get(topics.experience()).partitions()).hasSize(3);
        assertThat(described.get(topics.models()).partitions()).hasSize(1);
        assertThat(described.get(topics.adapted()).partitions()).hasSize(3);
        assertThat(described.get(topics.deadLetters()).partitions()).hasSize(1);

        ConfigResource models = new ConfigResource(ConfigResource.Type.TOPIC, topics.models());
        ConfigResource experience = new ConfigResource(ConfigResource.Type.TOPIC, topics.experience());
        Map<ConfigResource, Config> configs = admin.describeConfigs(List.of(models, experience)).all().get(30, TimeUnit.SECONDS);
        assertThat(configs.get(models).get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("compact");
        assertThat(configs.get(models).get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value()).isEqualTo("20971520");
        assertThat(configs.get(models).get(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG).value()).isEqualTo("60000");
        assertThat(configs.get(experience).get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("delete");
        assertThat(configs.get(experience).get(TopicConfig.RETENTION_MS_CONFIG).value()).isEqualTo("604800000");
    }

    @Test
    void brokerKilledWithSigkillRestartsOnItsData() throws Exception {
        Path dir = Path.of("target", "kafka-tests", "restart-" + UUID.randomUUID().toString().substring(0, 8));
        TopicNames topics = TopicNames.defaults().withSuffix(".restart");
        long started = System.nanoTime();
        KafkaBroker first = KafkaBroker.builder().dataDir(dir).build();
        try {
            first.start();
            System.out.printf("fresh broker (format + start) ready in %d ms%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            first.createTopics(TopicLayout.defaults(topics, 2));
            try (KafkaProducer<String, String> producer = transactionalProducer(first.bootstrapServers())) {
                producer.initTransactions();
                producer.beginTransaction();
                for (int i = 0; i < 20; i++) {
                    producer.send(new ProducerRecord<>(topics.experience(), "k" + i, "v" + i));
                }
                producer.commitTransaction();
            }

            first.kill();

            assertThat(first.isRunning()).isFalse();
            assertThatThrownBy(first::bootstrapServers).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("KILLED");
        } finally {
            first.close();
        }
        assertThat(dir).isDirectory();

        started = System.nanoTime();
        try (KafkaBroker second = KafkaBroker.builder().dataDir(dir).deleteOnClose(true).build()) {
            second.start();
            System.out.printf("restarted broker (kept data) ready in %d ms%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            second.createTopics(TopicLayout.defaults(topics, 2)); // already there: kept as they are

            List<ConsumerRecord<String, String>> read = readAll(second.bootstrapServers(), topics.experience(), 20);

            assertThat(read).extracting(ConsumerRecord::value).hasSize(20).doesNotHaveDuplicates();
        }
        assertThat(Files.exists(dir)).isFalse();
    }

    @Test
    void startWithoutBrokerClassesFailsWithAHint() {
        Path dir = Path.of("target", "kafka-tests", "no-classes-" + UUID.randomUUID().toString().substring(0, 8));
        try (KafkaBroker broker = KafkaBroker.builder().dataDir(dir).deleteOnClose(true)
                .classpath(dir.resolve("nothing-here.jar").toString()).build()) {
            assertThatThrownBy(broker::start)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("kafka_2.13")
                    .hasMessageContaining("broker.log");
        }
    }

    @Test
    void builderRejectsMissingDataDirAndManagedProperties() {
        assertThatThrownBy(() -> KafkaBroker.builder().build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("dataDir(path)");
        assertThatThrownBy(() -> KafkaBroker.builder().brokerProperty("listeners", "PLAINTEXT://:9092"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("managed by KafkaBroker");
    }

    static KafkaProducer<String, String> transactionalProducer(String bootstrap) {
        return new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "test-" + UUID.randomUUID(),
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60_000,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));
    }

    /** Reads the topic from the start until {@code expected} records arrived, then polls once more for extras. */
    static List<ConsumerRecord<String, String>> readAll(String bootstrap, String topic, int expected) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class))) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (out.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            consumer.poll(Duration.ofMillis(500)).forEach(out::add);
        }
        return out;
    }
}

package io.metastream.testing;

import io.metastream.local.KafkaBroker;
import io.metastream.client.TopicNames;
import io.metastream.client.TopicLayout;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real Kafka broker per test class:
 *
 * <pre>{@code
 * @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();
 * ...
 * TopicNames topics = KAFKA.freshTopics("adaptsAfterFullContextWindow");
 * }</pre>
 *
 * <p>With a Docker engine it runs {@link DockerImageVersions#KAFKA} in Testcontainers; without one
 * (this project's build machines) it starts the embedded {@link KafkaBroker} under
 * {@code target/kafka-tests/}. {@code -Dmetastream.test.kafka=embedded} forces the embedded broker and
 * skips the Docker probe; {@code =docker} requires Docker.
 *
 * <p>Both brokers are one node with replication factor 1 for internal topics, transactions enabled,
 * 20 MiB records, and no automatic topic creation: tests create their topics with
 * {@link #freshTopics(String)}, which gives every call new names so tests never share data.
 *
 * <p>The field must be {@code static} (the broker lives from BeforeAll to AfterAll); nested test
 * classes share the outer class's broker. Accessors are thread-safe.
 */
public final class KafkaExtension implements BeforeAllCallback, AfterAllCallback {

    /** System property choosing the broker: {@code auto} (default), {@code embedded} or {@code docker}. */
    public static final String MODE_PROPERTY = "metastream.test.kafka";
    /** Partitions of the experience and adapted topics made by {@link #freshTopics(String)}. */
    public static final int DEFAULT_PARTITIONS = 4;

    private final AtomicInteger topicCounter = new AtomicInteger();
    private int depth;
    private KafkaBroker embedded;
    private KafkaContainer container;
    private Admin admin;
    private String bootstrapServers;

    @Override
    public synchronized void beforeAll(ExtensionContext context) throws Exception {
        if (depth++ > 0) {
            return; // a nested class: keep the outer class's broker
        }
        String mode = System.getProperty(MODE_PROPERTY, "auto").toLowerCase(Locale.ROOT);
        boolean docker = switch (mode) {
            case "embedded" -> false;
            case "docker" -> true;
            case "auto" -> DockerClientFactory.instance().isDockerAvailable();
            default -> throw new IllegalArgumentException("-D" + MODE_PROPERTY + "=" + mode
                    + " is not known; use auto, embedded or docker");
        };
        if (docker) {
            container = new KafkaContainer(DockerImageName.parse(DockerImageVersions.KAFKA))
                    .withEnv("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
                    .withEnv("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
                    .withEnv("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
                    .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
                    .withEnv("KAFKA_NUM_PARTITIONS", "4")
                    .withEnv("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
                    .withEnv("KAFKA_MESSAGE_MAX_BYTES", Integer.toString(KafkaBroker.MESSAGE_MAX_BYTES))
                    .withEnv("KAFKA_TRANSACTION_MAX_TIMEOUT_MS", "900000");
            container.start();
            bootstrapServers = container.getBootstrapServers();
        } else {
            Path base = Files.isDirectory(Path.of("target")) ? Path.of("target") : Path.of(System.getProperty("java.io.tmpdir"));
            Path dir = base.resolve("kafka-tests").resolve(
                    context.getRequiredTestClass().getSimpleName() + "-" + UUID.randomUUID().toString().substring(0, 8));
            embedded = KafkaBroker.builder().dataDir(dir).deleteOnClose(true).build();
            embedded.start();
            bootstrapServers = embedded.bootstrapServers();
        }
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.CLIENT_ID_CONFIG, "kafka-extension-admin"));
    }

    @Override
    public synchronized void afterAll(ExtensionContext context) {
        if (--depth > 0) {
            return;
        }
        try {
            if (admin != null) {
                admin.close(Duration.ofSeconds(5));
            }
        } finally {
            admin = null;
            try {
                if (embedded != null) {
                    embedded.close();
                }
            } finally {
                embedded = null;
                if (container != null) {
                    container.stop();
                    container = null;
                }
            }
        }
    }

    /** {@code host:port} of the broker. */
    public synchronized String bootstrapServers() {
        requireStarted();
        return bootstrapServers;
    }

    /**
     * An Admin client on the broker, owned by the extension: do not close it.
     */
    public synchronized Admin admin() {
        requireStarted();
        return admin;
    }

    /** Whether the broker is the embedded child-JVM broker (no Docker), which supports {@link #kill()}. */
    public synchronized boolean isEmbedded() {
        requireStarted();
        return embedded != null;
    }

    /** {@link #freshTopics(String, int)} with {@link #DEFAULT_PARTITIONS} partitions. */
    public TopicNames freshTopics(String testName) {
        return freshTopics(testName, DEFAULT_PARTITIONS);
    }

    /**
     * Creates the four metastream topics ({@link Topics#defaults}) under names no other call returns,
     * e.g. {@code metastream.experience.adaptsAfterFullContextWindow.3-9f2c1a}, and waits until the
     * broker serves them.
     *
     * @param testName part of the names, for reading broker logs; characters Kafka does not allow
     *                 are replaced by '-'
     */
    public TopicNames freshTopics(String testName, int experiencePartitions) {
        String clean = testName == null || testName.isBlank() ? "test" : testName.replaceAll("[^a-zA-Z0-9._-]", "-");
        if (clean.length() > 80) {
            clean = clean.substring(0, 80);
        }
        String suffix = "." + clean + "." + topicCounter.incrementAndGet() + "-" + UUID.randomUUID().toString().substring(0, 6);
        TopicNames names = TopicNames.defaults().withSuffix(suffix);
        TopicLayout.create(admin(), TopicLayout.defaults(names, experiencePartitions), Duration.ofSeconds(60));
        return names;
    }

    /**
     * SIGKILLs the broker, for fault tests. Only the embedded broker supports it; with Docker the test
     * is aborted (see {@link #isEmbedded()} to skip earlier).
     */
    public synchronized void kill() {
        requireStarted();
        if (embedded == null) {
            throw new UnsupportedOperationException("kill() needs the embedded broker; run with -D" + MODE_PROPERTY
                    + "=embedded, or skip the test when isEmbedded() is false");
        }
        embedded.kill();
    }

    private void requireStarted() {
        if (bootstrapServers == null || depth == 0) {
            throw new IllegalStateException("the Kafka broker is not running: register the extension on a static field "
                    + "(@RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension()) and use it from "
                    + "tests or @BeforeEach, not from field initialisers");
        }
    }
}

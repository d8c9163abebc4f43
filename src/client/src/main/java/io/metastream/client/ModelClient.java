package io.metastream.client;

import io.metastream.schema.AdaptedModel;
import io.metastream.schema.ModelVersion;

import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Follows one model's published versions and per-task adaptations on Kafka, for processes that act
 * with the model (robots, simulators, services). It reads the compacted models and adapted topics
 * from the beginning, so it rebuilds the latest state after every start, then keeps up with new
 * records.
 *
 * <pre>{@code
 * try (ModelClient client = ModelClient.builder()
 *         .bootstrapServers("localhost:9092").modelName("pendulum").build()) {
 *     client.start();
 *     client.awaitVersion(1, Duration.ofMinutes(1));
 *     TaskModel m = client.modelFor("task-17").orElseThrow();   // act with m.model(), log m.baseVersion()
 * }
 * }</pre>
 *
 * <p>Every version's parameters are checked against their SHA-256 and encoding, and every adaptation
 * against its checksum, before use ({@link ModelVerifier}); records that fail, or do not decode, are
 * counted in {@link #rejectedRecords()} and logged at WARN, and the client keeps serving the last good
 * state. Only committed records are read ({@code isolation.level=read_committed}). Records of other
 * model names are ignored.
 *
 * <p>Lifecycle: {@link #builder()} &rarr; {@link #start()} (once) &rarr; reads &rarr; {@link #close()}.
 * Reads before the first version return empty results.
 *
 * <p>Threading: {@link #start()} starts one daemon thread that owns the Kafka consumer; all read
 * methods are thread-safe and non-blocking except {@link #awaitVersion}.
 *
 * <p>Known limits: partitions added to the topics after {@link #start()} are not read; an adaptation
 * applies only to versions of the format that declares its type ({@link ModelFormats}).
 */
public final class ModelClient implements AutoCloseable {

    /** Default models topic (compacted, key = model name). */
    public static final String DEFAULT_MODELS_TOPIC = TopicNames.DEFAULT_MODELS;
    /** Default adapted topic (compacted, key = task id). */
    public static final String DEFAULT_ADAPTED_TOPIC = TopicNames.DEFAULT_ADAPTED;
    /**
     * Default number of base-model versions kept. Versions and adaptations become readable together, at
     * each checkpoint of the job, and an adaptation is made on the newest version the task operator has
     * read, one checkpoint earlier: it applies only while its base is still held, so a client must hold
     * more versions than the job publishes per checkpoint. A 2×64 GrBAL learner on two cores publishing
     * every 5 outer steps makes about 8 per 2 s checkpoint, and up to about 80 in 10 s were seen on a
     * loaded machine, where checkpoints also take longer; raise it for a fast learner. Memory: this many copies of the model.
     */
    public static final int DEFAULT_KEEP_VERSIONS = 32;

    private static final Logger LOG = LoggerFactory.getLogger(ModelClient.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration RETRY_BACKOFF = Duration.ofSeconds(1);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final Map<String, Object> consumerProperties;
    private final String modelsTopic;
    private final String adaptedTopic;
    private final String modelName;
    private final ModelState state;
    private final java.util.function.Consumer<ModelVersion> onVersion;
    private final AvroCodec<ModelVersion> modelCodec = Codecs.modelVersion();
    private final AvroCodec<AdaptedModel> adaptedCodec = Codecs.adaptedModel();

    private final Object lifecycle = new Object();
    private volatile boolean closed;
    private volatile Throwable failure;
    private KafkaConsumer<byte[], byte[]> consumer;   // owned by the thread once started
    private Thread thread;

    ModelClient(Map<String, Object> consumerProperties, String modelsTopic, String adaptedTopic, String modelName,
            int keepVersions, Map<String, java.security.PublicKey> trustedKeys, long maxVersionJump,
            java.util.function.Consumer<ModelVersion> onVersion) {
        this.onVersion = onVersion;
        this.consumerProperties = consumerProperties;
        this.modelsTopic = modelsTopic;
        this.adaptedTopic = adaptedTopic;
        this.modelName = modelName;
        this.state = new ModelState(modelName, keepVersions, trustedKeys, maxVersionJump);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts the consumer thread. It waits for the topics to exist, assigns all their partitions,
     * reads them from the beginning and then follows them until {@link #close()}.
     *
     * @throws IllegalStateException if called twice or after {@link #close()}
     */
    public void start() {
        synchronized (lifecycle) {
            if (closed) {
                throw new IllegalStateException("ModelClient is closed; build a new one");
            }
            if (thread != null) {
                throw new IllegalStateException("ModelClient.start() was already called");
            }
            consumer = new KafkaConsumer<>(consumerProperties);
            thread = new Thread(this::run, "metastream-model-client-" + modelName);
            thread.setDaemon(true);
            thread.start();
        }
    }

    /**
     * For a PEARL model: the newest policy with the task's newest posterior (the prior before the job
     * has published one). Sample z from {@link TaskPolicy#belief()} at the start of each episode
     * (posterior sampling) and act with {@link TaskPolicy#policy()}. Empty before the first version or
     * when the model is not a PEARL policy.
     */
    public Optional<TaskPolicy> policyFor(String taskId) {
        return forTask(taskId, TaskPolicy.class);
    }

    /**
     * What an agent acts with in task {@code taskId}, as the newest version's {@link ModelFormat} builds
     * it: the version with the task's verified adaptation applied when one is usable, else the version
     * unadapted. Built once per adaptation and base and cached, so repeated calls are cheap. Empty
     * before the first version or when the newest version's format gives another type than {@code type}
     * ({@link TaskModel} for dynamics models, {@link TaskPolicy} for PEARL policies, or an added format's).
     */
    public <T> Optional<T> forTask(String taskId, Class<T> type) {
        return state.forTask(Objects.requireNonNull(taskId, "taskId"), Objects.requireNonNull(type, "type"));
    }

    /** Newest version held, empty before the first. */
    public OptionalLong latestVersion() {
        return state.latestVersion();
    }

    /**
     * How old the newest version held is (now minus its {@code createdAt}), empty before the first: a
     * process acting with the model should watch it, since a learner that stopped publishing (or a
     * client that stopped reading, see {@link #failure()}) leaves it growing.
     */
    public Optional<Duration> latestVersionAge() {
        return state.latestModelVersion().map(v -> Duration.between(v.getCreatedAt(), java.time.Instant.now()));
    }

    /** The record of the newest version (with its provenance and metrics), empty before the first. */
    public Optional<ModelVersion> latestModelVersion() {
        return state.latestModelVersion();
    }

    /**
     * The newest version's decoded parameters (meta-parameters θ) when they are a {@code type}, e.g.
     * {@code base(DynamicsModel.class)}; empty before the first version.
     */
    public <M> Optional<M> base(Class<M> type) {
        return state.base(Objects.requireNonNull(type, "type"));
    }

    /** The decoded parameters of {@code version} if it is among the newest {@code keepVersions} held and a {@code type}. */
    public <M> Optional<M> version(long version, Class<M> type) {
        return state.version(version, Objects.requireNonNull(type, "type"));
    }

    /**
     * The model to act with in task {@code taskId}: its adapted model if the task has a verified
     * adaptation whose base version is still held ({@code adapted() == true}), else the newest base
     * model. Empty before the first version. The adapted model is built once per adaptation and
     * cached, so repeated calls are cheap.
     */
    public Optional<TaskModel> modelFor(String taskId) {
        return forTask(taskId, TaskModel.class);
    }

    /**
     * What stopped the consumer thread, when it stopped on its own (not by {@link #close()}): the
     * client then serves its last state for good and reads nothing new, so a process that acts with it
     * should check this (with {@link #latestModelVersion()}'s age) and restart it.
     */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /** Records refused so far: undecodable, checksum or encoding mismatch, unusable adaptation. */
    public long rejectedRecords() {
        return state.rejectedRecords();
    }

    /** Distinct verified versions accepted since start. */
    public long versionsSeen() {
        return state.versionsSeen();
    }

    /**
     * Blocks until a version {@code >= version} is held or the timeout passes.
     *
     * @return whether such a version is held
     * @throws IllegalStateException if interrupted (the interrupt flag is restored)
     */
    public boolean awaitVersion(long version, Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        try {
            return state.awaitVersion(version, timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for model version " + version, e);
        }
    }

    /** Stops the consumer thread and closes the consumer. Idempotent; the held state stays readable. */
    @Override
    public void close() {
        Thread t;
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            t = thread;
            if (consumer != null) {
                consumer.wakeup();
            }
        }
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(CLOSE_TIMEOUT.toMillis());
                if (t.isAlive()) {
                    LOG.warn("Model client thread for {} did not stop within {} s", modelName, CLOSE_TIMEOUT.toSeconds());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---------------------------------------------------------------- consumer thread

    private void run() {
        try {
            if (assign()) {
                while (!closed) {
                    pollOnce();
                }
            }
        } catch (WakeupException | InterruptException e) {
            // close() was called
        } catch (RuntimeException | Error e) {
            failure = e;
            LOG.error("Model client thread for {} stopped unexpectedly; no further versions will be read", modelName, e);
        } finally {
            try {
                consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
            } catch (RuntimeException e) {
                LOG.warn("Closing the model client's consumer failed: {}", e.toString());
            }
        }
    }

    /** Waits for both topics, then assigns all partitions from the beginning; false if closed meanwhile. */
    private boolean assign() {
        long waitingSince = System.nanoTime();
        boolean warned = false;
        while (!closed) {
            List<TopicPartition> partitions = new ArrayList<>();
            boolean complete = true;
            for (String topic : List.of(modelsTopic, adaptedTopic)) {
                List<PartitionInfo> infos;
                try {
                    infos = consumer.partitionsFor(topic, METADATA_TIMEOUT);
                } catch (WakeupException | InterruptException e) {
                    throw e;
                } catch (KafkaException e) {
                    LOG.debug("Metadata for {} not available yet: {}", topic, e.toString());
                    infos = List.of();
                }
                if (infos == null || infos.isEmpty()) {
                    complete = false;
                } else {
                    infos.forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
                }
            }
            if (complete) {
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                return true;
            }
            if (!warned && System.nanoTime() - waitingSince > Duration.ofSeconds(30).toNanos()) {
                LOG.warn("Model client for {} is still waiting for topics {} and {} to exist on {}", modelName,
                        modelsTopic, adaptedTopic, consumerProperties.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG));
                warned = true;
            }
            sleep(RETRY_BACKOFF);
        }
        return false;
    }

    private void pollOnce() {
        Iterable<ConsumerRecord<byte[], byte[]>> records;
        try {
            records = consumer.poll(POLL_TIMEOUT);
        } catch (WakeupException | InterruptException e) {
            throw e;
        } catch (KafkaException e) {
            LOG.warn("Model client poll failed, retrying in {} ms: {}", RETRY_BACKOFF.toMillis(), e.toString());
            sleep(RETRY_BACKOFF);
            return;
        }
        for (ConsumerRecord<byte[], byte[]> record : records) {
            try {
                handle(record);
            } catch (RuntimeException | StackOverflowError e) {
                state.reject(record.topic() + "-" + record.partition() + "@" + record.offset() + ": " + e);
            }
        }
    }

    private void handle(ConsumerRecord<byte[], byte[]> record) {
        boolean models = record.topic().equals(modelsTopic);
        if (record.value() == null) {
            if (!models && record.key() != null) {
                state.onAdaptationDeleted(new String(record.key(), StandardCharsets.UTF_8));
            }
            return;
        }
        if (models) {
            ModelVersion v = modelCodec.decode(record.value());
            if (state.onModelVersion(v) && onVersion != null) {
                onVersion.accept(v);
            }
        } else {
            state.onAdaptedModel(adaptedCodec.decode(record.value()));
        }
    }

    private void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptException(e);
        }
    }

    /**
     * Builds a {@link ModelClient}. Required: {@link #bootstrapServers} and {@link #modelName}.
     *
     * <p>Not thread-safe; use one builder from one thread.
     */
    public static final class Builder {
        private static final Set<String> MANAGED = Set.of(
                ConsumerConfig.GROUP_ID_CONFIG, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG);

        private String bootstrapServers;
        private String modelsTopic = DEFAULT_MODELS_TOPIC;
        private String adaptedTopic = DEFAULT_ADAPTED_TOPIC;
        private String modelName;
        private int keepVersions = DEFAULT_KEEP_VERSIONS;
        private Map<String, java.security.PublicKey> trustedKeys;
        private long maxVersionJump = ModelState.DEFAULT_MAX_VERSION_JUMP;
        private java.util.function.Consumer<ModelVersion> onVersion;
        private final Map<String, String> properties = new LinkedHashMap<>();

        private Builder() {
        }

        /** Kafka bootstrap servers, e.g. {@code localhost:9092}. Required. */
        public Builder bootstrapServers(String bootstrapServers) {
            this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            return this;
        }

        /** Topic of published versions; default {@value #DEFAULT_MODELS_TOPIC}. */
        public Builder modelsTopic(String modelsTopic) {
            this.modelsTopic = Objects.requireNonNull(modelsTopic, "modelsTopic");
            return this;
        }

        /** Topic of per-task adaptations; default {@value #DEFAULT_ADAPTED_TOPIC}. */
        public Builder adaptedTopic(String adaptedTopic) {
            this.adaptedTopic = Objects.requireNonNull(adaptedTopic, "adaptedTopic");
            return this;
        }

        /** Name of the model to follow (the {@code modelName} of its records). Required. */
        public Builder modelName(String modelName) {
            this.modelName = Objects.requireNonNull(modelName, "modelName");
            return this;
        }

        /**
         * A Kafka consumer setting, e.g. security or {@code client.id}. The settings that define how the
         * client reads (group, offsets, deserializers, isolation) cannot be changed.
         */
        public Builder property(String key, String value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            if (MANAGED.contains(key)) {
                throw new IllegalArgumentException("consumer property '" + key + "' is set by ModelClient (it assigns "
                        + "partitions itself, reads committed records only, and uses byte-array deserializers)"
                        + (key.equals(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG) ? "; use bootstrapServers(...)" : "")
                        + "; remove it");
            }
            properties.put(key, value);
            return this;
        }

        /**
         * How many of the newest base-model versions to keep for {@link #model(long)} and adaptations; default
         * {@value ModelClient#DEFAULT_KEEP_VERSIONS}: more than the job publishes per checkpoint interval, or adaptations
         * arrive for versions already dropped (see {@link ModelClient#DEFAULT_KEEP_VERSIONS}).
         */
        public Builder keepVersions(int keepVersions) {
            if (keepVersions < 1) {
                throw new IllegalArgumentException("keepVersions must be at least 1, got " + keepVersions);
            }
            this.keepVersions = keepVersions;
            return this;
        }

        /**
         * Accept only versions signed by a key of this PEM file (the learner's public key, see
         * {@link ModelSignatures}); unsigned, wrongly signed and altered versions are refused and counted
         * in {@link #rejectedRecords()}. Without it, any version that passes its checksum is used.
         *
         * @throws IllegalArgumentException when the file cannot be read or holds no Ed25519 public key
         */
        public Builder trustedKeys(java.nio.file.Path publicKeysPem) {
            this.trustedKeys = ModelSignatures.readPublicKeys(publicKeysPem);
            return this;
        }

        /** As {@link #trustedKeys(java.nio.file.Path)}, with keys by key id ({@link ModelSignatures#keyId}). */
        public Builder trustedKeys(Map<String, java.security.PublicKey> keys) {
            if (keys.isEmpty()) {
                throw new IllegalArgumentException("trustedKeys is empty; pass at least the learner's public key");
            }
            this.trustedKeys = Map.copyOf(keys);
            return this;
        }

        /**
         * Called on the client's consumer thread with every version it accepts (verified, and new to it),
         * in the order read; keep it short. Reading {@link #latestModelVersion()} in a loop can miss
         * versions that follow each other quickly; this does not.
         */
        public Builder onVersion(java.util.function.Consumer<ModelVersion> onVersion) {
            this.onVersion = Objects.requireNonNull(onVersion, "onVersion");
            return this;
        }

        /** The largest step from the newest held version to a new one (default 10,000); a larger jump is refused. */
        public Builder maxVersionJump(long maxVersionJump) {
            if (maxVersionJump < 1) {
                throw new IllegalArgumentException("maxVersionJump must be at least 1, got " + maxVersionJump);
            }
            this.maxVersionJump = maxVersionJump;
            return this;
        }

        public ModelClient build() {
            if (bootstrapServers == null || bootstrapServers.isBlank()) {
                throw new IllegalStateException("bootstrapServers is required: call bootstrapServers(\"host:9092\")");
            }
            if (modelName == null || modelName.isBlank()) {
                throw new IllegalStateException("modelName is required: call modelName(...) with the modelName the "
                        + "meta-learner publishes");
            }
            if (modelsTopic.isBlank() || adaptedTopic.isBlank() || modelsTopic.equals(adaptedTopic)) {
                throw new IllegalStateException("modelsTopic and adaptedTopic must be two different non-blank topics, got '"
                        + modelsTopic + "' and '" + adaptedTopic + "'");
            }
            Map<String, Object> p = new LinkedHashMap<>();
            p.put(ConsumerConfig.CLIENT_ID_CONFIG, "metastream-model-client-" + modelName);
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            // Model records can be up to 20 MiB; let one fetch carry one.
            p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 32 * 1024 * 1024);
            p.putAll(properties);
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
            return new ModelClient(Map.copyOf(p), modelsTopic, adaptedTopic, modelName, keepVersions, trustedKeys, maxVersionJump, onVersion);
        }
    }
}

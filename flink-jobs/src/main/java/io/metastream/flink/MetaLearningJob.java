package io.metastream.flink;

import io.metastream.client.Codecs;
import io.metastream.client.CommandLineArgs;
import io.metastream.core.settings.SettingsTable;
import io.metastream.client.TopicReader;
import io.metastream.client.TransitionRules;
import io.metastream.flink.internal.AvroRecordSerializer;
import io.metastream.flink.internal.ModelBroadcast;
import io.metastream.flink.internal.ModelVersionDeserializer;
import io.metastream.flink.internal.RawRecord;
import io.metastream.flink.internal.RawRecordDeserializer;
import io.metastream.flink.internal.TaskOperator;
import io.metastream.flink.internal.TransitionValidator;
import io.metastream.schema.AdaptedModel;
import io.metastream.schema.DeadLetter;
import io.metastream.schema.ModelVersion;
import io.metastream.schema.Transition;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.operators.SlotSharingGroup;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

/**
 * The metastream job: experience in, model versions and per-task adaptations out.
 *
 * <pre>
 *   experience ─► validate ─bad─► dead-letters
 *                    │ good
 *                    ▼ keyBy(taskId)
 *   models ─broadcast─► task adaptation (inner loop) ─► adapted
 *                    │ task segments
 *                    ▼
 *               meta-learner (outer loop, parallelism 1) ─► models  (read back above: the feedback edge)
 * </pre>
 *
 * <p>The job receives its sources and sinks ({@link #MetaLearningJob}); {@link #fromKafka} wires the
 * production Kafka endpoints and tests pass their own. {@link #build} adds the graph to an environment.
 */
public final class MetaLearningJob {

    private final Configuration config;
    private final Source<RawRecord, ?, ?> experience;
    private final Source<ModelVersion, ?, ?> models;
    private final Sink<ModelVersion> modelSink;
    private final Sink<AdaptedModel> adaptedSink;
    private final Sink<DeadLetter> deadLetterSink;

    public MetaLearningJob(Configuration config, Source<RawRecord, ?, ?> experience, Source<ModelVersion, ?, ?> models,
            Sink<ModelVersion> modelSink, Sink<AdaptedModel> adaptedSink, Sink<DeadLetter> deadLetterSink) {
        this.config = Objects.requireNonNull(config, "config");
        this.experience = Objects.requireNonNull(experience, "experience");
        this.models = Objects.requireNonNull(models, "models");
        this.modelSink = Objects.requireNonNull(modelSink, "modelSink");
        this.adaptedSink = Objects.requireNonNull(adaptedSink, "adaptedSink");
        this.deadLetterSink = Objects.requireNonNull(deadLetterSink, "deadLetterSink");
        algorithm(config).validate(algorithmSettings(config)); // unknown or invalid algorithm keys fail here
    }

    /**
     * The algorithm {@code metastream.algorithm} names.
     *
     * @throws IllegalArgumentException for a name no registered algorithm has
     */
    public static MetaAlgorithm<?> algorithm(Configuration config) {
        return MetaAlgorithms.byName(config.get(MetaStreamOptions.ALGORITHM));
    }

    /** The job wired to the Kafka topics named in {@code config}, exactly-once on every sink. */
    public static MetaLearningJob fromKafka(Configuration config) {
        String servers = config.getOptional(MetaStreamOptions.BOOTSTRAP_SERVERS).orElseThrow(() ->
                new IllegalArgumentException("set " + MetaStreamOptions.BOOTSTRAP_SERVERS.key()
                        + " (e.g. --metastream.bootstrap-servers localhost:9092)"));
        Properties kafka = kafkaProperties(config);
        String group = config.get(MetaStreamOptions.GROUP_ID);
        String transactions = transactionalIdPrefix(config);

        KafkaSource<RawRecord> experience = source(servers, kafka, config.get(MetaStreamOptions.EXPERIENCE_TOPIC),
                group + "-experience", new RawRecordDeserializer());
        KafkaSource<ModelVersion> models = source(servers, kafka, config.get(MetaStreamOptions.MODELS_TOPIC),
                group + "-models", new ModelVersionDeserializer());

        String modelsTopic = config.get(MetaStreamOptions.MODELS_TOPIC);
        String adaptedTopic = config.get(MetaStreamOptions.ADAPTED_TOPIC);
        String deadTopic = config.get(MetaStreamOptions.DEAD_LETTER_TOPIC);
        return new MetaLearningJob(config, experience, models,
                exactlyOnceSink(config, servers, kafka, transactions + "-models",
                        new AvroRecordSerializer<ModelVersion>(modelsTopic, Codecs::modelVersion,
                                m -> m.getModelName().getBytes(StandardCharsets.UTF_8))),
                exactlyOnceSink(config, servers, kafka, transactions + "-adapted",
                        new AvroRecordSerializer<AdaptedModel>(adaptedTopic, Codecs::adaptedModel,
                                a -> a.getTaskId().getBytes(StandardCharsets.UTF_8))),
                exactlyOnceSink(config, servers, kafka, transactions + "-dead-letters",
                        new AvroRecordSerializer<DeadLetter>(deadTopic, Codecs::deadLetter,
                                d -> d.getKey() == null ? null : bytes(d.getKey()))));
    }

    /**
     * The sinks' transactional-id prefix: the group id and the model name, so that two jobs of other
     * models on one Kafka cluster never fence each other's transactions even with the default group id.
     */
    static String transactionalIdPrefix(Configuration config) {
        return config.get(MetaStreamOptions.GROUP_ID) + "-" + config.get(MetaStreamOptions.MODEL_NAME);
    }

    /** A read_committed source that starts from the group's committed offsets, else the earliest. */
    private static <T> KafkaSource<T> source(String servers, Properties kafka, String topic, String groupId,
            org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema<T> schema) {
        return KafkaSource.<T>builder()
                .setBootstrapServers(servers)
                .setTopics(topic)
                .setGroupId(groupId)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(schema)
                .setProperties(kafka)
                .setProperty("isolation.level", "read_committed")
                .build();
    }

    private static byte[] bytes(java.nio.ByteBuffer b) {
        java.nio.ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    private static <T> KafkaSink<T> exactlyOnceSink(Configuration config, String servers, Properties kafka,
            String transactionalIdPrefix, org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema<T> schema) {
        return KafkaSink.<T>builder()
                .setBootstrapServers(servers)
                .setKafkaProducerConfig(kafka)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(transactionalIdPrefix)
                .setProperty("transaction.timeout.ms",
                        Long.toString(config.get(MetaStreamOptions.TRANSACTION_TIMEOUT).toMillis()))
                .setProperty("max.request.size", "20971520")
                // an AdaptedModel's delta is mostly zeros when only the last layer adapts (GrBAL's ridge rule):
                // compressed batches keep the adapted topic from dominating the brokers' bandwidth
                .setProperty("compression.type", kafka.getProperty("compression.type", "lz4"))
                .setRecordSerializer(schema)
                .build();
    }

    /** Kafka client properties from {@code kafka.*} keys (security settings and the like). */
    static Properties kafkaProperties(Configuration config) {
        Properties p = new Properties();
        config.toMap().forEach((k, v) -> {
            if (k.startsWith(MetaStreamOptions.KAFKA_PREFIX)) {
                p.setProperty(k.substring(MetaStreamOptions.KAFKA_PREFIX.length()), v);
            }
        });
        return p;
    }

    /** The selected algorithm's settings: its prefixed keys, stripped, plus the job's observation and action sizes. */
    public static Map<String, String> algorithmSettings(Configuration config) {
        return algorithmConfig(config, algorithm(config).settingsPrefix());
    }

    /**
     * The {@code prefix}-stripped keys of one algorithm plus {@code obsDim} and {@code actDim} from
     * {@link MetaStreamOptions#OBS_DIM} and {@link MetaStreamOptions#ACT_DIM}: the sizes are job settings,
     * declared once, so an algorithm key that also names them is refused instead of silently overwritten.
     */
    static Map<String, String> algorithmConfig(Configuration config, String prefix) {
        Map<String, String> m = new HashMap<>();
        config.toMap().forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                String key = k.substring(prefix.length());
                if (key.equals(SettingsTable.OBS_DIM) || key.equals(SettingsTable.ACT_DIM)) {
                    throw new IllegalArgumentException(k + " is not a setting: observation and action sizes are job "
                            + "settings, set " + (key.equals(SettingsTable.OBS_DIM) ? MetaStreamOptions.OBS_DIM.key()
                            : MetaStreamOptions.ACT_DIM.key()) + " instead");
                }
                m.put(key, v);
            }
        });
        m.put(SettingsTable.OBS_DIM, Integer.toString(obsDim(config)));
        m.put(SettingsTable.ACT_DIM, Integer.toString(actDim(config)));
        return m;
    }

    /** {@link MetaStreamOptions#OBS_DIM}, which must be set and positive. */
    public static int obsDim(Configuration config) {
        return requiredSize(config, MetaStreamOptions.OBS_DIM);
    }

    /** {@link MetaStreamOptions#ACT_DIM}, which must be set and positive. */
    public static int actDim(Configuration config) {
        return requiredSize(config, MetaStreamOptions.ACT_DIM);
    }

    private static int requiredSize(Configuration config, org.apache.flink.configuration.ConfigOption<Integer> option) {
        int n = config.getOptional(option).orElseThrow(() -> new IllegalArgumentException("set " + option.key()
                + ": the job validates every Transition against the observation and action sizes your producers "
                + "write (" + MetaStreamOptions.OBS_DIM.key() + " and " + MetaStreamOptions.ACT_DIM.key()
                + "; bin/metastream derives them from --family)"));
        if (n <= 0) {
            throw new IllegalArgumentException(option.key() + " must be positive, got " + n);
        }
        return n;
    }

    /**
     * Environment settings the job relies on: no Kryo, the state backend {@code metastream.state-backend} names
     * (RocksDB with incremental checkpoints unless they are set otherwise), and checkpoints kept when the job is cancelled
     * or fails for good ({@code execution.checkpointing.externalized-checkpoint-retention}
     * RETAIN_ON_CANCELLATION unless set), so that it can always be resumed with its version numbering
     * ({@code flink run -s <checkpoint>}). The restart strategy is left to the cluster: with checkpoints
     * on, Flink's default is exponential-delay without an attempt limit, which outlives a broker outage
     * (a hard-coded budget of 20 restarts ended the job after about 130 s of a lost TaskManager).
     */
    public static Configuration environmentConfig(Configuration config) {
        Configuration env = new Configuration(config);
        env.set(PipelineOptions.GENERIC_TYPES, false);
        if (!config.contains(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION)) {
            env.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                    ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        }
        config.getOptional(MetaStreamOptions.STATE_BACKEND).ifPresent(value -> {
            String backend = value.trim().toLowerCase(java.util.Locale.ROOT);
            if (!backend.equals("hashmap") && !backend.equals("rocksdb")) {
                throw new IllegalArgumentException(MetaStreamOptions.STATE_BACKEND.key() + " must be hashmap or rocksdb, got '"
                        + value + "'");
            }
            env.set(org.apache.flink.configuration.StateBackendOptions.STATE_BACKEND, backend);
            if (backend.equals("rocksdb") && !config.contains(CheckpointingOptions.INCREMENTAL_CHECKPOINTS)) {
                env.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
            }
        });
        return env;
    }

    /**
     * What the functions read at run time, as global job parameters: the key files of signed versions
     * ({@link io.metastream.flink.internal.ModelTrust}; the functions read the keys on the TaskManagers)
     * the learner's stall warning and compute share, and the time to live of task state. The files are read here once too, so
     * that a wrong path or key fails the submission rather than the running job.
     */
    static Map<String, String> functionParameters(Configuration config) {
        Map<String, String> p = new java.util.HashMap<>();
        p.put(MetaStreamOptions.STALL_WARNING_AFTER.key(), config.get(MetaStreamOptions.STALL_WARNING_AFTER).toString());
        p.put(MetaStreamOptions.TASK_STATE_TTL.key(), config.get(MetaStreamOptions.TASK_STATE_TTL).toString());
        p.put(MetaStreamOptions.LEARNER_BUSY_LIMIT.key(), Double.toString(config.get(MetaStreamOptions.LEARNER_BUSY_LIMIT)));
        io.metastream.flink.internal.ComputeBudget.from(p); // an out-of-range limit fails the submission
        config.getOptional(MetaStreamOptions.SIGNING_KEY_FILE).ifPresent(v -> p.put(MetaStreamOptions.SIGNING_KEY_FILE.key(), v));
        config.getOptional(MetaStreamOptions.TRUSTED_KEYS_FILE).ifPresent(v -> p.put(MetaStreamOptions.TRUSTED_KEYS_FILE.key(), v));
        if (!io.metastream.flink.internal.ModelTrust.from(p).verifies()) {
            org.slf4j.LoggerFactory.getLogger(MetaLearningJob.class).warn("Model versions are published unsigned and "
                    + "any version on the models topic that passes its checksum is taken: set {} and {} (README "
                    + "\"Trusted models\")", MetaStreamOptions.SIGNING_KEY_FILE.key(), MetaStreamOptions.TRUSTED_KEYS_FILE.key());
        }
        return p;
    }

    /** The compiled {@code metastream.task-id-pattern}, or null when unset. */
    static java.util.regex.Pattern taskIdPattern(Configuration config) {
        String p = config.getOptional(MetaStreamOptions.TASK_ID_PATTERN).orElse(null);
        if (p == null || p.isBlank()) {
            return null;
        }
        try {
            return java.util.regex.Pattern.compile(p);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException(MetaStreamOptions.TASK_ID_PATTERN.key() + " is not a regular expression: "
                    + e.getMessage(), e);
        }
    }

    /** Adds the job's graph to {@code env}. */
    public void build(StreamExecutionEnvironment env) {
        SingleOutputStreamOperator<Transition> transitions = validatedTransitions(env);
        DataStream<ModelVersion> theta = env
                .fromSource(models, WatermarkStrategy.noWatermarks(), "models")
                .uid("models-source")
                .setParallelism(1)
                .broadcast();
        buildAlgorithm(algorithm(config), transitions, theta, config.get(MetaStreamOptions.MODEL_NAME),
                config.get(MetaStreamOptions.PARALLELISM));
    }

    /**
     * The job's front half alone: the environment's settings (exactly-once checkpoints included), the
     * experience source, validation and the dead-letter sink; returns the valid transitions. {@link #build}
     * continues from here; {@code bench stream} measures this part's ceiling with nothing after it.
     */
    public SingleOutputStreamOperator<Transition> validatedTransitions(StreamExecutionEnvironment env) {
        env.configure(environmentConfig(config));
        env.getConfig().setGlobalJobParameters(Configuration.fromMap(functionParameters(config)));
        env.enableCheckpointing(config.get(MetaStreamOptions.CHECKPOINT_INTERVAL).toMillis(), CheckpointingMode.EXACTLY_ONCE);
        env.setMaxParallelism(config.get(MetaStreamOptions.MAX_PARALLELISM));
        int parallelism = config.get(MetaStreamOptions.PARALLELISM);

        SingleOutputStreamOperator<Transition> transitions = env
                .fromSource(experience, WatermarkStrategy.noWatermarks(), "experience")
                .uid("experience-source")
                .setParallelism(parallelism)
                .process(new TransitionValidator(new TransitionRules(obsDim(config), actDim(config),
                        config.get(MetaStreamOptions.MAX_ABS_VALUE), taskIdPattern(config)),
                        config.get(MetaStreamOptions.MAX_RECORD_BYTES)))
                .returns(new AvroTypeInfo<>(Transition.class))
                .name("validate")
                .uid("validate")
                .setParallelism(parallelism);
        transitions.getSideOutput(TransitionValidator.DEAD_LETTERS)
                .sinkTo(deadLetterSink).name("dead-letters").uid("dead-letter-sink").setParallelism(1);
        return transitions;
    }

    /**
     * The algorithm's part of the graph: its keyed task operator (connected to the model broadcast) and
     * its learner (parallelism 1), both under the algorithm's own uids.
     */
    private <S> void buildAlgorithm(MetaAlgorithm<S> algorithm, SingleOutputStreamOperator<Transition> transitions,
            DataStream<ModelVersion> theta, String modelName, int parallelism) {
        MetaAlgorithm.Context context = new MetaAlgorithm.Context(config, modelName, algorithmSettings(config), jobInfo());
        MetaAlgorithm.Operators ops = algorithm.operators();
        SingleOutputStreamOperator<AdaptedModel> adapted = transitions
                .keyBy(Transition::getTaskId, Types.STRING)
                .connect(theta)
                .transform(ops.task(), new AvroTypeInfo<>(AdaptedModel.class), new TaskOperator<>(algorithm.taskFunction(context)))
                .name(ops.task())
                .uid(ops.task())
                .setParallelism(parallelism);
        adapted.sinkTo(adaptedSink).name("adapted").uid(ops.adaptedSink()).setParallelism(parallelism);

        SingleOutputStreamOperator<ModelVersion> learner = adapted.getSideOutput(algorithm.learnerInput())
                .process(algorithm.learnerFunction(context))
                .returns(new AvroTypeInfo<>(ModelVersion.class))
                .name(ops.learner())
                .uid(ops.learner())
                .setParallelism(1)
                .setMaxParallelism(1);
        onGpu(learner).sinkTo(modelSink).name("models").uid(ops.modelsSink()).setParallelism(1);
    }

    /** The job settings every version's provenance records; the task family only where it was given. */
    private Map<String, String> jobInfo() {
        Map<String, String> info = new HashMap<>();
        config.getOptional(MetaStreamOptions.TASK_FAMILY).ifPresent(f -> info.put("taskFamily", f));
        return info;
    }

    /**
     * With {@code metastream.learner.gpu}, the learner gets its own slot sharing group asking for one
     * {@code gpu} external resource (Flink's GPU plugin; fine-grained resource management must be on),
     * so the cluster places it on a TaskManager that has a GPU.
     */
    private SingleOutputStreamOperator<ModelVersion> onGpu(SingleOutputStreamOperator<ModelVersion> learner) {
        if (config.get(MetaStreamOptions.LEARNER_GPU)) {
            learner.slotSharingGroup(SlotSharingGroup.newBuilder("meta-learner-gpu")
                    .setCpuCores(1.0)
                    .setTaskHeapMemoryMB(1024)
                    .setExternalResource("gpu", 1.0)
                    .build());
        }
        return learner;
    }

    /**
     * Entry point for {@code flink run}: every option as {@code --key value} (see {@link MetaStreamOptions};
     * {@code grbal.*} and {@code kafka.*} keys pass through).
     */
    public static void main(String[] args) throws Exception {
        Configuration config = parseArgs(args);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(environmentConfig(config));
        boolean fromSavepoint = env.getConfiguration().getOptional(StateRecoveryOptions.SAVEPOINT_PATH).isPresent();
        if (!fromSavepoint && !config.get(MetaStreamOptions.ALLOW_VERSION_RESTART)) {
            refuseToRestartNumbering(config);
        }
        fromKafka(config).build(env);
        env.execute("metastream " + config.get(MetaStreamOptions.MODEL_NAME));
    }

    /**
     * Fails when the models topic already holds versions of this job's model: a job started without
     * its state would publish version 1 again, and consumers would see two different version 1s.
     */
    static void refuseToRestartNumbering(Configuration config) {
        String servers = config.get(MetaStreamOptions.BOOTSTRAP_SERVERS);
        String topic = config.get(MetaStreamOptions.MODELS_TOPIC);
        String modelName = config.get(MetaStreamOptions.MODEL_NAME);
        Properties p = kafkaProperties(config);
        p.put("bootstrap.servers", servers);
        byte[] key = modelName.getBytes(StandardCharsets.UTF_8);
        TopicReader.Stop stop = TopicReader.read(p, topic, Long.MAX_VALUE, GUARD_SCAN_TIMEOUT, r -> {
            if (r.value() != null && java.util.Arrays.equals(r.key(), key)) {
                throw new IllegalStateException("topic " + topic + " already holds versions of model '"
                        + modelName + "' and this job starts without state, so it would publish version 1 "
                        + "again. Restart from a savepoint or retained checkpoint (flink run -s <path> ...), "
                        + "choose a new --metastream.model-name, or set --metastream.allow-version-restart true");
            }
        });
        guardScanEnded(stop, topic, modelName);
    }

    /** How long the numbering guard may read the models topic. */
    static final Duration GUARD_SCAN_TIMEOUT = Duration.ofSeconds(60);

    /** The guard fails closed: a scan that did not reach the topic's end has not shown that it is safe to start. */
    static void guardScanEnded(TopicReader.Stop stop, String topic, String modelName) {
        if (stop != TopicReader.Stop.END) {
            throw new IllegalStateException("could not read topic " + topic + " to its end within "
                    + GUARD_SCAN_TIMEOUT.toSeconds() + " s (" + stop + ") to check that it holds no versions of model '"
                    + modelName + "'; refusing to start without state. Check the brokers and the kafka.* settings, "
                    + "restart from a savepoint or retained checkpoint, or set --metastream.allow-version-restart true");
        }
    }

    /**
     * Parses {@code --key value} pairs with the project's one command-line parser; a key without a value,
     * a key given twice or a stray word is an error that names it.
     */
    public static Configuration parseArgs(String[] args) {
        return Configuration.fromMap(new CommandLineArgs(args, java.util.Set.of()).all());
    }

}

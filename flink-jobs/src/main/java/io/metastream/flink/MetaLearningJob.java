package io.metastream.flink;

import io.metastream.client.Codecs;
import io.metastream.flink.internal.AvroRecordSerializer;
import io.metastream.flink.internal.MetaLearnerFunction;
import io.metastream.flink.internal.PearlLearnerFunction;
import io.metastream.flink.internal.PearlTaskFunction;
import io.metastream.flink.internal.ModelVersionDeserializer;
import io.metastream.flink.internal.RawRecord;
import io.metastream.flink.internal.RawRecordDeserializer;
import io.metastream.flink.internal.TaskAdaptationFunction;
import io.metastream.flink.internal.TaskSegment;
import io.metastream.flink.internal.TransitionValidator;
import io.metastream.schema.AdaptedModel;
import io.metastream.schema.DeadLetter;
import io.metastream.schema.ModelVersion;
import io.metastream.schema.Transition;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.operators.SlotSharingGroup;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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
        if (isPearl(config)) {
            io.metastream.core.pearl.PearlConfig.fromMap(pearlConfig(config)); // unknown or invalid pearl.* keys fail here
        } else {
            io.metastream.core.grbal.GrbalConfig.fromMap(grbalConfig(config)); // unknown or invalid grbal.* keys fail here
        }
    }

    /**
     * True for {@code metastream.algorithm = pearl}, false for grbal.
     *
     * @throws IllegalArgumentException for any other value
     */
    public static boolean isPearl(Configuration config) {
        String algorithm = config.get(MetaStreamOptions.ALGORITHM);
        if ("pearl".equalsIgnoreCase(algorithm)) {
            return true;
        }
        if ("grbal".equalsIgnoreCase(algorithm)) {
            return false;
        }
        throw new IllegalArgumentException("metastream.algorithm '" + algorithm + "' is not supported; supported: grbal, pearl");
    }

    /** The job wired to the Kafka topics named in {@code config}, exactly-once on every sink. */
    public static MetaLearningJob fromKafka(Configuration config) {
        String servers = config.getOptional(MetaStreamOptions.BOOTSTRAP_SERVERS).orElseThrow(() ->
                new IllegalArgumentException("set " + MetaStreamOptions.BOOTSTRAP_SERVERS.key()
                        + " (e.g. --metastream.bootstrap-servers localhost:9092)"));
        Properties kafka = kafkaProperties(config);
        String group = config.get(MetaStreamOptions.GROUP_ID);

        KafkaSource<RawRecord> experience = source(servers, kafka, config.get(MetaStreamOptions.EXPERIENCE_TOPIC),
                group + "-experience", new RawRecordDeserializer());
        KafkaSource<ModelVersion> models = source(servers, kafka, config.get(MetaStreamOptions.MODELS_TOPIC),
                group + "-models", new ModelVersionDeserializer());

        String modelsTopic = config.get(MetaStreamOptions.MODELS_TOPIC);
        String adaptedTopic = config.get(MetaStreamOptions.ADAPTED_TOPIC);
        String deadTopic = config.get(MetaStreamOptions.DEAD_LETTER_TOPIC);
        return new MetaLearningJob(config, experience, models,
                exactlyOnceSink(config, servers, kafka, group + "-models",
                        new AvroRecordSerializer<ModelVersion>(modelsTopic, Codecs::modelVersion,
                                m -> m.getModelName().getBytes(StandardCharsets.UTF_8))),
                exactlyOnceSink(config, servers, kafka, group + "-adapted",
                        new AvroRecordSerializer<AdaptedModel>(adaptedTopic, Codecs::adaptedModel,
                                a -> a.getTaskId().getBytes(StandardCharsets.UTF_8))),
                exactlyOnceSink(config, servers, kafka, group + "-dead-letters",
                        new AvroRecordSerializer<DeadLetter>(deadTopic, Codecs::deadLetter,
                                d -> d.getKey() == null ? null : bytes(d.getKey()))));
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

    /** The algorithm configuration: {@code grbal.*} keys plus the task family's observation and action sizes. */
    public static Map<String, String> grbalConfig(Configuration config) {
        TaskFamily family = TaskFamilies.byName(config.get(MetaStreamOptions.TASK_FAMILY));
        Map<String, String> m = new HashMap<>();
        config.toMap().forEach((k, v) -> {
            if (k.startsWith(MetaStreamOptions.GRBAL_PREFIX)) {
                m.put(k.substring(MetaStreamOptions.GRBAL_PREFIX.length()), v);
            }
        });
        m.put("obsDim", Integer.toString(family.obsDim()));
        m.put("actDim", Integer.toString(family.actDim()));
        return m;
    }

    /**
     * PEARL settings sized for a CPU machine (the reference 3×300 nets take about 0.6 s per learner step
     * on 2 cores), used by the local run and the tests; every key can be overridden with
     * {@code --pearl.<key>}. Reward scale 100 with a fixed temperature of 1 follows oyster's point-robot
     * configuration. The encoder keeps the paper's diagonal factors: rank factors ({@code encoderRank} 1)
     * win offline over 40,000 steps ({@code bench pearl}), but in the stream's first few thousand steps
     * they learned no faster on average and far less reliably (PearlJobIT's gain after 4,500 steps ranged
     * from 0.6 to 5.7 over eight runs, against 3.0 to 3.8 over three runs with diagonal factors). The KL weight
     * and the context sampling stay at the reference (0.1, uniform rows): {@code bench pearl} uses
     * {@code klWeight} 10 and {@code minContextSize} 10, but in the stream's first few thousand steps
     * both learned more slowly. A cluster job uses {@code PearlConfig}'s reference defaults (the paper's
     * diagonal factors) unless given these keys.
     */
    public static final Map<String, String> PEARL_CPU_SETTINGS = Map.ofEntries(
            Map.entry("netHidden", "64,64"), Map.entry("encoderHidden", "64,64"), Map.entry("batchSize", "128"),
            Map.entry("contextSize", "64"), Map.entry("metaBatch", "8"), Map.entry("rewardScale", "100"),
            Map.entry("learnAlpha", "false"), Map.entry("policyLr", "1e-3"), Map.entry("qLr", "1e-3"),
            Map.entry("encoderLr", "1e-3"));

    /** The PEARL configuration: {@code pearl.*} keys plus the task family's observation and action sizes. */
    public static Map<String, String> pearlConfig(Configuration config) {
        TaskFamily family = TaskFamilies.byName(config.get(MetaStreamOptions.TASK_FAMILY));
        Map<String, String> m = new HashMap<>();
        config.toMap().forEach((k, v) -> {
            if (k.startsWith(MetaStreamOptions.PEARL_PREFIX)) {
                m.put(k.substring(MetaStreamOptions.PEARL_PREFIX.length()), v);
            }
        });
        m.put("obsDim", Integer.toString(family.obsDim()));
        m.put("actDim", Integer.toString(family.actDim()));
        return m;
    }

    /** Environment settings the job relies on: exactly-once checkpoints, no Kryo, a restart budget. */
    public static Configuration environmentConfig(Configuration config) {
        Configuration env = new Configuration(config);
        env.set(PipelineOptions.GENERIC_TYPES, false);
        if (!config.contains(RestartStrategyOptions.RESTART_STRATEGY)) {
            env.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            env.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 20);
            env.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(1));
        }
        return env;
    }

    /** Adds the job's graph to {@code env}. */
    public void build(StreamExecutionEnvironment env) {
        env.configure(environmentConfig(config));
        env.enableCheckpointing(config.get(MetaStreamOptions.CHECKPOINT_INTERVAL).toMillis(), CheckpointingMode.EXACTLY_ONCE);
        env.setMaxParallelism(config.get(MetaStreamOptions.MAX_PARALLELISM));
        int parallelism = config.get(MetaStreamOptions.PARALLELISM);
        String modelName = config.get(MetaStreamOptions.MODEL_NAME);
        TaskFamily family = TaskFamilies.byName(config.get(MetaStreamOptions.TASK_FAMILY));

        SingleOutputStreamOperator<Transition> transitions = env
                .fromSource(experience, WatermarkStrategy.noWatermarks(), "experience")
                .uid("experience-source")
                .setParallelism(parallelism)
                .process(new TransitionValidator(family.obsDim(), family.actDim()))
                .returns(new AvroTypeInfo<>(Transition.class))
                .name("validate")
                .uid("validate")
                .setParallelism(parallelism);
        transitions.getSideOutput(TransitionValidator.DEAD_LETTERS)
                .sinkTo(deadLetterSink).name("dead-letters").uid("dead-letter-sink").setParallelism(1);

        BroadcastStream<ModelVersion> theta = env
                .fromSource(models, WatermarkStrategy.noWatermarks(), "models")
                .uid("models-source")
                .setParallelism(1)
                .broadcast(TaskAdaptationFunction.MODELS);
        if (isPearl(config)) {
            buildPearl(transitions, theta, family, modelName, parallelism);
            return;
        }
        Map<String, String> grbal = grbalConfig(config);

        SingleOutputStreamOperator<AdaptedModel> adapted = transitions
                .keyBy(Transition::getTaskId, Types.STRING)
                .connect(theta)
                .process(new TaskAdaptationFunction(modelName, grbal,
                        config.get(MetaStreamOptions.ADAPT_EVERY), config.get(MetaStreamOptions.SEGMENT_STRIDE),
                        config.get(MetaStreamOptions.REPLAY_CAPACITY), config.get(MetaStreamOptions.REPLAY_SEGMENTS)))
                .returns(new AvroTypeInfo<>(AdaptedModel.class))
                .name("task-adaptation")
                .uid("task-adaptation")
                .setParallelism(parallelism);
        adapted.sinkTo(adaptedSink).name("adapted").uid("adapted-sink").setParallelism(parallelism);

        DataStream<TaskSegment> segments = adapted.getSideOutput(TaskAdaptationFunction.SEGMENTS);
        Map<String, String> jobInfo = new HashMap<>();
        jobInfo.put("taskFamily", family.name());
        jobInfo.put("adaptEvery", Integer.toString(config.get(MetaStreamOptions.ADAPT_EVERY)));
        jobInfo.put("segmentStride", Integer.toString(config.get(MetaStreamOptions.SEGMENT_STRIDE)));
        jobInfo.put("replayCapacity", Integer.toString(config.get(MetaStreamOptions.REPLAY_CAPACITY)));
        jobInfo.put("replaySegments", Integer.toString(config.get(MetaStreamOptions.REPLAY_SEGMENTS)));
        jobInfo.put("publishEvery", Integer.toString(config.get(MetaStreamOptions.PUBLISH_EVERY)));
        SingleOutputStreamOperator<ModelVersion> learner = segments
                .process(new MetaLearnerFunction(modelName, grbal, jobInfo,
                        config.get(MetaStreamOptions.PUBLISH_EVERY), config.get(MetaStreamOptions.MAX_POLICY_LAG)))
                .returns(new AvroTypeInfo<>(ModelVersion.class))
                .name("meta-learner")
                .uid("meta-learner")
                .setParallelism(1)
                .setMaxParallelism(1);
        onGpu(learner).sinkTo(modelSink).name("models").uid("models-sink").setParallelism(1);
    }

    /**
     * PEARL: the task operator keeps each task's context window and replay shard and emits posteriors;
     * task samples go to the PEARL learner (parallelism 1). Operator uids differ from GrBAL's, so a
     * savepoint of one algorithm is never restored into the other.
     */
    private void buildPearl(SingleOutputStreamOperator<Transition> transitions, BroadcastStream<ModelVersion> theta,
            TaskFamily family, String modelName, int parallelism) {
        Map<String, String> pearl = pearlConfig(config);
        SingleOutputStreamOperator<AdaptedModel> posteriors = transitions
                .keyBy(Transition::getTaskId, Types.STRING)
                .connect(theta)
                .process(new PearlTaskFunction(modelName, pearl, config.get(MetaStreamOptions.ADAPT_EVERY),
                        config.get(MetaStreamOptions.SAMPLE_EVERY), config.get(MetaStreamOptions.CONTEXT_WINDOW),
                        config.get(MetaStreamOptions.REPLAY_CAPACITY)))
                .returns(new AvroTypeInfo<>(AdaptedModel.class))
                .name("pearl-task-context")
                .uid("pearl-task-context")
                .setParallelism(parallelism);
        posteriors.sinkTo(adaptedSink).name("adapted").uid("pearl-adapted-sink").setParallelism(parallelism);

        Map<String, String> jobInfo = new HashMap<>();
        jobInfo.put("taskFamily", family.name());
        jobInfo.put("adaptEvery", Integer.toString(config.get(MetaStreamOptions.ADAPT_EVERY)));
        jobInfo.put("contextWindow", Integer.toString(config.get(MetaStreamOptions.CONTEXT_WINDOW)));
        jobInfo.put("sampleEvery", Integer.toString(config.get(MetaStreamOptions.SAMPLE_EVERY)));
        jobInfo.put("replayCapacity", Integer.toString(config.get(MetaStreamOptions.REPLAY_CAPACITY)));
        jobInfo.put("updatesPerSample", Integer.toString(config.get(MetaStreamOptions.UPDATES_PER_SAMPLE)));
        jobInfo.put("publishEvery", Integer.toString(config.get(MetaStreamOptions.PUBLISH_EVERY)));
        SingleOutputStreamOperator<ModelVersion> learner = posteriors.getSideOutput(PearlTaskFunction.SAMPLES)
                .process(new PearlLearnerFunction(modelName, pearl, jobInfo, config.get(MetaStreamOptions.PUBLISH_EVERY),
                        config.get(MetaStreamOptions.UPDATES_PER_SAMPLE),
                        config.get(MetaStreamOptions.MAX_SAMPLE_AGE).toMillis()))
                .returns(new AvroTypeInfo<>(ModelVersion.class))
                .name("pearl-meta-learner")
                .uid("pearl-meta-learner")
                .setParallelism(1)
                .setMaxParallelism(1);
        onGpu(learner).sinkTo(modelSink).name("models").uid("pearl-models-sink").setParallelism(1);
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
        p.put("isolation.level", "read_committed");
        p.put("enable.auto.commit", "false");
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            consumer.partitionsFor(topic, Duration.ofSeconds(30)).forEach(i -> parts.add(new TopicPartition(topic, i.partition())));
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            byte[] key = modelName.getBytes(StandardCharsets.UTF_8);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline && parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.value() != null && java.util.Arrays.equals(r.key(), key)) {
                        throw new IllegalStateException("topic " + topic + " already holds versions of model '"
                                + modelName + "' and this job starts without state, so it would publish version 1 "
                                + "again. Restart from a savepoint (flink run -s <path> ...), choose a new "
                                + "--metastream.model-name, or set --metastream.allow-version-restart true");
                    }
                }
            }
        }
    }

    /** Parses {@code --key value} pairs; a key without a value or a stray word is an error that names it. */
    public static Configuration parseArgs(String[] args) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || a.length() == 2) {
                throw new IllegalArgumentException("expected --key value, got '" + a + "'");
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + a + " needs a value");
            }
            m.put(a.substring(2), args[++i]);
        }
        return Configuration.fromMap(m);
    }
}

package io.metastream.flink;

import io.metastream.client.TopicNames;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;

import java.time.Duration;

/**
 * The settings every metastream job has, declared once with their type, default and description.
 *
 * <p>Not listed here: an algorithm's own job settings ({@link MetaAlgorithm#options()}, declared in its
 * package), its hyper-parameters (keys prefixed {@code <algorithm>.}, validated by the algorithm, which
 * rejects unknown keys), and keys prefixed {@value #KAFKA_PREFIX}, passed without the prefix to every
 * Kafka client of the job (for example {@code kafka.security.protocol=SASL_SSL}).
 */
public final class MetaStreamOptions {

    public static final String KAFKA_PREFIX = "kafka.";

    public static final ConfigOption<String> BOOTSTRAP_SERVERS =
            ConfigOptions.key("metastream.bootstrap-servers")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("Kafka bootstrap servers, host:port[,host:port...]. Required.");

    public static final ConfigOption<String> EXPERIENCE_TOPIC =
            ConfigOptions.key("metastream.topic.experience")
                    .stringType()
                    .defaultValue(TopicNames.DEFAULT_EXPERIENCE)
                    .withDescription("Topic of Transition records (key = taskId) the fleet produces.");

    public static final ConfigOption<String> MODELS_TOPIC =
            ConfigOptions.key("metastream.topic.models")
                    .stringType()
                    .defaultValue(TopicNames.DEFAULT_MODELS)
                    .withDescription("Compacted topic of ModelVersion records; also read back as the broadcast of theta.");

    public static final ConfigOption<String> ADAPTED_TOPIC =
            ConfigOptions.key("metastream.topic.adapted")
                    .stringType()
                    .defaultValue(TopicNames.DEFAULT_ADAPTED)
                    .withDescription("Compacted topic of AdaptedModel records (key = taskId).");

    public static final ConfigOption<String> DEAD_LETTER_TOPIC =
            ConfigOptions.key("metastream.topic.dead-letters")
                    .stringType()
                    .defaultValue(TopicNames.DEFAULT_DEAD_LETTERS)
                    .withDescription("Topic of DeadLetter records: input the job could not use, with the reason.");

    public static final ConfigOption<Double> MAX_ABS_VALUE =
            ConfigOptions.key("metastream.max-abs-value")
                    .doubleType()
                    .defaultValue(io.metastream.client.TransitionRules.DEFAULT_MAX_ABS_VALUE)
                    .withDescription("Largest magnitude accepted in a Transition's reward, sparseReward, observation, action and "
                            + "nextObservation; a record beyond it is dead-lettered as OUT_OF_RANGE (a finite but huge value "
                            + "would enter the normaliser and every later version).");

    public static final ConfigOption<String> TASK_ID_PATTERN =
            ConfigOptions.key("metastream.task-id-pattern")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("Regular expression the whole taskId of a Transition must match, e.g. 'robot-[0-9]{1,4}'; "
                            + "other records are dead-lettered as INVALID_FIELD. Every accepted task id becomes keyed state "
                            + "in the job, so a deployment that knows its task names should list them. Unset: any id.");

    public static final ConfigOption<Integer> MAX_RECORD_BYTES =
            ConfigOptions.key("metastream.max-record-bytes")
                    .intType()
                    .defaultValue(io.metastream.flink.internal.TransitionValidator.DEFAULT_MAX_RECORD_BYTES)
                    .withDescription("Largest experience record accepted, in bytes; a larger one is dead-lettered as TOO_LARGE "
                            + "without being decoded (its dead letter keeps the first 64 KiB).");

    public static final ConfigOption<String> SIGNING_KEY_FILE =
            ConfigOptions.key(io.metastream.flink.internal.ModelTrust.SIGNING_KEY)
                    .stringType()
                    .noDefaultValue()
                    .withDescription("File (on every TaskManager) with the learner's Ed25519 private key, PKCS#8 PEM "
                            + "(bin/metastream keys writes a pair): every version is signed with it. Needs "
                            + "metastream.trusted-keys-file. Unset: versions are published unsigned.");

    public static final ConfigOption<String> TRUSTED_KEYS_FILE =
            ConfigOptions.key(io.metastream.flink.internal.ModelTrust.TRUSTED_KEYS)
                    .stringType()
                    .noDefaultValue()
                    .withDescription("File (on every TaskManager) with the public keys, X.509 PEM, that versions on the "
                            + "models topic must be signed with; the task operators refuse any other version (unsigned, "
                            + "forged, altered) and count it in rejectedModels. Unset: every version that passes its "
                            + "checksum is taken.");

    public static final ConfigOption<Duration> STALL_WARNING_AFTER =
            ConfigOptions.key(io.metastream.flink.internal.VersionPublisher.STALL_WARNING)
                    .durationType()
                    .defaultValue(Duration.ofMinutes(10))
                    .withDescription("The learner logs a warning when it has published no version for this long although "
                            + "data keeps arriving (every step rejected, every segment stale); the gauge "
                            + "secondsSinceLastVersion shows the same at any time.");

    public static final ConfigOption<Duration> TASK_STATE_TTL =
            ConfigOptions.key(io.metastream.flink.internal.TaskStateTtl.KEY)
                    .durationType()
                    .defaultValue(Duration.ofDays(7))
                    .withDescription("A task that sends no transition for this long loses its keyed state in the job "
                            + "(window, counters), so task ids that stop or were made up do not hold state for ever; "
                            + "0 keeps task state for ever. Processing time, from the task's last transition, by one timer "
                            + "per task (state goes within a sixteenth of the ttl after it is due).");

    public static final ConfigOption<String> GROUP_ID =
            ConfigOptions.key("metastream.group-id")
                    .stringType()
                    .defaultValue("metastream-job")
                    .withDescription("Consumer group id prefix of the job's Kafka sources (offsets live in checkpoints; commits are informational); with the model name also the prefix of its sinks' transactional ids.");

    public static final ConfigOption<String> MODEL_NAME =
            ConfigOptions.key("metastream.model-name")
                    .stringType()
                    .defaultValue(MetaAlgorithms.DEFAULT + "-point-mass")
                    .withDescription("Name of the model the meta-learner publishes (the key on the models topic).");

    public static final ConfigOption<Integer> OBS_DIM =
            ConfigOptions.key("metastream.obs-dim")
                    .intType()
                    .noDefaultValue()
                    .withDescription("Length of every Transition's observation and nextObservation: the validator "
                            + "dead-letters other lengths and the algorithms size their networks by it. Required; "
                            + "bin/metastream takes it from the task family (--family) unless given.");

    public static final ConfigOption<Integer> ACT_DIM =
            ConfigOptions.key("metastream.act-dim")
                    .intType()
                    .noDefaultValue()
                    .withDescription("Length of every Transition's action. Required; bin/metastream takes it from the "
                            + "task family (--family) unless given.");

    public static final ConfigOption<String> TASK_FAMILY =
            ConfigOptions.key("metastream.task-family")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("Name of the task family the producers simulate or run; recorded in each model "
                            + "version's provenance. The job itself needs only metastream.obs-dim and metastream.act-dim.");

    public static final ConfigOption<String> ALGORITHM =
            ConfigOptions.key("metastream.algorithm")
                    .stringType()
                    .defaultValue(MetaAlgorithms.DEFAULT)
                    .withDescription("Meta-learning algorithm: " + MetaAlgorithms.described() + ".");

    public static final ConfigOption<Boolean> LEARNER_GPU =
            ConfigOptions.key("metastream.learner.gpu")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription("Put the meta-learner in its own slot sharing group that requests one 'gpu' "
                            + "external resource, so a cluster with fine-grained resource management schedules it on a "
                            + "GPU TaskManager (see the README's GPU section). Build the job jar with -Pgpu.");

    public static final ConfigOption<Integer> ADAPT_EVERY =
            ConfigOptions.key("metastream.adapt-every")
                    .intType()
                    .defaultValue(1)
                    .withDescription("A task is re-adapted, and its AdaptedModel emitted, just before the next checkpoint barrier once "
                            + "it has this many transitions that no adaptation of it has included yet: at most one adaptation "
                            + "per task per checkpoint, the most an exactly-once (read_committed) reader can see.");

    public static final ConfigOption<Integer> REPLAY_CAPACITY =
            ConfigOptions.key("metastream.replay-capacity")
                    .intType()
                    .defaultValue(1024)
                    .withDescription("Transitions kept per task in keyed state (the task's replay shard); at least M+K.");

    public static final ConfigOption<Integer> PUBLISH_EVERY =
            ConfigOptions.key("metastream.publish-every")
                    .intType()
                    .defaultValue(10)
                    .withDescription("The meta-learner publishes a ModelVersion after this many accepted outer steps.");

    public static final ConfigOption<Double> LEARNER_BUSY_LIMIT =
            ConfigOptions.key(io.metastream.flink.internal.ComputeBudget.KEY)
                    .doubleType()
                    .defaultValue(io.metastream.flink.internal.ComputeBudget.DEFAULT_LIMIT)
                    .withDescription("The share of wall time the meta-learner's gradient steps may take, in (0, 1]. Over "
                            + "it the learner skips the segments or steps it is offered (metrics skippedSegments, "
                            + "skippedSteps) instead of back-pressuring the task operators, so ingestion and adaptation "
                            + "keep their pace when the learner cannot keep up; 1 never skips.");

    public static final ConfigOption<Boolean> ALLOW_VERSION_RESTART =
            ConfigOptions.key("metastream.allow-version-restart")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription("A job started without a savepoint refuses to run when the models topic already holds versions of its model (it would publish version 1 again); set true to allow it anyway.");

    public static final ConfigOption<String> STATE_BACKEND =
            ConfigOptions.key("metastream.state-backend")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("Where task state lives: hashmap (objects on the TaskManager heap) or rocksdb (serialised on "
                            + "local disk, for many tasks or large replay shards; checkpoints then incremental unless "
                            + "execution.checkpointing.incremental is set). Unset: Flink's own state.backend.type (hashmap "
                            + "unless the cluster says otherwise).");

    public static final ConfigOption<Duration> CHECKPOINT_INTERVAL =
            ConfigOptions.key("metastream.checkpoint-interval")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(2))
                    .withDescription("Checkpoint interval. Output becomes visible to read_committed consumers at each checkpoint.");

    public static final ConfigOption<Duration> TRANSACTION_TIMEOUT =
            ConfigOptions.key("metastream.transaction-timeout")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(10))
                    .withDescription("Kafka transaction timeout of the exactly-once sinks; must not exceed the brokers' transaction.max.timeout.ms (15 min by default).");

    public static final ConfigOption<Integer> PARALLELISM =
            ConfigOptions.key("metastream.parallelism")
                    .intType()
                    .defaultValue(2)
                    .withDescription("Parallelism of the source, validation and task operators. The meta-learner always runs with parallelism 1.");

    public static final ConfigOption<Integer> MAX_PARALLELISM =
            ConfigOptions.key("metastream.max-parallelism")
                    .intType()
                    .defaultValue(128)
                    .withDescription("Max parallelism (number of key groups) of keyed state; fixed for the life of the job's savepoints.");

    /** The settings a job cannot run without (the others have defaults or are optional). */
    public static final java.util.Set<ConfigOption<?>> REQUIRED = java.util.Set.of(BOOTSTRAP_SERVERS, OBS_DIM, ACT_DIM);

    /**
     * A configuration for a broker at {@code servers} with the four topics of {@code topics}: what every
     * caller that starts the job next to a broker (the local run, the tests) sets first.
     */
    public static Configuration forBroker(String servers, TopicNames topics) {
        Configuration conf = new Configuration();
        conf.set(BOOTSTRAP_SERVERS, servers);
        conf.set(EXPERIENCE_TOPIC, topics.experience());
        conf.set(MODELS_TOPIC, topics.models());
        conf.set(ADAPTED_TOPIC, topics.adapted());
        conf.set(DEAD_LETTER_TOPIC, topics.deadLetters());
        return conf;
    }

    private MetaStreamOptions() {}
}

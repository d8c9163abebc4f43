package io.metastream.local;

import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The metastream topic layout, declared in one place: how many partitions each topic has and how Kafka
 * keeps its records.
 *
 * <ul>
 *   <li><b>experience</b>: {@code experiencePartitions} partitions, deleted after 7 days. Keyed by
 *       taskId, so one task's transitions stay in order.</li>
 *   <li><b>models</b>: 1 partition, compacted (key modelName), so the latest version of every model
 *       survives forever; 20 MiB records; a version stays readable for at least a minute before
 *       compaction may remove it, so slow readers still see recent versions.</li>
 *   <li><b>adapted</b>: {@code experiencePartitions} partitions, compacted (key taskId): the latest
 *       adaptation of every task; 20 MiB records.</li>
 *   <li><b>dead-letters</b>: 1 partition, deleted after the broker's default retention.</li>
 * </ul>
 *
 * <p>Replication is left to the broker's {@code default.replication.factor}: 1 on the embedded
 * {@link KafkaBroker}, whatever the cluster is configured with elsewhere.
 */
public final class Topics {

    /** Largest record on the models and adapted topics; the embedded broker accepts the same. */
    public static final int MAX_MODEL_MESSAGE_BYTES = 20 * 1024 * 1024;
    /** How long experience records are kept. */
    public static final Duration EXPERIENCE_RETENTION = Duration.ofDays(7);
    /** Minimum time a model version stays in the models topic before compaction may drop it. */
    public static final Duration MODELS_MIN_COMPACTION_LAG = Duration.ofMinutes(1);

    private Topics() {
    }

    /**
     * The four topics to create for {@code names}.
     *
     * @param experiencePartitions partitions of the experience and adapted topics (the task
     *                             parallelism the job can use); at least 1
     */
    public static List<NewTopic> defaults(TopicNames names, int experiencePartitions) {
        Objects.requireNonNull(names, "names");
        if (experiencePartitions < 1) {
            throw new IllegalArgumentException("experiencePartitions must be at least 1, got " + experiencePartitions);
        }
        NewTopic experience = topic(names.experience(), experiencePartitions).configs(Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
                TopicConfig.RETENTION_MS_CONFIG, Long.toString(EXPERIENCE_RETENTION.toMillis())));
        NewTopic models = topic(names.models(), 1).configs(Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_MODEL_MESSAGE_BYTES),
                TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, Long.toString(MODELS_MIN_COMPACTION_LAG.toMillis())));
        NewTopic adapted = topic(names.adapted(), experiencePartitions).configs(Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_MODEL_MESSAGE_BYTES)));
        NewTopic deadLetters = topic(names.deadLetters(), 1).configs(Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE));
        return List.of(experience, models, adapted, deadLetters);
    }

    private static NewTopic topic(String name, int partitions) {
        return new NewTopic(name, Optional.of(partitions), Optional.empty());
    }
}

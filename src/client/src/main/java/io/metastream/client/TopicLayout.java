package io.metastream.client;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The metastream topic layout, declared in one place: how many partitions each topic has and how Kafka
 * keeps its records; and {@link #create}, which makes them on any cluster.
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
 * <p>Replication is left to the broker's {@code default.replication.factor}: 1 on the embedded broker,
 * whatever the cluster is configured with elsewhere. The job, the local broker, the client and the
 * compose file ({@link #kafkaTopicsCommands}) all take the layout from here.
 */
public final class TopicLayout {

    /** Largest record on the models and adapted topics; the embedded broker accepts the same. */
    public static final int MAX_MODEL_MESSAGE_BYTES = 20 * 1024 * 1024;
    /** How long experience records are kept. */
    public static final Duration EXPERIENCE_RETENTION = Duration.ofDays(7);
    /** Minimum time a model version stays in the models topic before compaction may drop it. */
    public static final Duration MODELS_MIN_COMPACTION_LAG = Duration.ofMinutes(1);

    private TopicLayout() {
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

    /**
     * The same layout as {@code kafka-topics.sh --create} command lines (one per topic, {@code $T} standing
     * for the script), as the compose file and a cluster's operator run them.
     */
    public static List<String> kafkaTopicsCommands(TopicNames names, int experiencePartitions, String bootstrapServers,
            int replicationFactor) {
        List<String> lines = new java.util.ArrayList<>();
        for (NewTopic t : defaults(names, experiencePartitions)) {
            StringBuilder b = new StringBuilder("$T --bootstrap-server ").append(bootstrapServers)
                    .append(" --create --if-not-exists --topic ").append(t.name())
                    .append(" --partitions ").append(t.numPartitions())
                    .append(" --replication-factor ").append(replicationFactor);
            new java.util.TreeMap<>(t.configs()).forEach((k, v) -> b.append(" --config ").append(k).append('=').append(v));
            lines.add(b.toString());
        }
        return lines;
    }

    /**
     * Creates {@code topics} and waits until the broker serves every one of them (each partition has a
     * leader). The controller acknowledges a creation before brokers serve the topic; a client that
     * starts in between would see UNKNOWN_TOPIC_OR_PARTITION. Topics that already exist are kept as
     * they are, whatever their configuration (a restart on kept data).
     *
     * @throws IllegalStateException if a topic cannot be created, or is not served within {@code timeout};
     *                               the message names it
     */
    public static void create(Admin admin, Collection<NewTopic> topics, Duration timeout) {
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(timeout, "timeout");
        if (topics.isEmpty()) {
            return;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Map.Entry<String, KafkaFuture<Void>> e : admin.createTopics(topics).values().entrySet()) {
            try {
                e.getValue().get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
            } catch (ExecutionException ex) {
                if (!(ex.getCause() instanceof TopicExistsException)) {
                    throw new IllegalStateException("could not create topic '" + e.getKey() + "': " + ex.getCause(),
                            ex.getCause());
                }
            } catch (TimeoutException ex) {
                throw new IllegalStateException("topic '" + e.getKey() + "' was not created within "
                        + timeout.toSeconds() + " s; is the cluster reachable and healthy?", ex);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while creating topic '" + e.getKey() + "'", ex);
            }
        }
        List<String> names = topics.stream().map(NewTopic::name).toList();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                Map<String, TopicDescription> described =
                        admin.describeTopics(names).allTopicNames().get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
                if (described.values().stream().allMatch(d -> d.partitions().stream().allMatch(p -> p.leader() != null))) {
                    return;
                }
            } catch (ExecutionException | TimeoutException ex) {
                last = ex; // UnknownTopicOrPartitionException until the broker's metadata catches up
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for topics " + names, ex);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for topics " + names, ex);
            }
        }
        throw new IllegalStateException("topics " + names + " were created but are not served after "
                + timeout.toSeconds() + " s", last);
    }

    private static long remainingMillis(long deadlineNanos) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
    }

    private static NewTopic topic(String name, int partitions) {
        return new NewTopic(name, Optional.of(partitions), Optional.empty());
    }
}

package io.metastream.local;

import io.metastream.client.ModelSignatures;
import io.metastream.client.TopicLayout;
import io.metastream.client.TopicNames;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A whole deployment on loopback, each part a separate process: a Kafka cluster of three KRaft nodes
 * (replication 3, {@code min.insync.replicas=2}), the four topics, a learner key pair, and a Flink
 * standalone cluster (one JobManager, two TaskManagers of two slots). What {@code bin/metastream
 * cluster} starts and what the cluster tests kill; the job reaches it through {@code flink run}
 * ({@link #submit}), with the arguments of {@link #jobArguments}, which the README's cluster section
 * prints too ({@code bin/metastream help cluster}).
 *
 * <p>Layout under {@code dir}: {@code kafka/node-<i>}, {@code flink/} (see {@link FlinkCluster}),
 * {@code keys/learner.key} and {@code learner.pub}.
 */
public final class LocalCluster implements AutoCloseable {

    /** The job jar, relative to the project's root. */
    public static final String JOB_JAR = "flink-jobs/target/metastream-flink-jobs-0.1.0-SNAPSHOT-job.jar";

    private final Path dir;
    private final KafkaCluster kafka;
    private final FlinkCluster flink;
    private final TopicNames topics = TopicNames.defaults();

    /**
     * @param dir            the deployment's directory
     * @param flinkClasspath Flink's jars (launcher/target/flink-classpath.txt)
     * @param kafkaClasspath the brokers' class path; null for this JVM's
     * @param taskManagers   TaskManagers to start
     * @param flinkSettings  config.yaml settings over {@link FlinkCluster}'s defaults
     */
    public LocalCluster(Path dir, String flinkClasspath, String kafkaClasspath, int taskManagers,
            Map<String, String> flinkSettings) {
        this.dir = Objects.requireNonNull(dir, "dir").toAbsolutePath();
        this.kafka = new KafkaCluster(this.dir.resolve("kafka"), 3, kafkaClasspath);
        FlinkCluster.Builder b = FlinkCluster.builder().dir(this.dir.resolve("flink")).classpath(flinkClasspath)
                .taskManagers(taskManagers).slotsPerTaskManager(2);
        flinkSettings.forEach(b::setting);
        this.flink = b.build();
    }

    /** Reads {@code launcher/target/flink-classpath.txt} under the project's root. */
    public static String flinkClasspath(Path projectRoot) {
        Path file = projectRoot.resolve("launcher/target/flink-classpath.txt");
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": build the project first (mvn -B install -DskipTests)", e);
        }
    }

    /** Starts Kafka, creates the topics, writes the key pair, starts Flink. */
    public void start() {
        kafka.start();
        kafka.createTopics(TopicLayout.defaults(topics, 4));
        try {
            Path keys = dir.resolve("keys");
            Files.createDirectories(keys);
            if (!Files.exists(keys.resolve("learner.key"))) {
                ModelSignatures.writeNewPair(keys.resolve("learner.key"), keys.resolve("learner.pub"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the learner's key pair under " + dir, e);
        }
        flink.start();
    }

    public KafkaCluster kafka() {
        return kafka;
    }

    public FlinkCluster flink() {
        return flink;
    }

    public TopicNames topics() {
        return topics;
    }

    public Path privateKey() {
        return dir.resolve("keys/learner.key");
    }

    public Path publicKey() {
        return dir.resolve("keys/learner.pub");
    }

    /**
     * The job's arguments on this deployment: see {@link #jobArguments(String, Path, String, String, List)}.
     */
    public List<String> jobArguments(String family, String modelName, List<String> extra) {
        return jobArguments(kafka.bootstrapServers(), dir.resolve("keys"), family, modelName, extra);
    }

    /**
     * The job's arguments on a deployment: brokers, family and its sizes, model name, a checkpoint
     * every 2 s, the signing and trusted keys in {@code keysDir}, then {@code extra} ({@code --key
     * value} pairs). The README's cluster section prints the same list.
     */
    public static List<String> jobArguments(String bootstrapServers, Path keysDir, String family, String modelName,
            List<String> extra) {
        var f = io.metastream.sim.TaskFamilies.byName(family);
        List<String> a = new ArrayList<>(List.of(
                "--metastream.bootstrap-servers", bootstrapServers,
                "--metastream.task-family", family,
                "--metastream.obs-dim", Integer.toString(f.obsDim()),
                "--metastream.act-dim", Integer.toString(f.actDim()),
                "--metastream.model-name", modelName,
                "--metastream.checkpoint-interval", "2s",
                "--metastream.signing-key-file", keysDir.resolve("learner.key").toString(),
                "--metastream.trusted-keys-file", keysDir.resolve("learner.pub").toString()));
        a.addAll(extra);
        return a;
    }

    /** {@code flink run -m <rest> -d [-s from] <job jar> <args>}; returns the job id. */
    public String submit(Path projectRoot, List<String> args, String fromCheckpoint) {
        return flink.submit(projectRoot.resolve(JOB_JAR), args, fromCheckpoint);
    }

    /** Waits until the job's tasks all run. */
    public void awaitRunning(String jobId, Duration timeout) {
        FlinkCluster.await("every task of job " + jobId + " RUNNING", timeout, () -> flink.allTasksRunning(jobId));
    }

    @Override
    public void close() {
        flink.close();
        kafka.close();
    }
}

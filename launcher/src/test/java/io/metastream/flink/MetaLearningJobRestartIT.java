package io.metastream.flink;

import io.metastream.client.ModelClient;
import io.metastream.client.BadRecords;
import io.metastream.client.TopicNames;
import io.metastream.schema.DeadLetter;
import io.metastream.schema.ModelVersion;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.fleet.AgentController;
import io.metastream.sim.fleet.Fleet;
import io.metastream.testing.KafkaExtension;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import static io.metastream.flink.JobTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kills every TaskManager of a running job and starts fresh ones: the job restores from its last
 * checkpoint, and read_committed consumers see every model version exactly once, without a gap, and
 * every dead letter exactly once. On the heap state backend and on RocksDB (incremental checkpoints).
 */
class MetaLearningJobRestartIT {

    @RegisterExtension
    static final KafkaExtension KAFKA = new KafkaExtension();

    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(2);

    /** Index of the first TaskManager still running (MiniCluster numbers them in start order, killed ones included). */
    private static final java.util.concurrent.atomic.AtomicInteger firstLiveTaskManager =
            new java.util.concurrent.atomic.AtomicInteger();

    @ParameterizedTest
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void restoresFromCheckpointWithoutDuplicateOrMissingVersions(String backend, @InjectMiniCluster MiniCluster cluster,
            @TempDir Path checkpoints) throws Exception {
        TopicNames topics = KAFKA.freshTopics("restart-" + backend);
        String servers = KAFKA.bootstrapServers();
        String modelName = "it-restart-" + backend;
        Configuration conf = JobTestSupport.jobConfig(servers, topics, modelName, "pendulum");
        conf.setString("grbal.hidden", "16,16");
        conf.set(MetaStreamOptions.STATE_BACKEND, backend);
        conf.set(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
        TaskFamily family = TaskFamilies.byName("pendulum");

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        MetaLearningJob.fromKafka(conf).build(env);
        JobClient job = env.executeAsync("metastream-restart-it");
        try (ModelClient client = ModelClient.builder().bootstrapServers(servers).modelsTopic(topics.models())
                .adaptedTopic(topics.adapted()).modelName(modelName).build();
             Fleet fleet = Fleet.builder().bootstrapServers(servers).topic(topics.experience()).family(family)
                     .tasks(family.trainTasks(6, 5)).agents(6).seed(5).controllers(AgentController.explore()) // random exploration keeps the fleet cheap
                     .maxTransitionsPerSecond(1500)
                     .build()) {
            client.start();
            fleet.start();
            JobTestSupport.send(servers, BadRecords.oneOfEach(topics.experience(), "pendulum-train-0",
                    family.obsDim(), family.actDim()).values());
            int bad = BadRecords.oneOfEach(topics.experience(), "x", family.obsDim(), family.actDim()).size();
            await("5 versions and one dead letter per bad record before the failure", Duration.ofSeconds(180),
                    () -> client.latestVersion().orElse(0) >= 5
                            && JobTestSupport.readDeadLetters(servers, topics.deadLetters()).size() >= bad);
            long before = client.latestVersion().getAsLong();

            // the cluster is shared by the parameterised runs: its TaskManagers are numbered in start order
            int live = firstLiveTaskManager.getAndAdd(2);
            cluster.terminateTaskManager(live).get();
            cluster.terminateTaskManager(live + 1).get();
            cluster.startTaskManager();
            cluster.startTaskManager();

            await("the job to restart and run again", Duration.ofSeconds(60),
                    () -> restarted(cluster, job) && status(job) == JobStatus.RUNNING);
            JobTestSupport.send(servers, BadRecords.oneOfEach(topics.experience(), "pendulum-train-1",
                    family.obsDim(), family.actDim()).values());
            await("versions beyond the failure and one dead letter per bad record of both rounds", Duration.ofSeconds(180),
                    () -> client.latestVersion().orElse(0) >= before + 5
                            && JobTestSupport.readDeadLetters(servers, topics.deadLetters()).size() >= 2 * bad);
        } finally {
            job.cancel().get();
        }
        if (backend.equals("rocksdb")) {
            // RocksDB's incremental checkpoints write their files once, under shared/, and later checkpoints refer to them
            try (var files = Files.walk(checkpoints)) {
                assertThat(files.filter(f -> f.getParent() != null && f.getParent().getFileName().toString().equals("shared")
                        && Files.isRegularFile(f))).as("files of incremental RocksDB checkpoints").isNotEmpty();
            }
        }

        List<ModelVersion> versions = JobTestSupport.readModels(servers, topics.models());
        List<Long> numbers = versions.stream().map(ModelVersion::getVersion).collect(Collectors.toList());
        assertThat(numbers).doesNotHaveDuplicates().isSorted();
        assertThat(numbers.get(0)).isEqualTo(1L);
        assertThat(numbers.get(numbers.size() - 1)).isEqualTo(numbers.size());
        for (int i = 1; i < versions.size(); i++) {
            assertThat(versions.get(i).getParentVersion()).isEqualTo(versions.get(i - 1).getVersion());
            assertThat(versions.get(i).getOuterSteps()).isGreaterThan(versions.get(i - 1).getOuterSteps());
        }
        List<DeadLetter> dead = JobTestSupport.readDeadLetters(servers, topics.deadLetters());
        assertThat(dead).hasSize(2 * BadRecords.oneOfEach(topics.experience(), "x", family.obsDim(), family.actDim()).size());
        assertThat(dead.stream().map(d -> d.getSourcePartition() + "@" + d.getSourceOffset()))
                .doesNotHaveDuplicates();
    }

    private static boolean restarted(MiniCluster cluster, JobClient job) {
        try {
            return cluster.getExecutionGraph(job.getJobID()).get().getStatusTimestamp(JobStatus.RESTARTING) > 0;
        } catch (Exception e) {
            return false;
        }
    }

    private static JobStatus status(JobClient job) {
        try {
            return job.getJobStatus().get();
        } catch (Exception e) {
            return JobStatus.INITIALIZING;
        }
    }
}

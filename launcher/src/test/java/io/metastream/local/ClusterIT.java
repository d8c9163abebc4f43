package io.metastream.local;

import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.fleet.AgentController;
import io.metastream.sim.fleet.Fleet;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The job jar on a real multi-process deployment: three Kafka brokers and a standalone Flink cluster
 * (one JobManager, two TaskManagers), submitted with {@code flink run}. One TaskManager is killed with
 * SIGKILL under a running fleet, then the job is cancelled and resumed from its retained checkpoint:
 * every transition the experience topic holds is counted exactly once by the job, and versions stay
 * consecutive with their parents chained. The long version (many kills of every kind) is
 * {@code ClusterFaultsIT}, in the {@code faults} profile.
 */
@Timeout(900)
class ClusterIT {

    static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    static LocalCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Path.of("target", "cluster-it").toAbsolutePath();
        KafkaBroker.deleteRecursively(dir);
        cluster = new LocalCluster(dir, LocalCluster.flinkClasspath(ROOT),
                null, 2, Map.of());
        cluster.start();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    static List<String> jobArgs(LocalCluster c, String model) {
        return c.jobArguments("pendulum", model, List.of(
                "--grbal.hidden", "16,16",
                "--metastream.publish-every", "5",
                "--metastream.adapt-every", "1"));
    }

    static Fleet fleet(LocalCluster c, String prefix, int seed) {
        TaskFamily family = TaskFamilies.byName("pendulum");
        return Fleet.builder().bootstrapServers(c.kafka().bootstrapServers()).topic(c.topics().experience())
                .family(family).tasks(family.trainTasks(4, 5)).agents(4).seed(seed).agentIdPrefix(prefix)
                .controllers(AgentController.explore()).maxTransitionsPerSecond(150).build();
    }

    @Test
    void survivesATaskManagerKillAndResumesItsNumberingFromTheRetainedCheckpoint() {
        FlinkCluster flink = cluster.flink();
        String model = "cluster-it";
        try (Ledger ledger = new Ledger(cluster.kafka().bootstrapServers(), cluster.topics().models())) {
            String job = cluster.submit(ROOT, jobArgs(cluster, model), null);
            cluster.awaitRunning(job, Duration.ofSeconds(120));
            try (Fleet f = fleet(cluster, "a-", 1)) {
                f.start();
                FlinkCluster.await("3 versions", Duration.ofSeconds(240), () -> ledger.latestVersion() >= 3);
                FlinkCluster.await("a completed checkpoint", Duration.ofSeconds(60), () -> flink.completedCheckpoints(job) >= 1);
                long before = ledger.latestVersion();
                List<String> running = flink.taskManagersOf(job);
                assertThat(running).as("TaskManagers running the job's tasks").isNotEmpty();
                flink.killTaskManager(running.get(0));
                flink.startTaskManager();
                // the surviving TaskManager may go on publishing until the JobManager notices the loss
                // (heartbeat timeout), so wait for the restart first, then for versions made after it
                FlinkCluster.await("the job restarted after the TaskManager kill", Duration.ofSeconds(180),
                        () -> flink.restarts(job) > 0);
                long atRestart = Math.max(before, ledger.latestVersion());
                FlinkCluster.await("new versions after the restart", Duration.ofSeconds(240),
                        () -> ledger.latestVersion() >= atRestart + 3);
                assertThat(flink.jobState(job)).hasValue("RUNNING");
                assertThat(flink.restarts(job)).as("the kill made the job restart").isPositive();
            }
            Ledger.Check afterKill = ledger.awaitCaughtUp(cluster.topics().experience(), cluster.topics().adapted(),
                    Duration.ofSeconds(120));
            assertThat(afterKill.produced()).isPositive();
            assertThat(afterKill.clean()).as("ledger after a TaskManager kill: %s", afterKill).isTrue();

            flink.cancel(job);
            FlinkCluster.await("the job cancelled", Duration.ofSeconds(60),
                    () -> flink.jobState(job).map("CANCELED"::equals).orElse(false));
            Path checkpoint = flink.latestRetainedCheckpoint(job).orElseThrow(
                    () -> new AssertionError("no retained checkpoint of " + job + " under " + flink.checkpointDir()));
            long beforeResume = ledger.latestVersion();
            String resumed = cluster.submit(ROOT, jobArgs(cluster, model), checkpoint.toUri().toString());
            cluster.awaitRunning(resumed, Duration.ofSeconds(120));
            try (Fleet f = fleet(cluster, "b-", 2)) {
                f.start();
                FlinkCluster.await("versions of the resumed job", Duration.ofSeconds(240),
                        () -> ledger.latestVersion() >= beforeResume + 3);
            }
            Ledger.Check afterResume = ledger.awaitCaughtUp(cluster.topics().experience(), cluster.topics().adapted(),
                    Duration.ofSeconds(120));
            assertThat(afterResume.clean()).as("ledger after cancel and resume: %s", afterResume).isTrue();
            assertThat(ledger.versions().get(0).getVersion()).isEqualTo(1L);
            assertThat(ledger.versions().stream().map(v -> v.getRunId()).distinct()).hasSize(1);
            flink.cancel(resumed);
        }
    }
}

package io.metastream.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.metastream.sim.fleet.Fleet;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The crash suite ({@code mvn -B -Pfaults verify}): one job on the loopback deployment of
 * {@link LocalCluster}, a fresh fleet per trial, and one fault per trial: SIGKILL of a TaskManager
 * running the job (a replacement is started), SIGKILL of the JobManager (a new one is started and the
 * job resubmitted from its newest retained checkpoint), SIGKILL of one of the three brokers (restarted
 * after a few seconds), stop-with-savepoint and resume, and a full Kafka outage of 70 s. After each
 * trial the fleet stops and the ledger is checked: every transition on the experience topic counted
 * exactly once by the job, versions consecutive with parents chained, every adaptation on a published
 * version. Writes {@code target/faults/summary.json}. Trial counts: system properties
 * {@code faults.taskmanagers} (20), {@code faults.jobmanagers} (5), {@code faults.brokers} (5),
 * {@code faults.savepoints} (1), {@code faults.outages} (1).
 */
@Tag("faults")
@Timeout(value = 3, unit = TimeUnit.HOURS)
class ClusterFaultsIT {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterFaultsIT.class);
    private static final String MODEL = "faults";

    enum Fault { TASKMANAGER, JOBMANAGER, BROKER, SAVEPOINT, OUTAGE }

    /**
     * @param recoverySeconds from the fault to the first committed version that the learner created after
     *     it (what an agent waits for); NaN when none came within the bound
     * @param tasksRunningSeconds from the fault to every task of the job running again after a restart
     *     (Flink's own recovery); NaN when the job did not restart (a broker loss it rode out)
     */
    record Trial(int n, Fault fault, String detail, boolean recovered, double recoverySeconds,
            double tasksRunningSeconds, long produced,
            long lostAfter, long duplicatedAfter, long repeatedVersionsAfter, long skippedVersionsAfter,
            double brokerCaughtUpSeconds) {}

    @Test
    void everyFaultRecoversWithoutLosingOrRepeatingAnything() throws Exception {
        Path dir = Path.of("target", "faults").toAbsolutePath();
        KafkaBroker.deleteRecursively(dir);
        List<Fault> plan = new ArrayList<>();
        add(plan, Fault.TASKMANAGER, Integer.getInteger("faults.taskmanagers", 20));
        add(plan, Fault.JOBMANAGER, Integer.getInteger("faults.jobmanagers", 5));
        add(plan, Fault.BROKER, Integer.getInteger("faults.brokers", 5));
        add(plan, Fault.SAVEPOINT, Integer.getInteger("faults.savepoints", 1));
        add(plan, Fault.OUTAGE, Integer.getInteger("faults.outages", 1));
        SplittableRandom rng = new SplittableRandom(Long.getLong("faults.seed", 42));
        Collections.shuffle(plan, new java.util.Random(rng.nextLong()));

        List<Trial> trials = new ArrayList<>();
        Ledger.Check last;
        try (LocalCluster cluster = new LocalCluster(dir.resolve("cluster"), LocalCluster.flinkClasspath(ClusterIT.ROOT),
                null, 2, Map.of())) {
            cluster.start();
            try (Ledger ledger = new Ledger(cluster.kafka().bootstrapServers(), cluster.topics().models())) {
                FlinkCluster flink = cluster.flink();
                String[] job = {cluster.submit(ClusterIT.ROOT, ClusterIT.jobArgs(cluster, MODEL), null)};
                cluster.awaitRunning(job[0], Duration.ofSeconds(180));
                for (int i = 0; i < plan.size(); i++) {
                    Fault fault = plan.get(i);
                    String detail;
                    double caughtUp = Double.NaN;
                    long before;
                    long t0;
                    try (Fleet fleet = ClusterIT.fleet(cluster, "t" + i + "-", 100 + i)) {
                        fleet.start();
                        long start = ledger.latestVersion();
                        FlinkCluster.await("a new version before trial " + i, Duration.ofSeconds(300),
                                () -> ledger.latestVersion() > start);
                        FlinkCluster.await("a checkpoint before trial " + i, Duration.ofSeconds(120),
                                () -> flink.completedCheckpoints(job[0]) >= 1);
                        Thread.sleep(2000 + rng.nextInt(8000));
                        before = ledger.latestVersion();
                        t0 = System.nanoTime();
                        java.time.Instant faultAt = java.time.Instant.now();
                        String jobBefore = job[0];
                        long restartsBefore = flink.restarts(job[0]);
                        detail = inject(fault, cluster, job, rng);
                        double[] running = {Double.NaN};
                        boolean[] wentDown = {!job[0].equals(jobBefore)}; // a resubmitted job: every task is new
                        boolean ok = awaitQuietly(Duration.ofSeconds(fault == Fault.OUTAGE ? 600 : 300), () -> {
                            if (!wentDown[0] && (flink.restarts(job[0]) > restartsBefore || !flink.allTasksRunning(job[0]))) {
                                wentDown[0] = true;
                            }
                            if (wentDown[0] && Double.isNaN(running[0]) && flink.allTasksRunning(job[0])) {
                                running[0] = (System.nanoTime() - t0) / 1e9;
                            }
                            return ledger.versionCreatedSince(faultAt) && ledger.latestVersion() > before;
                        });
                        double recovery = (System.nanoTime() - t0) / 1e9;
                        if (fault == Fault.BROKER) {
                            long b0 = System.nanoTime();
                            caughtUp = awaitQuietly(Duration.ofSeconds(120), () -> fullyReplicated(cluster))
                                    ? (System.nanoTime() - b0) / 1e9 : Double.NaN;
                        }
                        fleet.close();
                        last = ledger.awaitCaughtUp(cluster.topics().experience(), cluster.topics().adapted(), Duration.ofSeconds(180));
                        Trial t = new Trial(i, fault, detail, ok && last.clean(), ok ? recovery : Double.NaN, running[0], last.produced(),
                                last.lost(), last.duplicated(), last.repeatedVersions(), last.skippedVersions(), caughtUp);
                        trials.add(t);
                        LOG.info("Trial {}: {}", i, t);
                        writeSummary(dir, trials);
                    }
                }
                flink.cancel(job[0]);
            }
        }
        Map<String, Object> summary = writeSummary(dir, trials);
        assertThat(summary.get("recovered")).as("summary %s", summary).isEqualTo(plan.size());
        assertThat(summary.get("lostTransitions")).isEqualTo(0L);
        assertThat(summary.get("duplicatedTransitions")).isEqualTo(0L);
        assertThat(summary.get("repeatedVersions")).isEqualTo(0L);
        assertThat(summary.get("skippedVersions")).isEqualTo(0L);
    }

    private static void add(List<Fault> plan, Fault f, int n) {
        for (int i = 0; i < n; i++) {
            plan.add(f);
        }
    }

    /** Injects the fault and brings the failed part back; returns what was done. */
    private static String inject(Fault fault, LocalCluster cluster, String[] job, SplittableRandom rng) throws Exception {
        FlinkCluster flink = cluster.flink();
        switch (fault) {
            case TASKMANAGER -> {
                List<String> running = flink.taskManagersOf(job[0]);
                String victim = running.isEmpty() ? flink.runningTaskManagers().get(0) : running.get(rng.nextInt(running.size()));
                flink.killTaskManager(victim);
                String replacement = flink.startTaskManager();
                return "killed " + victim + ", started " + replacement;
            }
            case JOBMANAGER -> {
                flink.killJobManager();
                flink.startJobManager();
                flink.awaitTaskManagers(flink.runningTaskManagers().size(), Duration.ofSeconds(120));
                Path chk = flink.latestRetainedCheckpoint(job[0]).orElseThrow(
                        () -> new AssertionError("no retained checkpoint of " + job[0]));
                String old = job[0];
                job[0] = cluster.submit(ClusterIT.ROOT, ClusterIT.jobArgs(cluster, MODEL), chk.toUri().toString());
                return "killed the JobManager; job " + old + " resubmitted from " + chk.getFileName() + " as " + job[0];
            }
            case BROKER -> {
                int node = rng.nextInt(cluster.kafka().size());
                cluster.kafka().kill(node);
                Thread.sleep(5000 + rng.nextInt(5000));
                cluster.kafka().restart(node);
                return "killed and restarted broker " + (node + 1);
            }
            case SAVEPOINT -> {
                String savepoint = flink.stopWithSavepoint(job[0]);
                String old = job[0];
                job[0] = cluster.submit(ClusterIT.ROOT, ClusterIT.jobArgs(cluster, MODEL), savepoint);
                return "stopped " + old + " with " + savepoint.substring(savepoint.lastIndexOf('/') + 1) + ", resumed as " + job[0];
            }
            case OUTAGE -> {
                for (int i = 0; i < cluster.kafka().size(); i++) {
                    cluster.kafka().kill(i);
                }
                Thread.sleep(70_000);
                List<CompletableFuture<Void>> restarts = new ArrayList<>();
                for (int i = 0; i < cluster.kafka().size(); i++) {
                    int node = i;
                    restarts.add(CompletableFuture.runAsync(() -> cluster.kafka().restart(node)));
                }
                CompletableFuture.allOf(restarts.toArray(new CompletableFuture[0])).join();
                return "all 3 brokers down for 70 s; job state then " + flink.jobState(job[0]).orElse("unknown");
            }
            default -> throw new IllegalArgumentException(fault.toString());
        }
    }

    private static boolean awaitQuietly(Duration timeout, java.util.function.BooleanSupplier condition) {
        try {
            FlinkCluster.await("condition", timeout, condition);
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    /** Every partition of every topic has all 3 replicas in sync. */
    private static boolean fullyReplicated(LocalCluster cluster) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafka().bootstrapServers()))) {
            var names = admin.listTopics(new org.apache.kafka.clients.admin.ListTopicsOptions().listInternal(true)).names().get();
            for (TopicDescription d : admin.describeTopics(names).allTopicNames().get().values()) {
                for (var p : d.partitions()) {
                    if (p.isr().size() < p.replicas().size()) {
                        return false;
                    }
                }
            }
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static Map<String, Object> writeSummary(Path dir, List<Trial> trials) throws Exception {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("trials", trials.size());
        s.put("recovered", (int) trials.stream().filter(Trial::recovered).count());
        Trial lastTrial = trials.isEmpty() ? null : trials.get(trials.size() - 1);
        s.put("lostTransitions", lastTrial == null ? 0L : lastTrial.lostAfter());
        s.put("duplicatedTransitions", lastTrial == null ? 0L : lastTrial.duplicatedAfter());
        s.put("repeatedVersions", lastTrial == null ? 0L : lastTrial.repeatedVersionsAfter());
        s.put("skippedVersions", lastTrial == null ? 0L : lastTrial.skippedVersionsAfter());
        s.put("medianRecoverySeconds", median(trials.stream().mapToDouble(Trial::recoverySeconds).toArray()));
        s.put("medianTasksRunningSeconds", median(trials.stream().mapToDouble(Trial::tasksRunningSeconds).toArray()));
        s.put("transitionsProduced", lastTrial == null ? 0L : lastTrial.produced());
        List<Trial> brokers = trials.stream().filter(t -> t.fault() == Fault.BROKER).toList();
        s.put("brokerLossTrials", brokers.size());
        long brokerLost = 0;
        long previousLost = 0;
        for (Trial t : trials) {
            if (t.fault() == Fault.BROKER) {
                brokerLost += Math.max(0, t.lostAfter() - previousLost);
            }
            previousLost = t.lostAfter();
        }
        s.put("brokerLossLost", brokerLost);
        s.put("medianBrokerCatchUpSeconds", median(brokers.stream().mapToDouble(Trial::brokerCaughtUpSeconds).toArray()));
        Map<String, Object> byFault = new LinkedHashMap<>();
        for (Fault f : Fault.values()) {
            List<Trial> of = trials.stream().filter(t -> t.fault() == f).toList();
            if (!of.isEmpty()) {
                byFault.put(f.name(), Map.of("trials", of.size(), "recovered", of.stream().filter(Trial::recovered).count(),
                        "medianRecoverySeconds", median(of.stream().mapToDouble(Trial::recoverySeconds).toArray()),
                        "maxRecoverySeconds", of.stream().mapToDouble(Trial::recoverySeconds).max().orElse(Double.NaN),
                        "medianTasksRunningSeconds", median(of.stream().mapToDouble(Trial::tasksRunningSeconds).toArray())));
            }
        }
        s.put("byFault", byFault);
        s.put("trialLog", trials);
        Files.createDirectories(dir);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(dir.resolve("summary.json").toFile(), s);
        return s;
    }

    private static double median(double[] values) {
        double[] v = java.util.Arrays.stream(values).filter(x -> !Double.isNaN(x)).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        double m = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        return Math.round(m * 10) / 10.0;
    }
}

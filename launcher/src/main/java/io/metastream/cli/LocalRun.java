package io.metastream.cli;

import io.metastream.client.CommandLineArgs;
import io.metastream.client.BadRecords;
import io.metastream.client.ModelClient;
import io.metastream.client.TopicNames;
import io.metastream.client.TopicReader;
import io.metastream.core.settings.SettingsTable;
import io.metastream.flink.MetaAlgorithm;
import io.metastream.flink.MetaAlgorithms;
import io.metastream.flink.MetaLearningJob;
import io.metastream.flink.MetaStreamOptions;
import io.metastream.local.KafkaBroker;
import io.metastream.client.TopicLayout;
import io.metastream.schema.ModelVersion;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import io.metastream.sim.fleet.Fleet;
import io.metastream.sim.fleet.FleetStats;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * {@code bin/metastream run}: the whole loop on one machine with real components. Starts a Kafka broker
 * (KRaft, child JVM), creates the topics, runs the job on a Flink MiniCluster and a simulated fleet that
 * acts with the versions and adaptations it reads back, sends one bad record of each kind, and ends with
 * a meta-test on held-out tasks written to {@code report.json} and PNG plots.
 */
final class LocalRun {

    /**
     * Default of {@code --rate} for the local run and {@code fleet}: transitions per second of a simulated
     * fleet. Unlimited, a fleet fills Kafka with millions of random transitions before the first model
     * and the job's checkpoints then take seconds.
     */
    static final double DEFAULT_RATE = 1000;

    /** Default of {@code --metrics-port}: where the local job's Prometheus endpoint listens (Flink's customary port). */
    static final int DEFAULT_METRICS_PORT = 9249;

    /**
     * @param family   the task family; null only in job-only mode, where the sizes then come from
     *                 {@code --metastream.obs-dim} / {@code --metastream.act-dim}
     * @param duration training time; in job-only mode how long to serve, zero for until stopped
     */
    record Settings(String algorithm, String family, int trainTasks, int heldOutTasks, int agents, Duration duration, long seed,
            int parallelism, double rate, boolean badRecords, Path workDir, Path reportDir,
            Map<String, String> jobOptions, int mpcEpisodes, int switchEvery, boolean jobOnly,
            Map<String, String> agentSettings, int metricsPort) {}

    private final Settings s;
    private final java.io.PrintStream out;
    /** Whether the last {@link #submit} got the Prometheus endpoint (its port was free). */
    boolean prometheusOn;
    /** The plot files the last {@link #run} wrote. */
    List<String> plots = List.of();

    LocalRun(Settings settings, java.io.PrintStream out) {
        this.s = settings;
        this.out = out;
    }

    static Settings settings(CommandLineArgs a) {
        long now = System.currentTimeMillis();
        Path home = Path.of(System.getProperty("metastream.home", "."));
        boolean jobOnly = a.flag("job-only");
        Settings st = new Settings(
                a.string("algorithm", MetaStreamOptions.ALGORITHM.defaultValue()),
                a.string("family", jobOnly ? null : "point-mass"),
                a.integer("tasks", 16),
                a.integer("held-out", 8),
                a.integer("agents", 16),
                Duration.ofSeconds(a.longValue("duration", jobOnly ? 0 : 150)),
                a.longValue("seed", 7),
                a.integer("parallelism", 2),
                a.decimal("rate", DEFAULT_RATE),
                !a.flag("no-bad-records"),
                a.path("work", home.resolve("work").resolve("run-" + now)),
                a.path("report", home.resolve("reports").resolve("run-" + now)),
                jobOptions(a),
                a.integer("mpc-episodes", 4),
                a.integer("switch-every", 0),
                jobOnly,
                agentSettings(a),
                a.integer("metrics-port", DEFAULT_METRICS_PORT));
        if (st.metricsPort() < 0 || st.metricsPort() > 65535) {
            throw new IllegalArgumentException("--metrics-port must be a port (0 turns the Prometheus endpoint off), got "
                    + st.metricsPort());
        }
        if (st.duration().isNegative()) {
            throw new IllegalArgumentException("--duration must not be negative");
        }
        if (st.trainTasks() <= 0 || st.heldOutTasks() <= 0 || st.agents() <= 0) {
            throw new IllegalArgumentException("--tasks, --held-out and --agents must be positive");
        }
        if (st.family() != null) {
            TaskFamilies.byName(st.family()); // fail early on an unknown family
        }
        LocalAlgorithms.byName(st.algorithm()); // fail early on an unknown algorithm
        return st;
    }

    /** The agents' settings given on the command line ({@code --mpc.<key>}), prefix stripped. */
    static Map<String, String> agentSettings(CommandLineArgs a) {
        Map<String, String> m = new LinkedHashMap<>();
        a.withPrefix(MPC_PREFIX).forEach((k, v) -> m.put(k.substring(MPC_PREFIX.length()), v));
        return m;
    }

    /** Prefix of the agents' planner settings on the command line. */
    static final String MPC_PREFIX = "mpc.";

    /**
     * {@code options} with the value of every key that names a credential (password, JAAS configuration,
     * secret, token) replaced, for what a run writes into its reports.
     */
    static Map<String, String> redacted(Map<String, String> options) {
        Map<String, String> m = new LinkedHashMap<>();
        options.forEach((k, v) -> m.put(k, k.toLowerCase(java.util.Locale.ROOT).matches(".*(password|jaas|secret|token|credential).*")
                ? "(redacted)" : v));
        return m;
    }

    /** The job's settings given on the command line: {@code metastream.*}, {@code kafka.*} and each algorithm's prefix. */
    static Map<String, String> jobOptions(CommandLineArgs a) {
        Map<String, String> m = new LinkedHashMap<>();
        for (MetaAlgorithm<?> algorithm : MetaAlgorithms.all()) {
            m.putAll(a.withPrefix(algorithm.settingsPrefix()));
        }
        m.putAll(a.withPrefix("metastream."));
        m.putAll(a.withPrefix(MetaStreamOptions.KAFKA_PREFIX));
        return m;
    }

    /**
     * The job's configuration for the embedded broker: the topics, the algorithm with its local profile
     * and the run's seed, the command line's job options, and the sizes of {@code family} (null: the
     * options must give {@code metastream.obs-dim} and {@code act-dim}).
     */
    Configuration jobConfig(String servers, TopicNames topics, LocalAlgorithm algorithm, TaskFamily family) {
        String name = algorithm.job().name();
        Configuration conf = MetaStreamOptions.forBroker(servers, topics);
        conf.set(MetaStreamOptions.ALGORITHM, name);
        conf.set(MetaStreamOptions.MODEL_NAME, name + "-" + (family == null ? "own" : family.name()));
        conf.set(MetaStreamOptions.PARALLELISM, s.parallelism());
        conf.set(MetaStreamOptions.CHECKPOINT_INTERVAL, Duration.ofSeconds(1));
        String prefix = algorithm.job().settingsPrefix();
        conf.setString(prefix + SettingsTable.SEED, Long.toString(s.seed()));
        algorithm.localProfile().forEach((k, v) -> conf.setString(prefix + k, v));
        s.jobOptions().forEach(conf::setString);
        if (family != null) {
            FamilySizes.apply(conf, family);
        }
        if (conf.getOptional(MetaStreamOptions.SIGNING_KEY_FILE).isEmpty()
                && conf.getOptional(MetaStreamOptions.TRUSTED_KEYS_FILE).isEmpty()) {
            Path[] pair = localKeys(s.workDir());
            conf.set(MetaStreamOptions.SIGNING_KEY_FILE, pair[0].toString());
            conf.set(MetaStreamOptions.TRUSTED_KEYS_FILE, pair[1].toString());
        }
        return conf;
    }

    /**
     * The learner's key pair of a local run, {@code <work>/keys/learner.key} and {@code learner.pub},
     * written on first use: local runs publish signed versions and their clients verify them.
     */
    static Path[] localKeys(Path workDir) {
        Path dir = workDir.resolve("keys");
        Path key = dir.resolve("learner.key");
        Path pub = dir.resolve("learner.pub");
        try {
            if (!Files.exists(key) || !Files.exists(pub)) {
                Files.createDirectories(dir);
                io.metastream.client.ModelSignatures.writeNewPair(key, pub);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write the local run's key pair in " + dir, e);
        }
        return new Path[] {key, pub};
    }

    /** A client of the run's model that trusts the keys the job signs with. */
    static ModelClient.Builder client(String servers, TopicNames topics, Configuration conf) {
        ModelClient.Builder b = ModelClient.builder().bootstrapServers(servers).modelsTopic(topics.models())
                .adaptedTopic(topics.adapted()).modelName(conf.get(MetaStreamOptions.MODEL_NAME));
        conf.getOptional(MetaStreamOptions.TRUSTED_KEYS_FILE).ifPresent(f -> b.trustedKeys(Path.of(f)));
        return b;
    }

    /** Starts the embedded broker in the work dir and creates the topics, sized for this run's parallelism. */
    KafkaBroker startBroker(TopicNames topics) throws Exception {
        KafkaBroker broker = KafkaBroker.builder().dataDir(s.workDir().resolve("kafka")).build();
        try {
            broker.start();
            broker.createTopics(TopicLayout.defaults(topics, Math.max(2, s.parallelism())));
            return broker;
        } catch (Exception | Error e) {
            broker.close();
            throw e;
        }
    }

    /** Builds the job from {@code conf} and submits it to a MiniCluster with this run's parallelism. */
    JobClient submit(Configuration conf, String jobName) throws Exception {
        Configuration cluster = MetaLearningJob.environmentConfig(conf);
        MetricTap.enable(cluster);
        if (s.metricsPort() > 0 && JobMetrics.portFree(s.metricsPort())) {
            JobMetrics.enablePrometheus(cluster, s.metricsPort());
        }
        MetricTap.clear();
        prometheusOn = cluster.containsKey("metrics.reporter." + JobMetrics.PROMETHEUS + ".factory.class");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(s.parallelism(), cluster);
        MetaLearningJob.fromKafka(conf).build(env);
        return env.executeAsync(jobName);
    }

    Report run() throws Exception {
        long started = System.nanoTime();
        Files.createDirectories(s.workDir());
        Files.createDirectories(s.reportDir());
        LocalAlgorithm algorithm = LocalAlgorithms.byName(s.algorithm());
        String name = algorithm.job().name();
        TaskFamily family = TaskFamilies.byName(s.family());
        List<TaskSpec> train = family.trainTasks(s.trainTasks(), s.seed());
        List<TaskSpec> heldOut = family.heldOutTasks(s.heldOutTasks(), s.seed());
        TopicNames topics = TopicNames.defaults();

        out.printf("metastream local run: family %s, %d train tasks, %d held-out tasks, %d agents, %ds%n",
                family.name(), train.size(), heldOut.size(), s.agents(), s.duration().toSeconds());
        out.printf("  work dir %s (logs: %s)%n", s.workDir(), s.workDir().resolve("metastream.log"));
        try (KafkaBroker broker = startBroker(topics)) {
            out.printf("  Kafka broker (KRaft, child JVM) at %s; topics created%n", broker.bootstrapServers());

            Configuration conf = jobConfig(broker.bootstrapServers(), topics, algorithm, family);
            JobClient job = submit(conf, "metastream-local-" + name);
            out.printf("  Flink job %s (%s) running on a MiniCluster (parallelism %d)%n", job.getJobID(), name,
                    s.parallelism());
            if (s.metricsPort() > 0) {
                out.printf("  job metrics for Prometheus: %s%n", prometheusOn ? JobMetrics.endpointNote(s.metricsPort())
                        : "none: port " + s.metricsPort() + " was in use (choose another with --metrics-port)");
            }
            boolean cancelled = false;
            try (ModelClient client = client(broker.bootstrapServers(), topics, conf).build()) {
                client.start();
                List<double[]> curve = new ArrayList<>();
                FleetStats fleetStats;
                try (Fleet fleet = algorithm.agents(Fleet.builder(), family, client, s.agentSettings())
                        .bootstrapServers(broker.bootstrapServers())
                        .topic(topics.experience())
                        .family(family)
                        .tasks(train)
                        .agents(s.agents())
                        .seed(s.seed())
                        .maxTransitionsPerSecond(s.rate())
                        .switchTaskEvery(s.switchEvery())
                        .deadLetterTopic(topics.deadLetters())
                        .build()) {
                    fleetStats = driveFleet(fleet, client, family, train, topics, broker, started, curve, algorithm);
                }
                long versions = client.latestVersion().orElse(0);
                Map<String, Object> acc = job.getAccumulators().get();
                Map<String, Object> metrics = JobMetrics.snapshot();
                JobMetrics.print(metrics, out);
                job.cancel().get();
                cancelled = true;
                out.printf("  fleet stopped, job cancelled: %d versions published%n", versions);
                long deadLetters = TopicReader.count(broker.bootstrapServers(), topics.deadLetters());

                ReportSection section = algorithm.metaTest(new LocalAlgorithm.Run(conf, family, heldOut, client,
                        broker.bootstrapServers(), topics, s.seed(), s.mpcEpisodes(), s.agentSettings(), s.duration(),
                        s.workDir(), out));
                Report r = new Report();
                r.section = section;
                r.family = family.name();
                r.versionsPublished = versions;
                r.transitionsProcessed = accumulator(acc, "transitionsValid");
                r.transitionsProduced = fleetStats.transitionsSent();
                r.deadLetters = deadLetters;
                r.fleetTransitionsPerSecond = fleetStats.transitionsPerSecond();
                r.curve = curve;
                r.wallSeconds = (System.nanoTime() - started) / 1e9;
                r.jobMetrics = metrics;
                r.seed = s.seed();
                plots = r.write(s.reportDir());
                return r;
            } finally {
                if (!cancelled) {
                    try {
                        job.cancel().get();
                    } catch (Exception e) {
                        // the job failed or the MiniCluster is already down; the original error is what matters
                    }
                }
            }
        }
    }

    /**
     * Starts the fleet (and the demo bad records), then watches it for the run's duration: a curve point
     * per new version and a progress line every 10 s. Returns the fleet's final statistics.
     */
    private FleetStats driveFleet(Fleet fleet, ModelClient client, TaskFamily family, List<TaskSpec> train,
            TopicNames topics, KafkaBroker broker, long started, List<double[]> curve, LocalAlgorithm algorithm)
            throws InterruptedException {
        fleet.start();
        if (s.badRecords()) {
            sendBadRecords(broker.bootstrapServers(), topics.experience(), train.get(0).id(), family);
            out.println("  sent one bad record of each kind to the experience topic");
        }
        long deadline = System.nanoTime() + s.duration().toNanos();
        long nextPrint = System.nanoTime();
        long lastVersion = 0;
        while (System.nanoTime() < deadline) {
            Thread.sleep(500);
            if (fleet.failure().isPresent()) {
                throw new IllegalStateException("the simulated fleet failed; see "
                        + s.workDir().resolve("metastream.log"), fleet.failure().get());
            }
            ModelVersion v = client.latestModelVersion().orElse(null);
            FleetStats f = fleet.stats();
            if (v != null && v.getVersion() != lastVersion) {
                lastVersion = v.getVersion();
                curve.add(algorithm.curvePoint(v, f));
            }
            if (System.nanoTime() >= nextPrint) {
                out.printf("  [%4ds] versions %-4d transitions sent %-8d (%5.0f/s) episodes %-5d mean return %9.2f   %s%n",
                        (int) ((System.nanoTime() - started) / 1_000_000_000L), lastVersion, f.transitionsSent(),
                        f.recentTransitionsPerSecond(), f.episodesCompleted(), f.meanEpisodeReturn(),
                        v == null ? "-" : algorithm.progress(v));
                nextPrint = System.nanoTime() + 10_000_000_000L;
            }
        }
        return fleet.stats();
    }

    private static long accumulator(Map<String, Object> acc, String name) {
        Object o = acc.get(name);
        return o instanceof Number ? ((Number) o).longValue() : -1;
    }

    private static void sendBadRecords(String servers, String topic, String taskId, TaskFamily family) {
        Properties p = new Properties();
        p.put("bootstrap.servers", servers);
        try (KafkaProducer<byte[], byte[]> producer =
                     new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (ProducerRecord<byte[], byte[]> r : BadRecords.oneOfEach(topic, taskId, family.obsDim(),
                    family.actDim()).values()) {
                producer.send(r);
            }
        }
    }

    static void writeText(Path file, String text) throws IOException {
        Files.writeString(file, text);
    }
}

package io.metastream.cli;

import io.metastream.flink.pearl.PearlAlgorithm;
import io.metastream.client.Codecs;
import io.metastream.client.ModelClient;
import io.metastream.client.Transitions;
import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.grbal.GrbalConfig;
import io.metastream.core.grbal.Segment;
import io.metastream.core.grbal.SupervisedTrainer;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.flink.MetaLearningJob;
import io.metastream.flink.MetaStreamOptions;
import io.metastream.client.BadRecords;
import io.metastream.local.KafkaBroker;
import io.metastream.client.TopicNames;
import io.metastream.local.Topics;
import io.metastream.schema.ModelVersion;
import io.metastream.schema.Transition;
import io.metastream.sim.MetaTest;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import io.metastream.sim.fleet.Fleet;
import io.metastream.sim.fleet.FleetStats;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import io.metastream.core.pearl.PearlConfig;
import io.metastream.core.pearl.PearlPolicy;
import io.metastream.sim.pearl.PearlMetaTrainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * {@code bin/metastream run}: the whole loop on one machine with real components. Starts a Kafka broker
 * (KRaft, child JVM), creates the topics, runs the job on a Flink MiniCluster and a simulated fleet that
 * acts with the versions and adaptations it reads back, sends one bad record of each kind, and ends with
 * a meta-test on held-out tasks written to {@code report.json} and PNG plots.
 */
final class LocalRun {

    record Settings(String algorithm, String family, int trainTasks, int heldOutTasks, int agents, Duration duration, long seed,
            int parallelism, double rate, boolean badRecords, Path workDir, Path reportDir,
            Map<String, String> jobOptions, int mpcEpisodes, int switchEvery) {}

    private final Settings s;
    private final java.io.PrintStream out;

    LocalRun(Settings settings, java.io.PrintStream out) {
        this.s = settings;
        this.out = out;
    }

    static Settings settings(Args a) {
        long now = System.currentTimeMillis();
        Path home = Path.of(System.getProperty("metastream.home", "."));
        Settings st = new Settings(
                a.string("algorithm", "grbal"),
                a.string("family", "point-mass"),
                a.integer("tasks", 16),
                a.integer("held-out", 8),
                a.integer("agents", 16),
                Duration.ofSeconds(a.longValue("duration", 150)),
                a.longValue("seed", 7),
                a.integer("parallelism", 2),
                a.decimal("rate", 1000),
                !a.flag("no-bad-records"),
                a.path("work", home.resolve("work").resolve("run-" + now)),
                a.path("report", home.resolve("reports").resolve("run-" + now)),
                merge(a.withPrefix("grbal."), a.withPrefix("pearl."), a.withPrefix("metastream."), a.withPrefix("kafka.")),
                a.integer("mpc-episodes", 4),
                a.integer("switch-every", 0));
        if (st.trainTasks() <= 0 || st.heldOutTasks() <= 0 || st.agents() <= 0) {
            throw new IllegalArgumentException("--tasks, --held-out and --agents must be positive");
        }
        TaskFamilies.byName(st.family()); // fail early on an unknown family
        if (!st.algorithm().equals("grbal") && !st.algorithm().equals("pearl")) {
            throw new IllegalArgumentException("--algorithm must be grbal or pearl, got '" + st.algorithm() + "'");
        }
        return st;
    }

    @SafeVarargs
    private static Map<String, String> merge(Map<String, String>... maps) {
        Map<String, String> m = new LinkedHashMap<>();
        for (Map<String, String> x : maps) {
            m.putAll(x);
        }
        return m;
    }

    Report run() throws Exception {
        long started = System.nanoTime();
        Files.createDirectories(s.workDir());
        Files.createDirectories(s.reportDir());
        TaskFamily family = TaskFamilies.byName(s.family());
        List<TaskSpec> train = family.trainTasks(s.trainTasks(), s.seed());
        List<TaskSpec> heldOut = family.heldOutTasks(s.heldOutTasks(), s.seed());
        TopicNames topics = TopicNames.defaults();

        out.printf("metastream local run: family %s, %d train tasks, %d held-out tasks, %d agents, %ds%n",
                family.name(), train.size(), heldOut.size(), s.agents(), s.duration().toSeconds());
        out.printf("  work dir %s (logs: %s)%n", s.workDir(), s.workDir().resolve("metastream.log"));
        try (KafkaBroker broker = KafkaBroker.builder().dataDir(s.workDir().resolve("kafka")).build()) {
            broker.start();
            broker.createTopics(Topics.defaults(topics, Math.max(2, s.parallelism())));
            out.printf("  Kafka broker (KRaft, child JVM) at %s; topics created%n", broker.bootstrapServers());

            Configuration conf = new Configuration();
            conf.setString(MetaStreamOptions.BOOTSTRAP_SERVERS.key(), broker.bootstrapServers());
            conf.set(MetaStreamOptions.EXPERIENCE_TOPIC, topics.experience());
            conf.set(MetaStreamOptions.MODELS_TOPIC, topics.models());
            conf.set(MetaStreamOptions.ADAPTED_TOPIC, topics.adapted());
            conf.set(MetaStreamOptions.DEAD_LETTER_TOPIC, topics.deadLetters());
            boolean pearl = s.algorithm().equals("pearl");
            conf.set(MetaStreamOptions.ALGORITHM, s.algorithm());
            conf.set(MetaStreamOptions.MODEL_NAME, s.algorithm() + "-" + family.name());
            conf.set(MetaStreamOptions.PARALLELISM, s.parallelism());
            conf.set(MetaStreamOptions.CHECKPOINT_INTERVAL, Duration.ofSeconds(1));
            conf.setString(s.algorithm() + ".seed", Long.toString(s.seed()));
            if (pearl) {
                PearlAlgorithm.CPU_SETTINGS.forEach((k, v) -> conf.setString("pearl." + k, v));
            }
            s.jobOptions().forEach(conf::setString);
            FamilySizes.apply(conf, family);
            if (pearl) {
                return runPearl(conf, family, train, heldOut, topics, broker, started);
            }
            GrbalConfig grbal = GrbalConfig.fromMap(MetaLearningJob.algorithmSettings(conf));

            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(
                    s.parallelism(), MetaLearningJob.environmentConfig(conf));
            MetaLearningJob.fromKafka(conf).build(env);
            JobClient job = env.executeAsync("metastream-local");
            out.printf("  Flink job %s running on a MiniCluster (parallelism %d)%n", job.getJobID(), s.parallelism());

            boolean cancelled = false;
            List<double[]> curve = new ArrayList<>();
            FleetStats fleetStats;
            long versions;
            try (ModelClient client = ModelClient.builder()
                    .bootstrapServers(broker.bootstrapServers())
                    .modelsTopic(topics.models())
                    .adaptedTopic(topics.adapted())
                    .modelName(conf.get(MetaStreamOptions.MODEL_NAME))
                    .build()) {
                client.start();
                MpcConfig mpc = mpcFor(family);
                try (Fleet fleet = Fleet.builder()
                        .bootstrapServers(broker.bootstrapServers())
                        .topic(topics.experience())
                        .family(family)
                        .tasks(train)
                        .agents(s.agents())
                        .seed(s.seed())
                        .mpc(mpc)
                        .modelSource(client::modelFor)
                        .maxTransitionsPerSecond(s.rate())
                        .switchTaskEvery(s.switchEvery())
                        .build()) {
                    fleetStats = driveFleet(fleet, client, family, train, topics, broker, started, curve,
                            (v, f) -> new double[] {v.getVersion(), v.getTransitionsSeen(), metric(v, "preAdaptLoss"),
                                metric(v, "postAdaptLoss")},
                            v -> String.format("meta-loss pre/post adapt %.4f / %.4f", metric(v, "preAdaptLoss"),
                                    metric(v, "postAdaptLoss")));
                }
                versions = client.latestVersion().orElse(0);
                Map<String, Object> acc = job.getAccumulators().get();
                job.cancel().get();
                cancelled = true;
                out.printf("  fleet stopped, job cancelled: %d versions published%n", versions);

                DynamicsModel theta = client.baseModel().orElseThrow(() -> new IllegalStateException(
                        "no model version was published in " + s.duration().toSeconds()
                                + " s; run longer (--duration) or see the log " + s.workDir().resolve("metastream.log")));
                List<Segment> all = readExperience(broker.bootstrapServers(), topics.experience(), 200_000, family);
                long transitionsInTopic = all.stream().mapToLong(Segment::length).sum();
                out.printf("  training the non-meta baseline on all %d transitions of the experience topic%n",
                        transitionsInTopic);
                DynamicsModel nonMeta = SupervisedTrainer.train(grbal, all, 4000, 128, 1e-3, s.seed());
                long deadLetters = countRecords(broker.bootstrapServers(), topics.deadLetters());

                out.printf("  meta-test on %d held-out tasks ...%n", heldOut.size());
                MetaTest.Result mt = MetaTest.run(family, heldOut, theta, nonMeta,
                        new MetaTest.Config(grbal.adaptWindow(), grbal.predictWindow(), grbal.innerLr(),
                                grbal.innerSteps(), 200, s.mpcEpisodes(), mpc, s.seed() + 1000));
                Report r = new Report();
                r.algorithm = "GRBAL";
                r.family = family.name();
                r.versionsPublished = versions;
                r.transitionsProcessed = accumulator(acc, "transitionsValid");
                r.transitionsProduced = fleetStats.transitionsSent();
                r.deadLetters = deadLetters;
                r.heldOut = mt;
                r.curve = curve;
                r.wallSeconds = (System.nanoTime() - started) / 1e9;
                r.seed = s.seed();
                r.config = new TreeMap<>(grbal.toMap());
                r.write(s.reportDir());
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

    /** The PEARL local run: the fleet does posterior sampling; the meta-test compares prior and posterior returns. */
    private Report runPearl(Configuration conf, TaskFamily family, List<TaskSpec> train, List<TaskSpec> heldOut,
            TopicNames topics, KafkaBroker broker, long started) throws Exception {
        PearlConfig pearlCfg = PearlConfig.fromMap(MetaLearningJob.algorithmSettings(conf));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(
                s.parallelism(), MetaLearningJob.environmentConfig(conf));
        MetaLearningJob.fromKafka(conf).build(env);
        JobClient job = env.executeAsync("metastream-local-pearl");
        out.printf("  Flink job %s (PEARL) running on a MiniCluster (parallelism %d)%n", job.getJobID(), s.parallelism());
        boolean cancelled = false;
        try (ModelClient client = ModelClient.builder()
                .bootstrapServers(broker.bootstrapServers())
                .modelsTopic(topics.models())
                .adaptedTopic(topics.adapted())
                .modelName(conf.get(MetaStreamOptions.MODEL_NAME))
                .build()) {
            client.start();
            List<double[]> curve = new ArrayList<>();
            FleetStats fleetStats;
            try (Fleet fleet = Fleet.builder()
                    .bootstrapServers(broker.bootstrapServers())
                    .topic(topics.experience())
                    .family(family)
                    .tasks(train)
                    .agents(s.agents())
                    .seed(s.seed())
                    .policySource(client::policyFor)
                    .maxTransitionsPerSecond(s.rate())
                    .build()) {
                fleetStats = driveFleet(fleet, client, family, train, topics, broker, started, curve,
                        (v, f) -> new double[] {v.getVersion(), f.transitionsSent(), metric(v, "criticLoss"),
                            f.meanEpisodeReturn()},
                        v -> String.format("critic loss %.3f", metric(v, "criticLoss")));
            }
            long versions = client.latestVersion().orElse(0);
            Map<String, Object> acc = job.getAccumulators().get();
            job.cancel().get();
            cancelled = true;
            out.printf("  fleet stopped, job cancelled: %d versions published%n", versions);
            ModelVersion last = client.latestModelVersion().orElseThrow(() -> new IllegalStateException(
                    "no model version was published in " + s.duration().toSeconds()
                            + " s; run longer (--duration) or see the log " + s.workDir().resolve("metastream.log")));
            PearlPolicy policy = io.metastream.client.ModelVerifier.verifyAndDecodePolicy(last);
            out.printf("  meta-test on %d held-out tasks (%d episodes each, posterior from the earlier ones) ...%n",
                    heldOut.size(), PEARL_EPISODES);
            PearlMetaTrainer.Evaluation e = PearlMetaTrainer.evaluate(family, policy, heldOut, PEARL_EPISODES, 3,
                    s.seed() + 1000, false, false);
            Report r = new Report();
            r.algorithm = "PEARL";
            r.family = family.name();
            r.versionsPublished = versions;
            r.transitionsProcessed = accumulator(acc, "transitionsValid");
            r.transitionsProduced = fleetStats.transitionsSent();
            r.deadLetters = countRecords(broker.bootstrapServers(), topics.deadLetters());
            r.pearl = e;
            r.curve = curve;
            r.wallSeconds = (System.nanoTime() - started) / 1e9;
            r.seed = s.seed();
            r.config = new TreeMap<>(pearlCfg.toMap());
            r.write(s.reportDir());
            return r;
        } finally {
            if (!cancelled) {
                try {
                    job.cancel().get();
                } catch (Exception ex) {
                    // the job failed or the MiniCluster is already down; the original error is what matters
                }
            }
        }
    }

    /**
     * Starts the fleet (and the demo bad records), then watches it for the run's duration: a curve point
     * per new version and a progress line every 10 s. Returns the fleet's final statistics.
     */
    private FleetStats driveFleet(Fleet fleet, ModelClient client, TaskFamily family, List<TaskSpec> train,
            TopicNames topics, KafkaBroker broker, long started, List<double[]> curve,
            java.util.function.BiFunction<ModelVersion, FleetStats, double[]> curvePoint,
            java.util.function.Function<ModelVersion, String> progress) throws InterruptedException {
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
                curve.add(curvePoint.apply(v, f));
            }
            if (System.nanoTime() >= nextPrint) {
                out.printf("  [%4ds] versions %-4d transitions sent %-8d episodes %-5d mean return %9.2f   %s%n",
                        (int) ((System.nanoTime() - started) / 1_000_000_000L), lastVersion, f.transitionsSent(),
                        f.episodesCompleted(), f.meanEpisodeReturn(), v == null ? "-" : progress.apply(v));
                nextPrint = System.nanoTime() + 10_000_000_000L;
            }
        }
        return fleet.stats();
    }

    /** Held-out PEARL episodes per task: the prior episode, then 2 with the posterior of the earlier ones. */
    static final int PEARL_EPISODES = 3;

    static MpcConfig mpcFor(TaskFamily family) {
        return MpcConfig.builder()
                .horizon(family.name().equals("pendulum") ? 12 : 10)
                .candidates(200)
                .cemIterations(0)
                .elites(20)
                .actionBounds(family.actionLow(), family.actionHigh())
                .build();
    }

    private static double metric(ModelVersion v, String name) {
        Double d = v.getMetrics().get(name);
        return d == null ? Double.NaN : d;
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

    /** Reads up to {@code limit} transitions back from the topic, one segment per task. */
    static List<Segment> readExperience(String servers, String topic, int limit, TaskFamily family) {
        Map<String, List<Transition>> byTask = new HashMap<>();
        var codec = Codecs.transition();
        int[] n = {0};
        forEachRecord(servers, topic, limit, r -> {
            try {
                Transition t = codec.decode(r.value());
                if (t.getObservation().size() > 0) {
                    byTask.computeIfAbsent(t.getTaskId(), k -> new ArrayList<>()).add(t);
                    n[0]++;
                }
            } catch (RuntimeException e) {
                // the bad records sent on purpose; the job dead-letters them
            }
        });
        List<Segment> segments = new ArrayList<>();
        for (List<Transition> ts : byTask.values()) {
            List<Transition> ok = ts.stream().filter(t -> isUsable(t, family)).collect(Collectors.toList());
            if (!ok.isEmpty()) {
                segments.add(Transitions.toSegment(ok));
            }
        }
        return segments;
    }

    /** The rules the job's validator applies, so the baseline trains on exactly the data the job accepted. */
    private static boolean isUsable(Transition t, TaskFamily family) {
        if (t.getObservation().size() != family.obsDim() || t.getNextObservation().size() != family.obsDim()
                || t.getAction().size() != family.actDim()) {
            return false;
        }
        if (!Float.isFinite(t.getReward())) {
            return false;
        }
        for (List<Float> v : List.of(t.getObservation(), t.getAction(), t.getNextObservation())) {
            for (Float f : v) {
                if (f == null || !Float.isFinite(f)) {
                    return false;
                }
            }
        }
        return true;
    }

    static long countRecords(String servers, String topic) {
        long[] n = {0};
        forEachRecord(servers, topic, Integer.MAX_VALUE, r -> n[0]++);
        return n[0];
    }

    private static void forEachRecord(String servers, String topic, int limit,
            java.util.function.Consumer<ConsumerRecord<byte[], byte[]>> action) {
        Properties p = new Properties();
        p.put("bootstrap.servers", servers);
        p.put("isolation.level", "read_committed");
        p.put("enable.auto.commit", "false");
        p.put("max.poll.records", "5000");
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(topic).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).collect(Collectors.toList());
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            int seen = 0;
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (seen < limit && System.nanoTime() < deadline) {
                boolean done = true;
                for (TopicPartition tp : parts) {
                    if (c.position(tp) < end.get(tp)) {
                        done = false;
                    }
                }
                if (done) {
                    break;
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    action.accept(r);
                    if (++seen >= limit) {
                        break;
                    }
                }
            }
        }
    }

    static void writeText(Path file, String text) throws IOException {
        Files.writeString(file, text);
    }
}

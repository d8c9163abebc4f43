package io.metastream.cli;

import io.metastream.client.CommandLineArgs;
import io.metastream.client.ModelClient;
import io.metastream.client.TopicLayout;
import io.metastream.client.TopicNames;
import io.metastream.flink.MetaAlgorithm;
import io.metastream.flink.MetaAlgorithms;
import io.metastream.flink.MetaStreamOptions;
import io.metastream.schema.ModelVersion;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.fleet.Fleet;
import io.metastream.sim.fleet.FleetStats;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The CLI behind {@code bin/metastream}. Exit codes: 0 success, 1 failure, 2 bad usage. */
public final class Main {

    static final String USAGE = usage();

    /** The help text; algorithm lines and benchmarks come from the registered algorithms. */
    private static String usage() {
        java.util.List<String> l = new java.util.ArrayList<>(java.util.List.of(
            "usage: bin/metastream <command> [options]",
            "",
            "commands:",
            "  run      local run: real Kafka broker (KRaft, child JVM) + Flink MiniCluster + simulated fleet,",
            "           then a meta-test on held-out tasks written to report.json and PNG plots",
            "           --algorithm " + pad(String.join("|", MetaAlgorithms.names()), 22) + " default "
                    + MetaAlgorithms.DEFAULT));
        for (MetaAlgorithm<?> m : MetaAlgorithms.all()) {
            l.add("                                          " + m.name() + ": " + m.description());
        }
        l.addAll(java.util.List.of(
            "           --family NAME                  task family: point-mass (default; crippled, rotated actuators),",
            "                                          pendulum, point-robot, sparse-point-robot, point-vel",
            "           --duration SECONDS             training time before the meta-test (default 150)",
            "           --tasks N --held-out N         train / held-out task counts (default 16 / 8)",
            "           --agents N                     simulated agents (default 16)",
            "           --seed N                       seed of tasks, fleet and learner (default 7)",
            "           --parallelism N                job parallelism (default 2)",
            "           --rate N                       fleet transitions per second, 0 = unlimited (default "
                    + (long) LocalRun.DEFAULT_RATE + ")",
            "           --report DIR                   report folder (default reports/run-<time>)",
            "           --work DIR                     broker data and logs (default work/run-<time>)",
            "           --mpc-episodes N               MPC episodes per held-out task and condition (default 4)",
            "           --no-bad-records               do not send the demo bad records",
            "           --metrics-port N               the job's Prometheus endpoint (default "
                    + LocalRun.DEFAULT_METRICS_PORT + ", 0 = off); the run prints the same figures at its end",
            "           --job-only                     broker + job only, no fleet: for your own producers; prints the",
            "                                          bootstrap address and topics and serves for --duration (default:",
            "                                          until stopped). Sizes from --family or --metastream.obs-dim/act-dim",
            "           --switch-every N               agents' dynamics switch to another task every N steps (the",
            "                                          changing-dynamics setting; 0 = off, the default)",
            "           --<algorithm>.<key> V          algorithm settings (see the README), e.g. --"
                    + MetaAlgorithms.DEFAULT + ".seed 3",
            "           --metastream.<key> V           job settings, e.g. --metastream.publish-every 5",
            "           --mpc.<key> V                  the planner of model-based agents, e.g. --mpc.horizon 15",
            "  fleet    a simulated fleet producing to an existing Kafka cluster",
            "           --bootstrap-servers H:P --family F --tasks N --agents N --seed N --rate N (default "
                    + (long) LocalRun.DEFAULT_RATE + ", 0 = unlimited)",
            "           --algorithm " + String.join("|", MetaAlgorithms.names())
                    + " --duration SECONDS (0 = until killed) --model-name NAME --switch-every N",
            "           [--trusted-keys FILE]  act only with versions signed by a key of this PEM file",
            "           [--client-properties FILE] [--kafka.<client property> V ...]  Kafka security and other settings",
            "  topics   create the four topics on a cluster (partitions, retention, compaction, max message size),",
            "           or with --print write the kafka-topics.sh commands that do it",
            "           --bootstrap-servers H:P [--partitions N (default 4)] [--replication-factor N] [--print]",
            "           [--client-properties FILE] [--kafka.<client property> V ...]",
            "  models   follow the models topic and print every version on it as it arrives (read_committed;",
            "           compaction keeps only the newest version of a model once it is a minute old)",
            "           --bootstrap-servers H:P --model-name NAME [--duration SECONDS] [--trusted-keys FILE]",
            "           [--client-properties FILE] [--kafka.<client property> V ...]",
            "  cluster  a multi-process deployment on this machine: 3 Kafka brokers, a Flink standalone cluster",
            "           (JobManager + 2 TaskManagers), the job jar submitted with flink run, a fleet; prints versions",
            "           --dir DIR (default work/cluster, must be new) --family F --model-name M --agents N (0: none)",
            "           --rate R --duration S (default: until Ctrl-C) --no-submit; help cluster: the README's section",
            "  keys     write a new Ed25519 key pair for signed versions: --out DIR (learner.key, learner.pub)"));
        for (LocalAlgorithm.Benchmark b : benchmarks()) {
            l.add("  bench " + pad(b.name(), 8) + b.usage().get(0));
            b.usage().subList(1, b.usage().size()).forEach(u -> l.add("           " + u));
        }
        l.addAll(java.util.List.of(
            "  help     this text; help settings: every job setting and algorithm setting with its default;",
            "           help wire-format: each record's topic, key, fingerprint and canonical schema",
            "",
            "Submitting the job to a cluster: flink run flink-jobs/target/metastream-flink-jobs-*-job.jar",
            "  --metastream.bootstrap-servers H:P --metastream.obs-dim N --metastream.act-dim N",
            "  [--metastream.task-family F] [--kafka.<client property> V ...]"));
        return String.join("\n", l);
    }

    /** Every benchmark: the algorithms' own, then those of the whole pipeline. */
    static java.util.List<LocalAlgorithm.Benchmark> benchmarks() {
        java.util.List<LocalAlgorithm.Benchmark> all = new java.util.ArrayList<>();
        LocalAlgorithms.all().forEach(a -> all.addAll(a.benchmarks()));
        all.add(LocalAlgorithm.Benchmark.of("stream", StreamBench.USAGE, (args, out, err) -> StreamBench.run(args, out)));
        return all;
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s + " " : s + " ".repeat(width - s.length());
    }

    private Main() {}

    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    static int run(String[] argv) {
        if (argv.length == 2 && argv[0].equals("help") && argv[1].equals("wire-format")) {
            System.out.print(WireFormatDoc.markdown());
            return 0;
        }
        if (argv.length == 2 && argv[0].equals("help") && argv[1].equals("cluster")) {
            System.out.print(ClusterDoc.markdown());
            return 0;
        }
        if (argv.length >= 2 && argv[0].equals("help") && argv[1].equals("settings")) {
            System.out.print(argv.length == 3 && argv[2].equals("--markdown") ? SettingsDoc.markdown() : SettingsDoc.text());
            return 0;
        }
        if (argv.length == 0 || argv[0].equals("help") || argv[0].equals("--help") || argv[0].equals("-h")) {
            System.out.println(USAGE);
            return argv.length == 0 ? 2 : 0;
        }
        String command = argv[0];
        String[] rest = Arrays.copyOfRange(argv, 1, argv.length);
        try {
            switch (command) {
                case "run":
                    return localRun(rest);
                case "fleet":
                    return fleet(rest);
                case "models":
                    return models(rest);
                case "keys":
                    return keys(rest);
                case "cluster":
                    return cluster(rest);
                case "topics":
                    return topics(rest);
                case "bench":
                    return bench(rest);
                default:
                    System.err.println("metastream: unknown command '" + command + "'\n\n" + USAGE);
                    return 2;
            }
        } catch (IllegalArgumentException e) {
            System.err.println("metastream " + command + ": " + e.getMessage());
            return 2;
        } catch (Exception e) {
            System.err.println("metastream " + command + " failed: " + e);
            e.printStackTrace(System.err);
            return 1;
        }
    }

    private static int localRun(String[] argv) throws Exception {
        CommandLineArgs a = new CommandLineArgs(argv, Set.of("no-bad-records", "job-only"));
        LocalRun.Settings s = LocalRun.settings(a);
        a.rejectUnknown("run");
        Files.createDirectories(s.workDir());
        System.setProperty("metastream.log.file", s.workDir().resolve("metastream.log").toString());
        org.apache.logging.log4j.core.LoggerContext ctx =
                (org.apache.logging.log4j.core.LoggerContext) org.apache.logging.log4j.LogManager.getContext(false);
        ctx.reconfigure();
        if (s.jobOnly()) {
            try (JobOnly j = JobOnly.start(s, System.out)) {
                Thread main = Thread.currentThread();
                Runtime.getRuntime().addShutdownHook(new Thread(() -> { // Ctrl-C: stop the job and the broker first
                    main.interrupt();
                    try {
                        main.join(30_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
                j.serve(s.duration(), Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                System.out.println("stopping");
            }
            return 0;
        }
        LocalRun run = new LocalRun(s, System.out);
        Report r = run.run();
        System.out.println();
        r.section.summary(r.family).forEach(System.out::println);
        System.out.printf("versions published %d, transitions processed %d, dead letters %d, wall %.0f s%n",
                r.versionsPublished, r.transitionsProcessed, r.deadLetters, r.wallSeconds);
        System.out.println("report: " + s.reportDir().resolve("report.json") + " (plots: "
                + String.join(", ", run.plots) + ")");
        return 0;
    }

    private static int bench(String[] argv) throws Exception {
        java.util.List<LocalAlgorithm.Benchmark> all = benchmarks();
        String names = all.stream().map(b -> "bench " + b.name()).collect(java.util.stream.Collectors.joining(", "));
        if (argv.length == 0) {
            throw new IllegalArgumentException("name a benchmark: " + names);
        }
        String[] rest = Arrays.copyOfRange(argv, 1, argv.length);
        for (LocalAlgorithm.Benchmark b : all) {
            if (b.name().equals(argv[0])) {
                return b.run(rest, System.out, System.err);
            }
        }
        throw new IllegalArgumentException("unknown benchmark '" + argv[0] + "'; use " + names);
    }

    private static int fleet(String[] argv) throws Exception {
        CommandLineArgs a = new CommandLineArgs(argv, Set.of());
        String servers = a.string("bootstrap-servers", null);
        TaskFamily family = TaskFamilies.byName(a.string("family", "point-mass"));
        int tasks = a.integer("tasks", 16);
        int agents = a.integer("agents", 16);
        long seed = a.longValue("seed", 7);
        double rate = a.decimal("rate", LocalRun.DEFAULT_RATE);
        long duration = a.longValue("duration", 0);
        int switchEvery = a.integer("switch-every", 0);
        LocalAlgorithm algorithm = LocalAlgorithms.byName(a.string("algorithm",
                MetaStreamOptions.ALGORITHM.defaultValue()));
        String modelName = a.string("model-name", algorithm.job().name() + "-" + family.name());
        TopicNames topics = TopicNames.defaults();
        String experience = a.string("topic-experience", topics.experience());
        String modelsTopic = a.string("topic-models", topics.models());
        String adapted = a.string("topic-adapted", topics.adapted());
        String deadLetters = a.string("topic-dead-letters", topics.deadLetters());
        Map<String, String> agentSettings = LocalRun.agentSettings(a);
        Path trusted = a.path("trusted-keys", null);
        Map<String, String> clientProps = clientProperties(a);
        a.rejectUnknown("fleet");
        if (servers == null) {
            throw new IllegalArgumentException("--bootstrap-servers is required");
        }
        ModelClient.Builder clientBuilder = ModelClient.builder().bootstrapServers(servers).modelsTopic(modelsTopic)
                .adaptedTopic(adapted).modelName(modelName);
        clientProps.forEach(clientBuilder::property);
        Fleet.Builder fleetBuilder = Fleet.builder();
        clientProps.forEach(fleetBuilder::producerProperty);
        try (ModelClient client = trusting(clientBuilder, trusted).build();
             Fleet fleet = algorithm.agents(fleetBuilder, family, client, agentSettings).bootstrapServers(servers).topic(experience).family(family)
                     .tasks(family.trainTasks(tasks, seed)).agents(agents).seed(seed).maxTransitionsPerSecond(rate)
                     .switchTaskEvery(switchEvery).deadLetterTopic(deadLetters).build()) {
            client.start();
            fleet.start();
            long end = duration > 0 ? System.nanoTime() + duration * 1_000_000_000L : Long.MAX_VALUE;
            while (System.nanoTime() < end) {
                Thread.sleep(Math.min(10_000, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
                if (fleet.failure().isPresent()) {
                    throw new IllegalStateException("the fleet stopped: " + fleet.failure().get(), fleet.failure().get());
                }
                FleetStats f = fleet.stats();
                System.out.printf("transitions %d (%.0f/s) episodes %d mean return %.1f model version %s dead letters %d%s%n",
                        f.transitionsSent(), f.recentTransitionsPerSecond(), f.episodesCompleted(), f.meanEpisodeReturn(),
                        client.latestVersion().isPresent() ? client.latestVersion().getAsLong() : "-", f.deadLetters(),
                        fleet.firstDeadLetter().map(r -> " (first: " + r + ")").orElse(""));
            }
        }
        return 0;
    }

    /** {@code topics}: the topic layout of {@code TopicLayout}, created on a cluster or printed as commands. */
    private static int topics(String[] argv) throws Exception {
        CommandLineArgs a = new CommandLineArgs(argv, Set.of("print"));
        String servers = a.string("bootstrap-servers", null);
        int partitions = a.integer("partitions", 4);
        int replication = a.integer("replication-factor", 1);
        boolean print = a.flag("print");
        Map<String, String> client = clientProperties(a);
        a.rejectUnknown("topics");
        if (servers == null) {
            throw new IllegalArgumentException("--bootstrap-servers is required");
        }
        TopicNames names = TopicNames.defaults();
        if (print) {
            System.out.println("T=kafka-topics.sh");
            TopicLayout.kafkaTopicsCommands(names, partitions, servers, replication).forEach(System.out::println);
            return 0;
        }
        java.util.Properties p = new java.util.Properties();
        p.putAll(client);
        p.put("bootstrap.servers", servers);
        java.util.List<org.apache.kafka.clients.admin.NewTopic> topics = TopicLayout.defaults(names, partitions).stream()
                .map(t -> new org.apache.kafka.clients.admin.NewTopic(t.name(), t.numPartitions(), (short) replication)
                        .configs(t.configs())).toList();
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(p)) {
            TopicLayout.create(admin, topics, Duration.ofSeconds(60));
        }
        System.out.println("topics " + names.all() + " exist on " + servers);
        return 0;
    }

    /**
     * Kafka client properties for fleet, models and topics: {@code --client-properties FILE} (a Java
     * properties file: security settings and secrets belong there, not on the command line, where every
     * user of the machine can read them) and then any {@code --kafka.<property> V}.
     */
    static Map<String, String> clientProperties(CommandLineArgs a) throws java.io.IOException {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        Path file = a.path("client-properties", null);
        if (file != null) {
            java.util.Properties p = new java.util.Properties();
            try (java.io.Reader r = Files.newBufferedReader(file)) {
                p.load(r);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new IllegalArgumentException("--client-properties " + file + ": no such file");
            }
            p.stringPropertyNames().forEach(k -> out.put(k, p.getProperty(k)));
        }
        a.withPrefix(MetaStreamOptions.KAFKA_PREFIX).forEach((k, v) -> out.put(k.substring(MetaStreamOptions.KAFKA_PREFIX.length()), v));
        if (out.containsKey("bootstrap.servers")) {
            throw new IllegalArgumentException("give the brokers with --bootstrap-servers, not as a client property");
        }
        return out;
    }

    /** One line per version, as {@code models} prints them. */
    static void printVersion(ModelVersion v) {
        System.out.printf("%s v%d parent %s run %s signed %s outerSteps %d transitionsSeen %d sha256 %s metrics %s%n",
                v.getModelName(), v.getVersion(), v.getParentVersion(), v.getRunId().isEmpty() ? "-" : v.getRunId(),
                v.getSigningKeyId() == null ? "no" : "by " + v.getSigningKeyId(), v.getOuterSteps(), v.getTransitionsSeen(),
                v.getParametersSha256().substring(0, Math.min(12, v.getParametersSha256().length())), v.getMetrics());
    }

    private static ModelClient.Builder trusting(ModelClient.Builder b, Path trustedKeys) {
        return trustedKeys == null ? b : b.trustedKeys(trustedKeys);
    }

    private static int keys(String[] argv) throws Exception {
        CommandLineArgs a = new CommandLineArgs(argv, Set.of());
        Path dir = a.path("out", null);
        a.rejectUnknown("keys");
        if (dir == null) {
            throw new IllegalArgumentException("--out DIR is required: the folder for learner.key and learner.pub");
        }
        Path key = dir.resolve("learner.key");
        Path pub = dir.resolve("learner.pub");
        if (Files.exists(key) || Files.exists(pub)) {
            throw new IllegalArgumentException(dir + " already holds learner.key or learner.pub; refusing to overwrite a key");
        }
        Files.createDirectories(dir);
        java.security.KeyPair pair = io.metastream.client.ModelSignatures.writeNewPair(key, pub);
        System.out.printf("wrote %s (private: give it to the job as --metastream.signing-key-file, on every TaskManager)%n"
                + "and %s (public, key id %s: --metastream.trusted-keys-file for the job, --trusted-keys for fleet and "
                + "models, ModelClient.Builder.trustedKeys)%n", key, pub,
                io.metastream.client.ModelSignatures.keyId(pair.getPublic()));
        return 0;
    }

    private static int models(String[] argv) throws Exception {
        CommandLineArgs a = new CommandLineArgs(argv, Set.of());
        String servers = a.string("bootstrap-servers", null);
        String modelName = a.string("model-name", MetaStreamOptions.MODEL_NAME.defaultValue());
        long duration = a.longValue("duration", 0);
        TopicNames topics = TopicNames.defaults();
        String modelsTopic = a.string("topic-models", topics.models());
        String adapted = a.string("topic-adapted", topics.adapted());
        Path trusted = a.path("trusted-keys", null);
        Map<String, String> clientProps = clientProperties(a);
        a.rejectUnknown("models");
        if (servers == null) {
            throw new IllegalArgumentException("--bootstrap-servers is required");
        }
        ModelClient.Builder clientBuilder = ModelClient.builder().bootstrapServers(servers).modelsTopic(modelsTopic)
                .adaptedTopic(adapted).modelName(modelName).onVersion(Main::printVersion);
        clientProps.forEach(clientBuilder::property);
        try (ModelClient client = trusting(clientBuilder, trusted).build()) {
            client.start();
            long end = duration > 0 ? System.nanoTime() + duration * 1_000_000_000L : Long.MAX_VALUE;
            while (System.nanoTime() < end) {
                Thread.sleep(Math.min(200, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            }
            if (client.rejectedRecords() > 0) {
                System.out.printf("%d records refused (see the log)%n", client.rejectedRecords());
            }
        }
        return 0;
    }

    private static int cluster(String[] argv) throws Exception {
        CommandLineArgs a = new CommandLineArgs(argv, Set.of("no-submit"));
        Path dir = a.path("dir", Path.of("work", "cluster")).toAbsolutePath();
        String family = a.string("family", "pendulum");
        String modelName = a.string("model-name", "grbal-" + family);
        int agents = a.integer("agents", 8);
        double rate = a.decimal("rate", LocalRun.DEFAULT_RATE);
        long duration = a.longValue("duration", 0);
        boolean submit = !a.flag("no-submit");
        a.rejectUnknown("cluster");
        io.metastream.sim.TaskFamily f = io.metastream.sim.TaskFamilies.byName(family);
        if (Files.isDirectory(dir)) {
            try (var entries = Files.list(dir)) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalArgumentException(dir + " holds an earlier cluster (its brokers' data and checkpoints); "
                            + "remove it or choose another --dir");
                }
            }
        }
        try (io.metastream.local.LocalCluster c = new io.metastream.local.LocalCluster(dir,
                io.metastream.local.LocalCluster.flinkClasspath(home()), null, 2, Map.of())) {
            c.start();
            System.out.printf("Kafka (3 brokers):  %s%nFlink REST:         %s%nFlink conf dir:     %s%nlearner keys:       %s%n",
                    c.kafka().bootstrapServers(), c.flink().restUrl(), c.flink().confDir(), c.publicKey().getParent());
            if (submit) {
                String job = c.submit(home(), c.jobArguments(family, modelName, List.of()), null);
                c.awaitRunning(job, Duration.ofMinutes(3));
                System.out.printf("job %s running (model %s); checkpoints in %s%n", job, modelName,
                        c.flink().checkpointDir().resolve(job));
            }
            Fleet fleet = null;
            if (agents > 0) {
                fleet = Fleet.builder().bootstrapServers(c.kafka().bootstrapServers()).topic(c.topics().experience())
                        .family(f).tasks(f.trainTasks(Math.max(1, agents / 2), 1)).agents(agents).seed(1)
                        .controllers(io.metastream.sim.fleet.AgentController.explore()).maxTransitionsPerSecond(rate).build();
                fleet.start();
                System.out.printf("fleet of %d exploring agents at most %.0f transitions/s%n", agents, rate);
            }
            try (ModelClient client = ModelClient.builder().bootstrapServers(c.kafka().bootstrapServers())
                    .modelsTopic(c.topics().models()).adaptedTopic(c.topics().adapted()).modelName(modelName)
                    .trustedKeys(c.publicKey()).onVersion(Main::printVersion).build()) {
                client.start();
                long end = duration > 0 ? System.nanoTime() + duration * 1_000_000_000L : Long.MAX_VALUE;
                while (System.nanoTime() < end) {
                    Thread.sleep(200);
                }
            } finally {
                if (fleet != null) {
                    fleet.close();
                }
            }
        }
        return 0;
    }

    static Path home() {
        return Path.of(System.getProperty("metastream.home", "."));
    }
}

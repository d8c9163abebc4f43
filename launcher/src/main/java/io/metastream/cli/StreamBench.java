package io.metastream.cli;

import io.metastream.client.AvroCodec;
import io.metastream.client.Codecs;
import io.metastream.client.CommandLineArgs;
import io.metastream.client.TopicLayout;
import io.metastream.client.TopicNames;
import io.metastream.core.settings.SettingsTable;
import io.metastream.flink.MetaLearningJob;
import io.metastream.flink.MetaStreamOptions;
import io.metastream.flink.internal.TaskTransitions;
import io.metastream.local.KafkaBroker;
import io.metastream.schema.AdaptedModel;
import io.metastream.schema.ModelVersion;
import io.metastream.schema.Transition;
import io.metastream.schema.TransitionKind;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;

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

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code bin/metastream bench stream}: the pipeline measured as a stream, on the embedded broker and a
 * MiniCluster with exactly-once sinks, each figure beside a reference measured in the same run.
 *
 * <ul>
 *   <li><b>ingest</b>: a topic pre-filled with {@code --transitions} Transition records over
 *       {@code --tasks} tasks (produced before the clock starts) is read by the whole job until the task
 *       operator's {@value TaskTransitions#METRIC} counters add up to all of them: records per second from
 *       the first accepted record to the last. Reference: plain {@code KafkaConsumer}s, as many threads as
 *       the job's parallelism, reading and Avro-decoding the same topic (median of repetitions).</li>
 *   <li><b>adaptation latency</b>: a producer sends at a fixed rate; for every transition, the time from its
 *       send to the first {@code AdaptedModel} that counts it ({@code taskTransitions}) read back by a
 *       read_committed consumer; at each checkpoint interval of {@code --intervals}.</li>
 *   <li><b>version latency</b>: from a version's {@code createdAt} (the learner's step) to a read_committed
 *       consumer holding it, in the same runs.</li>
 *   <li><b>scale</b>: GrBAL ingest with {@code --scale-tasks} active tasks on each state backend.</li>
 * </ul>
 * Transitions are drawn at random within the family's sizes (the task operators' work does not depend on
 * the values); each task has one agent whose episodes have the family's horizon.
 */
final class StreamBench {

    private final PrintStream out;
    private final CommandLineArgs a;
    private final Path work;
    private final int parallelism;
    private final long seed;
    private final Map<String, Object> settings = new LinkedHashMap<>();
    private KafkaBroker broker;
    private int runs;

    private StreamBench(CommandLineArgs a, PrintStream out) {
        this.a = a;
        this.out = out;
        Path home = Path.of(System.getProperty("metastream.home", "."));
        this.work = a.path("work", home.resolve("work").resolve("bench-stream-" + System.currentTimeMillis()));
        this.parallelism = a.integer("parallelism", 2);
        this.seed = a.longValue("seed", 1);
        if (parallelism <= 0) {
            throw new IllegalArgumentException("--parallelism must be positive, got " + parallelism);
        }
    }

    static final List<String> USAGE = List.of(
            "the pipeline as a stream: ingest vs a plain consumer, adaptation and version latency,",
            "1k vs 100k tasks on RocksDB; JSON + PNG (exactly-once, local broker + MiniCluster)",
            "--out FILE (required) --transitions N (default 500000) --tasks N (default 1000) --parallelism N",
            "--algorithms grbal,pearl --intervals 1,4 (s) --rate N/s --latency-tasks N --latency-seconds S --latency-repetitions R",
            "--scale-tasks 1000,100000 --backends rocksdb,hashmap --repetitions N --skip-scale --skip-latency");

    static int run(String[] args, PrintStream out) throws Exception {
        CommandLineArgs a = new CommandLineArgs(args, java.util.Set.of("skip-scale", "skip-latency", "skip-ingest"));
        return new StreamBench(a, out).run();
    }

    private int run() throws Exception {
        Path outFile = a.path("out", null);
        if (outFile == null) {
            throw new IllegalArgumentException("bench stream needs --out FILE");
        }
        long n = a.longValue("transitions", 500_000);
        int tasks = a.integer("tasks", 1000);
        int repetitions = a.integer("repetitions", 3);
        List<String> algorithms = Arrays.stream(a.string("algorithms", "grbal,pearl").split(",")).map(String::trim).toList();
        Map<String, TaskFamily> families = new LinkedHashMap<>();
        for (String algorithm : algorithms) {
            LocalAlgorithm local = LocalAlgorithms.byName(algorithm);
            families.put(algorithm, TaskFamilies.byName(a.string(local.job().name() + "-family",
                    local.job().name().equals("pearl") ? "point-robot" : "pendulum")));
        }
        List<Integer> scaleTasks = positiveList("scale-tasks", "1000,100000", "task counts", Integer::parseInt);
        List<String> backends = Arrays.stream(a.string("backends", "rocksdb,hashmap").split(",")).map(String::trim).toList();
        List<Double> intervals = positiveList("intervals", "1,4", "checkpoint intervals in seconds", Double::parseDouble);
        double rate = a.decimal("rate", 2000);
        int latencyTasks = a.integer("latency-tasks", 16);
        int latencySeconds = a.integer("latency-seconds", 30);
        int latencyRepetitions = a.integer("latency-repetitions", 3);
        if (latencyRepetitions < 1) {
            throw new IllegalArgumentException("--latency-repetitions must be at least 1, got " + latencyRepetitions);
        }
        int warmup = a.integer("warmup", 10);
        double ingestCheckpoint = a.decimal("ingest-checkpoint-interval", 2);
        int timeout = a.integer("timeout", 900);
        settings.put("transitions", n);
        settings.put("tasks", tasks);
        settings.put("parallelism", parallelism);
        settings.put("repetitions", repetitions);
        settings.put("ingestCheckpointIntervalSeconds", ingestCheckpoint);
        settings.put("rate", rate);
        settings.put("latencyTasks", latencyTasks);
        settings.put("latencySeconds", latencySeconds);
        settings.put("latencyRepetitions", latencyRepetitions);
        settings.put("warmupSeconds", warmup);
        settings.put("seed", seed);
        settings.put("jobOptions", LocalRun.redacted(LocalRun.jobOptions(a)));
        boolean skipIngest = a.flag("skip-ingest");
        boolean skipLatency = a.flag("skip-latency");
        boolean skipScale = a.flag("skip-scale");
        a.rejectUnknown("bench stream");

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("cores", Runtime.getRuntime().availableProcessors());
        json.put("javaVersion", System.getProperty("java.version"));
        json.put("settings", settings);
        Files.createDirectories(work);
        out.printf("bench stream: %d transitions over %d tasks, parallelism %d, work dir %s%n", n, tasks, parallelism, work);
        try (KafkaBroker b = KafkaBroker.builder().dataDir(work.resolve("kafka")).build()) {
            broker = b;
            b.start();
            Map<String, Object> ingest = new LinkedHashMap<>();
            Map<String, Object> latency = new LinkedHashMap<>();
            List<Double> versionLatencies = new ArrayList<>();
            for (String algorithm : algorithms) {
                LocalAlgorithm local = LocalAlgorithms.byName(algorithm);
                TaskFamily family = families.get(algorithm);
                if (!skipIngest) {
                    String topic = prefill(family, n, tasks);
                    double raw = raw(topic, n, repetitions);
                    IngestRun job = ingest(local, family, topic, n, null, ingestCheckpoint, timeout);
                    double sourceOnly = ceiling(local, family, topic, n, false, ingestCheckpoint, repetitions, timeout);
                    double keyedCount = ceiling(local, family, topic, n, true, ingestCheckpoint, repetitions, timeout);
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("family", family.name());
                    m.put("ingestRecordsPerSecond", job.adaptingPerSecond);
                    m.put("rawConsumeDecodePerSecond", raw);
                    m.put("ingestRatio", job.adaptingPerSecond / raw);
                    m.put("sourceValidatePerSecond", sourceOnly);
                    m.put("sourceValidateRatio", sourceOnly / raw);
                    m.put("keyedCountPerSecond", keyedCount);
                    m.put("keyedCountRatio", keyedCount / raw);
                    m.put("run", job.toMap());
                    ingest.put(local.job().name(), m);
                    out.printf("  ingest %s: %.0f records/s once adapting (%.0f/s over the whole run, %d accepted before the "
                                    + "first adaptation), raw consume+decode %.0f/s, ratio %.3f%n", local.job().name(),
                            job.adaptingPerSecond, job.perSecond, job.acceptedAtFirstAdaptation, raw,
                            job.adaptingPerSecond / raw);
                }
                if (!skipLatency) {
                    List<Object> perInterval = new ArrayList<>();
                    for (double interval : intervals) {
                        // the run with the median p99 of latencyRepetitions runs, and every run's p99 / interval
                        List<Map<String, Object>> runs = new ArrayList<>();
                        for (int r = 0; r < latencyRepetitions; r++) {
                            runs.add(latency(local, family, interval, rate, latencyTasks, latencySeconds, warmup,
                                    versionLatencies));
                        }
                        List<Map<String, Object>> byP99 = new ArrayList<>(runs);
                        byP99.sort((x, y) -> Double.compare((double) x.get("p99Ms"), (double) y.get("p99Ms")));
                        Map<String, Object> median = new LinkedHashMap<>(byP99.get((byP99.size() - 1) / 2));
                        median.put("repetitions", latencyRepetitions);
                        median.put("p99OverCheckpointIntervalPerRun",
                                runs.stream().map(x -> x.get("p99OverCheckpointInterval")).toList());
                        perInterval.add(median);
                    }
                    latency.put(local.job().name(), perInterval);
                }
                json.put("ingest", ingest);
                json.put("adaptationLatency", latency);
                writeJson(outFile, json);
            }
            if (!versionLatencies.isEmpty()) {
                double[] v = versionLatencies.stream().mapToDouble(Double::doubleValue).toArray();
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("p50Ms", percentile(v, 50));
                m.put("p99Ms", percentile(v, 99));
                m.put("maxMs", percentile(v, 100));
                m.put("samples", v.length);
                json.put("versionLatency", m);
            }
            if (!skipScale) {
                LocalAlgorithm grbal = LocalAlgorithms.byName("grbal");
                TaskFamily family = TaskFamilies.byName("pendulum");
                Map<String, Object> scale = new LinkedHashMap<>();
                // a task adapts and feeds the learner only once it holds M + K transitions: fewer per task
                // compares adapting with not adapting, not one task count with another
                Map<String, String> profile = new java.util.HashMap<>(grbal.localProfile());
                String prefix = grbal.job().settingsPrefix();
                LocalRun.jobOptions(a).forEach((k, v) -> {
                    if (k.startsWith(prefix)) {
                        profile.put(k.substring(prefix.length()), v);
                    }
                });
                profile.put("obsDim", Integer.toString(family.obsDim()));
                profile.put("actDim", Integer.toString(family.actDim()));
                io.metastream.core.grbal.GrbalConfig cfg = io.metastream.core.grbal.GrbalConfig.fromMap(profile);
                int window = cfg.adaptWindow() + cfg.predictWindow();
                long perTask = n / scaleTasks.stream().mapToInt(Integer::intValue).max().orElse(1);
                scale.put("transitionsPerTaskAtMostTasks", perTask);
                scale.put("segmentWindow", window);
                scale.put("fair", perTask >= window);
                if (perTask < window) {
                    out.printf("  scale: NOT a fair comparison: %d transitions per task at %d tasks, fewer than one segment "
                            + "window (M + K = %d), so those tasks never adapt; use --transitions >= %d%n", perTask,
                            scaleTasks.stream().mapToInt(Integer::intValue).max().orElse(1), window,
                            (long) window * scaleTasks.stream().mapToInt(Integer::intValue).max().orElse(1));
                }
                for (int t : scaleTasks) {
                    String topic = prefill(family, n, t);
                    for (String backend : backends) {
                        IngestRun r = ingest(grbal, family, topic, n, backend.trim(), ingestCheckpoint, timeout);
                        @SuppressWarnings("unchecked")
                        Map<String, Object> m = (Map<String, Object>) scale.computeIfAbsent(backend.trim(), k -> new LinkedHashMap<>());
                        m.put(Integer.toString(t), r.toMap());
                        out.printf("  scale %s, %d tasks: %.0f records/s%n", backend, t, r.perSecond);
                    }
                }
                if (scaleTasks.size() == 2) {
                    for (String backend : backends) {
                        @SuppressWarnings("unchecked")
                        Map<String, Object> m = (Map<String, Object>) scale.get(backend.trim());
                        double small = (double) ((Map<?, ?>) m.get(Integer.toString(scaleTasks.get(0)))).get("recordsPerSecond");
                        double large = (double) ((Map<?, ?>) m.get(Integer.toString(scaleTasks.get(1)))).get("recordsPerSecond");
                        String key = backend.trim() + label(scaleTasks.get(1)) + "Over" + label(scaleTasks.get(0));
                        scale.put(key, large / small);
                    }
                }
                json.put("scale", scale);
            }
            writeJson(outFile, json);
            plot(outFile, latency);
        } finally {
            broker = null;
        }
        out.println("wrote " + outFile);
        return 0;
    }

    /** A comma-separated list of positive numbers; a bad one names the option and what it takes. */
    private <T extends Number> List<T> positiveList(String option, String def, String what,
            java.util.function.Function<String, T> parse) {
        String given = a.string(option, def);
        List<T> values = new ArrayList<>();
        for (String v : given.split(",")) {
            T x;
            try {
                x = parse.apply(v.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--" + option + " takes " + what + " such as " + def + ", got '" + given + "'");
            }
            if (!(x.doubleValue() > 0)) {
                throw new IllegalArgumentException("--" + option + " must be positive, got '" + given + "'");
            }
            values.add(x);
        }
        return values;
    }

    private static String label(int tasks) {
        return tasks % 1000 == 0 ? (tasks / 1000) + "k" : Integer.toString(tasks);
    }

    // ---------------------------------------------------------------- data

    /** A random transition of {@code family}'s sizes: step {@code seq} of the task's one agent. */
    static Transition transition(String task, long seq, TaskFamily family, SplittableRandom rng) {
        int horizon = Math.max(1, family.horizon());
        return Transition.newBuilder()
                .setTaskId(task)
                .setAgentId("agent-0")
                .setEpisodeId(seq / horizon)
                .setStep((int) (seq % horizon))
                .setObservation(floats(family.obsDim(), rng))
                .setAction(floats(family.actDim(), rng))
                .setReward((float) rng.nextDouble(-1, 1))
                .setNextObservation(floats(family.obsDim(), rng))
                .setDone(seq % horizon == horizon - 1)
                .setPolicyVersion(null)
                .setTimestamp(java.time.Instant.now())
                .setKind(TransitionKind.EXPLORATION)
                .setSparseReward(null)
                .build();
    }

    private static List<Float> floats(int n, SplittableRandom rng) {
        List<Float> l = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            l.add((float) rng.nextDouble(-1, 1));
        }
        return l;
    }

    static String taskId(int i) {
        return String.format("task-%06d", i);
    }

    /** Creates a topic and fills it with {@code n} transitions, round robin over {@code tasks} tasks; returns its name. */
    private String prefill(TaskFamily family, long n, int tasks) throws Exception {
        String topic = "bench.experience." + family.name() + "." + tasks + "." + n;
        TopicNames names = TopicNames.defaults().withExperience(topic);
        if (prefilled.contains(topic)) {
            return topic;
        }
        broker.createTopics(List.of(TopicLayout.defaults(names, Math.max(2, parallelism)).get(0)));
        long started = System.nanoTime();
        AvroCodec<Transition> codec = Codecs.transition();
        SplittableRandom rng = new SplittableRandom(seed);
        long[] seq = new long[tasks];
        try (KafkaProducer<byte[], byte[]> p = producer()) {
            AtomicReference<Exception> failed = new AtomicReference<>();
            for (long i = 0; i < n; i++) {
                int t = (int) (i % tasks);
                String id = taskId(t);
                p.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8),
                        codec.encode(transition(id, seq[t]++, family, rng))), (md, e) -> {
                            if (e != null) {
                                failed.compareAndSet(null, e);
                            }
                        });
            }
            p.flush();
            if (failed.get() != null) {
                throw new IllegalStateException("pre-filling " + topic + " failed", failed.get());
            }
        }
        out.printf("  pre-filled %s: %d records in %.1f s%n", topic, n, (System.nanoTime() - started) / 1e9);
        prefilled.add(topic);
        return topic;
    }

    private final java.util.Set<String> prefilled = new java.util.HashSet<>();

    private KafkaProducer<byte[], byte[]> producer() {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrapServers());
        p.put("linger.ms", "5");
        p.put("batch.size", Integer.toString(256 * 1024));
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    // ---------------------------------------------------------------- ingest

    /**
     * Records per second of plain consumers: {@link #parallelism} threads, each assigned every
     * parallelism-th partition from the beginning, read_committed, decoding every value; timed from the
     * first record any thread receives to the last. The median over {@code repetitions}, after one
     * unmeasured pass.
     */
    private double raw(String topic, long n, int repetitions) throws Exception {
        double[] rates = new double[repetitions];
        rawOnce(topic, n); // unmeasured: the consumer and decoder code compiled, as the job's is after its first seconds
        for (int r = 0; r < repetitions; r++) {
            rates[r] = rawOnce(topic, n);
        }
        double median = Stats.median(rates);
        out.printf("  raw consume+decode of %s: %s records/s (median %.0f)%n", topic, Arrays.toString(
                Arrays.stream(rates).mapToLong(Math::round).toArray()), median);
        return median;
    }

    private double rawOnce(String topic, long n) throws Exception {
        List<TopicPartition> partitions;
        try (KafkaConsumer<byte[], byte[]> c = consumer(null)) {
            partitions = c.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
        }
        java.util.concurrent.atomic.AtomicLong first = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
        java.util.concurrent.atomic.AtomicLong total = new java.util.concurrent.atomic.AtomicLong();
        long[] last = new long[parallelism];
        List<Thread> threads = new ArrayList<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        for (int j = 0; j < parallelism; j++) {
            int index = j;
            List<TopicPartition> mine = new ArrayList<>();
            for (int i = j; i < partitions.size(); i += parallelism) {
                mine.add(partitions.get(i));
            }
            Thread th = new Thread(() -> {
                AvroCodec<Transition> codec = Codecs.transition();
                try (KafkaConsumer<byte[], byte[]> c = consumer(null)) {
                    c.assign(mine);
                    c.seekToBeginning(mine);
                    Map<TopicPartition, Long> end = c.endOffsets(mine);
                    long count = 0;
                    long sink = 0;
                    while (!done(c, end)) {
                        for (ConsumerRecord<byte[], byte[]> rec : c.poll(Duration.ofMillis(100))) {
                            if (count++ == 0) {
                                first.accumulateAndGet(System.nanoTime(), Math::min);
                            }
                            sink += codec.decode(rec.value()).getStep();
                        }
                    }
                    last[index] = System.nanoTime() + (sink == Long.MIN_VALUE ? 1 : 0);
                    total.addAndGet(count);
                } catch (Throwable e) {
                    failed.compareAndSet(null, e);
                }
            }, "raw-consumer-" + j);
            threads.add(th);
        }
        threads.forEach(Thread::start);
        for (Thread th : threads) {
            th.join();
        }
        if (failed.get() != null) {
            throw new IllegalStateException("the plain consumer failed", failed.get());
        }
        if (total.get() != n) {
            throw new IllegalStateException("the plain consumers read " + total.get() + " records of " + n);
        }
        long end = Arrays.stream(last).max().getAsLong();
        return n / ((end - first.get()) / 1e9);
    }

    private static boolean done(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (c.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private KafkaConsumer<byte[], byte[]> consumer(String group) {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrapServers());
        p.put("isolation.level", "read_committed");
        p.put("enable.auto.commit", "false");
        if (group != null) {
            p.put("group.id", group);
        }
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** One job run over a pre-filled topic. */
    private record IngestRun(String backend, long records, double seconds, double perSecond, boolean timedOut,
            long versions, List<double[]> series, Map<String, Object> jobMetrics, double adaptingPerSecond,
            long acceptedAtFirstAdaptation) {
        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("stateBackend", backend);
            m.put("records", records);
            m.put("seconds", seconds);
            m.put("recordsPerSecond", perSecond);
            m.put("adaptingRecordsPerSecond", adaptingPerSecond);
            m.put("acceptedBeforeFirstAdaptation", acceptedAtFirstAdaptation);
            m.put("timedOut", timedOut);
            m.put("versionsPublished", versions);
            m.put("series", series);
            m.put("jobMetrics", jobMetrics);
            return m;
        }
    }

    private IngestRun ingest(LocalAlgorithm algorithm, TaskFamily family, String topic, long n, String backend,
            double checkpointSeconds, int timeoutSeconds) throws Exception {
        String run = "ingest-" + (++runs);
        TopicNames topics = TopicNames.defaults().withSuffix("." + run).withExperience(topic);
        broker.createTopics(TopicLayout.defaults(topics, Math.max(2, parallelism)).subList(1, 4));
        Configuration conf = jobConfig(algorithm, family, topics, run, checkpointSeconds);
        if (backend != null) {
            conf.set(MetaStreamOptions.STATE_BACKEND, backend);
        }
        MetricTap.clear();
        JobClient job = submit(conf, run);
        List<double[]> series = new ArrayList<>();
        long start = -1;
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        long count = 0;
        long lastSample = 0;
        long adaptingFrom = -1;
        long acceptedThen = -1;
        long stopAt = -1;
        try {
            while (true) {
                count = MetricTap.sum(TaskTransitions.METRIC);
                long now = System.nanoTime();
                if (start < 0 && count > 0) {
                    start = now;
                }
                if (adaptingFrom < 0 && MetricTap.sum("adaptations") + MetricTap.sum("posteriors") > 0) {
                    adaptingFrom = now;
                    acceptedThen = count;
                }
                if (start >= 0 && now - lastSample >= 1_000_000_000L) {
                    series.add(new double[] {(now - start) / 1e9, count});
                    lastSample = now;
                    if (series.size() % 10 == 0) {
                        out.printf("    [%s %3.0f s] %d of %d accepted%n", run, (now - start) / 1e9, count, n);
                    }
                }
                if (count >= n || now > deadline) {
                    stopAt = now;
                    break;
                }
                if (job.getJobStatus().get().isGloballyTerminalState()) {
                    throw new IllegalStateException("the job ended before reading the topic: " + job.getJobStatus().get());
                }
                Thread.sleep(10);
            }
        } finally {
            job.cancel().get();
        }
        long end = stopAt;
        double seconds = start < 0 ? Double.NaN : (end - start) / 1e9;
        Map<String, Object> metrics = JobMetrics.snapshot();
        long versions = (long) MetricTap.gaugeMax("modelVersion");
        double adapting = adaptingFrom < 0 || count <= acceptedThen ? Double.NaN
                : (count - acceptedThen) / ((end - adaptingFrom) / 1e9);
        return new IngestRun(backend == null ? "hashmap (default)" : backend, count, seconds, count / seconds,
                count < n, versions, series, metrics, adapting, acceptedThen);
    }

    /**
     * The ceilings of any job that reads the topic as the job does: the job's own source, validation and
     * dead-letter sink ({@link MetaLearningJob#validatedTransitions}) with exactly-once checkpoints, then
     * either nothing ({@code keyed} false) or the least a per-task operator does: key by task and count
     * the task's transitions in keyed state. Records/s until every record is counted, median of
     * {@code repetitions} runs.
     */
    private double ceiling(LocalAlgorithm algorithm, TaskFamily family, String topic, long n, boolean keyed,
            double checkpointSeconds, int repetitions, int timeoutSeconds) throws Exception {
        List<Double> rates = new ArrayList<>();
        for (int r = 0; r < repetitions; r++) {
            String run = (keyed ? "keyed-count-" : "source-only-") + (++runs);
            TopicNames topics = TopicNames.defaults().withSuffix("." + run).withExperience(topic);
            broker.createTopics(TopicLayout.defaults(topics, Math.max(2, parallelism)).subList(1, 4));
            Configuration conf = jobConfig(algorithm, family, topics, run, checkpointSeconds);
            MetricTap.clear();
            Configuration env = MetaLearningJob.environmentConfig(conf);
            MetricTap.enable(env);
            env.set(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                    work.resolve("checkpoints").toUri().toString());
            StreamExecutionEnvironment e = StreamExecutionEnvironment.createLocalEnvironment(parallelism, env);
            var transitions = MetaLearningJob.fromKafka(conf).validatedTransitions(e);
            if (keyed) {
                transitions.keyBy(Transition::getTaskId, org.apache.flink.api.common.typeinfo.Types.STRING)
                        .process(new KeyedCount()).name("keyed-count").setParallelism(parallelism)
                        .sinkTo(new org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink<>());
            } else {
                transitions.process(new Count()).name("count").setParallelism(parallelism)
                        .sinkTo(new org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink<>());
            }
            JobClient job = e.executeAsync("metastream-bench-" + run);
            long start = -1;
            long countedAtStart = 0;
            long end;
            long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
            try {
                while (true) {
                    long count = MetricTap.sum(CEILING_METRIC);
                    long now = System.nanoTime();
                    if (start < 0 && count > 0) {
                        start = now; // the records counted before this poll are not timed, so not counted either
                        countedAtStart = count;
                    }
                    if (count >= n) {
                        end = now;
                        break;
                    }
                    if (now > deadline) {
                        throw new IllegalStateException(run + ": " + count + " of " + n + " records in " + timeoutSeconds + " s");
                    }
                    if (job.getJobStatus().get().isGloballyTerminalState()) {
                        throw new IllegalStateException(run + " ended before reading the topic: " + job.getJobStatus().get());
                    }
                    Thread.sleep(5);
                }
            } finally {
                job.cancel().get();
            }
            rates.add(end > start ? (n - countedAtStart) / ((end - start) / 1e9) : Double.NaN);
        }
        double median = Stats.median(rates.stream().mapToDouble(Double::doubleValue).toArray());
        out.printf("  %s ceiling of %s: %s records/s (median %.0f)%n", keyed ? "keyed-count" : "source+validate", topic,
                rates.stream().map(v -> String.format("%.0f", v)).toList(), median);
        return median;
    }

    static final String CEILING_METRIC = "ceilingCounted";

    /** Counts what reaches it (the source-only ceiling). */
    static final class Count extends org.apache.flink.streaming.api.functions.ProcessFunction<Transition, Void> {
        private static final long serialVersionUID = 1L;
        private transient org.apache.flink.metrics.Counter counted;

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext c) {
            counted = getRuntimeContext().getMetricGroup().counter(CEILING_METRIC);
        }

        @Override
        public void processElement(Transition t, Context ctx, org.apache.flink.util.Collector<Void> out) {
            counted.inc();
        }
    }

    /** Counts each task's transitions in keyed state (the least a per-task operator does). */
    static final class KeyedCount extends org.apache.flink.streaming.api.functions.KeyedProcessFunction<String, Transition, Void> {
        private static final long serialVersionUID = 1L;
        private transient org.apache.flink.metrics.Counter counted;
        private transient org.apache.flink.api.common.state.ValueState<Long> perTask;

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext c) {
            counted = getRuntimeContext().getMetricGroup().counter(CEILING_METRIC);
            perTask = getRuntimeContext().getState(new org.apache.flink.api.common.state.ValueStateDescriptor<>(
                    "count", org.apache.flink.api.common.typeinfo.Types.LONG));
        }

        @Override
        public void processElement(Transition t, Context ctx, org.apache.flink.util.Collector<Void> out) throws Exception {
            Long v = perTask.value();
            perTask.update(v == null ? 1 : v + 1);
            counted.inc();
        }
    }

    private Configuration jobConfig(LocalAlgorithm algorithm, TaskFamily family, TopicNames topics, String run,
            double checkpointSeconds) {
        String name = algorithm.job().name();
        Configuration conf = MetaStreamOptions.forBroker(broker.bootstrapServers(), topics);
        conf.set(MetaStreamOptions.ALGORITHM, name);
        conf.set(MetaStreamOptions.MODEL_NAME, "bench-" + run);
        conf.set(MetaStreamOptions.GROUP_ID, "bench-" + run);
        conf.set(MetaStreamOptions.PARALLELISM, parallelism);
        conf.set(MetaStreamOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(Math.round(checkpointSeconds * 1000)));
        String prefix = algorithm.job().settingsPrefix();
        conf.setString(prefix + SettingsTable.SEED, Long.toString(seed));
        algorithm.localProfile().forEach((k, v) -> conf.setString(prefix + k, v));
        LocalRun.jobOptions(a).forEach(conf::setString);
        FamilySizes.apply(conf, family);
        Path[] keys = LocalRun.localKeys(work);
        conf.set(MetaStreamOptions.SIGNING_KEY_FILE, keys[0].toString());
        conf.set(MetaStreamOptions.TRUSTED_KEYS_FILE, keys[1].toString());
        return conf;
    }

    private JobClient submit(Configuration conf, String name) throws Exception {
        Configuration env = MetaLearningJob.environmentConfig(conf);
        MetricTap.enable(env);
        env.set(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY, work.resolve("checkpoints").toUri().toString());
        StreamExecutionEnvironment e = StreamExecutionEnvironment.createLocalEnvironment(parallelism, env);
        MetaLearningJob.fromKafka(conf).build(e);
        return e.executeAsync("metastream-bench-" + name);
    }

    // ---------------------------------------------------------------- latency

    private Map<String, Object> latency(LocalAlgorithm algorithm, TaskFamily family, double intervalSeconds, double rate,
            int tasks, int seconds, int warmup, List<Double> versionLatencies) throws Exception {
        String run = "latency-" + (++runs);
        TopicNames topics = TopicNames.defaults().withSuffix("." + run);
        broker.createTopics(TopicLayout.defaults(topics, Math.max(2, parallelism)));
        Configuration conf = jobConfig(algorithm, family, topics, run, intervalSeconds);
        MetricTap.clear();
        JobClient job = submit(conf, run);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean stopReaders = new AtomicBoolean();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        long[][] sent = new long[tasks][];
        int[] sentCount = new int[tasks];
        for (int t = 0; t < tasks; t++) {
            sent[t] = new long[1024];
        }
        List<long[]> adapted = java.util.Collections.synchronizedList(new ArrayList<>()); // {task, taskTransitions, nanos}
        List<Double> versionMs = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicLong firstAdaptation = new java.util.concurrent.atomic.AtomicLong(-1);
        Map<String, Integer> taskIndex = new HashMap<>();
        for (int t = 0; t < tasks; t++) {
            taskIndex.put(taskId(t), t);
        }
        Thread producer = new Thread(() -> {
            AvroCodec<Transition> codec = Codecs.transition();
            SplittableRandom rng = new SplittableRandom(seed);
            try (KafkaProducer<byte[], byte[]> p = producer()) {
                long startedAt = System.nanoTime();
                long i = 0;
                while (!stop.get()) {
                    long due = startedAt + (long) (i / rate * 1e9);
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(wait);
                        continue;
                    }
                    int t = (int) (i % tasks);
                    String id = taskId(t);
                    int k = sentCount[t];
                    byte[] value = codec.encode(transition(id, k, family, rng));
                    synchronized (sent) {
                        if (k == sent[t].length) {
                            sent[t] = Arrays.copyOf(sent[t], k * 2);
                        }
                        sent[t][k] = System.nanoTime();
                        sentCount[t] = k + 1;
                    }
                    p.send(new ProducerRecord<>(topics.experience(), id.getBytes(StandardCharsets.UTF_8), value));
                    i++;
                }
            } catch (Throwable e) {
                failed.compareAndSet(null, e);
            }
        }, "bench-producer");
        Thread adaptedReader = reader(topics.adapted(), stopReaders, failed, rec -> {
            AdaptedModel m = Codecs.adaptedModel().decode(rec.value());
            Integer t = taskIndex.get(m.getTaskId().toString());
            if (t != null) {
                firstAdaptation.compareAndSet(-1, System.nanoTime());
                adapted.add(new long[] {t, m.getTaskTransitions(), System.nanoTime()});
            }
        });
        List<Double> checkpointMs = new ArrayList<>();
        Thread modelReader = reader(topics.models(), stopReaders, failed, rec -> {
            ModelVersion v = Codecs.modelVersion().decode(rec.value());
            versionMs.add((double) (System.currentTimeMillis() - v.getCreatedAt().toEpochMilli()));
        });
        long measureFrom;
        long measureTo;
        try {
            adaptedReader.start();
            modelReader.start();
            producer.start();
            long deadline = System.nanoTime() + 300_000_000_000L;
            while (firstAdaptation.get() < 0) {
                check(failed, job);
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no AdaptedModel within 300 s");
                }
                Thread.sleep(50);
            }
            Thread.sleep(warmup * 1000L);
            measureFrom = System.nanoTime();
            // the duration of each checkpoint completed in the window (the JobManager's gauges)
            double completed = MetricTap.gaugeMax("numberOfCompletedCheckpoints");
            while (System.nanoTime() - measureFrom < seconds * 1_000_000_000L) {
                Thread.sleep(20);
                double now = MetricTap.gaugeMax("numberOfCompletedCheckpoints");
                if (now > completed || (Double.isNaN(completed) && !Double.isNaN(now))) {
                    completed = now;
                    checkpointMs.add(MetricTap.gaugeMax("lastCheckpointDuration"));
                }
            }
            measureTo = System.nanoTime();
            check(failed, job);
            stop.set(true);
            producer.join();
            Thread.sleep((long) (3 * intervalSeconds * 1000) + 3000); // the last adaptations become readable
            check(failed, job);
        } finally {
            stop.set(true);
            stopReaders.set(true);
            producer.join();
            adaptedReader.join();
            modelReader.join();
            job.cancel().get();
        }
        // per task, each transition sent in the window: the first adaptation whose count includes it
        List<Double> lat = new ArrayList<>();
        long uncovered = 0;
        List<List<long[]>> byTask = new ArrayList<>();
        for (int t = 0; t < tasks; t++) {
            byTask.add(new ArrayList<>());
        }
        synchronized (adapted) {
            for (long[] e : adapted) {
                byTask.get((int) e[0]).add(e);
            }
        }
        List<double[]> series = new ArrayList<>();
        for (int t = 0; t < tasks; t++) {
            List<long[]> seen = byTask.get(t);
            int next = 0;
            for (int k = 0; k < sentCount[t]; k++) {
                long at = sent[t][k];
                while (next < seen.size() && seen.get(next)[1] < k + 1) {
                    next++;
                }
                if (at < measureFrom || at > measureTo) {
                    continue;
                }
                if (next == seen.size()) {
                    uncovered++;
                    continue;
                }
                double ms = (seen.get(next)[2] - at) / 1e6;
                lat.add(ms);
                series.add(new double[] {(at - measureFrom) / 1e9, ms});
            }
        }
        double[] v = lat.stream().mapToDouble(Double::doubleValue).toArray();
        double intervalMs = intervalSeconds * 1000;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("checkpointIntervalMs", intervalMs);
        r.put("p50Ms", percentile(v, 50));
        r.put("p99Ms", percentile(v, 99));
        r.put("maxMs", percentile(v, 100));
        r.put("p99OverCheckpointInterval", percentile(v, 99) / intervalMs);
        r.put("transitionsMeasured", v.length);
        r.put("transitionsNotYetAdapted", uncovered);
        r.put("adaptationsRead", adapted.size());
        double[] vv = versionMs.stream().mapToDouble(Double::doubleValue).toArray();
        r.put("versionsRead", vv.length);
        r.put("versionLatencyP50Ms", percentile(vv, 50));
        r.put("versionLatencyP99Ms", percentile(vv, 99));
        double[] cp = checkpointMs.stream().filter(Double::isFinite).mapToDouble(Double::doubleValue).toArray();
        r.put("checkpointsCompleted", cp.length);
        r.put("checkpointDurationP50Ms", percentile(cp, 50));
        r.put("checkpointDurationMaxMs", percentile(cp, 100));
        versionLatencies.addAll(versionMs);
        series.sort((x, y) -> Double.compare(x[0], y[0]));
        r.put("series", thin(series, 2000));
        out.printf("  latency %s at %.1f s checkpoints: p50 %.0f ms, p99 %.0f ms, max %.0f ms (p99 / interval %.2f; %d transitions); "
                        + "versions p50 %.0f ms, p99 %.0f ms; checkpoints p50 %.0f ms, max %.0f ms (%d)%n", algorithm.job().name(),
                intervalSeconds, percentile(v, 50), percentile(v, 99), percentile(v, 100), percentile(v, 99) / intervalMs, v.length,
                percentile(vv, 50), percentile(vv, 99), percentile(cp, 50), percentile(cp, 100), cp.length);
        return r;
    }

    private static List<double[]> thin(List<double[]> series, int max) {
        if (series.size() <= max) {
            return series;
        }
        List<double[]> l = new ArrayList<>(max);
        for (int i = 0; i < max; i++) {
            l.add(series.get((int) ((long) i * series.size() / max)));
        }
        return l;
    }

    private void check(AtomicReference<Throwable> failed, JobClient job) throws Exception {
        if (failed.get() != null) {
            throw new IllegalStateException("a bench thread failed", failed.get());
        }
        if (job.getJobStatus().get().isGloballyTerminalState()) {
            throw new IllegalStateException("the job ended: " + job.getJobStatus().get());
        }
    }

    private Thread reader(String topic, AtomicBoolean stop, AtomicReference<Throwable> failed,
            java.util.function.Consumer<ConsumerRecord<byte[], byte[]>> each) {
        return new Thread(() -> {
            try (KafkaConsumer<byte[], byte[]> c = consumer(null)) {
                List<TopicPartition> parts = c.partitionsFor(topic).stream()
                        .map(i -> new TopicPartition(topic, i.partition())).toList();
                c.assign(parts);
                c.seekToBeginning(parts);
                while (!stop.get()) {
                    for (ConsumerRecord<byte[], byte[]> rec : c.poll(Duration.ofMillis(20))) {
                        if (rec.value() != null) {
                            each.accept(rec);
                        }
                    }
                }
            } catch (Throwable e) {
                failed.compareAndSet(null, e);
            }
        }, "bench-reader-" + topic);
    }

    static double percentile(double[] v, double p) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double[] s = v.clone();
        Arrays.sort(s);
        int i = (int) Math.ceil(p / 100.0 * s.length) - 1;
        return s[Math.max(0, Math.min(s.length - 1, i))];
    }

    // ---------------------------------------------------------------- output

    private void plot(Path outFile, Map<String, Object> latency) throws java.io.IOException {
        if (latency.isEmpty()) {
            return;
        }
        LinkedHashMap<String, Double> bars = new LinkedHashMap<>();
        latency.forEach((alg, runs) -> {
            for (Object o : (List<?>) runs) {
                Map<?, ?> m = (Map<?, ?>) o;
                double s = (double) m.get("checkpointIntervalMs") / 1000;
                String at = alg + " " + (s == Math.rint(s) ? Long.toString((long) s) : Double.toString(s)) + " s";
                bars.put(at + " p50", (double) m.get("p50Ms"));
                bars.put(at + " p99", (double) m.get("p99Ms"));
                bars.put(at + " max", (double) m.get("maxMs"));
            }
        });
        String base = outFile.getFileName().toString().replaceAll("\\.json$", "");
        Plots.bars(outFile.resolveSibling(base + "-latency.png"),
                "transition to readable AdaptedModel (exactly-once), by checkpoint interval", "ms", bars);
    }

    private static void writeJson(Path file, Map<String, Object> json) throws java.io.IOException {
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        StringBuilder b = new StringBuilder();
        Json.write(b, json, "");
        b.append('\n');
        Files.writeString(file, Json.withoutMachinePaths(b.toString()));
    }
}

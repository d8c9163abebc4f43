package io.metastream.cli.grbal;

import io.metastream.cli.Json;
import io.metastream.client.CommandLineArgs;
import io.metastream.client.TaskModel;
import io.metastream.client.TopicLayout;
import io.metastream.client.TopicNames;
import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.grbal.GrbalConfig;
import io.metastream.core.grbal.Normalizer;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.core.nn.Mlp;
import io.metastream.local.KafkaBroker;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import io.metastream.sim.evaluation.Evaluation;
import io.metastream.sim.fleet.Fleet;
import io.metastream.sim.fleet.grbal.GrbalAgents;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * {@code bin/metastream bench fleet}: how many transitions per second a fleet of planning GrBAL agents
 * delivers to a real Kafka broker (the embedded KRaft broker in a child JVM; acknowledged sends, acks=all)
 * in MPC mode: every step of every agent is planned ({@code randomActionProbability} 0) with the
 * planner's settings, on a model per task of the network GrBAL trains (its weights drawn from the seed,
 * its normaliser fitted to random-action data of the task, so the planner sees the scale it sees in a
 * run; the cost of planning does not depend on the weights' values). No Flink job runs, so the figure is
 * the fleet's own capacity on this machine.
 *
 * <p>Each configuration (planner threads × hidden sizes) runs {@code --repetitions} times, interleaved
 * with the others so machine noise hits all of them; a repetition is a fresh fleet, {@code --warmup}
 * seconds unmeasured, then {@code --seconds} measured: acknowledged transitions / wall seconds. The
 * figure is the median over repetitions.
 */
final class FleetBench {

    private FleetBench() {}

    static int run(CommandLineArgs a, PrintStream out) throws Exception {
        Path outFile = a.path("out", null);
        TaskFamily family = TaskFamilies.byName(a.string("family", "pendulum"));
        int agents = a.integer("agents", 32);
        int tasks = a.integer("tasks", 16);
        int seconds = a.integer("seconds", 15);
        int warmup = a.integer("warmup", 5);
        int repetitions = a.integer("repetitions", 3);
        long seed = a.longValue("seed", 1);
        int[] threads = ints(a.string("threads", "1,2"), "threads");
        List<int[]> hidden = new ArrayList<>();
        for (String h : a.string("hidden", "32x32,64x64").split(",")) {
            hidden.add(ints(h.replace('x', ','), "hidden"));
        }
        Map<String, String> mpcSettings = new HashMap<>();
        a.withPrefix("mpc.").forEach((k, v) -> mpcSettings.put(k.substring("mpc.".length()), v));
        a.rejectUnknown("bench fleet");
        if (outFile == null) {
            throw new IllegalArgumentException("--out FILE is required (the JSON with every repetition)");
        }
        Path work = Files.createTempDirectory("metastream-bench-fleet");
        TopicNames topics = TopicNames.defaults();
        Map<String, List<Double>> results = new LinkedHashMap<>();
        MpcConfig shown = null;
        try (KafkaBroker broker = KafkaBroker.builder().dataDir(work.resolve("kafka")).deleteOnClose(true).build()) {
            broker.start();
            broker.createTopics(TopicLayout.defaults(topics, 2));
            out.printf("bench fleet: %s, %d agents over %d tasks, MPC every step, broker %s, %d cores%n", family.name(),
                    agents, tasks, broker.bootstrapServers(), Runtime.getRuntime().availableProcessors());
            List<TaskSpec> train = family.trainTasks(tasks, seed);
            for (int rep = 0; rep < repetitions; rep++) {
                for (int[] h : hidden) {
                    Map<String, TaskModel> models = models(family, train, h, seed);
                    for (int t : threads) {
                        Map<String, String> settings = new HashMap<>(mpcSettings);
                        settings.put("threads", Integer.toString(t));
                        MpcConfig mpc = GrbalLocal.mpcFor(family, settings);
                        shown = mpc;
                        String key = "threads=" + t + " hidden=" + Arrays.toString(h);
                        double rate = measure(broker.bootstrapServers(), topics, family, train, agents, seed + rep, mpc,
                                models, warmup, seconds, "bench-" + rep + "-" + t + "-" + h.length + h[0] + "-");
                        results.computeIfAbsent(key, k -> new ArrayList<>()).add(rate);
                        out.printf("  repetition %d, %-28s %8.0f transitions/s%n", rep + 1, key, rate);
                    }
                }
            }
        } finally {
            Files.deleteIfExists(work); // the broker removed its data folder on close
        }
        StringBuilder json = new StringBuilder("{\n");
        json.append("  \"family\": ").append(Json.str(family.name())).append(",\n");
        json.append("  \"agents\": ").append(agents).append(",\n  \"tasks\": ").append(tasks).append(",\n");
        json.append("  \"cores\": ").append(Runtime.getRuntime().availableProcessors()).append(",\n");
        json.append("  \"secondsMeasured\": ").append(seconds).append(",\n  \"warmupSeconds\": ").append(warmup).append(",\n");
        json.append("  \"repetitions\": ").append(repetitions).append(",\n  \"seed\": ").append(seed).append(",\n");
        json.append("  \"planner\": {");
        int i = 0;
        for (Map.Entry<String, String> e : new java.util.TreeMap<>(shown.toMap()).entrySet()) {
            if (!e.getKey().equals("threads")) {
                json.append(i++ == 0 ? "\n" : ",\n").append("    ").append(Json.str(e.getKey())).append(": ").append(Json.str(e.getValue()));
            }
        }
        json.append("\n  },\n  \"transitionsPerSecond\": {");
        i = 0;
        for (Map.Entry<String, List<Double>> e : results.entrySet()) {
            double[] v = e.getValue().stream().mapToDouble(Double::doubleValue).toArray();
            json.append(i++ == 0 ? "\n" : ",\n").append("    ").append(Json.str(e.getKey())).append(": {\"median\": ")
                    .append(Json.num(median(v))).append(", \"repetitions\": ").append(Json.array(v)).append("}");
        }
        json.append("\n  }\n}\n");
        Files.createDirectories(outFile.toAbsolutePath().getParent());
        Files.writeString(outFile, Json.withoutMachinePaths(json.toString()));
        out.println("medians:");
        results.forEach((k, v) -> out.printf("  %-30s %8.0f transitions/s%n", k,
                median(v.stream().mapToDouble(Double::doubleValue).toArray())));
        out.println("wrote " + outFile);
        return 0;
    }

    /** A model per task: GrBAL's network with seeded weights and a normaliser fitted to random-action data. */
    private static Map<String, TaskModel> models(TaskFamily family, List<TaskSpec> tasks, int[] hidden, long seed) {
        GrbalConfig cfg = GrbalConfig.builder().obsDim(family.obsDim()).actDim(family.actDim()).hidden(hidden).seed(seed).build();
        Mlp mlp = cfg.mlp();
        Random rng = new Random(seed);
        Map<String, TaskModel> models = new HashMap<>();
        for (TaskSpec t : tasks) {
            Normalizer n = new Normalizer(family.obsDim(), family.actDim());
            n.update(Evaluation.collect(family, t, null, rng.nextLong(), 400));
            models.put(t.id(), new TaskModel(new DynamicsModel(mlp, mlp.initParams(rng), n), 1, true));
        }
        return models;
    }

    private static double measure(String servers, TopicNames topics, TaskFamily family, List<TaskSpec> train, int agents,
            long seed, MpcConfig mpc, Map<String, TaskModel> models, int warmup, int seconds, String prefix)
            throws InterruptedException {
        try (Fleet fleet = Fleet.builder().bootstrapServers(servers).topic(topics.experience()).family(family).tasks(train)
                .agents(agents).seed(seed).agentIdPrefix(prefix)
                .controllers(GrbalAgents.mpc(mpc, id -> Optional.ofNullable(models.get(id)), 0.0)).build()) {
            fleet.start();
            Thread.sleep(warmup * 1000L);
            long before = fleet.stats().transitionsSent();
            long start = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            long after = fleet.stats().transitionsSent();
            double elapsed = (System.nanoTime() - start) / 1e9;
            if (fleet.failure().isPresent()) {
                throw new IllegalStateException("the fleet failed", fleet.failure().get());
            }
            return (after - before) / elapsed;
        }
    }

    private static int[] ints(String csv, String what) {
        try {
            return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + what + " takes comma-separated integers (hidden: sizes like 32x32), got '"
                    + csv + "'");
        }
    }

    private static double median(double[] v) {
        return io.metastream.cli.Stats.median(v);
    }
}

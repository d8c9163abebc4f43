package io.metastream.cli;

import io.metastream.client.ModelClient;
import io.metastream.client.TopicNames;
import io.metastream.schema.ModelVersion;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.fleet.Fleet;
import io.metastream.sim.fleet.FleetStats;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

/** The CLI behind {@code bin/metastream}. Exit codes: 0 success, 1 failure, 2 bad usage. */
public final class Main {

    static final String USAGE = String.join("\n",
            "usage: bin/metastream <command> [options]",
            "",
            "commands:",
            "  run      local run: real Kafka broker (KRaft, child JVM) + Flink MiniCluster + simulated fleet,",
            "           then a meta-test on held-out tasks written to report.json and PNG plots",
            "           --algorithm grbal|pearl        grbal (default): dynamics model adapted by gradient steps + MPC;",
            "                                          pearl: SAC with a context encoder, agents do posterior sampling",
            "           --family NAME                  task family: point-mass (default; crippled, rotated actuators),\n"
                    + "                                          pendulum, point-robot, sparse-point-robot, point-vel",
            "           --duration SECONDS             training time before the meta-test (default 150)",
            "           --tasks N --held-out N         train / held-out task counts (default 16 / 8)",
            "           --agents N                     simulated agents (default 16)",
            "           --seed N                       seed of tasks, fleet and learner (default 7)",
            "           --parallelism N                job parallelism (default 2)",
            "           --rate N                       fleet transitions per second, 0 = unlimited (default 1000)",
            "           --report DIR                   report folder (default reports/run-<time>)",
            "           --work DIR                     broker data and logs (default work/run-<time>)",
            "           --mpc-episodes N               MPC episodes per held-out task and condition (default 4)",
            "           --no-bad-records               do not send the demo bad records",
            "           --switch-every N               agents' dynamics switch to another task every N steps (GrBAL's",
            "                                          changing-task setting; 0 = off, the default)",
            "           --grbal.<key> V                algorithm settings, e.g. --grbal.innerLr 0.05",
            "           --pearl.<key> V                PEARL settings, e.g. --pearl.netHidden 300,300,300",
            "           --metastream.<key> V           job settings, e.g. --metastream.publish-every 5",
            "  fleet    a simulated fleet producing to an existing Kafka cluster",
            "           --bootstrap-servers H:P --family F --tasks N --agents N --seed N --rate N --algorithm grbal|pearl",
            "           --duration SECONDS (0 = until killed) --model-name NAME --switch-every N",
            "  models   follow the models topic and print every version (read_committed)",
            "           --bootstrap-servers H:P --model-name NAME [--duration SECONDS]",
            "  bench pearl    PEARL meta-training on the published point-robot train goals, meta-test on the 20",
            "           eval goals vs oracle SAC, then sparse-point-robot; JSON + PNG (seeded, reproducible)",
            "           --out FILE (required) --seed N --skip-sparse --skip-oracle",
            "           --dense.<setting> V / --sparse.<setting> V   e.g. --dense.iterations 40 (see the README)",
            "  bench learner  one PEARL learner step (3x300 nets, batch 256, meta-batch 16): ND4J vs PyTorch",
            "           --out FILE (required) --steps N --repetitions N --python python3",
            "  help     this text",
            "",
            "Submitting the job to a cluster: flink run flink-jobs/target/metastream-flink-jobs-*-job.jar",
            "  --metastream.bootstrap-servers H:P --metastream.obs-dim N --metastream.act-dim N",
            "  [--metastream.task-family F] [--kafka.<client property> V ...]");

    private Main() {}

    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    static int run(String[] argv) {
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
        Args a = new Args(argv, Set.of("no-bad-records"));
        LocalRun.Settings s = LocalRun.settings(a);
        a.rejectUnknown("run");
        Files.createDirectories(s.workDir());
        System.setProperty("metastream.log.file", s.workDir().resolve("metastream.log").toString());
        org.apache.logging.log4j.core.LoggerContext ctx =
                (org.apache.logging.log4j.core.LoggerContext) org.apache.logging.log4j.LogManager.getContext(false);
        ctx.reconfigure();
        Report r = new LocalRun(s, System.out).run();
        System.out.println();
        if (r.pearl != null) {
            double[] ret = r.pearl.returnAfter();
            System.out.println("held-out meta-test (" + r.pearl.tasks() + " tasks, family " + r.family + ", PEARL):");
            System.out.printf("  return with z from the prior %.2f | after 1 context episode %.2f | after %d %.2f%n",
                    ret[0], ret[1], ret.length - 1, ret[ret.length - 1]);
            System.out.printf("versions published %d, transitions processed %d, dead letters %d, wall %.0f s%n",
                    r.versionsPublished, r.transitionsProcessed, r.deadLetters, r.wallSeconds);
            System.out.println("report: " + s.reportDir().resolve("report.json") + " (plots: learning-curve.png, "
                    + "heldout-return.png)");
            return 0;
        }
        System.out.println("held-out meta-test (" + r.heldOut.tasks() + " tasks, family " + r.family + "):");
        System.out.printf("  one-step prediction MSE  adapted %.5f | unadapted meta-model %.5f | non-meta %.5f%n",
                r.heldOut.adaptedMse(), r.heldOut.unadaptedMse(), r.heldOut.nonMetaMse());
        System.out.printf("  adapted / unadapted MSE  %.3f%n", r.heldOut.adaptedMse() / r.heldOut.unadaptedMse());
        System.out.printf("  MPC return               adapted %.1f | unadapted %.1f%n",
                r.heldOut.mpcReturnAdapted(), r.heldOut.mpcReturnUnadapted());
        System.out.printf("versions published %d, transitions processed %d, dead letters %d, wall %.0f s%n",
                r.versionsPublished, r.transitionsProcessed, r.deadLetters, r.wallSeconds);
        System.out.println("report: " + s.reportDir().resolve("report.json") + " (plots: learning-curve.png, "
                + "heldout-mse.png, heldout-mpc-return.png)");
        return 0;
    }

    private static int bench(String[] argv) throws Exception {
        if (argv.length == 0) {
            throw new IllegalArgumentException("name a benchmark: bench pearl or bench learner");
        }
        String[] rest = Arrays.copyOfRange(argv, 1, argv.length);
        switch (argv[0]) {
            case "pearl":
                return new PearlBench(System.out).run(new Args(rest, Set.of("skip-sparse", "skip-oracle")));
            case "learner":
                return io.metastream.bench.LearnerBench.run(Arrays.asList(rest), System.out, System.err);
            default:
                throw new IllegalArgumentException("unknown benchmark '" + argv[0] + "'; use bench pearl or bench learner");
        }
    }

    /** GrBAL agents plan with MPC on the adapted model; PEARL agents do posterior sampling with the policy. */
    private static Fleet.Builder fleetBuilder(String algorithm, TaskFamily family, ModelClient client) {
        return algorithm.equals("pearl") ? Fleet.builder().policySource(client::policyFor)
                : Fleet.builder().mpc(LocalRun.mpcFor(family)).modelSource(client::modelFor);
    }

    private static int fleet(String[] argv) throws Exception {
        Args a = new Args(argv, Set.of());
        String servers = a.string("bootstrap-servers", null);
        TaskFamily family = TaskFamilies.byName(a.string("family", "point-mass"));
        int tasks = a.integer("tasks", 16);
        int agents = a.integer("agents", 16);
        long seed = a.longValue("seed", 7);
        double rate = a.decimal("rate", 0);
        long duration = a.longValue("duration", 0);
        int switchEvery = a.integer("switch-every", 0);
        String algorithm = a.string("algorithm", "grbal");
        if (!algorithm.equals("grbal") && !algorithm.equals("pearl")) {
            throw new IllegalArgumentException("--algorithm must be grbal or pearl, got '" + algorithm + "'");
        }
        String modelName = a.string("model-name", algorithm + "-" + family.name());
        TopicNames topics = TopicNames.defaults();
        String experience = a.string("topic-experience", topics.experience());
        String modelsTopic = a.string("topic-models", topics.models());
        String adapted = a.string("topic-adapted", topics.adapted());
        a.rejectUnknown("fleet");
        if (servers == null) {
            throw new IllegalArgumentException("--bootstrap-servers is required");
        }
        try (ModelClient client = ModelClient.builder().bootstrapServers(servers).modelsTopic(modelsTopic)
                .adaptedTopic(adapted).modelName(modelName).build();
             Fleet fleet = fleetBuilder(algorithm, family, client).bootstrapServers(servers).topic(experience).family(family)
                     .tasks(family.trainTasks(tasks, seed)).agents(agents).seed(seed).maxTransitionsPerSecond(rate)
                     .switchTaskEvery(switchEvery).build()) {
            client.start();
            fleet.start();
            long end = duration > 0 ? System.nanoTime() + duration * 1_000_000_000L : Long.MAX_VALUE;
            while (System.nanoTime() < end) {
                Thread.sleep(10_000);
                FleetStats f = fleet.stats();
                System.out.printf("transitions %d episodes %d mean return %.1f model version %s%n",
                        f.transitionsSent(), f.episodesCompleted(), f.meanEpisodeReturn(),
                        client.latestVersion().isPresent() ? client.latestVersion().getAsLong() : "-");
            }
        }
        return 0;
    }

    private static int models(String[] argv) throws Exception {
        Args a = new Args(argv, Set.of());
        String servers = a.string("bootstrap-servers", null);
        String modelName = a.string("model-name", "grbal-point-mass");
        long duration = a.longValue("duration", 0);
        TopicNames topics = TopicNames.defaults();
        String modelsTopic = a.string("topic-models", topics.models());
        String adapted = a.string("topic-adapted", topics.adapted());
        a.rejectUnknown("models");
        if (servers == null) {
            throw new IllegalArgumentException("--bootstrap-servers is required");
        }
        try (ModelClient client = ModelClient.builder().bootstrapServers(servers).modelsTopic(modelsTopic)
                .adaptedTopic(adapted).modelName(modelName).build()) {
            client.start();
            long end = duration > 0 ? System.nanoTime() + duration * 1_000_000_000L : Long.MAX_VALUE;
            long shown = 0;
            while (System.nanoTime() < end) {
                ModelVersion v = client.latestModelVersion().orElse(null);
                if (v != null && v.getVersion() != shown) {
                    shown = v.getVersion();
                    System.out.printf("%s v%d parent %s outerSteps %d transitionsSeen %d sha256 %s metrics %s%n",
                            v.getModelName(), v.getVersion(), v.getParentVersion(), v.getOuterSteps(),
                            v.getTransitionsSeen(), v.getParametersSha256().substring(0, 12), v.getMetrics());
                }
                Thread.sleep(200);
            }
        }
        return 0;
    }

    static Path home() {
        return Path.of(System.getProperty("metastream.home", "."));
    }
}

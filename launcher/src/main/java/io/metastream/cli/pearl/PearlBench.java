package io.metastream.cli.pearl;

import io.metastream.client.CommandLineArgs;
import io.metastream.cli.Json;
import io.metastream.cli.Plots;
import io.metastream.core.pearl.PearlConfig;
import io.metastream.core.settings.Setting;
import io.metastream.core.settings.SettingsTable;
import io.metastream.sim.evaluation.GoalSearchCeiling;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import io.metastream.sim.pearl.PearlMetaTrainer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code bin/metastream bench pearl}: PEARL meta-training on the published point-robot train goals and
 * meta-test on the 20 eval goals, against oracle SAC that sees the goal, then the same for
 * sparse-point-robot. One seeded, single-threaded loop per run ({@link PearlMetaTrainer}), so a seed
 * reproduces every number.
 */
final class PearlBench {

    /** The settings of one family's run. */
    record FamilyRun(String family, Map<String, String> learner, PearlMetaTrainer.Schedule schedule, int iterations,
            int evalEvery, int contextEpisodes, int oracleIterations) {}

    /** Learner settings the bench sets itself: the family's sizes and the run's seed. */
    private static final java.util.Set<String> FIXED = java.util.Set.of(SettingsTable.OBS_DIM, SettingsTable.ACT_DIM, SettingsTable.SEED);

    /** Draw sequences per eval goal for the posterior-sampling ceiling (4,000 in all; about 0.01 standard error). */
    private static final int CEILING_REPETITIONS = 200;

    private final PrintStream out;

    PearlBench(PrintStream out) {
        this.out = out;
    }

    /**
     * Defaults, scaled for a 2-core machine (2×64 networks; the reference 3×300 take about 0.6 s per
     * step here). The learner starts from {@code PearlConfig}'s profiles {@code bench-dense} and
     * {@code bench-sparse}; any of its settings can be overridden as {@code --dense.<key>} or
     * {@code --sparse.<key>} with the key {@code PearlConfig} uses (e.g. {@code --dense.klWeight 1}); the
     * schedule's own settings (iterations, train-steps, ...) the same way. The sparse schedule follows oyster's sparse-point-robot configuration in
     * shape (10 tasks per iteration, mostly posterior-sampling data, discount 0.9, a large context batch,
     * 5 exploration episodes at test time) at a smaller scale. Both families depart from oyster's KL
     * weights (0.1 dense, 1 sparse): 10 here. At reward scale 100 the weaker bottleneck lets the
     * posterior of one episode collapse far outside the prior, and on sparse-point-robot it leaves z from
     * the prior hedging near the start instead of heading for one point of the half circle (seeds 1–3
     * reached 0.15–0.38 of the goals after 5 context episodes with 10, 0.05–0.18 with 1). Dense
     * point-robot also trains the encoder on contiguous runs of 10 to 64 context rows
     * ({@code minContextSize}; 0 restores oyster's uniform rows). Both families use an
     * encoder with rank factors ({@code encoderRank} 1; 0 restores the paper's diagonal factors), whose
     * full-covariance posterior can intersect the constraints single transitions put on the goal.
     * {@code contextPreviousReward true} widens the context rows with the previous step's reward (off: it did
     * not help over 80 iterations).
     */
    static FamilyRun defaults(String family, CommandLineArgs a) {
        boolean sparse = family.startsWith("sparse");
        String p = sparse ? "sparse." : "dense.";
        Map<String, String> learner = new TreeMap<>(PearlConfig.profile(sparse ? "bench-sparse" : "bench-dense"));
        for (Setting setting : PearlConfig.settings()) {
            String key = setting.key();
            String v = a.string(p + key, null);
            if (v != null && !FIXED.contains(key)) {
                learner.put(key, v);
            }
        }
        PearlMetaTrainer.Schedule s = new PearlMetaTrainer.Schedule(
                a.integer(p + "initial-steps", 200),
                a.integer(p + "tasks-per-iteration", 10),
                a.integer(p + "prior-steps", 100),
                a.integer(p + "posterior-steps", sparse ? 400 : 100),
                a.integer(p + "extra-rl-steps", 0),
                a.integer(p + "train-steps", 500),
                a.integer(p + "replay-capacity", 1_000_000));
        int iterations = a.integer(p + "iterations", sparse ? 40 : 80);
        return new FamilyRun(family, learner, s, iterations, a.integer(p + "eval-every", 8),
                a.integer(p + "context-episodes", sparse ? 5 : 2), a.integer(p + "oracle-iterations", 30));
    }

    /** Result of one family: the learning curve and the final meta-test. */
    record Outcome(String family, PearlConfig config, long envSteps, double seconds, PearlMetaTrainer.Evaluation finalEval,
            PearlMetaTrainer.Evaluation oracle, long oracleEnvSteps, List<double[]> curve, int gradientSteps) {}

    Outcome runFamily(FamilyRun run, long seed, boolean withOracle) {
        TaskFamily family = TaskFamilies.byName(run.family());
        List<TaskSpec> train = family.trainTasks(family.maxTrainTasks(), seed);
        List<TaskSpec> eval = family.heldOutTasks(family.maxHeldOutTasks(), seed);
        int episodes = run.contextEpisodes() + 1;
        long t0 = System.nanoTime();
        Map<String, String> settings = new TreeMap<>(run.learner());
        settings.put(SettingsTable.OBS_DIM, Integer.toString(family.obsDim()));
        settings.put(SettingsTable.ACT_DIM, Integer.toString(family.actDim()));
        settings.put(SettingsTable.SEED, Long.toString(seed));
        PearlConfig cfg = PearlConfig.fromMap(settings);
        PearlConfig oracleCfg = cfg.toBuilder().obsDim(PearlMetaTrainer.obsDim(family, train.get(0), true))
                .seed(seed + 1).build();
        PearlMetaTrainer trainer = new PearlMetaTrainer(family, train, cfg, run.schedule(), false);
        List<double[]> curve = new ArrayList<>();
        for (int i = 1; i <= run.iterations(); i++) {
            trainer.iterate();
            if (i % run.evalEvery() == 0 || i == run.iterations()) {
                PearlMetaTrainer.Evaluation e = trainer.evaluate(eval, episodes, 1, seed + 1000 + i);
                double[] point = new double[2 + 2 * episodes];
                point[0] = trainer.envSteps();
                point[1] = (System.nanoTime() - t0) / 1e9;
                System.arraycopy(e.returnAfter(), 0, point, 2, episodes);
                System.arraycopy(e.successAfter(), 0, point, 2 + episodes, episodes);
                curve.add(point);
                PearlMetaTrainer.Evaluation em = trainer.evaluateWithPosteriorMean(eval, episodes, 1, seed + 1000 + i);
                out.printf("%s iter %d: env steps %d, %.0f s, return after 0..%d context episodes %s (posterior mean %s),"
                        + " reached %s (mean %s), alpha %.3f; after 40/200 stochastic context steps %.3f / %.3f%n",
                        run.family(), i, trainer.envSteps(), point[1], run.contextEpisodes(), fmt(e.returnAfter()),
                        fmt(em.returnAfter()), fmt(e.successAfter()), fmt(em.successAfter()), trainer.learner().alpha(),
                        trainer.returnAfterStochasticContext(eval, 40, seed + i), trainer.returnAfterStochasticContext(eval, 200, seed + i));
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        PearlMetaTrainer.Evaluation fin = trainer.evaluate(eval, episodes, 5, seed + 99);
        PearlMetaTrainer.Evaluation oracleEval = null;
        long oracleSteps = 0;
        if (withOracle) {
            t0 = System.nanoTime();
            PearlMetaTrainer oracle = new PearlMetaTrainer(family, train, oracleCfg, run.schedule(), true);
            for (int i = 1; i <= run.oracleIterations(); i++) {
                oracle.iterate();
                if (i % run.evalEvery() == 0) {
                    out.printf("%s oracle iter %d: env steps %d, %.0f s, return %.3f%n", run.family(), i, oracle.envSteps(),
                            (System.nanoTime() - t0) / 1e9, oracle.evaluate(eval, 1, 1, seed + 1000 + i).returnAfter()[0]);
                }
            }
            oracleEval = oracle.evaluate(eval, episodes, 5, seed + 99);
            oracleSteps = oracle.envSteps();
            out.printf("%s oracle SAC: env steps %d, return %s, reached %s%n", run.family(), oracleSteps,
                    fmt(oracleEval.returnAfter()), fmt(oracleEval.successAfter()));
        }
        return new Outcome(run.family(), cfg, trainer.envSteps(), seconds, fin, oracleEval, oracleSteps, curve,
                (int) trainer.learner().version());
    }

    /** The oracle ignores z, so every evaluated episode is alike: their mean. */
    static double oracleReturn(PearlMetaTrainer.Evaluation oracle) {
        double sum = 0;
        for (double r : oracle.returnAfter()) {
            sum += r;
        }
        return sum / oracle.returnAfter().length;
    }

    static String fmt(double[] v) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            b.append(i == 0 ? "" : ", ").append(String.format("%.3f", v[i]));
        }
        return b.append(']').toString();
    }

    /** {@code bench pearl}: runs both families, writes FILE (JSON) and a PNG beside it. */
    int run(CommandLineArgs a) throws IOException {
        Path file = a.path("out", null);
        if (file == null) {
            throw new IllegalArgumentException("bench pearl needs --out FILE (the JSON report)");
        }
        long seed = a.longValue("seed", 1);
        boolean skipSparse = a.flag("skip-sparse");
        boolean skipOracle = a.flag("skip-oracle");
        FamilyRun dense = defaults("point-robot", a);
        FamilyRun sparse = defaults("sparse-point-robot", a);
        a.rejectUnknown("bench pearl");
        Outcome d = runFamily(dense, seed, !skipOracle);
        Outcome s = skipSparse ? null : runFamily(sparse, seed, false);
        double[][] ceilings = null;
        if (s != null) {
            int ks = sparse.contextEpisodes();
            ceilings = new double[][] {ceiling(ks, seed, true), ceiling(ks, seed, false)};
            out.printf("sparse-point-robot: reached after 0..%d context episodes %s; ideal posterior sampling %s"
                    + " (learning from hits only %s)%n", ks, fmt(s.finalEval().successAfter()), fmt(ceilings[0]),
                    fmt(ceilings[1]));
        }
        writeJson(file, seed, dense, d, sparse, s, ceilings);
        Map<String, List<double[]>> series = new LinkedHashMap<>();
        series.put("point-robot, after " + dense.contextEpisodes() + " context episodes",
                column(d.curve(), 2 + dense.contextEpisodes()));
        series.put("point-robot, prior z", column(d.curve(), 2));
        if (d.oracle() != null) {
            series.put("oracle SAC (final)", List.of(new double[] {0, oracleReturn(d.oracle())},
                    new double[] {d.oracleEnvSteps(), oracleReturn(d.oracle())}));
        }
        Path png = pngBeside(file);
        Plots.lines(png, "PEARL point-robot: meta-test return on the 20 eval goals", "environment steps", "return",
                series);
        out.println("wrote " + file + " and " + png);
        return 0;
    }

    private static Path pngBeside(Path file) {
        String name = file.getFileName().toString();
        String base = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
        Path dir = file.toAbsolutePath().getParent();
        return dir.resolve(base + "-return-vs-steps.png");
    }

    private static List<double[]> column(List<double[]> curve, int col) {
        List<double[]> pts = new ArrayList<>();
        for (double[] p : curve) {
            pts.add(new double[] {p[0], p[col]});
        }
        return pts;
    }

    private static void writeJson(Path file, long seed, FamilyRun dense, Outcome d, FamilyRun sparse, Outcome s,
            double[][] ceilings) throws IOException {
        StringBuilder b = new StringBuilder("{\n");
        b.append("  \"seed\": ").append(seed).append(",\n");
        b.append("  \"pointRobot\": {\n");
        int k = dense.contextEpisodes();
        b.append("    \"metaTestReturn\": ").append(Json.num(d.finalEval().returnAfter()[k])).append(",\n");
        b.append("    \"priorReturn\": ").append(Json.num(d.finalEval().returnAfter()[0])).append(",\n");
        b.append("    \"oracleReturn\": ").append(d.oracle() == null ? "null" : Json.num(oracleReturn(d.oracle())))
                .append(",\n");
        b.append("    \"envSteps\": ").append(d.envSteps()).append(",\n");
        b.append("    \"oracleEnvSteps\": ").append(d.oracleEnvSteps()).append(",\n");
        b.append("    \"contextEpisodes\": ").append(k).append(",\n");
        b.append("    \"returnAfterContextEpisodes\": ").append(array(d.finalEval().returnAfter())).append(",\n");
        appendRun(b, dense, d);
        b.append("  }");
        if (s != null) {
            int ks = sparse.contextEpisodes();
            b.append(",\n  \"sparsePointRobot\": {\n");
            b.append("    \"successRate\": ").append(Json.num(s.finalEval().successAfter()[ks])).append(",\n");
            b.append("    \"envSteps\": ").append(s.envSteps()).append(",\n");
            b.append("    \"contextEpisodes\": ").append(ks).append(",\n");
            b.append("    \"successRateAfterContextEpisodes\": ").append(array(s.finalEval().successAfter())).append(",\n");
            b.append("    \"returnAfterContextEpisodes\": ").append(array(s.finalEval().returnAfter())).append(",\n");
            b.append("    \"posteriorSamplingCeiling\": ").append(array(ceilings[0])).append(",\n");
            b.append("    \"posteriorSamplingCeilingHitsOnly\": ").append(array(ceilings[1])).append(",\n");
            appendRun(b, sparse, s);
            b.append("  }");
        }
        b.append("\n}\n");
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, Json.withoutMachinePaths(b.toString()));
    }

    /**
     * {@link GoalSearchCeiling}: the success rate of ideal posterior sampling after 0 … k context episodes,
     * with the exact posterior or one that learns from hits only.
     */
    static double[] ceiling(int contextEpisodes, long seed, boolean exclusion) {
        return GoalSearchCeiling.successAfter(TaskFamilies.byName("sparse-point-robot"), contextEpisodes,
                CEILING_REPETITIONS, exclusion, seed);
    }

    private static void appendRun(StringBuilder b, FamilyRun run, Outcome o) {
        b.append("    \"gradientSteps\": ").append(o.gradientSteps()).append(",\n");
        b.append("    \"seconds\": ").append(Json.num(o.seconds())).append(",\n");
        b.append("    \"iterations\": ").append(run.iterations()).append(",\n");
        b.append("    \"schedule\": ").append(Json.str(run.schedule().toString())).append(",\n");
        b.append("    \"learner\": ").append(Json.str(o.config().toMap().toString())).append(",\n");
        b.append("    \"curve\": [");
        for (int i = 0; i < o.curve().size(); i++) {
            b.append(i == 0 ? "" : ", ").append(array(o.curve().get(i)));
        }
        b.append("]\n");
    }

    private static String array(double[] v) {
        return Json.array(v);
    }

    /** Entry point for experiments: {@code java ... io.metastream.cli.PearlBench --out FILE ...}. */
    public static void main(String[] argv) throws IOException {
        System.exit(new PearlBench(System.out).run(new CommandLineArgs(argv, java.util.Set.of("skip-sparse", "skip-oracle"))));
    }
}

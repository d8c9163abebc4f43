package io.metastream.cli.grbal;

import io.metastream.cli.Json;
import io.metastream.cli.Plots;
import io.metastream.client.CommandLineArgs;
import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.grbal.GrbalConfig;
import io.metastream.core.grbal.SupervisedTrainer;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.core.settings.Setting;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import io.metastream.sim.evaluation.MetaTest;
import io.metastream.sim.grbal.GrbalMetaTrainer;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code bin/metastream bench grbal}: per family and seed, GrBAL meta-training in one seeded loop
 * ({@link GrbalMetaTrainer}: the job's data path without Kafka or Flink), a non-meta model of the same
 * network trained by Adam on the same transitions, and the held-out meta-test ({@link MetaTest}): one-step
 * MSE adapted / unadapted / non-meta, and MPC return with adaptation / without / with the task's true
 * dynamics (the planner's ceiling) and with the exact dynamics of the training tasks' mean parameters
 * (how much knowing the task is worth to the planner at all), from the same initial states. Writes the
 * JSON and a PNG per family.
 *
 * <p>Per family the summary holds the floors of issue 12's kind: the median over seeds of adapted /
 * unadapted MSE, the seeds where adapted is below non-meta, the seeds where MPC with adaptation beats
 * MPC without, and the fraction of the gap between the unadapted model and the true model that
 * adaptation closes ({@code (adapted − unadapted) / (true − unadapted)}), median over seeds.
 */
final class GrbalBench {

    private GrbalBench() {}

    static int run(CommandLineArgs a, PrintStream out) throws Exception {
        Path outFile = a.path("out", null);
        List<String> families = Arrays.asList(a.string("families", "pendulum,arm,spring-chain").split(","));
        int seeds = a.integer("seeds", 5);
        long firstSeed = a.longValue("first-seed", 1);
        long envSteps = a.longValue("env-steps", 40_000);
        int trainTasks = a.integer("train-tasks", 16);
        int heldOut = a.integer("held-out-tasks", 8);
        int mpcEpisodes = a.integer("mpc-episodes", 2);
        int evalSteps = a.integer("eval-steps", 200);
        int nonMetaSteps = a.integer("non-meta-steps", 4000);
        int fineTuneTransitions = a.integer("fine-tune-transitions", 2000);
        int fineTuneSteps = a.integer("fine-tune-steps", 300);
        GrbalMetaTrainer.Schedule base = new GrbalMetaTrainer.Schedule(envSteps, a.integer("segment-stride", 8),
                a.integer("replay-segments", 3), a.integer("replay-capacity", 1024), a.integer("adapt-every", 8),
                a.integer("publish-every", 10), a.decimal("random-action-probability", 0.1),
                MpcConfig.builder().actionBounds(1, -1, 1).build());
        Map<String, String> grbalSettings = new HashMap<>();
        for (Setting s : GrbalConfig.settings()) {
            String v = a.string("grbal." + s.key(), null);
            if (v != null) {
                grbalSettings.put(s.key(), v);
            }
        }
        Map<String, String> mpcSettings = new HashMap<>();
        a.withPrefix("mpc.").forEach((k, v) -> mpcSettings.put(k.substring("mpc.".length()), v));
        a.rejectUnknown("bench grbal");
        if (outFile == null) {
            throw new IllegalArgumentException("--out FILE is required (the JSON; a PNG per family goes beside it)");
        }
        for (String f : families) {
            TaskFamilies.byName(f); // an unknown name fails before any training
        }
        Path dir = outFile.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        String stem = outFile.getFileName().toString().replaceAll("\\.json$", "");
        StringBuilder json = new StringBuilder("{\n  \"cores\": ").append(Runtime.getRuntime().availableProcessors())
                .append(",\n  \"seeds\": ").append(seeds).append(",\n  \"firstSeed\": ").append(firstSeed)
                .append(",\n  \"envSteps\": ").append(envSteps).append(",\n  \"trainTasks\": ").append(trainTasks)
                .append(",\n  \"heldOutTasks\": ").append(heldOut).append(",\n  \"mpcEpisodes\": ").append(mpcEpisodes)
                .append(",\n  \"families\": {");
        int fi = 0;
        for (String name : families) {
            TaskFamily family = TaskFamilies.byName(name);
            Map<String, String> settings = new TreeMap<>(grbalSettings);
            settings.put("obsDim", Integer.toString(family.obsDim()));
            settings.put("actDim", Integer.toString(family.actDim()));
            MpcConfig mpc = GrbalLocal.mpcFor(family, mpcSettings);
            GrbalMetaTrainer.Schedule schedule = new GrbalMetaTrainer.Schedule(base.envSteps(), base.segmentStride(),
                    base.replaySegments(), base.replayCapacity(), base.adaptEvery(), base.publishEvery(),
                    base.randomActionProbability(), mpc);
            List<Map<String, Double>> rows = new ArrayList<>();
            GrbalConfig cfg = null;
            for (int k = 0; k < seeds; k++) {
                long seed = firstSeed + k;
                settings.put("seed", Long.toString(seed));
                cfg = GrbalConfig.fromMap(settings);
                List<TaskSpec> train = family.trainTasks(trainTasks, seed);
                List<TaskSpec> test = family.heldOutTasks(heldOut, seed);
                out.printf("%s, seed %d: meta-training on %d tasks, %,d env steps%n", name, seed, trainTasks, envSteps);
                GrbalMetaTrainer.Result r = GrbalMetaTrainer.train(family, train, cfg, schedule, seed, out::println);
                DynamicsModel nonMeta = SupervisedTrainer.train(cfg, r.data(), nonMetaSteps, 128, 1e-3, seed);
                MetaTest.Config mt = new MetaTest.Config(cfg.adaptWindow(), cfg.predictWindow(), cfg.innerLr(),
                        cfg.innerSteps(), evalSteps, mpcEpisodes, mpc, seed + 1000);
                long t0 = System.nanoTime();
                MetaTest.Result res = MetaTest.run(family, test, r.theta(), nonMeta, mt);
                double trueReturn = Arrays.stream(MetaTest.trueModelReturns(family, test, mt)).average().orElse(Double.NaN);
                double meanPhysicsReturn = Arrays.stream(MetaTest.fixedModelReturns(family, test,
                        MetaTest.meanTask("mean-of-training-tasks", train), mt)).average().orElse(Double.NaN);
                MetaTest.FineTuned tuned = MetaTest.fineTuned(family, test, r.theta(), mt, fineTuneTransitions, fineTuneSteps);
                double fineTuned = tuned.mse();
                Map<String, Double> row = new LinkedHashMap<>();
                row.put("seed", (double) seed);
                row.put("adaptedMse", res.adaptedMse());
                row.put("unadaptedMse", res.unadaptedMse());
                row.put("nonMetaMse", res.nonMetaMse());
                row.put("adaptedOverUnadapted", res.adaptedMse() / res.unadaptedMse());
                row.put("fineTunedMse", fineTuned);
                row.put("fineTunedOverUnadapted", fineTuned / res.unadaptedMse());
                row.put("mpcReturnAdapted", res.mpcReturnAdapted());
                row.put("mpcReturnUnadapted", res.mpcReturnUnadapted());
                row.put("mpcReturnTrueModel", trueReturn);
                row.put("mpcReturnFineTuned", tuned.mpcReturn());
                row.put("mpcReturnMeanPhysics", meanPhysicsReturn);
                row.put("gapClosed", (res.mpcReturnAdapted() - res.mpcReturnUnadapted()) / (trueReturn - res.mpcReturnUnadapted()));
                row.put("fineTunedGapClosed", (tuned.mpcReturn() - res.mpcReturnUnadapted()) / (trueReturn - res.mpcReturnUnadapted()));
                row.put("envSteps", (double) r.envSteps());
                row.put("outerSteps", (double) r.outerSteps());
                row.put("trainSeconds", r.seconds());
                row.put("evalSeconds", (System.nanoTime() - t0) / 1e9);
                rows.add(row);
                out.printf("  MSE adapted %.5f unadapted %.5f non-meta %.5f (ratio %.3f; fine-tuned on %d of the task's "
                        + "transitions %.5f, ratio %.3f); MPC return adapted %.1f unadapted %.1f true model %.1f fine-tuned %.1f "
                        + "mean physics %.1f (gap closed %.2f, by fine-tuning %.2f); %.0f s + %.0f s%n", res.adaptedMse(),
                        res.unadaptedMse(), res.nonMetaMse(), row.get("adaptedOverUnadapted"), fineTuneTransitions, fineTuned,
                        row.get("fineTunedOverUnadapted"), res.mpcReturnAdapted(), res.mpcReturnUnadapted(), trueReturn,
                        tuned.mpcReturn(), meanPhysicsReturn, row.get("gapClosed"), row.get("fineTunedGapClosed"), r.seconds(),
                        row.get("evalSeconds"));
            }
            double medianRatio = median(rows, "adaptedOverUnadapted");
            long belowNonMeta = rows.stream().filter(x -> x.get("adaptedMse") < x.get("nonMetaMse")).count();
            long mpcWins = rows.stream().filter(x -> x.get("mpcReturnAdapted") > x.get("mpcReturnUnadapted")).count();
            double medianGap = median(rows, "gapClosed");
            double medianFineTuned = median(rows, "fineTunedOverUnadapted");
            double medianFineTunedGap = median(rows, "fineTunedGapClosed");
            out.printf("%s: median adapted/unadapted %.3f; adapted below non-meta in %d of %d seeds; MPC with adaptation "
                    + "better in %d of %d; median gap closed %.2f%n", name, medianRatio, belowNonMeta, seeds, mpcWins, seeds, medianGap);
            json.append(fi++ == 0 ? "\n" : ",\n").append("    ").append(Json.str(name)).append(": {\n");
            json.append("      \"medianAdaptedOverUnadapted\": ").append(Json.num(medianRatio)).append(",\n");
            json.append("      \"seedsAdaptedBelowNonMeta\": ").append(belowNonMeta).append(",\n");
            json.append("      \"seedsMpcAdaptedBetter\": ").append(mpcWins).append(",\n");
            json.append("      \"medianGapClosed\": ").append(Json.num(medianGap)).append(",\n");
            json.append("      \"medianFineTunedOverUnadapted\": ").append(Json.num(medianFineTuned)).append(",\n");
            json.append("      \"medianFineTunedGapClosed\": ").append(Json.num(medianFineTunedGap)).append(",\n");
            json.append("      \"grbal\": {");
            int i = 0;
            for (Map.Entry<String, String> e : new TreeMap<>(cfg.toMap()).entrySet()) {
                if (!e.getKey().equals("seed")) {
                    json.append(i++ == 0 ? "\n" : ",\n").append("        ").append(Json.str(e.getKey())).append(": ")
                            .append(Json.str(e.getValue()));
                }
            }
            json.append("\n      },\n      \"mpc\": {");
            i = 0;
            for (Map.Entry<String, String> e : new TreeMap<>(mpc.toMap()).entrySet()) {
                json.append(i++ == 0 ? "\n" : ",\n").append("        ").append(Json.str(e.getKey())).append(": ")
                        .append(Json.str(e.getValue()));
            }
            json.append("\n      },\n      \"runs\": [");
            for (int k = 0; k < rows.size(); k++) {
                json.append(k == 0 ? "\n" : ",\n").append("        {");
                int j = 0;
                for (Map.Entry<String, Double> e : rows.get(k).entrySet()) {
                    json.append(j++ == 0 ? "" : ", ").append(Json.str(e.getKey())).append(": ").append(Json.num(e.getValue()));
                }
                json.append("}");
            }
            json.append("\n      ]\n    }");
            // grbal-pendulum.json written for pendulum alone gets grbal-pendulum.png, not grbal-pendulum-pendulum.png
            plot(dir.resolve((stem.endsWith("-" + name) ? stem : stem + "-" + name) + ".png"), name, rows);
        }
        json.append("\n  }\n}\n");
        Files.writeString(outFile, Json.withoutMachinePaths(json.toString()));
        out.println("wrote " + outFile + " and a PNG per family beside it");
        return 0;
    }

    private static void plot(Path file, String family, List<Map<String, Double>> rows) throws java.io.IOException {
        LinkedHashMap<String, Double> bars = new LinkedHashMap<>();
        bars.put("MPC adapted", median(rows, "mpcReturnAdapted"));
        bars.put("MPC unadapted", median(rows, "mpcReturnUnadapted"));
        bars.put("MPC fine-tuned", median(rows, "mpcReturnFineTuned"));
        bars.put("MPC true model", median(rows, "mpcReturnTrueModel"));
        bars.put("MPC mean physics", median(rows, "mpcReturnMeanPhysics"));
        Plots.bars(file, family + ": median MPC return over " + rows.size() + " seeds", "return", bars);
        LinkedHashMap<String, Double> mse = new LinkedHashMap<>();
        mse.put("adapted", median(rows, "adaptedMse"));
        mse.put("unadapted", median(rows, "unadaptedMse"));
        mse.put("non-meta", median(rows, "nonMetaMse"));
        mse.put("fine-tuned", median(rows, "fineTunedMse"));
        Plots.bars(file.resolveSibling(file.getFileName().toString().replace(".png", "-mse.png")),
                family + ": median held-out one-step MSE over " + rows.size() + " seeds", "MSE", mse);
    }

    private static double median(List<Map<String, Double>> rows, String key) {
        return io.metastream.cli.Stats.median(rows.stream().mapToDouble(r -> r.get(key)).toArray());
    }
}

package io.metastream.cli.pearl;

import io.metastream.sim.fleet.pearl.PearlAgents;
import io.metastream.client.CommandLineArgs;
import io.metastream.cli.LocalAlgorithm;
import io.metastream.cli.ReportSection;
import io.metastream.client.ModelClient;
import io.metastream.client.ModelVerifier;
import io.metastream.core.pearl.PearlConfig;
import io.metastream.core.pearl.PearlPolicy;
import io.metastream.flink.MetaAlgorithm;
import io.metastream.flink.MetaLearningJob;
import io.metastream.flink.pearl.PearlAlgorithm;
import io.metastream.schema.ModelVersion;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.fleet.Fleet;
import io.metastream.sim.fleet.FleetStats;
import io.metastream.sim.pearl.PearlMetaTrainer;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * PEARL in the launcher: agents do posterior sampling (z from their task's newest posterior, the prior
 * before one exists, for a whole episode); the meta-test is PEARL's explore-then-exploit on the held-out
 * tasks, return with z from the prior against return after context episodes.
 */
public final class PearlLocal implements LocalAlgorithm {

    /** Held-out episodes per task: the prior episode, then 2 with the posterior of the earlier ones. */
    static final int EPISODES = 3;

    private static final MetaAlgorithm<?> JOB = new PearlAlgorithm();

    @Override
    public MetaAlgorithm<?> job() {
        return JOB;
    }

    @Override
    public Map<String, String> localProfile() {
        return PearlConfig.profile("cpu");
    }

    @Override
    public List<Benchmark> benchmarks() {
        return List.of(Benchmark.of(job().name(), List.of(
                "PEARL meta-training on the published point-robot train goals, meta-test on the 20",
                "eval goals vs oracle SAC, then sparse-point-robot; JSON + PNG (seeded, reproducible)",
                "--out FILE (required) --seed N --skip-sparse --skip-oracle",
                "--dense.<setting> V / --sparse.<setting> V   e.g. --dense.iterations 40 (see the README)"),
                (args, out, err) -> new PearlBench(out).run(new CommandLineArgs(args, Set.of("skip-sparse", "skip-oracle")))),
            Benchmark.of("learner", List.of(
                "one PEARL learner step (3x300 nets, batch 256, meta-batch 16): ND4J vs PyTorch",
                "--out FILE (required) --steps N --repetitions N --python python3"),
                (args, out, err) -> LearnerBench.run(java.util.Arrays.asList(args), out, err)));
    }

    @Override
    public Fleet.Builder agents(Fleet.Builder fleet, TaskFamily family, ModelClient client,
            Map<String, String> agentSettings) {
        if (!agentSettings.isEmpty()) {
            throw new IllegalArgumentException("PEARL agents act with their policy and have no planner; drop "
                    + agentSettings.keySet().stream().map(k -> "--mpc." + k).toList());
        }
        return fleet.controllers(PearlAgents.posteriorSampling(client::policyFor));
    }

    @Override
    public double[] curvePoint(ModelVersion v, FleetStats fleet) {
        return new double[] {v.getVersion(), fleet.transitionsSent(), LocalAlgorithm.metric(v, "criticLoss"), fleet.meanEpisodeReturn()};
    }

    @Override
    public String progress(ModelVersion v) {
        return String.format("critic loss %.3f", LocalAlgorithm.metric(v, "criticLoss"));
    }

    @Override
    public ReportSection metaTest(Run run) {
        PearlConfig cfg = PearlConfig.fromMap(MetaLearningJob.algorithmSettings(run.job()));
        ModelVersion last = run.client().latestModelVersion().orElseThrow(run::noVersion);
        PearlPolicy policy = ModelVerifier.verifyAndDecode(last, PearlPolicy.class);
        run.out().printf("  meta-test on %d held-out tasks (%d episodes each, posterior from the earlier ones) ...%n",
                run.heldOut().size(), EPISODES);
        PearlMetaTrainer.Evaluation e = PearlMetaTrainer.evaluate(run.family(), policy, run.heldOut(), EPISODES, 3,
                run.seed() + 1000, false, false);
        return new PearlReport(e, cfg.toMap());
    }

}

package io.metastream.cli.grbal;

import io.metastream.sim.fleet.grbal.GrbalAgents;
import io.metastream.cli.LocalAlgorithm;
import io.metastream.cli.ReportSection;
import io.metastream.client.Codecs;
import io.metastream.client.ModelClient;
import io.metastream.client.TopicReader;
import io.metastream.client.TransitionRules;
import io.metastream.client.Transitions;
import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.grbal.GrbalConfig;
import io.metastream.core.grbal.Segment;
import io.metastream.core.grbal.SupervisedTrainer;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.flink.MetaAlgorithm;
import io.metastream.flink.MetaLearningJob;
import io.metastream.flink.grbal.GrbalAlgorithm;
import io.metastream.schema.ModelVersion;
import io.metastream.schema.Transition;
import io.metastream.sim.evaluation.MetaTest;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.fleet.Fleet;
import io.metastream.sim.fleet.FleetStats;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import io.metastream.client.CommandLineArgs;
import java.io.PrintStream;
import java.util.Properties;

/**
 * GrBAL in the launcher: agents plan with random-shooting MPC on their task's adapted dynamics model;
 * the meta-test compares one-step prediction error and MPC return with and without adaptation on the
 * held-out tasks, and against a non-meta model trained on every transition the job accepted.
 */
public final class GrbalLocal implements LocalAlgorithm {

    private static final MetaAlgorithm<?> JOB = new GrbalAlgorithm();

    @Override
    public MetaAlgorithm<?> job() {
        return JOB;
    }

    /**
     * The agents' planner: {@code MpcConfig}'s defaults (MPPI, 64 candidates, horizon 15, warm-started),
     * then the family's suggested {@code mpc.*} settings (the pendulum's 30 × 32), then {@code settings}
     * ({@code --mpc.<key>}), within the family's action bounds.
     */
    public static MpcConfig mpcFor(TaskFamily family, Map<String, String> settings) {
        Map<String, String> merged = new java.util.HashMap<>(family.suggestedSettings("mpc."));
        merged.putAll(settings);
        return MpcConfig.builder().actionBounds(family.actionLow(), family.actionHigh()).settings(merged).build();
    }

    @Override
    public List<Benchmark> benchmarks() {
        return List.of(Benchmark.of(job().name(), List.of(
                "GrBAL per family and seed: held-out one-step MSE adapted / unadapted / non-meta and MPC",
                "return with adaptation / without / with the true model, and θ fine-tuned on many of the task's",
                "transitions (a ceiling for adaptation); JSON + PNGs (seeded, reproducible)",
                "--out FILE (required) --families pendulum,arm,spring-chain --seeds N (5) --first-seed N (1)",
                "--env-steps N (40000) --train-tasks N (16) --held-out-tasks N (8) --mpc-episodes N (2)",
                "--grbal.<setting> V --mpc.<setting> V --segment-stride N --replay-segments N --adapt-every N",
                "--replay-capacity N --random-action-probability P --fine-tune-transitions N (2000) --fine-tune-steps N (300)"),
                (args, out, err) -> GrbalBench.run(new CommandLineArgs(args, java.util.Set.of()), out)),
            Benchmark.of("fleet", List.of(
                "transitions/s a fleet of planning GrBAL agents delivers to a real broker (MPC every step)",
                "--out FILE (required) --family F (pendulum) --agents N (32) --tasks N (16) --threads 1,2",
                "--hidden 32x32,64x64 --seconds S (15) --warmup S (5) --repetitions N (3) --mpc.<setting> V"),
                (args, out, err) -> FleetBench.run(new CommandLineArgs(args, java.util.Set.of()), out)));
    }

    @Override
    public Fleet.Builder agents(Fleet.Builder fleet, TaskFamily family, ModelClient client,
            Map<String, String> agentSettings) {
        return fleet.controllers(GrbalAgents.mpc(mpcFor(family, agentSettings), client::modelFor));
    }

    @Override
    public double[] curvePoint(ModelVersion v, FleetStats fleet) {
        return new double[] {v.getVersion(), v.getTransitionsSeen(), LocalAlgorithm.metric(v, "preAdaptLoss"),
            LocalAlgorithm.metric(v, "postAdaptLoss")};
    }

    @Override
    public String progress(ModelVersion v) {
        return String.format("meta-loss pre/post adapt %.4f / %.4f", LocalAlgorithm.metric(v, "preAdaptLoss"),
                LocalAlgorithm.metric(v, "postAdaptLoss"));
    }

    @Override
    public ReportSection metaTest(Run run) {
        GrbalConfig grbal = GrbalConfig.fromMap(MetaLearningJob.algorithmSettings(run.job()));
        DynamicsModel theta = run.client().base(DynamicsModel.class).orElseThrow(run::noVersion);
        List<Segment> all = readExperience(run.servers(), run.topics().experience(), 200_000,
                new TransitionRules(run.family().obsDim(), run.family().actDim()));
        long transitions = all.stream().mapToLong(Segment::length).sum();
        run.out().printf("  training the non-meta baseline on all %d transitions of the experience topic%n", transitions);
        DynamicsModel nonMeta = SupervisedTrainer.train(grbal, all, 4000, 128, 1e-3, run.seed());
        run.out().printf("  meta-test on %d held-out tasks ...%n", run.heldOut().size());
        MetaTest.Result result = MetaTest.run(run.family(), run.heldOut(), theta, nonMeta,
                new MetaTest.Config(grbal.adaptWindow(), grbal.predictWindow(), grbal.innerLr(), grbal.innerSteps(), 200,
                        run.mpcEpisodes(), mpcFor(run.family(), run.agentSettings()), run.seed() + 1000));
        return new GrbalReport(result, grbal.toMap());
    }

    /**
     * Up to {@code limit} transitions of the experience topic that the job's rules accept, one segment per
     * task in arrival order: the data the job learned from (the demo's bad records do not decode or are refused).
     */
    static List<Segment> readExperience(String servers, String topic, int limit, TransitionRules rules) {
        Map<String, List<Transition>> byTask = new HashMap<>();
        var codec = Codecs.transition();
        Properties p = new Properties();
        p.put("bootstrap.servers", servers);
        TopicReader.read(p, topic, limit, Duration.ofSeconds(120), r -> {
            try {
                Transition t = codec.decode(r.value());
                if (rules.accepts(t)) {
                    byTask.computeIfAbsent(t.getTaskId(), k -> new ArrayList<>()).add(t);
                }
            } catch (RuntimeException e) {
                // a record the job dead-letters as MALFORMED or UNKNOWN_SCHEMA
            }
        });
        List<Segment> segments = new ArrayList<>();
        for (List<Transition> ts : byTask.values()) {
            segments.add(Transitions.toSegment(ts));
        }
        return segments;
    }

}

package io.metastream.cli;

import io.metastream.client.CommandLineArgs;
import io.metastream.client.ModelClient;
import io.metastream.client.TopicNames;
import io.metastream.flink.MetaAlgorithm;
import io.metastream.schema.ModelVersion;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import io.metastream.sim.fleet.Fleet;
import io.metastream.sim.fleet.FleetStats;

import org.apache.flink.configuration.Configuration;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The launcher side of one algorithm: how simulated agents act with what the client follows, what a
 * local run measures at the end, and its report section. {@code bin/metastream run} and {@code fleet}
 * dispatch on it, never on the algorithm's name. Registered in {@link LocalAlgorithms}, beside the job
 * side ({@link MetaAlgorithm}) it pairs with.
 */
public interface LocalAlgorithm {

    /** The job side; its {@code name()} is the {@code --algorithm} value that selects this. */
    MetaAlgorithm<?> job();

    /** Hyper-parameters a local run starts from (a profile sized for a CPU machine); each can be overridden. */
    default Map<String, String> localProfile() {
        return Map.of();
    }

    /**
     * Sets how the fleet's agents act: the policy or model source, and a planner where one is needed.
     *
     * @param agentSettings the command line's {@code --mpc.<key>} settings, prefix stripped
     * @throws IllegalArgumentException for a setting the algorithm's agents do not have
     */
    Fleet.Builder agents(Fleet.Builder fleet, TaskFamily family, ModelClient client, Map<String, String> agentSettings);

    /** A learning-curve point for a newly seen version, with the fleet's statistics at that moment. */
    double[] curvePoint(ModelVersion v, FleetStats fleet);

    /** The algorithm's part of a progress line. */
    String progress(ModelVersion v);

    /** A metric a version carries, NaN when it has none (for curve points and progress lines). */
    static double metric(ModelVersion v, String name) {
        Double d = v.getMetrics().get(name);
        return d == null ? Double.NaN : d;
    }

    /** Runs the held-out meta-test once the fleet stopped and the job was cancelled. */
    ReportSection metaTest(Run run) throws Exception;

    /** Its offline benchmarks, each run as {@code bin/metastream bench <benchmark name>}. */
    default List<Benchmark> benchmarks() {
        return List.of();
    }

    /** An offline benchmark of one algorithm. */
    interface Benchmark {
        /** The name after {@code bin/metastream bench}. */
        String name();

        /** The lines {@code help} prints for it. */
        List<String> usage();

        /**
         * Runs it on the command line's words after its name; returns the exit code.
         *
         * @throws IllegalArgumentException for a bad command line (exit code 2), naming the option
         */
        int run(String[] args, PrintStream out, PrintStream err) throws Exception;

        /** A benchmark from its name, help lines and body. */
        static Benchmark of(String name, List<String> usage, Body body) {
            List<String> lines = List.copyOf(usage);
            return new Benchmark() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public List<String> usage() {
                    return lines;
                }

                @Override
                public int run(String[] args, PrintStream out, PrintStream err) throws Exception {
                    return body.run(args, out, err);
                }
            };
        }

        /** What {@link #run} does. */
        @FunctionalInterface
        interface Body {
            int run(String[] args, PrintStream out, PrintStream err) throws Exception;
        }
    }

    /**
     * A finished local run, as the meta-test sees it.
     *
     * @param job     every setting the job ran with (the algorithm's settings through
     *                {@code MetaLearningJob.algorithmSettings})
     * @param servers the broker, which still holds every topic
     * @param agentSettings the {@code --mpc.<key>} settings the fleet's agents used
     */
    record Run(Configuration job, TaskFamily family, List<TaskSpec> heldOut, ModelClient client, String servers,
            TopicNames topics, long seed, int mpcEpisodes, Map<String, String> agentSettings, Duration duration,
            Path workDir, PrintStream out) {

        /** The error for a run that ended before its first version. */
        public IllegalStateException noVersion() {
            return new IllegalStateException("no model version was published in " + duration.toSeconds()
                    + " s; run longer (--duration) or see the log " + workDir.resolve("metastream.log"));
        }
    }
}

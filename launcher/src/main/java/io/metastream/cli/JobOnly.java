package io.metastream.cli;

import io.metastream.client.CommandLineArgs;
import io.metastream.client.TopicNames;
import io.metastream.client.TopicReader;
import io.metastream.flink.MetaLearningJob;
import io.metastream.flink.MetaStreamOptions;
import io.metastream.local.KafkaBroker;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;

import java.io.PrintStream;
import java.nio.file.Files;
import java.time.Duration;

/**
 * {@code bin/metastream run --job-only}: the embedded Kafka broker and the job on a MiniCluster, and no
 * simulated fleet, so that producers outside the project (your own simulator or robot, a program in
 * another language writing from the schemas) feed it. Prints the bootstrap address and the topics (the
 * address is also written to {@code <work>/bootstrap-servers}), then reports versions and dead letters
 * every 10 s until its duration passes (zero: until stopped) or the job fails.
 */
public final class JobOnly implements AutoCloseable {

    private final KafkaBroker broker;
    private final JobClient job;
    private final TopicNames topics;
    private final Configuration conf;
    private final PrintStream out;

    private JobOnly(KafkaBroker broker, JobClient job, TopicNames topics, Configuration conf, PrintStream out) {
        this.broker = broker;
        this.job = job;
        this.topics = topics;
        this.conf = conf;
        this.out = out;
    }

    /**
     * As {@code bin/metastream run --job-only ARGS}: starts the broker, creates the topics and submits the job.
     *
     * @throws IllegalArgumentException for an unknown or malformed option, or sizes that are missing or conflict
     */
    public static JobOnly start(PrintStream out, String... args) throws Exception {
        String[] all = java.util.Arrays.copyOf(args, args.length + 1);
        all[args.length] = "--job-only";
        CommandLineArgs a = new CommandLineArgs(all, java.util.Set.of("job-only"));
        LocalRun.Settings s = LocalRun.settings(a);
        a.rejectUnknown("run --job-only");
        return start(s, out);
    }

    /** Starts the broker, creates the topics and submits the job; the sizes come from the family or the options. */
    static JobOnly start(LocalRun.Settings s, PrintStream out) throws Exception {
        Files.createDirectories(s.workDir());
        LocalAlgorithm algorithm = LocalAlgorithms.byName(s.algorithm());
        TaskFamily family = s.family() == null ? null : TaskFamilies.byName(s.family());
        TopicNames topics = TopicNames.defaults();
        LocalRun run = new LocalRun(s, out);
        // sizes and algorithm settings are checked before anything starts
        Configuration check = run.jobConfig("localhost:9092", topics, algorithm, family);
        MetaLearningJob.algorithm(check).validate(MetaLearningJob.algorithmSettings(check));
        KafkaBroker broker = run.startBroker(topics);
        try {
            Configuration conf = run.jobConfig(broker.bootstrapServers(), topics, algorithm, family);
            JobClient job = run.submit(conf, "metastream-job-only");
            Files.writeString(s.workDir().resolve("bootstrap-servers"), broker.bootstrapServers() + "\n");
            JobOnly j = new JobOnly(broker, job, topics, conf, out);
            j.printEndpoints(s, run.prometheusOn);
            return j;
        } catch (Exception | Error e) {
            broker.close();
            throw e;
        }
    }

    private void printEndpoints(LocalRun.Settings s, boolean prometheus) {
        out.printf("metastream job-only: %s on a MiniCluster (parallelism %d), waiting for producers%n",
                conf.get(MetaStreamOptions.ALGORITHM), s.parallelism());
        out.printf("  bootstrap servers   %s   (also in %s)%n", broker.bootstrapServers(),
                s.workDir().resolve("bootstrap-servers"));
        out.printf("  experience topic    %s   Transition records, Avro single-object encoding, key = taskId%n",
                topics.experience());
        out.printf("  observation size    %d, action size %d%n", conf.get(MetaStreamOptions.OBS_DIM),
                conf.get(MetaStreamOptions.ACT_DIM));
        out.printf("  models topic        %s   model name %s%n", topics.models(), modelName());
        out.printf("  adapted topic       %s%n", topics.adapted());
        conf.getOptional(MetaStreamOptions.TRUSTED_KEYS_FILE).ifPresent(f ->
                out.printf("  versions signed     trust the public key in %s (ModelClient.Builder.trustedKeys)%n", f));
        out.printf("  dead-letter topic   %s%n", topics.deadLetters());
        if (s.metricsPort() > 0) {
            out.printf("  metrics             %s%n", prometheus ? JobMetrics.endpointNote(s.metricsPort())
                    : "none: port " + s.metricsPort() + " was in use (choose another with --metrics-port)");
        }
        out.printf("  logs                %s%n", s.workDir().resolve("metastream.log"));
    }

    public String bootstrapServers() {
        return broker.bootstrapServers();
    }

    public TopicNames topics() {
        return topics;
    }

    public String modelName() {
        return conf.get(MetaStreamOptions.MODEL_NAME);
    }

    /**
     * Serves until {@code duration} passes (zero: until the thread is interrupted), printing versions and
     * dead letters every {@code every}.
     *
     * @throws IllegalStateException when the job stops on its own (it failed)
     */
    public void serve(Duration duration, Duration every) throws Exception {
        long end = duration.isZero() ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
        long started = System.nanoTime();
        while (System.nanoTime() < end) {
            Thread.sleep(Math.min(every.toMillis(), Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            JobStatus status = job.getJobStatus().get();
            if (status.isGloballyTerminalState()) {
                throw new IllegalStateException("the job stopped (" + status + "); see the log");
            }
            out.printf("  [%4ds] versions %d, dead letters %d%n", (System.nanoTime() - started) / 1_000_000_000L,
                    TopicReader.count(broker.bootstrapServers(), topics.models()),
                    TopicReader.count(broker.bootstrapServers(), topics.deadLetters()));
        }
    }

    /** Cancels the job and stops the broker. */
    @Override
    public void close() {
        try {
            job.cancel().get();
        } catch (Exception e) {
            // already failed or stopped; stopping the broker is what is left to do
        }
        broker.close();
    }
}

package io.metastream.examples.cartpole;

import io.metastream.cli.JobOnly;
import io.metastream.sim.Environment;
import io.metastream.sim.StepResult;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskSpec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A simulator the project does not know (observation 5, action 1) runs through the job-only mode and its
 * own producer and receives adapted models: the README's "Your own simulator or robot", end to end, with
 * a real Kafka broker and the job on a MiniCluster.
 */
class OwnSimulatorIT {

    @Test
    void theFamilyIsNotBuiltInAndItsSizesAreNew() {
        CartPoleFamily family = new CartPoleFamily();
        assertThatThrownBy(() -> TaskFamilies.byName(family.name())).isInstanceOf(IllegalArgumentException.class);
        for (String builtIn : List.of("point-mass", "pendulum", "point-robot", "sparse-point-robot", "point-vel")) {
            var other = TaskFamilies.byName(builtIn);
            assertThat(other.obsDim() == family.obsDim() && other.actDim() == family.actDim()).as(builtIn).isFalse();
        }
        TaskSpec task = family.trainTasks(1, 3).get(0);
        Environment env = family.create(task, 1);
        double[] obs = env.reset();
        assertThat(obs).hasSize(5);
        StepResult r = env.step(new double[] {0.3});
        assertThat(r.observation()).hasSize(5);
        assertThat(r.reward()).isBetween(-3.0, 1.0);
    }

    @Test
    void ownProducerFeedsTheJobOnlyModeAndActsWithAdaptedModels(@TempDir Path work) throws Exception {
        ByteArrayOutputStream jobOut = new ByteArrayOutputStream();
        try (JobOnly job = JobOnly.start(new PrintStream(jobOut, true, StandardCharsets.UTF_8),
                "--metastream.obs-dim", "5", "--metastream.act-dim", "1", "--metastream.model-name", "grbal-cartpole",
                "--metastream.publish-every", "5", "--work", work.toString(), "--parallelism", "2")) {
            assertThat(jobOut.toString(StandardCharsets.UTF_8)).contains("bootstrap servers", job.bootstrapServers(),
                    "observation size    5, action size 1");
            assertThat(Files.readString(work.resolve("bootstrap-servers")).trim()).isEqualTo(job.bootstrapServers());
            long deadline = System.nanoTime() + 180_000_000_000L;
            CartPoleProducer.Summary s = CartPoleProducer.run(job.bootstrapServers(), "grbal-cartpole", 4, 4, 1, 400,
                    System.out, x -> System.nanoTime() > deadline
                            || (x.latestVersion() >= 2 && x.adaptedTasks() == x.tasks() && x.fleet().plannedSteps() > 0
                                    && x.fleet().transitionsSent() > 1000));
            assertThat(s.fleet().transitionsSent()).isGreaterThan(1000);
            assertThat(s.latestVersion()).isGreaterThanOrEqualTo(2);
            assertThat(s.adaptedTasks()).as("tasks whose agents acted with an adapted model").isPositive();
            assertThat(s.fleet().plannedSteps()).as("steps planned with a model").isPositive();
            assertThat(s.fleet().deadLetters()).isZero();

            // the producer as the README runs it: its own JVM on the module's runtime class path
            String last = runProducerProcess(job.bootstrapServers(), "grbal-cartpole", 40);
            assertThat(last).contains("tasks with an adapted model 4/4", "dead letters 0").doesNotContain("model version 0,");
        }
    }

    /** Runs CartPoleProducer in a child JVM on target/classes plus target/classpath.txt; returns its last line. */
    static String runProducerProcess(String servers, String modelName, int seconds) throws Exception {
        Path module = Path.of(System.getProperty("user.dir"));
        String cp = module.resolve("target/classes") + java.io.File.pathSeparator
                + Files.readString(module.resolve("target/classpath.txt")).trim();
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Dorg.bytedeco.javacpp.cachedir=" + System.getProperty("org.bytedeco.javacpp.cachedir",
                        module.resolve("target/javacpp").toString()),
                "-cp", cp, CartPoleProducer.class.getName(), "--bootstrap-servers", servers, "--model-name", modelName,
                "--tasks", "4", "--agents", "4", "--rate", "200", "--duration", Integer.toString(seconds))
                .redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        List<String> lines = new java.util.ArrayList<>();
        try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String l; (l = r.readLine()) != null; ) {
                lines.add(l);
            }
        }
        assertThat(p.waitFor(seconds + 60L, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join("\n", lines)).isZero();
        List<String> progress = lines.stream().filter(l -> l.startsWith("transitions ")).toList();
        assertThat(progress).as(String.join("\n", lines)).isNotEmpty();
        return progress.get(progress.size() - 1);
    }

    @Test
    void aProducerWritingOtherSizesThanTheJobsLearnsItFromItsDeadLetterCount(@TempDir Path work) throws Exception {
        try (JobOnly job = JobOnly.start(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                "--metastream.obs-dim", "4", "--metastream.act-dim", "1", "--work", work.toString())) {
            long deadline = System.nanoTime() + 90_000_000_000L;
            CartPoleProducer.Summary s = CartPoleProducer.run(job.bootstrapServers(), "grbal-own", 2, 2, 1, 200,
                    System.out, x -> System.nanoTime() > deadline || x.fleet().deadLetters() >= 20);
            assertThat(s.fleet().deadLetters()).isGreaterThanOrEqualTo(20);
            assertThat(s.latestVersion()).isZero();
        }
    }
}

package io.metastream.examples.cartpole;

import io.metastream.sim.fleet.grbal.GrbalAgents;
import io.metastream.client.CommandLineArgs;
import io.metastream.client.ModelClient;
import io.metastream.client.TopicNames;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.sim.TaskSpec;
import io.metastream.sim.fleet.Fleet;
import io.metastream.sim.fleet.FleetStats;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * The producer of the own-simulator example: simulated cart-poles ({@link CartPoleFamily}) stream their
 * experience to a running metastream job (GrBAL) and plan with MPC on their task's adapted dynamics
 * model, which they read back with {@link ModelClient}. It uses only the library modules
 * ({@code metastream-sim}, {@code metastream-client}); nothing in the project knows this family.
 *
 * <pre>
 *   java ... io.metastream.examples.cartpole.CartPoleProducer --bootstrap-servers H:P [--model-name grbal-own]
 *        [--tasks 8] [--agents 8] [--seed 1] [--rate 500] [--duration SECONDS (0 = until killed)]
 * </pre>
 */
public final class CartPoleProducer {

    /** What the producer saw: its statistics, the newest version, and how many of its tasks had an adaptation. */
    public record Summary(FleetStats fleet, long latestVersion, int adaptedTasks, int tasks) {}

    private CartPoleProducer() {}

    /**
     * Runs the producer until {@code done} holds for its summary (checked every second), printing a line
     * every 10 s.
     *
     * @throws IllegalStateException when the fleet stops with an error
     */
    public static Summary run(String servers, String modelName, int taskCount, int agents, long seed, double rate,
            PrintStream out, Predicate<Summary> done) throws InterruptedException {
        CartPoleFamily family = new CartPoleFamily();
        List<TaskSpec> tasks = family.trainTasks(taskCount, seed);
        TopicNames topics = TopicNames.defaults();
        MpcConfig mpc = MpcConfig.builder()
                .actionBounds(family.actionLow(), family.actionHigh()).build();
        try (ModelClient client = ModelClient.builder().bootstrapServers(servers).modelsTopic(topics.models())
                .adaptedTopic(topics.adapted()).modelName(modelName)
                // hold many versions: an adaptation is readable one checkpoint after its base version, and a
                // fast learner with slow checkpoints publishes dozens of versions per checkpoint
                .keepVersions(1024).build();
             Fleet fleet = Fleet.builder().bootstrapServers(servers).topic(topics.experience()).family(family)
                     .tasks(tasks).agents(agents).seed(seed).controllers(GrbalAgents.mpc(mpc, client::modelFor))
                     .maxTransitionsPerSecond(rate).deadLetterTopic(topics.deadLetters()).build()) {
            client.start();
            fleet.start();
            long nextPrint = System.nanoTime() + 10_000_000_000L;
            while (true) {
                Thread.sleep(1000);
                if (fleet.failure().isPresent()) {
                    throw new IllegalStateException("the cart-pole fleet stopped: " + fleet.failure().get(),
                            fleet.failure().get());
                }
                Summary s = summary(fleet, client, tasks);
                if (done.test(s)) {
                    out.println(line(s, fleet));
                    return s;
                }
                if (System.nanoTime() >= nextPrint) {
                    out.println(line(s, fleet));
                    nextPrint = System.nanoTime() + 10_000_000_000L;
                }
            }
        }
    }

    private static Summary summary(Fleet fleet, ModelClient client, List<TaskSpec> tasks) {
        int adapted = 0;
        for (TaskSpec t : tasks) {
            if (client.modelFor(t.id()).map(m -> m.adapted()).orElse(false)) {
                adapted++;
            }
        }
        return new Summary(fleet.stats(), client.latestVersion().orElse(0), adapted, tasks.size());
    }

    private static String line(Summary s, Fleet fleet) {
        return String.format("transitions %d, mean return %.1f, model version %d, tasks with an adapted model %d/%d, "
                        + "dead letters %d%s", s.fleet().transitionsSent(), s.fleet().meanEpisodeReturn(),
                s.latestVersion(), s.adaptedTasks(), s.tasks(), s.fleet().deadLetters(),
                fleet.firstDeadLetter().map(r -> " (first: " + r + ")").orElse(""));
    }

    public static void main(String[] args) throws Exception {
        CommandLineArgs a = new CommandLineArgs(args, java.util.Set.of());
        String servers = a.string("bootstrap-servers", null);
        String modelName = a.string("model-name", "grbal-own");
        int tasks = a.integer("tasks", 8);
        int agents = a.integer("agents", 8);
        long seed = a.longValue("seed", 1);
        double rate = a.decimal("rate", 500);
        long duration = a.longValue("duration", 0);
        a.rejectUnknown("CartPoleProducer");
        if (servers == null) {
            System.err.println("--bootstrap-servers is required (bin/metastream run --job-only prints it)");
            System.exit(2);
        }
        long end = duration > 0 ? System.nanoTime() + Duration.ofSeconds(duration).toNanos() : Long.MAX_VALUE;
        run(servers, modelName, tasks, agents, seed, rate, System.out, s -> System.nanoTime() >= end);
    }
}

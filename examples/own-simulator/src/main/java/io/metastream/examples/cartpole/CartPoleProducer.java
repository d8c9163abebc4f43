package io.metastream.examples.cartpole;

import io.metastream.client.ModelClient;
import io.metastream.client.TopicNames;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.sim.TaskSpec;
import io.metastream.sim.fleet.Fleet;
import io.metastream.sim.fleet.FleetStats;

import java.io.PrintStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
        MpcConfig mpc = MpcConfig.builder().horizon(10).candidates(200).cemIterations(0).elites(20)
                .actionBounds(family.actionLow(), family.actionHigh()).build();
        try (ModelClient client = ModelClient.builder().bootstrapServers(servers).modelsTopic(topics.models())
                .adaptedTopic(topics.adapted()).modelName(modelName).build();
             Fleet fleet = Fleet.builder().bootstrapServers(servers).topic(topics.experience()).family(family)
                     .tasks(tasks).agents(agents).seed(seed).mpc(mpc).modelSource(client::modelFor)
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
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                System.err.println("usage: --bootstrap-servers H:P [--model-name NAME] [--tasks N] [--agents N] "
                        + "[--seed N] [--rate N] [--duration SECONDS]; got '" + args[i] + "'");
                System.exit(2);
            }
            a.put(args[i].substring(2), args[i + 1]);
        }
        String servers = a.get("bootstrap-servers");
        if (servers == null) {
            System.err.println("--bootstrap-servers is required (bin/metastream run --job-only prints it)");
            System.exit(2);
        }
        long duration = Long.parseLong(a.getOrDefault("duration", "0"));
        long end = duration > 0 ? System.nanoTime() + Duration.ofSeconds(duration).toNanos() : Long.MAX_VALUE;
        run(servers, a.getOrDefault("model-name", "grbal-own"), Integer.parseInt(a.getOrDefault("tasks", "8")),
                Integer.parseInt(a.getOrDefault("agents", "8")), Long.parseLong(a.getOrDefault("seed", "1")),
                Double.parseDouble(a.getOrDefault("rate", "500")), System.out, s -> System.nanoTime() >= end);
    }
}

package io.metastream.sim.fleet;

import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fleet of simulated agents that act in a list of tasks and publish every step as an Avro
 * {@link io.metastream.schema.Transition} to a Kafka topic (key: task id as UTF-8; value: Avro
 * single-object encoding). Each agent's {@link AgentController} chooses its actions: planning on the
 * task's model ({@code fleet.grbal.GrbalAgents}), posterior sampling with the task's belief
 * ({@code fleet.pearl.PearlAgents}), pure exploration ({@link AgentController#explore()}) or a
 * user's own.
 *
 * <p>Agent {@code i} is {@code "agent-<i>"} and acts in task {@code i mod tasks.size()}. Every
 * transition records the base model version it acted with ({@code policyVersion}, null before any
 * model) and the kind its controller gave it.
 *
 * <p>Stepping: the agents act in lock-step rounds. Each round every active agent starts its step, the
 * controllers decide all their actions in one call ({@link AgentController.Factory#batch}: GrBAL's
 * agents plan together, one batched model rollout for all of them), then every agent completes its step
 * and its transition is sent, in agent order.
 *
 * <p>Threading: one loop thread steps all agents (the fleet is meant to share a small
 * machine with Flink and Kafka), either the caller's ({@link #run()}) or a daemon thread
 * ({@link #start()}); only one of the two may be called, once. {@link #stats()} and {@link #close()}
 * may be called from any thread. {@code close()} stops the loop after the current step, flushes and
 * closes the producer. A failure of the loop (a planner or producer exception) ends it: {@code run()}
 * rethrows it, a started fleet logs it and reports it through {@link #failure()}. Failed sends are
 * counted and logged, not fatal.
 *
 * <p>Delivery: the producer uses {@code acks=all} and idempotence, so a retried send is not duplicated
 * and each task's transitions keep their order per agent.
 */
public final class Fleet implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Fleet.class);

    /** Number of most recent episodes averaged by {@link FleetStats#meanEpisodeReturn()}. */
    public static final int RETURN_WINDOW = 100;
    /** How long {@link #close()} waits for the loop to stop and then for the producer to flush. */
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final String topic;
    private final TransitionRecords records;
    private final List<Agent> agents;
    private final AgentController.Batch controllers;
    private final RecordSender sender;
    private final Producer<byte[], byte[]> producer;
    private final TokenBucket rateLimit;
    private final Clock clock;
    private final StatsCollector stats = new StatsCollector(RETURN_WINDOW);
    /** Watches the job's dead letters for this fleet's tasks; null without {@code deadLetterTopic}. */
    private volatile DeadLetterWatch deadLetters;
    /** Guards {@code claimed} and {@code closed}: run/start and close may race from different threads. */
    private final Object lifecycle = new Object();
    private boolean claimed;
    private boolean closed;
    private final CountDownLatch loopExited = new CountDownLatch(1);
    private volatile boolean stopRequested;
    private volatile Thread loopThread;
    private volatile Throwable failure;

    /**
     * @param producer the producer behind {@code sender}, flushed and closed by the fleet; null when the
     *     sender is a test fake
     */
    Fleet(Builder b, RecordSender sender, Producer<byte[], byte[]> producer, Clock clock) {
        this.topic = b.topic;
        this.records = new TransitionRecords(b.topic);
        this.sender = sender;
        this.producer = producer;
        this.clock = clock;
        this.rateLimit = b.maxTransitionsPerSecond > 0 ? TokenBucket.systemClock(b.maxTransitionsPerSecond) : null;
        SplittableRandom seeds = new SplittableRandom(b.seed);
        List<Agent> list = new ArrayList<>(b.agents);
        for (int i = 0; i < b.agents; i++) {
            TaskSpec task = b.tasks.get(i % b.tasks.size());
            list.add(new Agent(b.agentIdPrefix + i, task, b.tasks, b.switchTaskEvery, b.family, b.controllers,
                    b.episodesPerAgent, seeds.nextLong()));
        }
        this.agents = List.copyOf(list);
        long[] controllerSeeds = new long[agents.size()];
        for (int i = 0; i < controllerSeeds.length; i++) {
            controllerSeeds[i] = agents.get(i).controllerSeed();
        }
        this.controllers = b.controllers.batch(b.family, controllerSeeds);
    }

    /** Starts configuring a fleet. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Runs the agents on the calling thread until {@link #close()} is called, the thread is interrupted,
     * or every agent has completed {@code episodesPerAgent} episodes; then flushes the producer (unless
     * interrupted), so on a normal return every transition has been sent or counted as an error.
     *
     * @throws IllegalStateException if the fleet was already run, started or closed
     */
    public void run() {
        claim();
        runLoop();
    }

    /**
     * Runs the agents on a new daemon thread named {@code metastream-fleet} and returns at once.
     *
     * @throws IllegalStateException if the fleet was already run, started or closed
     */
    public void start() {
        claim();
        Thread thread = new Thread(() -> {
            try {
                runLoop();
            } catch (RuntimeException | Error e) {
                LOG.error("The fleet stopped after a failure; its agents no longer produce", e);
            }
        }, "metastream-fleet");
        thread.setDaemon(true);
        thread.start();
    }

    private void claim() {
        synchronized (lifecycle) {
            if (closed || claimed) {
                throw new IllegalStateException("a fleet runs once and not after close(); build a new one to run again");
            }
            claimed = true;
        }
    }

    private void runLoop() {
        loopThread = Thread.currentThread();
        try {
            loop();
            // after a stop request close() flushes while closing; after an interrupt flush() would throw
            if (producer != null && !stopRequested && !Thread.currentThread().isInterrupted()) {
                producer.flush();
            }
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        } finally {
            loopExited.countDown();
        }
    }

    /** The counters so far; safe to call from any thread. */
    public FleetStats stats() {
        DeadLetterWatch w = deadLetters;
        return stats.snapshot(w == null ? -1 : w.count());
    }

    /** The reason and message of the first of this fleet's records the job dead-lettered, if any was seen. */
    public Optional<String> firstDeadLetter() {
        DeadLetterWatch w = deadLetters;
        return w == null ? Optional.empty() : w.firstReason();
    }

    /** The exception that ended the loop, if one did. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /** True once the loop has ended, whatever the reason. */
    public boolean isDone() {
        return loopExited.getCount() == 0;
    }

    /**
     * Stops the loop after its current step, waits for it (up to 30 s), then flushes and closes the
     * producer. Idempotent.
     */
    @Override
    public void close() {
        boolean running;
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            stopRequested = true;
            running = claimed;
        }
        if (running && Thread.currentThread() != loopThread) {
            try {
                if (!loopExited.await(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("The fleet loop did not stop within {}; closing the producer under it", CLOSE_TIMEOUT);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (producer != null) {
            producer.close(CLOSE_TIMEOUT);
        }
        if (deadLetters != null) {
            deadLetters.close();
        }
    }

    private void loop() {
        LOG.info("Fleet of {} agents producing to {}", agents.size(), topic);
        int[] active = new int[agents.size()];
        while (!stopRequested) {
            int n = 0;
            for (int i = 0; i < agents.size(); i++) {
                if (!agents.get(i).finished()) {
                    active[n++] = i;
                }
            }
            if (n == 0) {
                return;
            }
            for (int k = 0; k < n; k++) {
                if (stopRequested || Thread.currentThread().isInterrupted()
                        || (rateLimit != null && !rateLimit.acquire(() -> stopRequested))) {
                    return;
                }
            }
            int[] round = java.util.Arrays.copyOf(active, n);
            AgentController.Step[] seen = new AgentController.Step[n];
            for (int k = 0; k < n; k++) {
                seen[k] = agents.get(round[k]).begin();
            }
            AgentController.Decision[] decisions = controllers.decide(round, seen);
            if (decisions == null || decisions.length != n) {
                throw new IllegalStateException("the agents' controllers returned " + (decisions == null ? "null" : decisions.length
                        + " decisions") + " for " + n + " agents; AgentController.Batch must return one per agent");
            }
            for (int k = 0; k < n; k++) {
                Agent.StepOutcome outcome = agents.get(round[k]).complete(decisions[k], clock.instant());
                stats.onStep(outcome);
                sender.send(records.toRecord(outcome.transition()), stats.sendCallback());
            }
        }
    }

    /**
     * Validating builder for a {@link Fleet}. Required: {@code bootstrapServers}, {@code topic},
     * {@code family}, {@code tasks}, {@code agents}, {@code seed} and {@code controllers}.
     */
    public static final class Builder {

        /** Producer settings the fleet fixes; a property may not override them. */
        private static final Set<String> FIXED_PROPERTIES = Set.of(
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG);

        private String bootstrapServers;
        private String topic;
        private TaskFamily family;
        private List<TaskSpec> tasks;
        private int agents;
        private Long seed;
        private AgentController.Factory controllers;
        private double maxTransitionsPerSecond;
        private int switchTaskEvery;
        private long episodesPerAgent;
        private final Map<String, String> producerProperties = new LinkedHashMap<>();
        private String deadLetterTopic;
        private String agentIdPrefix = "agent-";

        Builder() {}

        /** Kafka bootstrap servers, e.g. {@code "localhost:9092"}. */
        public Builder bootstrapServers(String bootstrapServers) {
            this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers must not be null");
            return this;
        }

        /** Topic the transitions go to. */
        public Builder topic(String topic) {
            this.topic = Objects.requireNonNull(topic, "topic must not be null");
            return this;
        }

        /** Task family the agents simulate. */
        public Builder family(TaskFamily family) {
            this.family = Objects.requireNonNull(family, "family must not be null");
            return this;
        }

        /** Tasks the agents are spread over round-robin; also the pool of dynamics for task switching. */
        public Builder tasks(List<TaskSpec> tasks) {
            Objects.requireNonNull(tasks, "tasks must not be null");
            this.tasks = List.copyOf(tasks);
            return this;
        }

        /** Number of agents, at least one per task. */
        public Builder agents(int agents) {
            this.agents = agents;
            return this;
        }

        /** Seed of every random choice in the fleet (initial states, exploration, planning). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * How the agents choose actions, e.g. {@code GrbalAgents.mpc(mpc, client::modelFor)},
         * {@code PearlAgents.posteriorSampling(client::policyFor)} or {@link AgentController#explore()}.
         */
        public Builder controllers(AgentController.Factory controllers) {
            this.controllers = Objects.requireNonNull(controllers, "controllers must not be null");
            return this;
        }

        /** Upper bound on transitions per second over the whole fleet; 0 (default) for no limit. */
        public Builder maxTransitionsPerSecond(double maxTransitionsPerSecond) {
            this.maxTransitionsPerSecond = maxTransitionsPerSecond;
            return this;
        }

        /**
         * Every this many steps the dynamics switch mid-episode to another task of the list while the
         * transitions keep the agent's task id; 0 (default) switches never.
         */
        public Builder switchTaskEvery(int switchTaskEvery) {
            this.switchTaskEvery = switchTaskEvery;
            return this;
        }

        /** Episodes each agent runs before the fleet ends; 0 (default) runs until closed. */
        public Builder episodesPerAgent(long episodesPerAgent) {
            this.episodesPerAgent = episodesPerAgent;
            return this;
        }

        /**
         * Agent ids are this prefix and the agent's index; default {@code agent-}. Give fleets that
         * write the same tasks one after another different prefixes: the job takes a step an agent id
         * already sent in the same episode as a repeat and drops it.
         */
        public Builder agentIdPrefix(String agentIdPrefix) {
            Objects.requireNonNull(agentIdPrefix, "agentIdPrefix");
            if (agentIdPrefix.isEmpty() || agentIdPrefix.length() > 200) {
                throw new IllegalArgumentException("agentIdPrefix must have 1 to 200 characters, got " + agentIdPrefix.length());
            }
            this.agentIdPrefix = agentIdPrefix;
            return this;
        }

        /** An extra Kafka producer setting, e.g. {@code security.protocol}; may override acks, linger, compression. */
        public Builder producerProperty(String key, String value) {
            Objects.requireNonNull(key, "producer property key must not be null");
            Objects.requireNonNull(value, "value of producer property '" + key + "' must not be null");
            if (FIXED_PROPERTIES.contains(key)) {
                throw new IllegalArgumentException("producer property '" + key + "' is set by the fleet; "
                        + "use bootstrapServers(...) for the servers, the serializers are fixed to byte arrays");
            }
            producerProperties.put(key, value);
            return this;
        }

        /**
         * The job's dead-letter topic: the fleet then counts the dead letters of its tasks
         * ({@link FleetStats#deadLetters()}) and logs the job's reason at WARN when its records are
         * rejected (see {@link DeadLetterWatch}).
         */
        public Builder deadLetterTopic(String deadLetterTopic) {
            this.deadLetterTopic = Objects.requireNonNull(deadLetterTopic, "deadLetterTopic");
            return this;
        }

        /**
         * Validates the settings and creates the fleet with its Kafka producer.
         *
         * @throws IllegalArgumentException if a setting is missing or invalid; the message says which and how to fix it
         */
        public Fleet build() {
            validate();
            if (bootstrapServers == null || bootstrapServers.isBlank()) {
                throw new IllegalArgumentException("bootstrapServers is required, e.g. bootstrapServers(\"localhost:9092\")");
            }
            KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig());
            try {
                Fleet fleet = new Fleet(this, producer::send, producer, Clock.systemUTC());
                if (deadLetterTopic != null) {
                    Properties client = new Properties();
                    client.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
                    producerProperties.forEach((k, v) -> {
                        if (k.startsWith("security.") || k.startsWith("sasl.") || k.startsWith("ssl.")) {
                            client.put(k, v);
                        }
                    });
                    Set<String> ids = new HashSet<>();
                    tasks.forEach(t -> ids.add(t.id()));
                    fleet.deadLetters = new DeadLetterWatch(client, deadLetterTopic, ids);
                }
                return fleet;
            } catch (RuntimeException e) {
                producer.close(Duration.ZERO);
                throw e;
            }
        }

        /** Builds a fleet that hands its records to {@code sender} instead of Kafka (tests). */
        Fleet build(RecordSender sender, Clock clock) {
            validate();
            return new Fleet(this, sender, null, clock);
        }

        /** The producer configuration {@link #build()} uses. */
        Properties producerConfig() {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
            p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
            p.put(ProducerConfig.CLIENT_ID_CONFIG, "metastream-fleet");
            p.putAll(producerProperties);
            return p;
        }

        private void validate() {
            if (topic == null || topic.isBlank()) {
                throw new IllegalArgumentException("topic is required, e.g. topic(\"transitions\")");
            }
            if (family == null) {
                throw new IllegalArgumentException("family is required, e.g. family(TaskFamilies.byName(\"pendulum\"))");
            }
            if (tasks == null || tasks.isEmpty()) {
                throw new IllegalArgumentException("tasks are required; pass e.g. family.trainTasks(n, seed)");
            }
            Set<String> ids = new HashSet<>();
            for (TaskSpec t : tasks) {
                if (!ids.add(t.id())) {
                    throw new IllegalArgumentException("task id '" + t.id() + "' appears twice; task ids are Kafka keys and must be unique");
                }
                family.create(t, 0L); // rejects tasks the family cannot simulate, with the family's message
            }
            if (agents < tasks.size()) {
                throw new IllegalArgumentException("agents (" + agents + ") must be at least the number of tasks ("
                        + tasks.size() + ") so that every task produces data; raise agents(...) or pass fewer tasks");
            }
            if (seed == null) {
                throw new IllegalArgumentException("seed is required so that a fleet run can be reproduced; call seed(long)");
            }
            if (controllers == null) {
                throw new IllegalArgumentException("controllers are required; pass the AgentController.Factory of the "
                        + "algorithm's agents (each algorithm's package under io.metastream.sim.fleet has one) or "
                        + "AgentController.explore()");
            }
            if (!(maxTransitionsPerSecond >= 0) || Double.isInfinite(maxTransitionsPerSecond)) {
                throw new IllegalArgumentException("maxTransitionsPerSecond must be >= 0 and finite (0 = unlimited), got "
                        + maxTransitionsPerSecond);
            }
            if (switchTaskEvery < 0) {
                throw new IllegalArgumentException("switchTaskEvery must be >= 0 (0 = never), got " + switchTaskEvery);
            }
            if (switchTaskEvery > 0 && new HashSet<>(tasks).size() < 2) {
                throw new IllegalArgumentException("switchTaskEvery > 0 needs at least two different tasks to switch "
                        + "between; pass more tasks or set switchTaskEvery(0)");
            }
            if (episodesPerAgent < 0) {
                throw new IllegalArgumentException("episodesPerAgent must be >= 0 (0 = until closed), got " + episodesPerAgent);
            }
        }
    }
}

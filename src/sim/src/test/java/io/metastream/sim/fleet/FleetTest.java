package io.metastream.sim.fleet;

import io.metastream.sim.fleet.grbal.ModelSource;
import io.metastream.sim.fleet.grbal.GrbalAgents;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.metastream.client.Codecs;
import io.metastream.client.ModelClient;
import io.metastream.client.TaskModel;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.schema.Transition;
import io.metastream.schema.TransitionKind;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import io.metastream.sim.TestModels;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class FleetTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-03-01T12:00:00Z"), ZoneOffset.UTC);

    private final TaskFamily family = TaskFamilies.byName("pendulum");
    private final List<TaskSpec> tasks = family.trainTasks(2, 1);
    private final MpcConfig mpc = MpcConfig.builder().horizon(3).candidates(20).elites(5)
            .actionBounds(family.actionLow(), family.actionHigh()).build();

    private Fleet.Builder builder(ModelSource source) {
        return builder(GrbalAgents.mpc(mpc, source));
    }

    private Fleet.Builder builder(AgentController.Factory controllers) {
        return Fleet.builder()
                .topic("transitions")
                .family(family)
                .tasks(tasks)
                .agents(4)
                .seed(5)
                .controllers(controllers)
                .episodesPerAgent(1);
    }

    @Test
    void recordsAreKeyedByTaskIdAndCarryTheEncodedTransition() throws Exception {
        CollectingSender sender = new CollectingSender();
        try (Fleet fleet = builder(ModelSource.none()).build(sender, CLOCK)) {
            fleet.run();
        }

        List<ProducerRecord<byte[], byte[]>> records = sender.records();
        assertThat(records).hasSize(4 * family.horizon());
        Map<String, Integer> nextStep = new HashMap<>();
        for (ProducerRecord<byte[], byte[]> r : records) {
            Transition t = Codecs.transition().decode(r.value());
            assertThat(Transition.getDecoder().decode(ByteBuffer.wrap(r.value())))
                    .as("plain Avro single-object encoding").isEqualTo(t);
            assertThat(r.topic()).isEqualTo("transitions");
            assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo(t.getTaskId());
            assertThat(r.timestamp()).isEqualTo(CLOCK.millis());
            assertThat(t.getTimestamp()).isEqualTo(CLOCK.instant());
            int agent = Integer.parseInt(t.getAgentId().substring("agent-".length()));
            assertThat(t.getTaskId()).as("round-robin assignment").isEqualTo(tasks.get(agent % 2).id());
            assertThat(t.getStep()).as("steps of one agent in order").isEqualTo(nextStep.getOrDefault(t.getAgentId(), 0));
            nextStep.put(t.getAgentId(), t.getStep() + 1);
        }
        assertThat(nextStep).containsOnlyKeys("agent-0", "agent-1", "agent-2", "agent-3");
    }

    @Test
    void agentsAreSteppedRoundRobin() {
        CollectingSender sender = new CollectingSender();
        try (Fleet fleet = builder(ModelSource.none()).build(sender, CLOCK)) {
            fleet.run();
        }
        List<String> firstAgents = sender.records().subList(0, 8).stream()
                .map(r -> Codecs.transition().decode(r.value()).getAgentId()).toList();
        assertThat(firstAgents).containsExactly(
                "agent-0", "agent-1", "agent-2", "agent-3", "agent-0", "agent-1", "agent-2", "agent-3");
    }

    @Test
    void agentIdsTakeTheGivenPrefix() {
        CollectingSender sender = new CollectingSender();
        try (Fleet fleet = builder(ModelSource.none()).agentIdPrefix("trial-3-").build(sender, CLOCK)) {
            fleet.run();
        }
        assertThat(sender.records().stream().map(r -> Codecs.transition().decode(r.value()).getAgentId()).distinct())
                .containsExactlyInAnyOrder("trial-3-0", "trial-3-1", "trial-3-2", "trial-3-3");
        assertThatThrownBy(() -> Fleet.builder().agentIdPrefix("")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void statsCountAcknowledgementsFailuresEpisodesAndReturns() {
        AtomicInteger n = new AtomicInteger();
        CollectingSender sender = new CollectingSender(r -> n.incrementAndGet() % 10 == 0);
        Fleet fleet = builder(ModelSource.none()).build(sender, CLOCK);
        fleet.run();
        fleet.close();

        FleetStats stats = fleet.stats();
        assertThat(stats.transitionsProduced()).isEqualTo(800);
        assertThat(stats.transitionsSent()).isEqualTo(720);
        assertThat(stats.sendErrors()).isEqualTo(80);
        assertThat(stats.episodesCompleted()).isEqualTo(4);
        assertThat(stats.randomSteps()).isEqualTo(800);
        assertThat(stats.plannedSteps()).isZero();
        double meanReturn = sender.records().stream()
                .mapToDouble(r -> Codecs.transition().decode(r.value()).getReward()).sum() / 4;
        assertThat(stats.meanEpisodeReturn()).isCloseTo(meanReturn, within(1e-2));
        assertThat(fleet.isDone()).isTrue();
        assertThat(fleet.failure()).isEmpty();
    }

    @Test
    void plannedStepsAreCountedPerVersionAndAdaptedOnesMarked() {
        FakeModelSource source = new FakeModelSource()
                .put(tasks.get(0).id(), new TaskModel(TestModels.untrained(family, 1), 3, false))
                .put(tasks.get(1).id(), new TaskModel(TestModels.untrained(family, 2), 3, true));
        CollectingSender sender = new CollectingSender();
        Fleet fleet = builder(GrbalAgents.mpc(mpc, source, 0.0)).agents(2).build(sender, CLOCK);
        fleet.run();

        assertThat(fleet.stats().plannedStepsByPolicyVersion()).containsExactly(Map.entry(3L, 400L));
        assertThat(fleet.stats().randomSteps()).isZero();
        for (ProducerRecord<byte[], byte[]> r : sender.records()) {
            Transition t = Codecs.transition().decode(r.value());
            assertThat(t.getPolicyVersion()).isEqualTo(3L);
            assertThat(t.getKind()).isEqualTo(t.getTaskId().equals(tasks.get(1).id())
                    ? TransitionKind.POST_ADAPTATION : TransitionKind.EXPLORATION);
        }
    }

    @Test
    void aUsersOwnControllerChoosesTheActionsAndTheirRecords() {
        List<Long> seeds = new java.util.ArrayList<>();
        AgentController.Factory own = (f, seed) -> {
            seeds.add(seed);
            return step -> step.step() % 2 == 0
                    ? new AgentController.Decision(new double[] {f.actionHigh()[0] * 10}, 42L, true, TransitionKind.POST_ADAPTATION)
                    : AgentController.Decision.random(41L);
        };
        CollectingSender sender = new CollectingSender();
        Fleet fleet = builder(own).agents(2).build(sender, CLOCK);
        fleet.run();

        assertThat(seeds).hasSize(2).doesNotHaveDuplicates();
        assertThat(fleet.stats().plannedStepsByPolicyVersion()).containsExactly(Map.entry(42L, 200L));
        assertThat(fleet.stats().randomSteps()).isEqualTo(200);
        for (ProducerRecord<byte[], byte[]> r : sender.records()) {
            Transition t = Codecs.transition().decode(r.value());
            if (t.getStep() % 2 == 0) {
                assertThat(t.getPolicyVersion()).isEqualTo(42L);
                assertThat(t.getKind()).isEqualTo(TransitionKind.POST_ADAPTATION);
                assertThat(t.getAction().get(0)).as("clipped to the family's bound").isEqualTo((float) family.actionHigh()[0]);
            } else {
                assertThat(t.getPolicyVersion()).isEqualTo(41L);
                assertThat(t.getKind()).isEqualTo(TransitionKind.EXPLORATION);
                assertThat((double) t.getAction().get(0)).isBetween(family.actionLow()[0], family.actionHigh()[0]);
            }
        }
    }

    @Test
    void anExploringFleetActsAtRandomWithoutAVersion() {
        CollectingSender sender = new CollectingSender();
        Fleet fleet = builder(AgentController.explore()).build(sender, CLOCK);
        fleet.run();
        assertThat(fleet.stats().randomSteps()).isEqualTo(4L * family.horizon());
        assertThat(sender.records()).allSatisfy(r -> assertThat(Codecs.transition().decode(r.value()).getPolicyVersion()).isNull());
    }

    @Test
    void closeStopsAnEndlessFleetStartedInTheBackground() throws Exception {
        CollectingSender sender = new CollectingSender();
        Fleet fleet = builder(ModelSource.none()).episodesPerAgent(0).build(sender, CLOCK);
        fleet.start();
        awaitTrue(() -> fleet.stats().transitionsProduced() > 1000, Duration.ofSeconds(60));

        fleet.close();

        assertThat(fleet.isDone()).isTrue();
        long produced = fleet.stats().transitionsProduced();
        Thread.sleep(100);
        assertThat(fleet.stats().transitionsProduced()).isEqualTo(produced);
        assertThat(fleet.stats().episodesCompleted()).isGreaterThanOrEqualTo(4);
        assertThat(fleet.failure()).isEmpty();
    }

    @Test
    void interruptingTheRunningThreadStopsTheFleet() throws Exception {
        Fleet fleet = builder(ModelSource.none()).episodesPerAgent(0).build(new CollectingSender(), CLOCK);
        Thread runner = new Thread(fleet::run);
        runner.start();
        awaitTrue(() -> fleet.stats().transitionsProduced() > 100, Duration.ofSeconds(60));

        runner.interrupt();
        runner.join(30_000);

        assertThat(runner.isAlive()).isFalse();
        assertThat(fleet.isDone()).isTrue();
        assertThat(fleet.failure()).isEmpty();
        fleet.close();
    }

    @Test
    void aModelClientServesAsTheModelSource() {
        try (ModelClient client = ModelClient.builder().bootstrapServers("localhost:1").modelName("pendulum").build()) {
            CollectingSender sender = new CollectingSender();
            builder(client::modelFor).build(sender, CLOCK).run();
            assertThat(sender.size()).as("no model yet: random exploration").isEqualTo(4 * family.horizon());
        }
    }

    @Test
    void aFleetRunsOnce() {
        Fleet fleet = builder(ModelSource.none()).build(new CollectingSender(), CLOCK);
        fleet.run();
        assertThatThrownBy(fleet::run).isInstanceOf(IllegalStateException.class).hasMessageContaining("once");
        assertThatThrownBy(fleet::start).isInstanceOf(IllegalStateException.class);
        fleet.close();
        fleet.close();
    }

    @Test
    void aClosedFleetCannotStart() {
        Fleet fleet = builder(ModelSource.none()).build(new CollectingSender(), CLOCK);
        fleet.close();
        assertThatThrownBy(fleet::run).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void rateLimitHoldsTheFleetBack() throws Exception {
        Fleet fleet = builder(ModelSource.none()).episodesPerAgent(0).maxTransitionsPerSecond(200)
                .build(new CollectingSender(), CLOCK);
        long start = System.nanoTime();
        fleet.start();
        awaitTrue(() -> fleet.stats().transitionsProduced() >= 60, Duration.ofSeconds(30));
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        fleet.close();
        // 20 tokens of burst, then 40 more at 200 per second take at least 200 ms
        assertThat(elapsedMillis).isGreaterThanOrEqualTo(180);
    }

    @Test
    void aFailingModelSourceEndsTheRunWithItsException() {
        ModelSource broken = taskId -> {
            throw new IllegalStateException("model store unavailable");
        };
        Fleet fleet = builder(broken).build(new CollectingSender(), CLOCK);
        assertThatThrownBy(fleet::run).hasMessage("model store unavailable");
        assertThat(fleet.failure()).get().extracting(Throwable::getMessage).isEqualTo("model store unavailable");
        assertThat(fleet.isDone()).isTrue();
        fleet.close();
    }

    @Test
    void aFailureInTheBackgroundIsReported() throws Exception {
        ModelSource broken = taskId -> {
            throw new IllegalStateException("model store unavailable");
        };
        Fleet fleet = builder(broken).build(new CollectingSender(), CLOCK);
        fleet.start();
        awaitTrue(fleet::isDone, Duration.ofSeconds(30));
        assertThat(fleet.failure()).isPresent();
        fleet.close();
    }

    @Test
    void switchingKeepsEachAgentsTaskIdOnItsRecords() {
        CollectingSender sender = new CollectingSender();
        builder(ModelSource.none()).switchTaskEvery(5).build(sender, CLOCK).run();
        for (ProducerRecord<byte[], byte[]> r : sender.records()) {
            Transition t = Codecs.transition().decode(r.value());
            int agent = Integer.parseInt(t.getAgentId().substring("agent-".length()));
            assertThat(t.getTaskId()).isEqualTo(tasks.get(agent % 2).id());
        }
    }

    @Test
    void producerIsDurableOrderedAndCompressed() {
        Properties p = builder(ModelSource.none())
                .bootstrapServers("broker:9092")
                .producerProperty("security.protocol", "SSL")
                .producerConfig();
        assertThat(p).containsEntry(ProducerConfig.ACKS_CONFIG, "all")
                .containsEntry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true")
                .containsEntry(ProducerConfig.LINGER_MS_CONFIG, "20")
                .containsEntry(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4")
                .containsEntry(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "broker:9092")
                .containsEntry("security.protocol", "SSL");
    }

    @Test
    void buildsAKafkaProducerWithoutTalkingToABroker() throws Exception {
        // The producer validates its configuration (lz4 codec, idempotence with acks=all) when created;
        // it only connects when sending, so no broker is needed here.
        Class.forName("net.jpountz.lz4.LZ4Factory");
        Fleet fleet = builder(ModelSource.none()).bootstrapServers("localhost:1").build();
        fleet.close();
    }

    @Test
    void builderSaysWhatIsMissing() {
        assertThatThrownBy(() -> builder(ModelSource.none()).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bootstrapServers");
        assertThatThrownBy(() -> Fleet.builder().build(new CollectingSender(), CLOCK))
                .hasMessageContaining("topic");
        assertThatThrownBy(() -> Fleet.builder().topic("t").build(new CollectingSender(), CLOCK))
                .hasMessageContaining("family");
        assertThatThrownBy(() -> Fleet.builder().topic("t").family(family).build(new CollectingSender(), CLOCK))
                .hasMessageContaining("tasks");
        assertThatThrownBy(() -> Fleet.builder().topic("t").family(family).tasks(tasks).agents(2)
                .build(new CollectingSender(), CLOCK))
                .hasMessageContaining("seed(long)");
        assertThatThrownBy(() -> Fleet.builder().topic("t").family(family).tasks(tasks).agents(2).seed(1)
                .build(new CollectingSender(), CLOCK))
                .hasMessageContaining("controllers are required");
        assertThatThrownBy(() -> GrbalAgents.mpc(mpc, null)).hasMessageContaining("ModelSource.none()");
        assertThatThrownBy(() -> GrbalAgents.mpc(null, ModelSource.none())).hasMessageContaining("MpcConfig");
    }

    @Test
    void builderRejectsInconsistentSettings() {
        assertThatThrownBy(() -> builder(ModelSource.none()).agents(1).build(new CollectingSender(), CLOCK))
                .hasMessageContaining("agents (1) must be at least the number of tasks (2)");
        MpcConfig wrongBounds = MpcConfig.builder().actionBounds(1, -1, 1).build();
        assertThatThrownBy(() -> builder(GrbalAgents.mpc(wrongBounds, ModelSource.none())).build(new CollectingSender(), CLOCK))
                .hasMessageContaining("family.actionLow()");
        assertThatThrownBy(() -> GrbalAgents.mpc(mpc, ModelSource.none(), 1.5))
                .hasMessageContaining("[0, 1]");
        assertThatThrownBy(() -> builder(ModelSource.none()).maxTransitionsPerSecond(-1).build(new CollectingSender(), CLOCK))
                .hasMessageContaining("maxTransitionsPerSecond");
        assertThatThrownBy(() -> builder(ModelSource.none()).tasks(tasks.subList(0, 1)).switchTaskEvery(10)
                .build(new CollectingSender(), CLOCK))
                .hasMessageContaining("at least two different tasks");
        assertThatThrownBy(() -> builder(ModelSource.none()).tasks(List.of(tasks.get(0), tasks.get(0)))
                .build(new CollectingSender(), CLOCK))
                .hasMessageContaining("appears twice");
        assertThatThrownBy(() -> builder(ModelSource.none()).producerProperty("value.serializer", "x"))
                .hasMessageContaining("set by the fleet");
        TaskSpec alien = TaskFamilies.byName("point-mass").trainTasks(1, 0).get(0);
        assertThatThrownBy(() -> builder(ModelSource.none()).tasks(List.of(alien)).agents(1)
                .build(new CollectingSender(), CLOCK))
                .hasMessageContaining("has no parameter");
    }

    /** Polls a condition under one bound. */
    static void awaitTrue(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + timeout);
            }
            Thread.sleep(10);
        }
    }
}

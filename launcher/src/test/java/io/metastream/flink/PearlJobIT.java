package io.metastream.flink;

import io.metastream.sim.fleet.pearl.PearlAgents;
import io.metastream.client.ModelClient;
import io.metastream.client.ModelVerifier;
import io.metastream.client.TaskPolicy;
import io.metastream.core.pearl.PearlPolicy;
import io.metastream.client.TopicNames;
import io.metastream.schema.AdaptedModel;
import io.metastream.schema.GaussianPosterior;
import io.metastream.schema.ModelVersion;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.TaskSpec;
import io.metastream.sim.fleet.Fleet;
import io.metastream.sim.pearl.PearlMetaTrainer;
import io.metastream.testing.KafkaExtension;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import static io.metastream.flink.JobTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PEARL end to end on a real Kafka broker and a MiniCluster at parallelism 2: the fleet does posterior
 * sampling with the versions and posteriors it reads back, the task operator infers posteriors from
 * fresh context, the learner trains SAC + encoder on task samples, and on held-out point-robot goals
 * the posterior after context episodes clearly beats z drawn from the prior (on average over the last
 * five checkpoints, since a single one is noisy).
 */
class PearlJobIT {
    private static final int CHECKPOINTS = 5;

    @RegisterExtension
    static final KafkaExtension KAFKA = new KafkaExtension();

    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(1);

    @Test
    @org.junit.jupiter.api.Timeout(value = 15, unit = java.util.concurrent.TimeUnit.MINUTES)
    void posteriorOnHeldOutGoalsBeatsThePrior() throws Exception {
        TopicNames topics = KAFKA.freshTopics("pearl");
        String servers = KAFKA.bootstrapServers();
        Configuration conf = JobTestSupport.jobConfig(servers, topics, "it-pearl", "point-robot");
        conf.set(MetaStreamOptions.ALGORITHM, "pearl");
        io.metastream.core.pearl.PearlConfig.profile("cpu").forEach((k, v) -> conf.setString("pearl." + k, v));
        conf.setString("pearl.seed", "5");
        conf.set(MetaStreamOptions.PUBLISH_EVERY, 10);
        TaskFamily family = TaskFamilies.byName("point-robot");
        List<TaskSpec> train = family.trainTasks(24, 0);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        MetaLearningJob.fromKafka(conf).build(env);
        JobClient job = env.executeAsync("metastream-pearl-it");
        try (ModelClient client = ModelClient.builder().bootstrapServers(servers).modelsTopic(topics.models())
                .adaptedTopic(topics.adapted()).modelName("it-pearl").build()) {
            client.start();
            try (Fleet fleet = Fleet.builder().bootstrapServers(servers).topic(topics.experience()).family(family)
                    .tasks(train).agents(24).seed(3).controllers(PearlAgents.posteriorSampling(client::policyFor)).maxTransitionsPerSecond(1000)
                    .build()) {
                fleet.start();
                await("8000 PEARL steps (800 versions)", Duration.ofSeconds(720),
                        () -> client.latestVersion().orElse(0) >= 800);
                await("a posterior for a train task", Duration.ofSeconds(30),
                        () -> client.policyFor(train.get(0).id()).map(TaskPolicy::adapted).orElse(false));
            }
            List<ModelVersion> versions = JobTestSupport.readModels(servers, topics.models());
            List<Long> numbers = versions.stream().map(ModelVersion::getVersion).collect(Collectors.toList());
            assertThat(numbers).startsWith(1L, 2L, 3L).doesNotHaveDuplicates().isSorted();
            assertThat(versions).allSatisfy(v -> assertThat(v.getAlgorithm()).isEqualTo("PEARL"));

            ModelVersion last = versions.get(versions.size() - 1);
            PearlPolicy policy = ModelVerifier.verifyAndDecode(last, PearlPolicy.class);
            TaskPolicy forTask = client.policyFor(train.get(0).id()).orElseThrow();
            assertThat(forTask.belief().latentDim()).isEqualTo(policy.latentDim());

            // explore with posterior sampling for 4 context episodes, then exploit; against z from the prior. One
            // checkpoint swings by about ±1, so the gain is averaged over the last 5 checkpoints, 100 steps apart.
            double prior = 0;
            double adapted = 0;
            for (int k = 0; k < CHECKPOINTS; k++) {
                ModelVersion v = versions.get(versions.size() - 1 - 10 * k);
                PearlMetaTrainer.Evaluation e = PearlMetaTrainer.evaluate(family, ModelVerifier.verifyAndDecode(v, PearlPolicy.class),
                        family.heldOutTasks(20, 0), 5, 6, 11, false, false);
                System.out.printf("PEARL IT version %d: held-out return after 0..4 context episodes %s%n",
                        v.getVersion(), java.util.Arrays.toString(e.returnAfter()));
                prior += e.returnAfter()[0] / CHECKPOINTS;
                adapted += e.returnAfter()[4] / CHECKPOINTS;
            }
            System.out.printf("PEARL IT: held-out return %.2f with z from the prior, %.2f after 4 context episodes%n",
                    prior, adapted);
            assertThat(adapted).isGreaterThan(prior + 2.0);
        } finally {
            job.cancel().get();
        }
    }
}

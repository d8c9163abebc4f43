package io.metastream.flink;

import io.metastream.client.BadRecords;
import io.metastream.client.ModelClient;
import io.metastream.client.TopicLayout;
import io.metastream.client.TopicNames;
import io.metastream.local.KafkaBroker;
import io.metastream.schema.DeadLetterReason;
import io.metastream.sim.TaskFamilies;
import io.metastream.sim.TaskFamily;
import io.metastream.sim.fleet.AgentController;
import io.metastream.sim.fleet.Fleet;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import static io.metastream.flink.JobTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The pipeline on a broker with SASL/SCRAM and ACLs: the job, the fleet and the model client work with
 * their own principals and the ACLs their roles need; a producer without credentials, with a wrong
 * password, or without a write ACL on the experience topic is refused, and only the job's principal can
 * write the models and adapted topics.
 */
class SecureKafkaIT {

    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(2);

    private static final String MODEL = "it-secure";
    private static final String GROUP = "it-secure-job";

    @Test
    void eachPrincipalCanDoItsRoleAndNothingElse(@TempDir Path dir) throws Exception {
        try (KafkaBroker broker = KafkaBroker.builder().dataDir(dir.resolve("kafka")).saslScram("admin", "admin-secret")
                .build()) {
            broker.start();
            String servers = broker.bootstrapServers();
            TopicNames topics = TopicNames.defaults();
            Map<String, Object> adminProps = new HashMap<>(KafkaBroker.saslProperties("admin", "admin-secret"));
            adminProps.put("bootstrap.servers", servers);
            try (Admin admin = Admin.create(adminProps)) {
                TopicLayout.create(admin, TopicLayout.defaults(topics, 2), Duration.ofSeconds(60));
                List<UserScramCredentialUpsertion> users = new ArrayList<>();
                for (String user : List.of("job", "fleet", "intruder")) {
                    users.add(new UserScramCredentialUpsertion(user,
                            new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), user + "-secret"));
                }
                admin.alterUserScramCredentials(new ArrayList<>(users)).all().get();
                admin.createAcls(acls(topics)).all().get();
            }

            Configuration conf = JobTestSupport.jobConfig(servers, topics, MODEL, "point-mass");
            conf.set(MetaStreamOptions.GROUP_ID, GROUP);
            KafkaBroker.saslProperties("job", "job-secret").forEach((k, v) -> conf.setString("kafka." + k, v));
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            MetaLearningJob.fromKafka(conf).build(env);
            JobClient job = env.executeAsync("metastream-secure-it");
            TaskFamily family = TaskFamilies.byName("point-mass");
            Map<String, String> fleetAuth = KafkaBroker.saslProperties("fleet", "fleet-secret");
            ModelClient.Builder clientBuilder = ModelClient.builder().bootstrapServers(servers)
                    .modelsTopic(topics.models()).adaptedTopic(topics.adapted()).modelName(MODEL);
            fleetAuth.forEach(clientBuilder::property);
            Fleet.Builder fleetBuilder = Fleet.builder();
            fleetAuth.forEach(fleetBuilder::producerProperty);
            try (ModelClient client = clientBuilder.build();
                 Fleet fleet = fleetBuilder.bootstrapServers(servers).topic(topics.experience()).family(family)
                         .tasks(family.trainTasks(4, 2)).agents(4).seed(2).controllers(AgentController.explore())
                         .maxTransitionsPerSecond(800).build()) {
                client.start();
                fleet.start();
                await("two model versions through the secured brokers", Duration.ofSeconds(180),
                        () -> client.latestVersion().orElse(0) >= 2);
                assertThat(fleet.stats().sendErrors()).isZero();

                byte[] anyTransition = BadRecords.oneOfEach(topics.experience(), "t", family.obsDim(), family.actDim())
                        .get(DeadLetterReason.WRONG_DIMENSION).value();
                assertThat(refusal(servers, Map.of(), topics.experience(), anyTransition))
                        .as("no credentials").isInstanceOf(org.apache.kafka.common.errors.TimeoutException.class);
                assertThat(refusal(servers, KafkaBroker.saslProperties("fleet", "wrong"), topics.experience(), anyTransition))
                        .as("wrong password").isInstanceOf(SaslAuthenticationException.class);
                assertThat(refusal(servers, KafkaBroker.saslProperties("intruder", "intruder-secret"), topics.experience(),
                        anyTransition)).as("no write ACL on the experience topic").isInstanceOf(TopicAuthorizationException.class);
                for (String topic : List.of(topics.models(), topics.adapted())) {
                    assertThat(refusal(servers, fleetAuth, topic, anyTransition)).as("the fleet writing " + topic)
                            .isInstanceOf(TopicAuthorizationException.class);
                    assertThat(refusal(servers, KafkaBroker.saslProperties("intruder", "intruder-secret"), topic,
                            anyTransition)).as("an intruder writing " + topic).isInstanceOf(TopicAuthorizationException.class);
                }
                assertThat(client.rejectedRecords()).isZero();
            } finally {
                job.cancel().get();
            }
        }
    }

    /** The job reads experience and models, writes models, adapted and dead letters in transactions; the fleet writes experience and reads models and adapted. */
    private static List<AclBinding> acls(TopicNames t) {
        List<AclBinding> out = new ArrayList<>();
        for (String topic : List.of(t.experience(), t.models())) {
            out.add(allow("job", ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.READ));
        }
        for (String topic : List.of(t.models(), t.adapted(), t.deadLetters())) {
            out.add(allow("job", ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.WRITE));
        }
        out.add(allow("job", ResourceType.GROUP, GROUP, PatternType.PREFIXED, AclOperation.READ));
        out.add(allow("job", ResourceType.TRANSACTIONAL_ID, GROUP + "-" + MODEL, PatternType.PREFIXED, AclOperation.WRITE));
        out.add(allow("job", ResourceType.TRANSACTIONAL_ID, GROUP + "-" + MODEL, PatternType.PREFIXED, AclOperation.DESCRIBE));
        out.add(allow("fleet", ResourceType.TOPIC, t.experience(), PatternType.LITERAL, AclOperation.WRITE));
        for (String topic : List.of(t.models(), t.adapted(), t.deadLetters())) {
            out.add(allow("fleet", ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.READ));
        }
        return out;
    }

    private static AclBinding allow(String user, ResourceType type, String name, PatternType pattern, AclOperation op) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry("User:" + user, "*", op, AclPermissionType.ALLOW));
    }

    /** What a producer with {@code auth} gets for writing one record to {@code topic}: the cause of its failure, or null. */
    private static Throwable refusal(String servers, Map<String, String> auth, String topic, byte[] value) {
        Map<String, Object> p = new HashMap<>(auth);
        p.put("bootstrap.servers", servers);
        p.put("max.block.ms", "5000");
        p.put("delivery.timeout.ms", "8000");
        p.put("request.timeout.ms", "4000");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, "t".getBytes(StandardCharsets.UTF_8), value)).get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (org.apache.kafka.common.KafkaException e) {
            return e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

package io.metastream.client;

import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.pearl.PearlPolicy;
import io.metastream.schema.AdaptedModel;
import io.metastream.schema.FastWeights;
import io.metastream.schema.GaussianPosterior;
import io.metastream.schema.ModelVersion;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.metastream.client.ModelFixtures.MODEL;
import static io.metastream.client.ModelFixtures.adaptation;
import static io.metastream.client.ModelFixtures.delta;
import static io.metastream.client.ModelFixtures.model;
import static io.metastream.client.ModelFixtures.version;
import static org.assertj.core.api.Assertions.assertThat;

class ModelStateTest {

    private final ModelState state = new ModelState(MODEL, 3);

    @Test
    void isEmptyBeforeTheFirstVersion() {
        assertThat(state.latestVersion()).isEmpty();
        assertThat(state.latestModelVersion()).isEmpty();
        assertThat(state.base(DynamicsModel.class)).isEmpty();
        assertThat(state.forTask("task-1", TaskModel.class)).isEmpty();
    }

    @Test
    void keepsOnlyTheNewestVersions() {
        for (long v = 1; v <= 5; v++) {
            assertThat(state.onModelVersion(version(v, model(v)))).isTrue();
        }

        assertThat(state.latestVersion()).hasValue(5);
        assertThat(state.latestModelVersion()).get().extracting(ModelVersion::getVersion).isEqualTo(5L);
        assertThat(state.version(1, DynamicsModel.class)).isEmpty();
        assertThat(state.version(2, DynamicsModel.class)).isEmpty();
        assertThat(state.version(3, DynamicsModel.class)).isPresent();
        assertThat(state.version(5, DynamicsModel.class).orElseThrow().params()).isEqualTo(model(5).params());
        assertThat(state.versionsSeen()).isEqualTo(5);
        assertThat(state.rejectedRecords()).isZero();
    }

    @Test
    void ignoresDuplicateAndTooOldVersions() {
        state.onModelVersion(version(4, model(4)));
        state.onModelVersion(version(5, model(5)));
        state.onModelVersion(version(6, model(6)));

        assertThat(state.onModelVersion(version(5, model(5)))).isFalse();
        assertThat(state.onModelVersion(version(1, model(1)))).isFalse();
        assertThat(state.latestVersion()).hasValue(6);
        assertThat(state.versionsSeen()).isEqualTo(3);
    }

    @Test
    void anOlderVersionArrivingLateDoesNotBecomeLatest() {
        state.onModelVersion(version(2, model(2)));
        state.onModelVersion(version(1, model(1)));

        assertThat(state.latestVersion()).hasValue(2);
        assertThat(state.latestModelVersion()).get().extracting(ModelVersion::getVersion).isEqualTo(2L);
        assertThat(state.version(1, DynamicsModel.class)).isPresent();
    }

    @Test
    void appliesATasksAdaptationToItsBaseVersion() {
        DynamicsModel base = model(1);
        state.onModelVersion(version(1, base));
        INDArray delta = delta(base, 0.125);

        assertThat(state.onAdaptedModel(adaptation("task-A", 1, delta))).isTrue();
        TaskModel adapted = state.forTask("task-A", TaskModel.class).orElseThrow();
        TaskModel other = state.forTask("task-B", TaskModel.class).orElseThrow();

        assertThat(adapted.adapted()).isTrue();
        assertThat(adapted.baseVersion()).isEqualTo(1);
        assertThat(adapted.model().params()).isEqualTo(base.params().add(delta));
        assertThat(other.adapted()).isFalse();
        assertThat(other.model().params()).isEqualTo(base.params());
    }

    @Test
    void cachesTheAdaptedModelUntilTheAdaptationChanges() {
        DynamicsModel base = model(1);
        state.onModelVersion(version(1, base));
        state.onAdaptedModel(adaptation("task-A", 1, delta(base, 0.5)));

        DynamicsModel first = state.forTask("task-A", TaskModel.class).orElseThrow().model();
        assertThat(state.forTask("task-A", TaskModel.class).orElseThrow().model()).isSameAs(first);

        state.onAdaptedModel(adaptation("task-A", 1, delta(base, -0.5)));
        DynamicsModel second = state.forTask("task-A", TaskModel.class).orElseThrow().model();
        assertThat(second).isNotSameAs(first);
        assertThat(second.params()).isEqualTo(base.params().sub(delta(base, 0.5)));
    }

    @Test
    void anAdaptationOfAnEvictedVersionFallsBackToTheLatestBase() {
        DynamicsModel v1 = model(1);
        state.onModelVersion(version(1, v1));
        state.onAdaptedModel(adaptation("task-A", 1, delta(v1, 0.5)));
        assertThat(state.forTask("task-A", TaskModel.class).orElseThrow().adapted()).isTrue();

        for (long v = 2; v <= 4; v++) {
            state.onModelVersion(version(v, model(v)));
        }
        TaskModel m = state.forTask("task-A", TaskModel.class).orElseThrow();

        assertThat(m.adapted()).isFalse();
        assertThat(m.baseVersion()).isEqualTo(4);
        assertThat(m.model().params()).isEqualTo(model(4).params());
    }

    @Test
    void anAdaptationOfAHeldOlderVersionIsStillUsed() {
        DynamicsModel v1 = model(1);
        state.onModelVersion(version(1, v1));
        state.onModelVersion(version(2, model(2)));
        state.onAdaptedModel(adaptation("task-A", 1, delta(v1, 0.5)));

        TaskModel m = state.forTask("task-A", TaskModel.class).orElseThrow();

        assertThat(m.adapted()).isTrue();
        assertThat(m.baseVersion()).isEqualTo(1);
    }

    @Test
    void anAdaptationOnAnOlderBaseDoesNotReplaceANewerOne() {
        DynamicsModel v1 = model(1);
        DynamicsModel v2 = model(2);
        state.onModelVersion(version(1, v1));
        state.onModelVersion(version(2, v2));
        state.onAdaptedModel(adaptation("task-A", 2, delta(v2, 0.25)));

        assertThat(state.onAdaptedModel(adaptation("task-A", 1, delta(v1, 0.75)))).isFalse();

        TaskModel m = state.forTask("task-A", TaskModel.class).orElseThrow();
        assertThat(m.baseVersion()).isEqualTo(2);
        assertThat(m.model().params()).isEqualTo(v2.params().add(delta(v2, 0.25)));
    }

    @Test
    void aVersionWhoseChecksumDoesNotMatchIsRejectedAndCounted() {
        ModelVersion tampered = version(1, model(1));
        byte[] blob = ModelVerifier.bytes(tampered.getParameters());
        blob[blob.length - 1] ^= 0x01;
        tampered.setParameters(ByteBuffer.wrap(blob));

        assertThat(state.onModelVersion(tampered)).isFalse();

        assertThat(state.rejectedRecords()).isEqualTo(1);
        assertThat(state.latestVersion()).isEmpty();
        assertThat(state.onModelVersion(version(1, model(1)))).isTrue();
        assertThat(state.latestVersion()).hasValue(1);
    }

    @Test
    void aVersionInAnUnknownEncodingIsRejected() {
        ModelVersion v = version(1, model(1));
        v.setParameterEncoding("onnx");

        assertThat(state.onModelVersion(v)).isFalse();
        assertThat(state.rejectedRecords()).isEqualTo(1);
    }

    @Test
    void anAdaptationWhoseChecksumDoesNotMatchIsRejectedAndTheBaseIsServed() {
        DynamicsModel base = model(1);
        state.onModelVersion(version(1, base));
        AdaptedModel a = adaptation("task-A", 1, delta(base, 0.5));
        ((FastWeights) a.getAdaptation()).setDeltaSha256("f".repeat(64));

        assertThat(state.onAdaptedModel(a)).isFalse();

        assertThat(state.rejectedRecords()).isEqualTo(1);
        assertThat(state.forTask("task-A", TaskModel.class).orElseThrow().adapted()).isFalse();
    }

    @Test
    void anAdaptationOfTheWrongLengthIsRejectedOnceAndTheBaseIsServed() {
        DynamicsModel base = model(1);
        state.onModelVersion(version(1, base));
        state.onAdaptedModel(adaptation("task-A", 1, org.nd4j.linalg.factory.Nd4j.zeros(1, 5)));

        assertThat(state.forTask("task-A", TaskModel.class).orElseThrow().adapted()).isFalse();
        assertThat(state.forTask("task-A", TaskModel.class).orElseThrow().adapted()).isFalse();
        assertThat(state.rejectedRecords()).isEqualTo(1);
    }

    @Test
    void aPosteriorDoesNotChangeADynamicsModel() {
        state.onModelVersion(version(1, model(1)));
        AdaptedModel a = posterior("task-A", 1, new float[] {0f}, new float[] {1f});

        assertThat(state.onAdaptedModel(a)).isTrue();
        TaskModel m = state.forTask("task-A", TaskModel.class).orElseThrow();
        assertThat(m.adapted()).isFalse();
        assertThat(m.model().params()).isEqualTo(model(1).params());
        assertThat(state.forTask("task-A", TaskPolicy.class)).isEmpty();
    }

    @Test
    void servesThePearlPolicyWithTheTasksPosteriorOrThePrior() {
        PearlPolicy policy = ModelFixtures.policy(3);
        assertThat(state.onModelVersion(ModelFixtures.policyVersion(1, policy))).isTrue();
        assertThat(state.forTask("task-A", TaskModel.class)).isEmpty();
        assertThat(state.base(DynamicsModel.class)).isEmpty();

        TaskPolicy prior = state.forTask("task-A", TaskPolicy.class).orElseThrow();
        assertThat(prior.adapted()).isFalse();
        assertThat(prior.belief()).isEqualTo(policy.prior());
        assertThat(prior.policy().encode()).isEqualTo(policy.encode());

        assertThat(state.onAdaptedModel(posterior("task-A", 1, new float[] {0.5f, -1f}, new float[] {0.1f, 2f}))).isTrue();
        TaskPolicy adapted = state.forTask("task-A", TaskPolicy.class).orElseThrow();
        assertThat(adapted.adapted()).isTrue();
        assertThat(adapted.beliefVersion()).isEqualTo(1);
        assertThat(adapted.belief().mean()).containsExactly(0.5, -1.0);
        assertThat(adapted.belief().variance()[0]).isCloseTo(0.01, org.assertj.core.data.Offset.offset(1e-7));
        assertThat(adapted.belief().variance()[1]).isCloseTo(4.0, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(state.forTask("task-B", TaskPolicy.class).orElseThrow().adapted()).isFalse();
    }

    @Test
    void rejectsPosteriorsWithBadValuesOrTheWrongLatentSize() {
        state.onModelVersion(ModelFixtures.policyVersion(1, ModelFixtures.policy(3)));

        assertThat(state.onAdaptedModel(posterior("task-A", 1, new float[] {0f, Float.NaN}, new float[] {1f, 1f}))).isFalse();
        assertThat(state.onAdaptedModel(posterior("task-A", 1, new float[] {0f, 0f}, new float[] {1f, 0f}))).isFalse();
        assertThat(state.onAdaptedModel(posterior("task-A", 1, new float[] {0f, 0f}, new float[] {1f}))).isFalse();
        assertThat(state.rejectedRecords()).isEqualTo(3);
        // well-formed but of another latent size than the policy's: kept, then refused (and counted) when served
        assertThat(state.onAdaptedModel(posterior("task-A", 1, new float[] {0f, 0f, 0f}, new float[] {1f, 1f, 1f}))).isTrue();
        assertThat(state.forTask("task-A", TaskPolicy.class).orElseThrow().adapted()).isFalse();
        assertThat(state.rejectedRecords()).isEqualTo(4);
    }

    @Test
    void aCorruptedPolicyIsRejected() {
        ModelVersion v = ModelFixtures.policyVersion(1, ModelFixtures.policy(3));
        v.setParametersSha256("0".repeat(64));

        assertThat(state.onModelVersion(v)).isFalse();
        assertThat(state.rejectedRecords()).isEqualTo(1);
        assertThat(state.forTask("task-A", TaskPolicy.class)).isEmpty();
    }

    private static AdaptedModel posterior(String taskId, long baseVersion, float[] mean, float[] std) {
        AdaptedModel a = adaptation(taskId, baseVersion, delta(model(1), 0.5));
        List<Float> m = new java.util.ArrayList<>();
        List<Float> sd = new java.util.ArrayList<>();
        for (float f : mean) {
            m.add(f);
        }
        for (float f : std) {
            sd.add(f);
        }
        a.setAlgorithm("PEARL");
        a.setAdaptation(GaussianPosterior.newBuilder().setMean(m).setStddev(sd).build());
        return a;
    }

    @Test
    void recordsOfOtherModelsAreIgnoredWithoutCounting() {
        ModelVersion v = version(1, model(1));
        v.setModelName("other");
        AdaptedModel a = adaptation("task-A", 1, delta(model(1), 0.5));
        a.setModelName("other");

        assertThat(state.onModelVersion(v)).isFalse();
        assertThat(state.onAdaptedModel(a)).isFalse();
        assertThat(state.latestVersion()).isEmpty();
        assertThat(state.rejectedRecords()).isZero();
    }

    @Test
    void aDeletedAdaptationFallsBackToTheBase() {
        DynamicsModel base = model(1);
        state.onModelVersion(version(1, base));
        state.onAdaptedModel(adaptation("task-A", 1, delta(base, 0.5)));

        state.onAdaptationDeleted("task-A");

        assertThat(state.forTask("task-A", TaskModel.class).orElseThrow().adapted()).isFalse();
    }

    @Test
    void awaitVersionWakesUpWhenTheVersionArrives() throws Exception {
        CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return state.awaitVersion(2, Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        state.onModelVersion(version(1, model(1)));
        assertThat(waiting).isNotDone();
        state.onModelVersion(version(2, model(2)));

        assertThat(waiting.get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(state.awaitVersion(3, Duration.ofMillis(50))).isFalse();
    }
}

package io.metastream.flink.internal;

import io.metastream.client.ModelIntegrityException;
import io.metastream.client.ModelSignatures;
import io.metastream.schema.ModelVersion;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelTrustTest {

    static ModelVersion version(long n) {
        return ModelVersion.newBuilder().setModelName("m").setVersion(n).setParentVersion(n > 1 ? n - 1 : null)
                .setAlgorithm("GRBAL").setConfigHash("").setConfig(Map.of()).setSeed(0).setParameterEncoding("x")
                .setParameters(ByteBuffer.allocate(0)).setParametersSha256("ab").setTasksSeen(0).setTransitionsSeen(0)
                .setOuterSteps(n).setMetrics(Map.of()).setCreatedAt(Instant.EPOCH).setCodeVersion("t").setRunId("r").build();
    }

    @Test
    void signsWhatItVerifiesAndRefusesTheRest(@TempDir Path dir) throws Exception {
        ModelSignatures.writeNewPair(dir.resolve("k"), dir.resolve("k.pub"));
        ModelTrust trust = ModelTrust.from(Map.of(ModelTrust.SIGNING_KEY, dir.resolve("k").toString(),
                ModelTrust.TRUSTED_KEYS, dir.resolve("k.pub").toString()));
        assertThat(trust.verifies()).isTrue();
        ModelVersion v = version(4);
        assertThatThrownBy(() -> trust.check(v)).isInstanceOf(ModelIntegrityException.class).hasMessageContaining("unsigned");
        trust.sign(v);
        trust.check(v);

        ModelTrust none = ModelTrust.from(Map.of());
        assertThat(none.verifies()).isFalse();
        ModelVersion plain = version(5);
        none.sign(plain);
        none.check(plain);
        assertThat(plain.getSignature()).isNull();
    }

    @Test
    void misconfiguredKeysFailWithTheSettingToFix(@TempDir Path dir) throws Exception {
        ModelSignatures.writeNewPair(dir.resolve("a"), dir.resolve("a.pub"));
        ModelSignatures.writeNewPair(dir.resolve("b"), dir.resolve("b.pub"));
        assertThatThrownBy(() -> ModelTrust.from(Map.of(ModelTrust.SIGNING_KEY, dir.resolve("a").toString())))
                .hasMessageContaining(ModelTrust.TRUSTED_KEYS + " is not");
        assertThatThrownBy(() -> ModelTrust.from(Map.of(ModelTrust.SIGNING_KEY, dir.resolve("a").toString(),
                ModelTrust.TRUSTED_KEYS, dir.resolve("b.pub").toString())))
                .hasMessageContaining("belongs to none of the public keys");
        assertThatThrownBy(() -> ModelTrust.from(Map.of(ModelTrust.TRUSTED_KEYS, dir.resolve("nope.pub").toString())))
                .hasMessageContaining("cannot read key file");
    }

    @Test
    void aCheckpointWithoutARunIdStillRestores() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(1);
        out.writeLong(42);
        out.writeInt(3);
        out.write(new byte[] {1, 2, 3});
        LearnerCheckpoint old = LearnerCheckpoint.decode(bytes.toByteArray(), "learner");
        assertThat(old.version()).isEqualTo(42);
        assertThat(old.runId()).isEmpty();
        assertThat(old.snapshot()).containsExactly(1, 2, 3);
        LearnerCheckpoint now = LearnerCheckpoint.decode(new LearnerCheckpoint(7, "run-1", new byte[] {9}).encode(), "learner");
        assertThat(now.runId()).isEqualTo("run-1");
        assertThat(now.version()).isEqualTo(7);
    }

    @Test
    void aStallWarningIsDueOncePerIntervalWithoutANewVersion() {
        long minute = 60_000;
        assertThat(VersionPublisher.stalled(0, 0, minute - 1, minute)).isFalse();
        assertThat(VersionPublisher.stalled(0, 0, minute, minute)).isTrue();
        assertThat(VersionPublisher.stalled(0, minute, minute + 10, minute)).as("just warned").isFalse();
        assertThat(VersionPublisher.stalled(0, minute, 2 * minute, minute)).isTrue();
        assertThat(VersionPublisher.stalled(2 * minute - 5, minute, 2 * minute, minute)).as("published meanwhile").isFalse();
    }
}

package io.metastream.client;

import io.metastream.schema.ModelVersion;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.Map;

import static io.metastream.client.ModelFixtures.model;
import static io.metastream.client.ModelFixtures.version;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelSignaturesTest {

    private final KeyPair learner = ModelSignatures.generate();
    private final Map<String, PublicKey> trusted = Map.of(ModelSignatures.keyId(learner.getPublic()), learner.getPublic());

    private ModelVersion signed(long n) {
        ModelVersion v = version(n, model(n));
        v.setRunId("run-a");
        ModelSignatures.sign(v, learner.getPrivate(), learner.getPublic());
        return v;
    }

    @Test
    void aSignedVersionVerifiesAndAnyChangeToItsIdentityBreaksIt() {
        ModelVersion v = signed(3);
        ModelSignatures.verify(v, trusted);
        assertThat(v.getSigningKeyId()).isEqualTo(ModelSignatures.keyId(learner.getPublic())).hasSize(16);

        for (java.util.function.Consumer<ModelVersion> change : java.util.List.<java.util.function.Consumer<ModelVersion>>of(
                x -> x.setVersion(Long.MAX_VALUE), x -> x.setParentVersion(7L), x -> x.setRunId("run-b"),
                x -> x.setParametersSha256("0".repeat(64)), x -> x.setAlgorithm("PEARL"), x -> x.setModelName("other"))) {
            ModelVersion forged = ModelVersion.newBuilder(v).build();
            change.accept(forged);
            assertThatThrownBy(() -> ModelSignatures.verify(forged, trusted)).isInstanceOf(ModelIntegrityException.class)
                    .hasMessageContaining("does not match its identity");
        }
    }

    @Test
    void unsignedAndForeignlySignedVersionsAreRefusedSayingWhy() {
        assertThatThrownBy(() -> ModelSignatures.verify(version(1, model(1)), trusted))
                .isInstanceOf(ModelIntegrityException.class).hasMessageContaining("is unsigned");
        KeyPair intruder = ModelSignatures.generate();
        ModelVersion v = version(2, model(2));
        ModelSignatures.sign(v, intruder.getPrivate(), intruder.getPublic());
        assertThatThrownBy(() -> ModelSignatures.verify(v, trusted)).isInstanceOf(ModelIntegrityException.class)
                .hasMessageContaining("not among the trusted keys");
        // the intruder claims the learner's key id
        v.setSigningKeyId(ModelSignatures.keyId(learner.getPublic()));
        assertThatThrownBy(() -> ModelSignatures.verify(v, trusted)).isInstanceOf(ModelIntegrityException.class)
                .hasMessageContaining("does not match");
        v.setSignature(ByteBuffer.wrap(new byte[3]));
        assertThatThrownBy(() -> ModelSignatures.verify(v, trusted)).isInstanceOf(ModelIntegrityException.class);
    }

    @Test
    void keysRoundTripThroughPemFilesAndBadFilesAreNamed(@TempDir Path dir) throws Exception {
        KeyPair pair = ModelSignatures.writeNewPair(dir.resolve("k"), dir.resolve("k.pub"));
        assertThat(ModelSignatures.readPublicKeys(dir.resolve("k.pub"))).containsOnlyKeys(ModelSignatures.keyId(pair.getPublic()));
        ModelVersion v = version(1, model(1));
        ModelSignatures.sign(v, ModelSignatures.readPrivateKey(dir.resolve("k")), pair.getPublic());
        ModelSignatures.verify(v, ModelSignatures.readPublicKeys(dir.resolve("k.pub")));

        Files.writeString(dir.resolve("empty.pem"), "nothing here\n");
        assertThatThrownBy(() -> ModelSignatures.readPublicKeys(dir.resolve("empty.pem")))
                .hasMessageContaining("empty.pem holds no PUBLIC KEY block");
        assertThatThrownBy(() -> ModelSignatures.readPrivateKey(dir.resolve("k.pub")))
                .hasMessageContaining("0 PRIVATE KEY blocks");
        assertThatThrownBy(() -> ModelSignatures.readPublicKeys(dir.resolve("missing.pem")))
                .hasMessageContaining("cannot read key file");
    }

    @Test
    void theClientStateTakesOnlyTrustedVersionsAndRefusesForksAndJumps() {
        ModelState state = new ModelState(ModelFixtures.MODEL, 4, trusted, 100);
        assertThat(state.onModelVersion(signed(1))).isTrue();
        assertThat(state.onModelVersion(version(2, model(2)))).as("unsigned").isFalse();
        ModelVersion maxed = version(Long.MAX_VALUE, model(3));
        assertThat(state.onModelVersion(maxed)).as("forged number, unsigned").isFalse();
        assertThat(state.latestVersion()).hasValue(1);

        assertThat(state.onModelVersion(signed(2))).isTrue();
        ModelVersion fork = version(2, model(99));
        fork.setRunId("run-a");
        ModelSignatures.sign(fork, learner.getPrivate(), learner.getPublic());
        assertThat(state.onModelVersion(fork)).as("same run and number, other parameters").isFalse();
        assertThat(state.onModelVersion(signed(500))).as("a jump of 498 > 100").isFalse();
        assertThat(state.rejectedRecords()).isEqualTo(4);
        assertThat(state.latestVersion()).hasValue(2);
    }

    @Test
    void withoutTrustedKeysAJumpToLongMaxValueStillCannotPinTheClient() {
        ModelState state = new ModelState(ModelFixtures.MODEL, 4);
        assertThat(state.onModelVersion(version(1, model(1)))).isTrue();
        assertThat(state.onModelVersion(version(Long.MAX_VALUE, model(2)))).isFalse();
        assertThat(state.onModelVersion(version(2, model(2)))).isTrue();
        assertThat(state.latestVersion()).hasValue(2);
    }
}

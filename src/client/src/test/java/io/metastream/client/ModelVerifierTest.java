package io.metastream.client;

import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.io.ModelBlob;
import io.metastream.core.pearl.Posterior;
import io.metastream.schema.FastWeights;
import io.metastream.schema.GaussianPosterior;
import io.metastream.schema.ModelVersion;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;

import static io.metastream.client.ModelFixtures.adaptation;
import static io.metastream.client.ModelFixtures.delta;
import static io.metastream.client.ModelFixtures.model;
import static io.metastream.client.ModelFixtures.version;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelVerifierTest {

    @Test
    void decodesAVersionWhoseChecksumMatches() {
        DynamicsModel m = model(3);

        DynamicsModel decoded = ModelVerifier.verifyAndDecode(version(4, m), DynamicsModel.class);

        assertThat(decoded.params()).isEqualTo(m.params());
        assertThat(decoded.mlp()).isEqualTo(m.mlp());
    }

    @Test
    void aChecksumMismatchNamesTheVersionAndBothHashes() {
        ModelVersion v = version(4, model(3));
        v.setParametersSha256("a".repeat(64));
        String actual = ModelBlob.sha256Hex(ModelVerifier.bytes(v.getParameters()));

        assertThatThrownBy(() -> ModelVerifier.verifyAndDecode(v, DynamicsModel.class))
                .isInstanceOf(ModelIntegrityException.class)
                .hasMessageContaining("version 4")
                .hasMessageContaining("a".repeat(64))
                .hasMessageContaining(actual);
    }

    @Test
    void anUnknownEncodingNamesTheSupportedOne() {
        ModelVersion v = version(4, model(3));
        v.setParameterEncoding("metastream-mlp-v9");

        assertThatThrownBy(() -> ModelVerifier.verifyAndDecode(v, DynamicsModel.class))
                .isInstanceOf(ModelIntegrityException.class)
                .hasMessageContaining("metastream-mlp-v9")
                .hasMessageContaining(ModelBlob.ENCODING);
    }

    @Test
    void aBlobThatMatchesItsChecksumButDoesNotDecodeIsRefused() {
        byte[] junk = {1, 2, 3, 4, 5};
        ModelVersion v = version(4, model(3));
        v.setParameters(ByteBuffer.wrap(junk));
        v.setParametersSha256(ModelBlob.sha256Hex(junk));

        assertThatThrownBy(() -> ModelVerifier.verifyAndDecode(v, DynamicsModel.class))
                .isInstanceOf(ModelIntegrityException.class)
                .hasMessageContaining("do not decode")
                .hasCauseInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void verifiesAndDecodesFastWeights() {
        DynamicsModel m = model(3);
        FastWeights fw = (FastWeights) adaptation("t", 1, delta(m, 0.5)).getAdaptation();

        assertThat(ModelVerifier.verifyDelta(fw, m.mlp().numParams())).isEqualTo(delta(m, 0.5));
        assertThatThrownBy(() -> ModelVerifier.verifyDelta(fw, m.mlp().numParams() + 1))
                .isInstanceOf(ModelIntegrityException.class).hasMessageContaining(Integer.toString(m.mlp().numParams() + 1));
        fw.setDeltaSha256("0".repeat(64));
        assertThatThrownBy(() -> ModelVerifier.verifyDelta(fw, m.mlp().numParams()))
                .isInstanceOf(ModelIntegrityException.class).hasMessageContaining("SHA-256");
    }

    @Test
    void aNonFiniteDeltaWithARightChecksumIsRefused() {
        DynamicsModel m = model(3);
        org.nd4j.linalg.api.ndarray.INDArray bad = delta(m, 0.5);
        bad.putScalar(2, Double.NaN);
        FastWeights fw = (FastWeights) adaptation("t", 1, bad).getAdaptation();
        assertThatThrownBy(() -> ModelVerifier.verifyDelta(fw, m.mlp().numParams()))
                .isInstanceOf(ModelIntegrityException.class).hasMessageContaining("delta value 2 is NaN");
        ModelState state = new ModelState(ModelFixtures.MODEL, 4);
        state.onModelVersion(ModelFixtures.version(1, m));
        state.onAdaptedModel(adaptation("t", 1, bad));
        assertThat(state.forTask("t", TaskModel.class).orElseThrow().adapted()).as("served unadapted instead").isFalse();
        assertThat(state.rejectedRecords()).isEqualTo(1);
    }

    @Test
    void aPosteriorWithACovarianceFactorIsReadAsAFullCovarianceAndABadFactorIsNamed() {
        GaussianPosterior g = GaussianPosterior.newBuilder().setMean(List.of(1f, -1f)).setStddev(List.of(1f, 2.0615528f))
                .setCovarianceFactor(List.of(1f, 0f, 0.5f, 2f)).build();
        Posterior q = ModelVerifier.verifyPosterior(g, 2);
        assertThat(q.fullCovariance()).isTrue();
        assertThat(q.variance()).containsExactly(1.0, 4.25);
        assertThat(q.sample(new double[] {1, 1})).containsExactly(2.0, 1.5);
        // written without the field (a producer of the earlier schema): diagonal
        GaussianPosterior diag = GaussianPosterior.newBuilder().setMean(List.of(0f)).setStddev(List.of(2f)).build();
        assertThat(ModelVerifier.verifyPosterior(diag, 1).fullCovariance()).isFalse();
        assertThatThrownBy(() -> ModelVerifier.verifyPosterior(GaussianPosterior.newBuilder(g)
                .setCovarianceFactor(List.of(1f, 0.1f, 0.5f, 2f)).build(), 2))
                .isInstanceOf(ModelIntegrityException.class).hasMessageContaining("factor [0][1] is 0.1");
        assertThatThrownBy(() -> ModelVerifier.verifyPosterior(GaussianPosterior.newBuilder(g)
                .setCovarianceFactor(List.of(1f, 0f, 0.5f)).build(), 2))
                .isInstanceOf(ModelIntegrityException.class).hasMessageContaining("covariance factor of 3 values");
    }

    @Test
    void decodesEveryRegisteredEncodingByTheEncodingTheVersionDeclares() {
        assertThat(ModelFormats.encodings()).containsExactly(io.metastream.core.io.ModelBlob.ENCODING,
                io.metastream.core.pearl.PearlPolicy.ENCODING);
        assertThat(ModelVerifier.verifyAndDecodeAny(ModelFixtures.version(1, ModelFixtures.model(1))))
                .isInstanceOf(io.metastream.core.grbal.DynamicsModel.class);
        assertThat(ModelVerifier.verifyAndDecodeAny(ModelFixtures.policyVersion(2, ModelFixtures.policy(2))))
                .isInstanceOf(io.metastream.core.pearl.PearlPolicy.class);
        var v = ModelFixtures.version(3, ModelFixtures.model(3));
        v.setParameterEncoding("maml-policy-v1");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ModelVerifier.verifyAndDecodeAny(v))
                .isInstanceOf(ModelIntegrityException.class)
                .hasMessageContaining("'maml-policy-v1' is not supported here")
                .hasMessageContaining(io.metastream.core.pearl.PearlPolicy.ENCODING);
    }

    @Test
    void eachFormatOwnsOneEncodingAndOneAdaptationType() {
        var formats = ModelFormats.all();
        assertThat(formats.stream().map(ModelFormat::encoding).distinct().count()).isEqualTo(formats.size());
        assertThat(formats.stream().map(ModelFormat::adaptationType).distinct().count()).isEqualTo(formats.size());
        for (ModelFormat<?, ?> f : formats) {
            assertThat(ModelFormats.byEncoding(f.encoding())).containsSame(f);
        }
        assertThat(ModelFormats.byAdaptation(ModelFixtures.adaptation("t", 1, ModelFixtures.delta(ModelFixtures.model(1), 0.1))
                .getAdaptation())).get().extracting(ModelFormat::taskType).isEqualTo(TaskModel.class);
        assertThat(ModelFormats.byAdaptation("not an adaptation")).isEmpty();
    }

    @Test
    void decodingAsATypeNoFormatGivesIsAnErrorNamingTheFormats() {
        var v = ModelFixtures.version(1, ModelFixtures.model(1));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ModelVerifier.verifyAndDecode(v, String.class))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no model format decodes to java.lang.String");
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> ModelVerifier.verifyAndDecode(v, io.metastream.core.pearl.PearlPolicy.class))
                .isInstanceOf(ModelIntegrityException.class).hasMessageContaining("expected '" + io.metastream.core.pearl.PearlPolicy.ENCODING);
    }
}

package io.metastream.client;

import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.grbal.Normalizer;
import io.metastream.core.io.ModelBlob;
import io.metastream.core.nn.Activation;
import io.metastream.core.nn.Mlp;
import io.metastream.schema.AdaptedModel;
import io.metastream.schema.FastWeights;
import io.metastream.schema.ModelVersion;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Map;
import java.util.Random;

/** Small models and the records that carry them, as the meta-learner would publish them. */
final class ModelFixtures {

    static final String MODEL = "pendulum";
    static final int OBS = 3;
    static final int ACT = 1;

    private ModelFixtures() {
    }

    static DynamicsModel model(long seed) {
        Mlp mlp = new Mlp(new int[] {OBS + ACT, 8, OBS}, Activation.TANH);
        return new DynamicsModel(mlp, mlp.initParams(new Random(seed)), new Normalizer(OBS, ACT));
    }

    static ModelVersion version(long version, DynamicsModel model) {
        byte[] blob = ModelBlob.encode(model);
        return ModelVersion.newBuilder()
                .setModelName(MODEL)
                .setVersion(version)
                .setParentVersion(version > 1 ? version - 1 : null)
                .setAlgorithm("GRBAL")
                .setConfigHash("0".repeat(64))
                .setConfig(Map.of())
                .setSeed(7)
                .setParameterEncoding(ModelBlob.ENCODING)
                .setParameters(ByteBuffer.wrap(blob))
                .setParametersSha256(ModelBlob.sha256Hex(blob))
                .setTasksSeen(0)
                .setTransitionsSeen(0)
                .setOuterSteps(version)
                .setMetrics(Map.of())
                .setCreatedAt(Instant.ofEpochMilli(1000 * version))
                .setCodeVersion("test")
                .setPlatform(null)
                .build();
    }

    /** A small untrained PEARL policy (obs 2, act 2, latent 2). */
    static io.metastream.core.pearl.PearlPolicy policy(long seed) {
        io.metastream.core.pearl.PearlConfig cfg = io.metastream.core.pearl.PearlConfig.builder().obsDim(2).actDim(2)
                .latentDim(2).encoderHidden(8).netHidden(8).seed(seed).build();
        return new io.metastream.core.pearl.PearlLearner(cfg).currentPolicy();
    }

    static ModelVersion policyVersion(long version, io.metastream.core.pearl.PearlPolicy policy) {
        byte[] blob = policy.encode();
        ModelVersion v = version(version, model(version));
        v.setAlgorithm("PEARL");
        v.setParameterEncoding(io.metastream.core.pearl.PearlPolicy.ENCODING);
        v.setParameters(ByteBuffer.wrap(blob));
        v.setParametersSha256(ModelBlob.sha256Hex(blob));
        return v;
    }

    /** A delta of the right length for {@link #model}, all entries {@code value}. */
    static INDArray delta(DynamicsModel base, double value) {
        return Nd4j.valueArrayOf(new long[] {1, base.mlp().numParams()}, value, DataType.DOUBLE);
    }

    static AdaptedModel adaptation(String taskId, long baseVersion, INDArray delta) {
        byte[] bytes = ModelBlob.encodeDelta(delta);
        return AdaptedModel.newBuilder()
                .setTaskId(taskId)
                .setModelName(MODEL)
                .setBaseVersion(baseVersion)
                .setAlgorithm("GRBAL")
                .setAdaptation(FastWeights.newBuilder()
                        .setDelta(ByteBuffer.wrap(bytes))
                        .setDeltaSha256(ModelBlob.sha256Hex(bytes))
                        .build())
                .setContextTransitions(16)
                .setInnerSteps(1)
                .setContextLossBefore(null)
                .setContextLossAfter(null)
                .setCreatedAt(Instant.ofEpochMilli(5000))
                .build();
    }
}

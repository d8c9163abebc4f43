package io.metastream.client.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.metastream.client.ModelIntegrityException;
import io.metastream.client.ModelVerifier;
import io.metastream.schema.ModelVersion;

/**
 * Any parameter blob with a right checksum (what a forger or a corrupt learner would send) decodes with
 * its format (the dynamics model or the PEARL policy) or is refused with a {@link ModelIntegrityException}:
 * never another exception, and never an allocation the blob does not pay for.
 */
class ModelBlobFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void anyBlobWithARightChecksumDecodesOrIsRefused(com.code_intelligence.jazzer.api.FuzzedDataProvider in) {
        boolean pearl = in.consumeBoolean();
        byte[] blob = in.consumeRemainingAsBytes();
        ModelVersion v = ModelVersion.newBuilder().setModelName("m").setVersion(1).setParentVersion(null)
                .setAlgorithm("x").setConfigHash("").setConfig(java.util.Map.of()).setSeed(0)
                .setParameterEncoding(pearl ? io.metastream.core.pearl.PearlPolicy.ENCODING
                        : io.metastream.core.io.ModelBlob.ENCODING)
                .setParameters(java.nio.ByteBuffer.wrap(blob))
                .setParametersSha256(io.metastream.core.io.ModelBlob.sha256Hex(blob)).setTasksSeen(0)
                .setTransitionsSeen(0).setOuterSteps(0).setMetrics(java.util.Map.of())
                .setCreatedAt(java.time.Instant.EPOCH).setCodeVersion("").build();
        try {
            ModelVerifier.verifyAndDecodeAny(v);
        } catch (ModelIntegrityException e) {
            // refused with a reason
        }
    }
}

package io.metastream.client.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.metastream.client.CodecException;
import io.metastream.client.Codecs;
import io.metastream.client.ModelIntegrityException;
import io.metastream.client.ModelVerifier;
import io.metastream.schema.ModelVersion;

/**
 * Any bytes on the models topic end as a verified model or as a {@link CodecException} or
 * {@link ModelIntegrityException}.
 */
class ModelVersionFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void anyRecordDecodesOrIsRefused(byte[] data) {
        ModelVersion v;
        try {
            v = Codecs.modelVersion().decode(data);
        } catch (CodecException e) {
            return;
        }
        try {
            ModelVerifier.verifyAndDecodeAny(v);
        } catch (ModelIntegrityException e) {
            // refused with a reason
        }
    }
}

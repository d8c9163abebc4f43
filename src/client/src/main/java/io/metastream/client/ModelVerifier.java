package io.metastream.client;

import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.io.ModelBlob;
import io.metastream.schema.FastWeights;
import io.metastream.schema.ModelVersion;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Turns published records into usable models only after checking them: a reader must never act with
 * parameters that were corrupted in transit or written in a format it does not understand.
 *
 * <p>Stateless and thread-safe.
 */
public final class ModelVerifier {

    private ModelVerifier() {
    }

    /**
     * Checks the SHA-256 of {@code v}'s parameters against {@code parametersSha256}, checks that the
     * encoding is {@value ModelBlob#ENCODING}, and decodes the blob.
     *
     * @throws ModelIntegrityException naming the version and what failed: both hashes on a mismatch,
     *                                 the supported encodings on an unknown one, the decoder's reason
     *                                 for a blob that does not decode
     */
    public static DynamicsModel verifyAndDecode(ModelVersion v) {
        Objects.requireNonNull(v, "v");
        String name = "model " + v.getModelName() + " version " + v.getVersion();
        byte[] blob = bytes(v.getParameters());
        String actual = ModelBlob.sha256Hex(blob);
        if (!actual.equalsIgnoreCase(v.getParametersSha256())) {
            throw new ModelIntegrityException(name + ": parameters SHA-256 is " + actual + " but the record says "
                    + v.getParametersSha256() + "; the blob was corrupted or the record was built wrongly, refusing it");
        }
        if (!ModelBlob.ENCODING.equals(v.getParameterEncoding())) {
            throw new ModelIntegrityException(name + ": parameter encoding '" + v.getParameterEncoding()
                    + "' is not supported; this client reads only '" + ModelBlob.ENCODING + "' (upgrade the client)");
        }
        try {
            return ModelBlob.decode(blob);
        } catch (IllegalArgumentException e) {
            throw new ModelIntegrityException(name + ": parameters match their checksum but do not decode as "
                    + ModelBlob.ENCODING + ": " + e.getMessage(), e);
        }
    }

    /**
     * Checks the SHA-256 of the fast weights' delta and decodes it as {@code numParams} float64 values
     * (phi - theta, in the base model's parameter order).
     *
     * @throws ModelIntegrityException on a checksum mismatch or a delta of the wrong length
     */
    public static INDArray verifyDelta(FastWeights fw, int numParams) {
        Objects.requireNonNull(fw, "fw");
        byte[] delta = checkedDelta(fw);
        try {
            return ModelBlob.decodeDelta(delta, numParams);
        } catch (IllegalArgumentException e) {
            throw new ModelIntegrityException("fast weights do not fit a model with " + numParams + " parameters: "
                    + e.getMessage(), e);
        }
    }

    /** The delta bytes after the checksum check; no length check. */
    static byte[] checkedDelta(FastWeights fw) {
        byte[] delta = bytes(fw.getDelta());
        String actual = ModelBlob.sha256Hex(delta);
        if (!actual.equalsIgnoreCase(fw.getDeltaSha256())) {
            throw new ModelIntegrityException("fast weights delta SHA-256 is " + actual + " but the record says "
                    + fw.getDeltaSha256() + "; refusing the adaptation");
        }
        return delta;
    }

    static byte[] bytes(ByteBuffer buffer) {
        if (buffer == null) {
            return new byte[0];
        }
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}

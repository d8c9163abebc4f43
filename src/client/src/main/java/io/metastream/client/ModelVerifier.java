package io.metastream.client;

import io.metastream.core.io.ModelBlob;
import io.metastream.core.pearl.Posterior;
import io.metastream.schema.FastWeights;
import io.metastream.schema.GaussianPosterior;
import java.util.List;
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
     * Checks the SHA-256 of {@code v}'s parameters against {@code parametersSha256}, checks that its
     * encoding is the one whose {@link ModelFormat} decodes to {@code type}, and decodes the blob.
     *
     * @throws ModelIntegrityException naming the version and what failed: both hashes on a mismatch,
     *                                 the expected and the supported encodings on another one, the
     *                                 decoder's reason for a blob that does not decode
     * @throws IllegalArgumentException when no registered format decodes to {@code type}
     */
    public static <M> M verifyAndDecode(ModelVersion v, Class<M> type) {
        Objects.requireNonNull(type, "type");
        ModelFormat<?, ?> format = ModelFormats.all().stream().filter(f -> f.modelType() == type).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no model format decodes to " + type.getName()
                        + "; formats: " + ModelFormats.encodings()));
        return type.cast(decode(v, checkedBlob(v, format.encoding()), format));
    }

    /**
     * Checks the checksum and decodes the parameters with the {@link ModelFormats} format of the encoding
     * the version declares (a dynamics model, a policy, ...).
     *
     * @throws ModelIntegrityException naming the version and what failed, the supported encodings for an unknown one
     */
    public static Object verifyAndDecodeAny(ModelVersion v) {
        Objects.requireNonNull(v, "v");
        ModelFormat<?, ?> format = ModelFormats.byEncoding(v.getParameterEncoding()).orElse(null);
        byte[] blob = checkedBlob(v, format == null ? null : format.encoding());
        return decode(v, blob, format);
    }

    private static Object decode(ModelVersion v, byte[] blob, ModelFormat<?, ?> format) {
        try {
            return format.decode(blob);
        } catch (IllegalArgumentException e) {
            throw new ModelIntegrityException(name(v) + ": parameters match their checksum but do not decode as "
                    + format.encoding() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Checks a published posterior: mean and stddev of equal, expected length, every value finite and
     * every stddev positive; a covariance factor, when there is one, of latentDim² values, lower
     * triangular with a positive diagonal.
     *
     * @return the posterior: diagonal with variance = stddev², or with the published covariance factor
     * @throws ModelIntegrityException naming what is wrong
     */
    public static Posterior verifyPosterior(GaussianPosterior g, int latentDim) {
        Objects.requireNonNull(g, "g");
        List<Float> mean = g.getMean();
        List<Float> std = g.getStddev();
        if (mean.size() != latentDim || std.size() != latentDim) {
            throw new ModelIntegrityException("posterior has mean of " + mean.size() + " and stddev of " + std.size()
                    + " values but the policy's latent dimension is " + latentDim);
        }
        double[] m = new double[latentDim];
        double[] var = new double[latentDim];
        for (int i = 0; i < latentDim; i++) {
            float mu = mean.get(i);
            float sd = std.get(i);
            if (!Float.isFinite(mu) || !Float.isFinite(sd) || sd <= 0) {
                throw new ModelIntegrityException("posterior component " + i + " has mean " + mu + " and stddev " + sd
                        + "; the mean must be finite and the stddev finite and > 0");
            }
            m[i] = mu;
            var[i] = (double) sd * sd;
        }
        List<Float> factor = g.getCovarianceFactor();
        if (factor == null || factor.isEmpty()) {
            return new Posterior(m, var);
        }
        if (factor.size() != latentDim * latentDim) {
            throw new ModelIntegrityException("posterior has a covariance factor of " + factor.size() + " values; a latent "
                    + "dimension of " + latentDim + " needs " + (latentDim * latentDim) + " (or none for a diagonal posterior)");
        }
        double[] c = new double[factor.size()];
        for (int i = 0; i < latentDim; i++) {
            for (int j = 0; j < latentDim; j++) {
                float v = factor.get(i * latentDim + j);
                if (!Float.isFinite(v) || (j > i && v != 0f) || (j == i && !(v > 0f))) {
                    throw new ModelIntegrityException("posterior covariance factor [" + i + "][" + j + "] is " + v
                            + "; it must be finite, lower triangular (zeros above the diagonal) and positive on the diagonal");
                }
                c[i * latentDim + j] = v;
            }
        }
        return Posterior.withCovarianceFactor(m, c);
    }

    private static String name(ModelVersion v) {
        return "model " + v.getModelName() + " version " + v.getVersion();
    }

    /** The parameter bytes after the checksum and encoding checks. */
    private static byte[] checkedBlob(ModelVersion v, String encoding) {
        Objects.requireNonNull(v, "v");
        byte[] blob = bytes(v.getParameters());
        String actual = ModelBlob.sha256Hex(blob);
        if (!actual.equalsIgnoreCase(v.getParametersSha256())) {
            throw new ModelIntegrityException(name(v) + ": parameters SHA-256 is " + actual + " but the record says "
                    + v.getParametersSha256() + "; the blob was corrupted or the record was built wrongly, refusing it");
        }
        if (encoding == null || !encoding.equals(v.getParameterEncoding())) {
            throw new ModelIntegrityException(name(v) + ": parameter encoding '" + v.getParameterEncoding()
                    + "' is not supported here" + (encoding == null ? "" : "; expected '" + encoding + "'")
                    + " (supported by this client: '" + String.join("', '", ModelFormats.encodings()) + "')");
        }
        return blob;
    }

    /**
     * Checks the SHA-256 of the fast weights' delta and decodes it as {@code numParams} float64 values
     * (phi - theta, in the base model's parameter order).
     *
     * @throws ModelIntegrityException on a checksum mismatch, a delta of the wrong length or a non-finite value
     */
    public static INDArray verifyDelta(FastWeights fw, int numParams) {
        Objects.requireNonNull(fw, "fw");
        byte[] delta = checkedDelta(fw);
        INDArray d;
        try {
            d = ModelBlob.decodeDelta(delta, numParams);
        } catch (IllegalArgumentException e) {
            throw new ModelIntegrityException("fast weights do not fit a model with " + numParams + " parameters: "
                    + e.getMessage(), e);
        }
        double[] values = d.ravel().toDoubleVector();
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) {
                throw new ModelIntegrityException("fast weights delta value " + i + " is " + values[i]
                        + "; an agent must not act with non-finite parameters, refusing the adaptation");
            }
        }
        return d;
    }

    /**
     * The delta bytes after the checksum check; no length check.
     *
     * @throws ModelIntegrityException on a checksum mismatch
     */
    public static byte[] checkedDelta(FastWeights fw) {
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

package io.metastream.core.io;

import io.metastream.core.grbal.AdaptationRule;
import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.grbal.LearnedAdaptation;
import io.metastream.core.grbal.Normalizer;
import io.metastream.core.internal.ByteReader;
import io.metastream.core.internal.ByteWriter;
import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.Activation;
import io.metastream.core.nn.Mlp;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The binary form of a {@link DynamicsModel} carried in model records (encoding name
 * {@value #ENCODING}) and of flat parameter deltas.
 *
 * <h2>Format, version 1 (all little-endian)</h2>
 * <pre>
 *   4 bytes  magic "MSMB" (0x4D 0x53 0x4D 0x42)
 *   int      format version = 1
 *   int      number of layer sizes S (>= 2), then S ints: input, hidden..., output
 *   int      activation name length, then that many UTF-8 bytes (Activation.name(), never an ordinal)
 *   int      normalizer length, then {@link Normalizer#toBytes()}
 *   int      parameter count P (must equal the network's), then P float64 in the Mlp's flat layout
 * </pre>
 * Nothing may follow in version 1.
 *
 * <h2>Version 2: a model with a learned adaptation rule</h2>
 * Version 1's fields, then:
 * <pre>
 *   int      rule name length, then that many UTF-8 bytes ("meta-sgd", "recurrent" or "ridge")
 *   int      inner steps (meta-sgd: 1..1000; otherwise 0)
 *   int      recurrent hidden size (recurrent: 1..1024; otherwise 0); ridge carries one parameter, log λ
 *   int      rule parameter count R (must fit the network and rule), then R float64, all finite
 * </pre>
 * A model without a learned rule is written as version 1, byte for byte as before. Old blobs stay readable: a change of layout gets a new version and decoders
 * keep reading the old ones (see the golden-file test).
 *
 * <p>Stateless and thread-safe.
 */
public final class ModelBlob {

    /** Name of this encoding, to be stored next to blobs (e.g. in the model record). */
    public static final String ENCODING = "metastream-mlp-v1";
    static final int FORMAT_VERSION = 1;
    /** Version 1 plus the learned adaptation rule. */
    static final int FORMAT_VERSION_ADAPTATION = 2;
    private static final byte[] MAGIC = {'M', 'S', 'M', 'B'};
    private static final String FORMAT = "model blob (" + ENCODING + ")";
    private static final int MAX_LAYERS = 1024;

    private ModelBlob() {}

    /**
     * Encodes a model (network, normalizer, parameters) in format version 1, or version 2 when it
     * carries a learned adaptation rule.
     */
    public static byte[] encode(DynamicsModel m) {
        if (m == null) {
            throw new IllegalArgumentException("model is null");
        }
        int[] sizes = m.mlp().layerSizes();
        double[] params = NdArrays.toFlatArray(m.params());
        byte[] norm = m.normalizer().toBytes();
        LearnedAdaptation rule = m.learnedAdaptation().orElse(null);
        double[] ruleParams = rule == null ? new double[0] : rule.params();
        ByteWriter w = new ByteWriter(96 + 4 * sizes.length + norm.length + 8 * params.length + 8 * ruleParams.length)
                .putRaw(MAGIC)
                .putInt(rule == null ? FORMAT_VERSION : FORMAT_VERSION_ADAPTATION)
                .putInt(sizes.length);
        for (int s : sizes) {
            w.putInt(s);
        }
        w.putString(m.mlp().activation().name()).putBytes(norm).putDoubles(params);
        if (rule != null) {
            w.putString(rule.rule().settingName()).putInt(rule.innerSteps()).putInt(rule.recurrentSize()).putDoubles(ruleParams);
        }
        return w.toByteArray();
    }

    /**
     * Decodes a blob written by {@link #encode}.
     *
     * @throws IllegalArgumentException on bad magic, an unknown version, truncation, an invalid
     *     network or normalizer, a parameter count that does not match the network, or trailing
     *     bytes; the message says which and where
     */
    public static DynamicsModel decode(byte[] blob) {
        if (blob == null) {
            throw new IllegalArgumentException(FORMAT + ": blob is null");
        }
        ByteReader r = new ByteReader(blob, FORMAT);
        byte[] magic = r.readRaw(MAGIC.length, "magic bytes");
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new IllegalArgumentException("not a metastream model blob: expected magic bytes "
                    + HexFormat.ofDelimiter(" ").withUpperCase().formatHex(MAGIC) + " (\"MSMB\") but found "
                    + HexFormat.ofDelimiter(" ").withUpperCase().formatHex(magic));
        }
        int version = r.readVersion(FORMAT_VERSION, FORMAT_VERSION_ADAPTATION);
        int count = r.readInt("layer count");
        if (count < 2 || count > MAX_LAYERS) {
            throw new IllegalArgumentException(FORMAT + " is corrupt: layer count is " + count + " but must be in [2, "
                    + MAX_LAYERS + "]");
        }
        int[] sizes = new int[count];
        for (int i = 0; i < count; i++) {
            sizes[i] = r.readInt("layer size " + i);
        }
        String activationName = r.readString("activation name");
        Activation activation;
        Mlp mlp;
        try {
            activation = Activation.fromName(activationName);
            mlp = new Mlp(sizes, activation);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(FORMAT + " is corrupt: " + e.getMessage(), e);
        }
        Normalizer normalizer;
        try {
            normalizer = Normalizer.fromBytes(r.readBytes("normalizer"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(FORMAT + " has an invalid normalizer: " + e.getMessage(), e);
        }
        int p = r.readInt("parameter count");
        if (p != mlp.numParams()) {
            throw new IllegalArgumentException(FORMAT + " is corrupt: parameter count is " + p + " but network " + mlp + " has "
                    + mlp.numParams() + " parameters");
        }
        if (r.remaining() < 8L * p) { // before allocating: a short blob must not be able to ask for gigabytes
            throw new IllegalArgumentException(FORMAT + " is truncated: " + p + " parameters need " + 8L * p + " bytes at offset "
                    + r.position() + " but only " + r.remaining() + " remain");
        }
        double[] params = new double[p];
        for (int i = 0; i < p; i++) {
            params[i] = r.readDouble("parameter " + i);
        }
        LearnedAdaptation rule = version == FORMAT_VERSION_ADAPTATION ? readRule(r, mlp) : null;
        r.expectEnd();
        try {
            return new DynamicsModel(mlp, NdArrays.row(params), normalizer, rule);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(FORMAT + " is inconsistent: " + e.getMessage(), e);
        }
    }

    private static LearnedAdaptation readRule(ByteReader r, Mlp mlp) {
        String name = r.readString("adaptation rule name");
        AdaptationRule kind;
        try {
            kind = AdaptationRule.fromName(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(FORMAT + " is corrupt: " + e.getMessage(), e);
        }
        if (!kind.learned()) {
            throw new IllegalArgumentException(FORMAT + " is corrupt: version " + FORMAT_VERSION_ADAPTATION
                    + " carries a learned adaptation rule but names '" + name + "'; use version 1 for plain gradient models");
        }
        int steps = r.readInt("adaptation inner steps");
        int hidden = r.readInt("adaptation recurrent size");
        int n = r.readInt("adaptation parameter count");
        int expected;
        try {
            expected = new LearnedAdaptation(kind, steps, hidden, new double[0]).expectedParams(mlp);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(FORMAT + " is corrupt: " + e.getMessage(), e);
        }
        if (n != expected) {
            throw new IllegalArgumentException(FORMAT + " is corrupt: the " + name + " adaptation has " + n
                    + " parameters but " + expected + " fit network " + mlp);
        }
        if (r.remaining() < 8L * n) {
            throw new IllegalArgumentException(FORMAT + " is truncated: " + n + " adaptation parameters need " + 8L * n
                    + " bytes at offset " + r.position() + " but only " + r.remaining() + " remain");
        }
        double[] p = new double[n];
        for (int i = 0; i < n; i++) {
            p[i] = r.readDouble("adaptation parameter " + i);
        }
        try {
            return new LearnedAdaptation(kind, steps, hidden, p);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(FORMAT + " is corrupt: " + e.getMessage(), e);
        }
    }

    /** SHA-256 of {@code data} as lowercase hex. */
    public static String sha256Hex(byte[] data) {
        if (data == null) {
            throw new IllegalArgumentException("data is null");
        }
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    /** A flat delta (any shape, row-major order) as raw float64 little-endian, 8 bytes per element. */
    public static byte[] encodeDelta(INDArray delta) {
        if (delta == null) {
            throw new IllegalArgumentException("delta is null");
        }
        double[] v = NdArrays.toFlatArray(delta);
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : v) {
            b.putDouble(d);
        }
        return b.array();
    }

    /**
     * Decodes {@link #encodeDelta} output into a DOUBLE row vector {@code [1, expectedLength]}.
     *
     * @throws IllegalArgumentException when the byte count is not {@code 8 * expectedLength}
     */
    public static INDArray decodeDelta(byte[] bytes, int expectedLength) {
        if (bytes == null) {
            throw new IllegalArgumentException("delta bytes are null");
        }
        if (expectedLength <= 0) {
            throw new IllegalArgumentException("expectedLength is " + expectedLength + "; pass the parameter count (> 0)");
        }
        if (bytes.length != 8L * expectedLength) {
            throw new IllegalArgumentException("delta has " + bytes.length + " bytes but " + expectedLength
                    + " float64 values need " + 8L * expectedLength + (bytes.length % 8 != 0 ? " (not a multiple of 8: truncated?)"
                    : " (" + bytes.length / 8 + " values: wrong model?)"));
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        double[] v = new double[expectedLength];
        for (int i = 0; i < expectedLength; i++) {
            v[i] = b.getDouble();
        }
        return NdArrays.row(v);
    }
}

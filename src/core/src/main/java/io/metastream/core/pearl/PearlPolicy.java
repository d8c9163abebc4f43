package io.metastream.core.pearl;

import io.metastream.core.internal.ByteReader;
import io.metastream.core.internal.ByteWriter;
import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.Activation;
import io.metastream.core.nn.Mlp;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A published PEARL model as agents and task operators use it: the context encoder (to turn a
 * task's recent transitions into a posterior over z) and the z-conditioned, tanh-squashed Gaussian
 * policy. Posterior sampling: draw z from the task's posterior (the prior before any context) at
 * the start of an episode and act with it until the episode ends.
 *
 * <p>Actions are in {@code [-1, 1]^actDim}; scaling them to the environment's bounds is the agent's
 * business.
 *
 * <h2>Format ({@link #encode()}, version 1 or 2, little-endian; encoding name {@value #ENCODING})</h2>
 * <pre>
 *   4 bytes  magic "MSPP"
 *   int      format version: 1 for the paper's diagonal encoder, 2 for an encoder with rank factors
 *   long     model version (learner steps)
 *   int      obsDim, actDim, latentDim
 *   int      (version 2 only) context row width, encoder rank
 *   string   activation name (int length + UTF-8; never an ordinal)
 *   int      count, then the encoder's hidden sizes; int count, then the policy's hidden sizes
 *   doubles  encoder parameters (int count + float64, count checked against the network)
 *   doubles  policy parameters (likewise)
 * </pre>
 *
 * <h2>Threading</h2>
 * Immutable and thread-safe. {@link #act} runs a plain-Java forward pass (one row: cheaper than
 * ND4J's per-op overhead); {@link #posterior} runs the encoder with ND4J, allocating per call.
 */
public final class PearlPolicy {

    /** Name of this encoding, to be stored next to blobs (e.g. in the model record). */
    public static final String ENCODING = "metastream-pearl-policy-v1";
    static final int FORMAT_VERSION = 1;
    static final int FORMAT_VERSION_RANK = 2;
    private static final byte[] MAGIC = {'M', 'S', 'P', 'P'};
    private static final String FORMAT = "PEARL policy blob (" + ENCODING + ")";
    private static final int MAX_LAYERS = 1024;

    private final long version;
    private final int obsDim;
    private final int actDim;
    private final int latentDim;
    private final Activation activation;
    private final int[] encoderHidden;
    private final int[] netHidden;
    private final ContextEncoder encoder;
    private final Mlp policyMlp;
    private final double[] encoderParams;
    private final double[] policyParams;
    private final INDArray encoderParamsNd;
    private final int[] policySizes;

    PearlPolicy(long version, int obsDim, int actDim, int latentDim, Activation activation, int[] encoderHidden,
            int[] netHidden, double[] encoderParams, double[] policyParams) {
        this(version, obsDim, actDim, TaskSampler.contextWidth(obsDim, actDim, false), latentDim, activation,
                encoderHidden, netHidden, encoderParams, policyParams);
    }

    PearlPolicy(long version, int obsDim, int actDim, int contextDim, int latentDim, Activation activation,
            int[] encoderHidden, int[] netHidden, double[] encoderParams, double[] policyParams) {
        this(version, obsDim, actDim, contextDim, latentDim, 0, activation, encoderHidden, netHidden, encoderParams,
                policyParams);
    }

    PearlPolicy(long version, int obsDim, int actDim, int contextDim, int latentDim, int encoderRank,
            Activation activation, int[] encoderHidden, int[] netHidden, double[] encoderParams, double[] policyParams) {
        this.version = version;
        this.obsDim = obsDim;
        this.actDim = actDim;
        this.latentDim = latentDim;
        this.activation = activation;
        this.encoderHidden = encoderHidden.clone();
        this.netHidden = netHidden.clone();
        this.encoder = new ContextEncoder(contextDim, latentDim, encoderHidden, activation, encoderRank);
        this.policyMlp = PearlConfig.mlp(obsDim + latentDim, netHidden, 2 * actDim, activation);
        if (encoderParams.length != encoder.mlp().numParams() || policyParams.length != policyMlp.numParams()) {
            throw new IllegalArgumentException("parameter counts " + encoderParams.length + " (encoder) and "
                    + policyParams.length + " (policy) do not fit the networks, which have " + encoder.mlp().numParams()
                    + " and " + policyMlp.numParams());
        }
        this.encoderParams = encoderParams.clone();
        this.policyParams = policyParams.clone();
        this.encoderParamsNd = NdArrays.row(this.encoderParams);
        this.policySizes = policyMlp.layerSizes();
    }

    /** The learner version (accepted steps) these parameters come from. */
    public long version() {
        return version;
    }

    public int obsDim() {
        return obsDim;
    }

    public int actDim() {
        return actDim;
    }

    public int latentDim() {
        return latentDim;
    }

    /** Width of a context row the encoder takes ({@link TaskSampler#contextWidth}). */
    public int contextDim() {
        return encoder.contextDim();
    }

    /** The prior {@code N(0, I)}, the belief about a task without context. */
    public Posterior prior() {
        return encoder.prior();
    }

    /**
     * The posterior over z given a task's context.
     *
     * @param contextRows {@code [C][contextDim()]} rows in {@link TaskSampler}'s layout ({@code (s, a, r, s')},
     *     or with the previous reward when the encoder takes it); no rows gives the prior
     */
    public Posterior posterior(double[][] contextRows) {
        if (contextRows == null) {
            throw new IllegalArgumentException("contextRows is null; pass an empty array for the prior");
        }
        if (contextRows.length == 0) {
            return prior();
        }
        int w = contextDim();
        double[] flat = new double[contextRows.length * w];
        for (int r = 0; r < contextRows.length; r++) {
            if (contextRows[r] == null || contextRows[r].length != w) {
                throw new IllegalArgumentException("context row " + r + " has "
                        + (contextRows[r] == null ? "no" : contextRows[r].length) + " values but " + w
                        + (w == TaskSampler.contextWidth(obsDim, actDim, false) ? " (s, a, r, s')"
                                : " (s, a, r, s', previous reward, known flag)") + " are required");
            }
            System.arraycopy(contextRows[r], 0, flat, r * w, w);
        }
        return encoder.infer(encoderParamsNd, NdArrays.matrix(flat, contextRows.length, w));
    }

    /**
     * An action for observation {@code obs} in the task described by {@code z}: {@code tanh(μ)} when
     * {@code deterministic}, otherwise {@code tanh(μ + σ ⊙ ξ)} with {@code ξ} drawn from {@code rng}.
     *
     * @param rng required unless deterministic (actDim calls of {@link Random#nextGaussian()})
     */
    public double[] act(double[] obs, double[] z, Random rng, boolean deterministic) {
        if (obs == null || obs.length != obsDim) {
            throw new IllegalArgumentException("obs must hold obsDim = " + obsDim + " values");
        }
        if (z == null || z.length != latentDim) {
            throw new IllegalArgumentException("z must hold latentDim = " + latentDim + " values; sample it from posterior(..)");
        }
        if (!deterministic && rng == null) {
            throw new IllegalArgumentException("rng is null; stochastic actions need a seeded java.util.Random");
        }
        double[] x = new double[obsDim + latentDim];
        System.arraycopy(obs, 0, x, 0, obsDim);
        System.arraycopy(z, 0, x, obsDim, latentDim);
        double[] out = forwardRow(policySizes, activation == Activation.TANH, policyParams, x);
        if (deterministic) {
            return SquashedGaussian.meanAction(out, actDim);
        }
        double[] a = new double[actDim];
        for (int j = 0; j < actDim; j++) {
            double ls = Math.min(SquashedGaussian.LOG_STD_MAX, Math.max(SquashedGaussian.LOG_STD_MIN, out[actDim + j]));
            a[j] = Math.tanh(out[j] + Math.exp(ls) * rng.nextGaussian());
        }
        return a;
    }

    /** One row through an {@link Mlp} parameter vector (same layout), in plain Java. */
    static double[] forwardRow(int[] sizes, boolean tanh, double[] p, double[] x) {
        double[] a = x;
        int off = 0;
        for (int l = 1; l < sizes.length; l++) {
            int in = sizes[l - 1];
            int out = sizes[l];
            double[] z = new double[out];
            System.arraycopy(p, off + in * out, z, 0, out);
            for (int i = 0; i < in; i++) {
                double ai = a[i];
                if (ai != 0.0) {
                    int row = off + i * out;
                    for (int j = 0; j < out; j++) {
                        z[j] += ai * p[row + j];
                    }
                }
            }
            if (l < sizes.length - 1) {
                for (int j = 0; j < out; j++) {
                    z[j] = tanh ? Math.tanh(z[j]) : Math.max(0.0, z[j]);
                }
            }
            off += (in + 1) * out;
            a = z;
        }
        return a;
    }

    /** A copy of the encoder parameters in the {@link Mlp} layout. */
    public double[] encoderParams() {
        return encoderParams.clone();
    }

    /** A copy of the policy parameters in the {@link Mlp} layout. */
    public double[] policyParams() {
        return policyParams.clone();
    }

    /** Directions per context factor of the encoder; 0 for the paper's diagonal factors. */
    public int encoderRank() {
        return encoder.rank();
    }

    /**
     * Serialises this model (see the class comment): format version 1 for a diagonal encoder, which
     * every earlier reader takes, and 2 for an encoder with rank factors.
     */
    public byte[] encode() {
        boolean rank = encoder.rank() > 0;
        ByteWriter w = new ByteWriter(128 + 8 * (encoderParams.length + policyParams.length)).putRaw(MAGIC)
                .putInt(rank ? FORMAT_VERSION_RANK : FORMAT_VERSION)
                .putLong(version)
                .putInt(obsDim)
                .putInt(actDim)
                .putInt(latentDim);
        if (rank) {
            w.putInt(encoder.contextDim()).putInt(encoder.rank());
        }
        w.putString(activation.name());
        putInts(w, encoderHidden);
        putInts(w, netHidden);
        return w.putDoubles(encoderParams).putDoubles(policyParams).toByteArray();
    }

    private static void putInts(ByteWriter w, int[] v) {
        w.putInt(v.length);
        for (int x : v) {
            w.putInt(x);
        }
    }

    /**
     * Decodes a blob written by {@link #encode()}.
     *
     * @throws IllegalArgumentException on bad magic, an unknown version, truncation, invalid
     *     dimensions or networks, parameter counts that do not fit, or trailing bytes
     */
    public static PearlPolicy decode(byte[] blob) {
        if (blob == null) {
            throw new IllegalArgumentException(FORMAT + ": blob is null");
        }
        ByteReader r = new ByteReader(blob, FORMAT);
        byte[] magic = r.readRaw(MAGIC.length, "magic bytes");
        if (!Arrays.equals(magic, MAGIC)) {
            throw new IllegalArgumentException("not a metastream PEARL policy: expected magic bytes "
                    + HexFormat.ofDelimiter(" ").withUpperCase().formatHex(MAGIC) + " (\"MSPP\") but found "
                    + HexFormat.ofDelimiter(" ").withUpperCase().formatHex(magic));
        }
        int format = r.readVersion(FORMAT_VERSION, FORMAT_VERSION_RANK);
        long version = r.readLong("model version");
        int obsDim = r.readInt("obsDim");
        int actDim = r.readInt("actDim");
        int latentDim = r.readInt("latentDim");
        int contextDim = format == FORMAT_VERSION_RANK ? r.readInt("context width") : -1;
        int rank = format == FORMAT_VERSION_RANK ? r.readInt("encoder rank") : 0;
        String act = r.readString("activation name");
        int[] encHidden = readInts(r, "encoder hidden sizes");
        int[] netHidden = readInts(r, "policy hidden sizes");
        double[] enc = r.readDoubles("encoder parameters", -1);
        double[] pol = r.readDoubles("policy parameters", -1);
        r.expectEnd();
        try {
            if (obsDim <= 0 || actDim <= 0 || latentDim <= 0) {
                throw new IllegalArgumentException("obsDim " + obsDim + ", actDim " + actDim + " and latentDim " + latentDim
                        + " must be > 0");
            }
            if (format == FORMAT_VERSION_RANK && (contextDim <= 0 || rank <= 0)) {
                throw new IllegalArgumentException("context width " + contextDim + " and encoder rank " + rank
                        + " must be > 0 in format version 2");
            }
            Activation activation = Activation.fromName(act);
            int width = contextDim > 0 ? contextDim
                    : contextWidthOf(obsDim, actDim, latentDim, activation, encHidden, enc.length);
            return new PearlPolicy(version, obsDim, actDim, width, latentDim, rank, activation, encHidden, netHidden,
                    enc, pol);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(FORMAT + " is corrupt: " + e.getMessage(), e);
        }
    }

    /**
     * The encoder's input width, which format 1 does not store: the context row with or without the
     * previous reward (see {@link TaskSampler}), whichever the encoder's parameter count fits; the plain
     * width when neither does (the constructor then names the mismatch).
     */
    private static int contextWidthOf(int obsDim, int actDim, int latentDim, Activation activation, int[] encHidden,
            int encParams) {
        int extended = TaskSampler.contextWidth(obsDim, actDim, true);
        for (int h : encHidden) {
            if (h <= 0) {
                return TaskSampler.contextWidth(obsDim, actDim, false);
            }
        }
        if (PearlConfig.mlp(extended, encHidden, 2 * latentDim, activation).numParams() == encParams) {
            return extended;
        }
        return TaskSampler.contextWidth(obsDim, actDim, false);
    }

    private static int[] readInts(ByteReader r, String what) {
        int n = r.readCount(what + " count", MAX_LAYERS);
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.readInt(what + "[" + i + "]");
        }
        return v;
    }

    @Override
    public String toString() {
        return "PearlPolicy[version=" + version + ", obsDim=" + obsDim + ", actDim=" + actDim + ", latentDim=" + latentDim
                + (encoder.rank() == 0 ? "" : ", encoderRank=" + encoder.rank()) + ", encoder=" + encoder.mlp() + ", policy=" + policyMlp + "]";
    }
}

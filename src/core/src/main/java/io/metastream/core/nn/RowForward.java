package io.metastream.core.nn;

/**
 * A frozen copy of an {@link Mlp}'s parameters for inference over many rows in plain Java: the
 * planner's rollouts, where ND4J's fixed cost per op (8–36 µs, whatever the op's size) would dominate.
 * Rows are processed in blocks stored column by column, one array per column, so every inner loop
 * runs over the rows of a block with unit stride and reads and writes all its arrays at the same index:
 * the shape HotSpot's C2 vectorises. (With all columns in one array at different offsets it could not
 * rule out that a store overlaps a later load, and ran the loop scalar, about 2× slower.) Weights and
 * activations are float32 (inputs and outputs stay double; {@code out = base + f(x)} adds in double), so
 * twice as many rows fit a vector register: about 1.3× faster than the same loops in float64.
 *
 * <p>Hidden tanh units use a rational approximation (the 9th convergent of Lambert's continued
 * fraction for tanh, clamped at ±{@value #TANH_CLAMP}), whose absolute error is below 5e-6 everywhere
 * ({@code RowForwardTest} checks it). With float32 arithmetic on top, outputs are within about 1e-5 of the
 * exact float64 forward pass for a 2×64 network: enough for ranking planned action sequences, not for
 * gradients, which stay with {@link Mlp}.
 *
 * <h2>Threading and ownership</h2>
 * Immutable and thread-safe; scratch buffers are per thread and grow to the largest block.
 */
public final class RowForward {

    /** Rows per block: the column buffers of a block stay in the L2 cache for a 64-unit layer. */
    static final int BLOCK = 256;
    /** Beyond this |x| the approximation returns ±1 (its error there is below 5e-6). */
    static final double TANH_CLAMP = 6.11;
    /** tanh(x) ≈ x·P(x²)/Q(x²), coefficients of increasing powers, from the continued fraction. */
    private static final double[] TANH_P;
    private static final double[] TANH_Q;

    static {
        // Lambert: tanh x = x / (1 + x²/(3 + x²/(5 + ...))). Convergents A_n/B_n with b_n = 2n − 1 and
        // a_1 = x, a_n = y = x² (n ≥ 2): A_n = b_n A_{n−1} + y A_{n−2}; A_0 = 0, A_1 = x (stored as
        // polynomials in y, with the factor x of A kept outside), B_0 = 1, B_1 = 1.
        int depth = 9;
        double[] aPrev = {0};
        double[] a = {1};
        double[] bPrev = {1};
        double[] b = {1};
        for (int n = 2; n <= depth; n++) {
            double[] aNext = combine(2 * n - 1, a, aPrev);
            double[] bNext = combine(2 * n - 1, b, bPrev);
            aPrev = a;
            a = aNext;
            bPrev = b;
            b = bNext;
        }
        if (a.length != 5 || b.length != 5) {
            throw new AssertionError("tanh convergent has degrees " + a.length + "/" + b.length + ", expected 5/5");
        }
        TANH_P = a;
        TANH_Q = b;
    }

    /** {@code c·p + y·q} for polynomials in y. */
    private static double[] combine(double c, double[] p, double[] q) {
        double[] out = new double[Math.max(p.length, q.length + 1)];
        for (int i = 0; i < p.length; i++) {
            out[i] += c * p[i];
        }
        for (int i = 0; i < q.length; i++) {
            out[i + 1] += q[i];
        }
        return out;
    }

    /** The approximation of tanh used for hidden units. */
    public static double tanh(double x) {
        double v = x > TANH_CLAMP ? TANH_CLAMP : (x < -TANH_CLAMP ? -TANH_CLAMP : x);
        double y = v * v;
        double p = 0;
        double q = 0;
        for (int i = TANH_P.length - 1; i >= 0; i--) {
            p = p * y + TANH_P[i];
        }
        for (int i = TANH_Q.length - 1; i >= 0; i--) {
            q = q * y + TANH_Q[i];
        }
        return v * p / q;
    }

    private final int[] sizes;
    private final Activation activation;
    /** Per layer l (1-based), weights transposed to [out][in] so one output's weights are contiguous. */
    private final float[][] weightsT;
    private final float[][] bias;
    /** Per thread, two blocks of columns ([unit][row]): a layer's input and output. */
    private final ThreadLocal<float[][][]> scratch;

    /**
     * @param mlp the network
     * @param params its flat parameters ({@code mlp.numParams()} values, the {@link Mlp} layout; copied)
     */
    public RowForward(Mlp mlp, double[] params) {
        if (mlp == null || params == null || params.length != mlp.numParams()) {
            throw new IllegalArgumentException("params must hold the " + (mlp == null ? "?" : mlp.numParams())
                    + " parameters of " + mlp + ", got " + (params == null ? "null" : params.length + " values"));
        }
        this.sizes = mlp.layerSizes();
        this.activation = mlp.activation();
        int layers = mlp.numLayers();
        weightsT = new float[layers + 1][];
        bias = new float[layers + 1][];
        for (int l = 1; l <= layers; l++) {
            int in = sizes[l - 1];
            int out = sizes[l];
            int w = (int) mlp.weightOffset(l);
            float[] t = new float[in * out];
            for (int i = 0; i < in; i++) {
                for (int j = 0; j < out; j++) {
                    t[j * in + i] = (float) params[w + i * out + j];
                }
            }
            weightsT[l] = t;
            int bo = (int) mlp.biasOffset(l);
            float[] b = new float[out];
            for (int j = 0; j < out; j++) {
                b[j] = (float) params[bo + j];
            }
            bias[l] = b;
        }
        int widest = 0;
        for (int s : sizes) {
            widest = Math.max(widest, s);
        }
        int width = widest;
        scratch = ThreadLocal.withInitial(() -> new float[][][] {new float[width][BLOCK], new float[width][BLOCK]});
    }

    public int inputSize() {
        return sizes[0];
    }

    public int outputSize() {
        return sizes[sizes.length - 1];
    }

    /**
     * {@code out = base + f([x1 | x2])} for the rows {@code [from, from + rows)}, all arrays row-major.
     *
     * @param x1 the first {@code k} input columns, {@code [rows, k]}
     * @param k columns of {@code x1}; {@code x2} holds the other {@code inputSize − k}
     * @param x2 {@code [rows, inputSize − k]}, or null when {@code k == inputSize}
     * @param base {@code [rows, outputSize]} added to the output, or null
     * @param out receives {@code [rows, outputSize]}; may be {@code base} itself but no input
     */
    public void forward(double[] x1, int k, double[] x2, double[] base, int from, int rows, double[] out) {
        int in = sizes[0];
        int outDim = outputSize();
        int end = from + rows;
        if (from < 0 || rows < 0 || k < 1 || k > in || (k < in && x2 == null) || x1.length < end * k
                || (x2 != null && x2.length < end * (in - k)) || out.length < end * outDim
                || (base != null && base.length < end * outDim)) {
            throw new IllegalArgumentException("forward of rows [" + from + ", " + end + ") needs x1 [>= " + end + ", "
                    + k + "], x2 [>= " + end + ", " + (in - k) + "], base and out [>= " + end + ", " + outDim + "]");
        }
        float[][][] buf = scratch.get();
        for (int start = from; start < end; start += BLOCK) {
            int n = Math.min(BLOCK, end - start);
            float[][] a = buf[0];
            // gather the block's inputs column by column
            for (int r = 0; r < n; r++) {
                int src = (start + r) * k;
                for (int i = 0; i < k; i++) {
                    a[i][r] = (float) x1[src + i];
                }
            }
            if (k < in) {
                int k2 = in - k;
                for (int r = 0; r < n; r++) {
                    int src = (start + r) * k2;
                    for (int i = 0; i < k2; i++) {
                        a[k + i][r] = (float) x2[src + i];
                    }
                }
            }
            float[][] z = buf[1];
            for (int l = 1; l < sizes.length; l++) {
                layer(l, a, z, n, l < sizes.length - 1);
                float[][] t = a;
                a = z;
                z = t;
            }
            for (int r = 0; r < n; r++) {
                int dst = (start + r) * outDim;
                for (int j = 0; j < outDim; j++) {
                    double v = a[j][r];
                    out[dst + j] = base == null ? v : base[dst + j] + v;
                }
            }
        }
    }

    private void layer(int l, float[][] a, float[][] z, int n, boolean hidden) {
        int in = sizes[l - 1];
        int out = sizes[l];
        float[] w = weightsT[l];
        float[] b = bias[l];
        for (int j = 0; j < out; j++) {
            float[] zj = z[j];
            float bj = b[j];
            for (int r = 0; r < n; r++) {
                zj[r] = bj;
            }
            int wo = j * in;
            int i = 0;
            // four inputs per pass: one load and store of z per four multiply-adds (the loop is bound by L1 traffic)
            for (; i + 3 < in; i += 4) {
                float w0 = w[wo + i];
                float w1 = w[wo + i + 1];
                float w2 = w[wo + i + 2];
                float w3 = w[wo + i + 3];
                float[] a0 = a[i];
                float[] a1 = a[i + 1];
                float[] a2 = a[i + 2];
                float[] a3 = a[i + 3];
                for (int r = 0; r < n; r++) {
                    zj[r] += w0 * a0[r] + w1 * a1[r] + w2 * a2[r] + w3 * a3[r];
                }
            }
            for (; i < in; i++) {
                float wij = w[wo + i];
                float[] ai = a[i];
                for (int r = 0; r < n; r++) {
                    zj[r] += wij * ai[r];
                }
            }
            if (hidden) {
                if (activation == Activation.TANH) {
                    tanhInPlace(zj, n);
                } else {
                    for (int r = 0; r < n; r++) {
                        zj[r] = Math.max(0f, zj[r]);
                    }
                }
            }
        }
    }

    private static void tanhInPlace(float[] z, int n) {
        // unrolled Horner for the fixed degree (4 in y for both) so the loop vectorises
        float p0 = (float) TANH_P[0], p1 = (float) TANH_P[1], p2 = (float) TANH_P[2], p3 = (float) TANH_P[3], p4 = (float) TANH_P[4];
        float q0 = (float) TANH_Q[0], q1 = (float) TANH_Q[1], q2 = (float) TANH_Q[2], q3 = (float) TANH_Q[3], q4 = (float) TANH_Q[4];
        float clamp = (float) TANH_CLAMP;
        for (int r = 0; r < n; r++) {
            float v = z[r];
            v = v > clamp ? clamp : (v < -clamp ? -clamp : v);
            float y = v * v;
            float num = (((p4 * y + p3) * y + p2) * y + p1) * y + p0;
            float den = (((q4 * y + q3) * y + q2) * y + q1) * y + q0;
            z[r] = v * num / den;
        }
    }
}

package io.metastream.core.nn;

import io.metastream.core.internal.NdArrays;
import java.util.Arrays;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sigmoid;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Tanh;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A fully connected network {@code R^in -> R^out} with a shared hidden {@link Activation} and a
 * linear output layer, trained with the mean-squared-error loss. The class describes the
 * architecture only; parameters live in a flat float64 row vector owned by the caller, so one
 * {@code Mlp} serves any number of parameter vectors (meta-parameters, adapted parameters, deltas).
 *
 * <h2>Parameter layout</h2>
 * For each layer {@code l} in order: {@code W_l} row-major with shape {@code [in_l, out_l]}, then
 * {@code b_l} with {@code out_l} elements. Because {@code b_l} directly follows {@code W_l}, the
 * pair is one contiguous {@code [in_l + 1, out_l]} block; the implementation multiplies it with
 * inputs augmented by a column of ones, so a layer is one GEMM. Parameter vectors are DOUBLE arrays
 * of shape {@code [1, numParams()]}.
 *
 * <h2>Loss</h2>
 * {@code L = mean over all n*out elements of (f(x) - y)^2}.
 *
 * <h2>Threading and ownership</h2>
 * Immutable and thread-safe. Every method allocates its own buffers; none mutates its arguments.
 * Returned arrays are new and belong to the caller. For repeated inner loops and meta-gradients use
 * {@link InnerLoop}, which reuses its buffers (one instance per thread).
 *
 * <h2>Cost</h2>
 * ND4J 1.0.0-M2.1 costs roughly 1-15 µs per native op regardless of size and about 5 µs per new
 * array or view, so the passes are written with few ops: GEMMs with transpose flags on views of
 * the flat vector, the MSE scale folded into GEMM coefficients, recorded passes ({@link MlpTape})
 * on inputs augmented with a ones column so that weights and bias apply in one GEMM. The
 * forward-only pass ({@link #forward}, {@link #loss}) keeps its buffers contiguous instead, because
 * strided element-wise ops are several times slower on the large batches of MPC rollouts.
 */
public final class Mlp {

    private final int[] sizes;
    private final Activation activation;
    private final int numParams;
    /** offsets[l] = index in the flat vector of W_l's first element, for l = 1..L (slot 0 unused). */
    private final long[] offsets;

    /**
     * @param layerSizes input size, hidden sizes, output size, e.g. {@code {4, 64, 64, 3}}; at least
     *     two entries, all positive
     * @param hidden the activation of every hidden layer (the output layer is linear)
     */
    public Mlp(int[] layerSizes, Activation hidden) {
        if (layerSizes == null || layerSizes.length < 2) {
            throw new IllegalArgumentException("layerSizes must list the input size, any hidden sizes and the output size "
                    + "(at least 2 entries), got " + Arrays.toString(layerSizes));
        }
        if (hidden == null) {
            throw new IllegalArgumentException("hidden activation is null; use Activation.TANH (the default) or RELU");
        }
        for (int i = 0; i < layerSizes.length; i++) {
            if (layerSizes[i] <= 0) {
                throw new IllegalArgumentException("layerSizes[" + i + "] is " + layerSizes[i]
                        + "; every layer size must be positive, got " + Arrays.toString(layerSizes));
            }
        }
        this.sizes = layerSizes.clone();
        this.activation = hidden;
        int layers = sizes.length - 1;
        this.offsets = new long[layers + 1];
        long off = 0;
        for (int l = 1; l <= layers; l++) {
            offsets[l] = off;
            off += (long) (sizes[l - 1] + 1) * sizes[l];
        }
        if (off > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("network " + Arrays.toString(layerSizes) + " has " + off
                    + " parameters; at most " + (Integer.MAX_VALUE - 8) + " are supported");
        }
        this.numParams = (int) off;
    }

    /** A copy of the layer sizes, input and output included. */
    public int[] layerSizes() {
        return sizes.clone();
    }

    public Activation activation() {
        return activation;
    }

    /** Length of the flat parameter vector. */
    public int numParams() {
        return numParams;
    }

    public int inputSize() {
        return sizes[0];
    }

    public int outputSize() {
        return sizes[sizes.length - 1];
    }

    /** Number of weight layers (hidden layers + 1). */
    public int numLayers() {
        return sizes.length - 1;
    }

    /** Offset in the flat vector of the first weight of layer {@code layer} (1-based). */
    public long weightOffset(int layer) {
        checkLayer(layer);
        return offsets[layer];
    }

    /** Offset in the flat vector of the first bias of layer {@code layer} (1-based). */
    public long biasOffset(int layer) {
        checkLayer(layer);
        return offsets[layer] + (long) sizes[layer - 1] * sizes[layer];
    }

    private void checkLayer(int layer) {
        if (layer < 1 || layer > numLayers()) {
            throw new IllegalArgumentException("layer " + layer + " does not exist; layers are 1.." + numLayers());
        }
    }

    /**
     * Fresh parameters: weights Xavier/Glorot uniform in {@code ±sqrt(6 / (in + out))}, biases zero.
     * Deterministic for a given {@code rng} state; draws weights layer by layer in flat order.
     */
    public INDArray initParams(Random rng) {
        if (rng == null) {
            throw new IllegalArgumentException("rng is null; pass a seeded java.util.Random");
        }
        double[] p = new double[numParams];
        for (int l = 1; l <= numLayers(); l++) {
            int in = sizes[l - 1];
            int out = sizes[l];
            double limit = Math.sqrt(6.0 / (in + out));
            int base = (int) offsets[l];
            for (int i = 0; i < in * out; i++) {
                p[base + i] = (2.0 * rng.nextDouble() - 1.0) * limit;
            }
        }
        return NdArrays.row(p);
    }

    /** Network output {@code [n, out]} for inputs {@code x} of shape {@code [n, in]}. */
    public INDArray forward(INDArray params, INDArray x) {
        return forward(params, x, null, null);
    }

    /**
     * {@code base + f(params, [x1 || x2])}: the network applied to the column-wise concatenation of
     * {@code x1} and {@code x2}, plus {@code base}. Built for residual predictors such as
     * {@code next = obs + f(obs, act)}, without materialising the concatenation or the sum as extra
     * ops.
     *
     * @param x1 {@code [n, k]}
     * @param x2 {@code [n, in - k]}, or null when {@code x1} holds all {@code in} columns
     * @param base {@code [n, out]} added to the output, or null
     * @return a new {@code [n, out]} array
     */
    public INDArray forward(INDArray params, INDArray x1, INDArray x2, INDArray base) {
        INDArray p = checkParams(params, "params");
        int n = checkInputs(x1, x2);
        INDArray out = Nd4j.createUninitialized(DataType.DOUBLE, n, outputSize());
        double beta = 0.0;
        if (base != null) {
            NdArrays.requireDoubleMatrix(base, n, outputSize(), "base");
            out.assign(base);
            beta = 1.0;
        }
        return forwardInto(p, x1, x2, n, out, beta);
    }

    /**
     * Parameters prepared for many forward passes (e.g. a published model used for MPC rollouts):
     * a private copy with its layer views made once and, for tanh networks, rewritten so that hidden
     * layers use the logistic sigmoid ({@code tanh(z) = 2σ(2z) − 1}, with the factors folded into
     * the weights: libnd4j's float64 sigmoid is about 2.7× faster than its tanh). The prepared
     * network computes the same function as the original parameters, up to rounding.
     *
     * <p>Immutable and thread-safe; later changes to the original parameters do not affect it.
     */
    public PreparedParams prepare(INDArray params) {
        INDArray p = checkParams(params, "params");
        double[] w = NdArrays.toFlatArray(p);
        boolean sigmoidForm = activation == Activation.TANH && numLayers() > 1;
        if (sigmoidForm) {
            // hidden l: u_l = 2 z_l and s_l = σ(u_l) = (a_l + 1) / 2, so a_{l-1} = 2 s_{l-1} − 1 and
            // z_l = s_{l-1} (2 W_l) + (b_l − colsum W_l); the output layer keeps z_L (no factor 2).
            for (int l = 1; l <= numLayers(); l++) {
                int in = sizes[l - 1];
                int out = sizes[l];
                int wo = (int) offsets[l];
                int bo = (int) biasOffset(l);
                if (l > 1) {
                    for (int j = 0; j < out; j++) {
                        double colsum = 0;
                        for (int i = 0; i < in; i++) {
                            colsum += w[wo + i * out + j];
                            w[wo + i * out + j] *= 2.0;
                        }
                        w[bo + j] -= colsum;
                    }
                }
                if (l < numLayers()) {
                    for (int i = wo; i < bo + out; i++) {
                        w[i] *= 2.0;
                    }
                }
            }
        }
        return new PreparedParams(this, NdArrays.row(w), sigmoidForm);
    }

    /**
     * {@code base + f([x1 || x2])} with prepared parameters; see {@link #forward(INDArray, INDArray,
     * INDArray, INDArray)} for the arguments.
     */
    public INDArray forward(PreparedParams params, INDArray x1, INDArray x2, INDArray base) {
        if (params == null || !params.mlp().equals(this)) {
            throw new IllegalArgumentException("params were prepared for " + (params == null ? "nothing" : params.mlp())
                    + ", not for " + this + "; call prepare(..) on this network");
        }
        int n = checkInputs(x1, x2);
        INDArray out = Nd4j.createUninitialized(DataType.DOUBLE, n, outputSize());
        double beta = 0.0;
        if (base != null) {
            NdArrays.requireDoubleMatrix(base, n, outputSize(), "base");
            out.assign(base);
            beta = 1.0;
        }
        INDArray ones = Nd4j.ones(DataType.DOUBLE, n, 1);
        INDArray a = null;
        for (int l = 1; l <= numLayers(); l++) {
            boolean hidden = l < numLayers();
            INDArray target = hidden ? Nd4j.createUninitialized(DataType.DOUBLE, n, sizes[l]) : out;
            double b = hidden ? 0.0 : beta;
            if (l > 1) {
                Nd4j.gemm(a, params.weights(l), target, false, false, 1.0, b);
            } else if (x2 == null) {
                Nd4j.gemm(x1, params.weights(1), target, false, false, 1.0, b);
            } else {
                INDArray[] split = params.firstLayerSplit(x1.columns());
                Nd4j.gemm(x1, split[0], target, false, false, 1.0, b);
                Nd4j.gemm(x2, split[1], target, false, false, 1.0, 1.0);
            }
            Nd4j.gemm(ones, params.bias(l), target, false, false, 1.0, 1.0);
            if (hidden) {
                if (params.sigmoidForm()) {
                    Nd4j.exec(new Sigmoid(target, target));
                } else if (activation == Activation.TANH) {
                    Nd4j.exec(new Tanh(target, target));
                } else {
                    Nd4j.exec(new RectifiedLinear(target, target, 0.0));
                }
                a = target;
            }
        }
        return out;
    }

    private int checkInputs(INDArray x1, INDArray x2) {
        if (x2 != null && (x1 == null || x1.rank() != 2 || x1.columns() >= inputSize())) {
            throw new IllegalArgumentException("with two input blocks, x1 must be a matrix with fewer than " + inputSize()
                    + " columns and x2 must hold the rest; got x1 " + (x1 == null ? "null" : Arrays.toString(x1.shape())));
        }
        int n = NdArrays.requireDoubleMatrix(x1, -1, x2 == null ? inputSize() : x1.columns(), "x1");
        if (x2 != null) {
            NdArrays.requireDoubleMatrix(x2, n, inputSize() - x1.columns(), "x2");
        }
        return n;
    }

    /** Mean squared error of {@code forward(params, x)} against {@code y [n, out]}. */
    public double loss(INDArray params, INDArray x, INDArray y) {
        INDArray p = checkParams(params, "params");
        int n = NdArrays.requireDoubleMatrix(x, -1, inputSize(), "x");
        NdArrays.requireDoubleMatrix(y, n, outputSize(), "y");
        INDArray residual = Nd4j.createUninitialized(DataType.DOUBLE, n, outputSize());
        residual.assign(y);
        forwardInto(p, x, null, n, residual, -1.0);
        return Nd4j.getBlasWrapper().dot(residual, residual) / ((double) n * outputSize());
    }

    /**
     * The pre-activation of layer {@code layer} (1-based; the network's output for {@link #numLayers()})
     * for {@code rows} inputs, the layers before it activated: {@code [rows][sizes[layer]]} row-major, in
     * plain float64 Java. For the small batches of one task's window this is several times faster than
     * the ND4J path, whose per-call cost dominates at these sizes; the sums run in another order, so the
     * two agree to rounding, not bit for bit.
     *
     * @param params the flat parameters ({@link #numParams()} values or more; a prefix up to the layer is read)
     * @param x      {@code rows} inputs of {@link #inputSize()} values, row-major
     */
    public double[] preActivation(double[] params, double[] x, int rows, int layer) {
        checkLayer(layer);
        double[] a = x;
        for (int l = 1; l <= layer; l++) {
            int in = sizes[l - 1];
            int out = sizes[l];
            int w = (int) offsets[l];
            int b = w + in * out;
            double[] z = new double[rows * out];
            for (int r = 0; r < rows; r++) {
                int zr = r * out;
                System.arraycopy(params, b, z, zr, out);
                int ar = r * in;
                for (int i = 0; i < in; i++) {
                    double ai = a[ar + i];
                    if (ai == 0) {
                        continue;
                    }
                    int wi = w + i * out;
                    for (int j = 0; j < out; j++) {
                        z[zr + j] += ai * params[wi + j];
                    }
                }
            }
            if (l < layer) {
                for (int k = 0; k < z.length; k++) {
                    z[k] = activation == Activation.TANH ? Activation.tanh(z[k]) : Math.max(0, z[k]);
                }
            }
            a = z;
        }
        return a;
    }

    /** {@link #loss(INDArray, INDArray, INDArray)} on flat row-major arrays, through {@link #preActivation}. */
    public double loss(double[] params, double[] x, double[] y, int rows) {
        double[] f = preActivation(params, x, rows, numLayers());
        double sum = 0;
        for (int i = 0; i < f.length; i++) {
            double d = y[i] - f[i];
            sum += d * d;
        }
        return sum / ((double) rows * outputSize());
    }

    /** The loss and its gradient with respect to the parameters. */
    public LossGradient lossAndGradient(INDArray params, INDArray x, INDArray y) {
        MlpTape tape = tape(params, x, y);
        return new LossGradient(tape.loss(), tape.gradient());
    }

    /**
     * The exact product of the loss Hessian (with respect to the parameters, at {@code params}) with
     * {@code v}, computed with Pearlmutter's R-operator: a forward R-pass and a backward R-pass
     * through the hand-written backpropagation. Costs about two gradient evaluations. For
     * {@link Activation#RELU} the activation's second derivative is taken as zero.
     *
     * @param v {@code [1, numParams]}
     * @return {@code H v}, a new {@code [1, numParams]} array
     */
    public INDArray hessianVectorProduct(INDArray params, INDArray x, INDArray y, INDArray v) {
        return tape(params, x, y).hessianVectorProduct(v);
    }

    /**
     * Runs the forward and backward pass once and keeps the intermediate values, so that the loss,
     * the gradient and any number of Hessian-vector products at these parameters and data can be
     * read without recomputing the passes. {@code params}, {@code x} and {@code y} must not be
     * mutated while the tape is in use.
     */
    public MlpTape tape(INDArray params, INDArray x, INDArray y) {
        INDArray p = checkParams(params, "params");
        int n = NdArrays.requireDoubleMatrix(x, -1, inputSize(), "x");
        NdArrays.requireDoubleMatrix(y, n, outputSize(), "y");
        MlpTape tape = new MlpTape(this, n);
        tape.record(new FlatVector(this, p), x, y);
        return tape;
    }

    /** Result of {@link #lossAndGradient}: the MSE and its gradient {@code [1, numParams]}. */
    public record LossGradient(double loss, INDArray gradient) {}

    /**
     * A reusable forward/backward pass over {@code rows} rows for an arbitrary output gradient; see
     * {@link MlpPass}. Allocates its buffers once.
     */
    public MlpPass pass(int rows) {
        return new MlpPass(this, rows, null);
    }

    /**
     * A pass of this network that reads the input buffer of {@code other} (same rows and input
     * size), so that networks fed the same inputs (twin critics) need the inputs written once.
     */
    public MlpPass pass(MlpPass other) {
        if (other == null) {
            throw new IllegalArgumentException("other is null; use pass(rows) for a pass with its own input");
        }
        return new MlpPass(this, other.rows(), other);
    }

    /**
     * The vector-Jacobian products of the network at {@code params} on {@code x [n, in]} with the
     * output gradient {@code dOut = dL/dY [n, out]}: {@code dL/dθ} and {@code dL/dX}. For a loss
     * that is not the MSE (use {@link #lossAndGradient} for that). Allocates a fresh {@link MlpPass};
     * reuse one for repeated calls.
     */
    public Backward backward(INDArray params, INDArray x, INDArray dOut) {
        int n = NdArrays.requireDoubleMatrix(x, -1, inputSize(), "x");
        MlpPass pass = pass(n);
        pass.forward(params, x);
        INDArray g = Nd4j.zeros(DataType.DOUBLE, 1, numParams);
        INDArray dx = pass.backward(dOut, g, false, true);
        return new Backward(g, dx.dup());
    }

    /** Result of {@link #backward}: {@code dL/dθ [1, numParams]} and {@code dL/dX [n, in]}, owned by the caller. */
    public record Backward(INDArray paramGradient, INDArray inputGradient) {}

    // ---------------------------------------------------------------------------------------------
    // package-private kernels shared with MlpTape, FlatVector and InnerLoop

    INDArray checkParams(INDArray params, String what) {
        NdArrays.requireDoubleLength(params, numParams, what);
        return NdArrays.contiguous(params);
    }

    /** The {@code [in_l, out_l]} weight matrix of layer {@code layer}. */
    INDArray weights(INDArray flat, int layer) {
        return NdArrays.view(flat, offsets[layer], sizes[layer - 1], sizes[layer]);
    }

    int size(int index) {
        return sizes[index];
    }

    /**
     * From this many elements per hidden layer on, the forward pass computes tanh as
     * {@code 2σ(2z) − 1}: libnd4j's float64 sigmoid is about 2.7× faster than its tanh (54 vs 146 µs
     * for 200×64), which outweighs the two extra (contiguous) scalar ops on large batches such as MPC
     * rollouts; below it the single tanh op is cheaper. The two forms agree to a few ulps of 1.
     */
    static final long SIGMOID_TANH_MIN_ELEMENTS = 4096;

    /**
     * One hidden layer of a recorded pass ({@link MlpTape}): {@code z = [aPrev, 1] · [W; b]}, then
     * {@code act = σ(z)} written into the leading columns of the next augmented input.
     */
    void hiddenLayer(INDArray aPrev, INDArray block, INDArray z, INDArray act) {
        Nd4j.gemm(aPrev, block, z, false, false, 1.0, 0.0);
        if (activation == Activation.TANH) {
            Nd4j.exec(new Tanh(z, act));
        } else {
            Nd4j.exec(new RectifiedLinear(z, act, 0.0));
        }
    }

    /**
     * The forward-only pass: {@code out ← beta · out + f(params, [x1 || x2])}. Unlike the recorded
     * pass it keeps every buffer contiguous (strided element-wise ops cost up to 10× more in
     * libnd4j on large batches): biases are added by a rank-one GEMM with a ones column, the first
     * layer reads {@code x1} and {@code x2} through two GEMMs instead of a concatenation, and the
     * activation is applied in place. Hidden buffers are allocated per layer, which keeps each
     * allocation small enough to avoid the slow large-allocation path of the native allocator.
     */
    private INDArray forwardInto(INDArray p, INDArray x1, INDArray x2, int n, INDArray out, double beta) {
        int layers = numLayers();
        INDArray ones = Nd4j.ones(DataType.DOUBLE, n, 1);
        INDArray a = null;
        for (int l = 1; l <= layers; l++) {
            boolean hidden = l < layers;
            INDArray target = hidden ? Nd4j.createUninitialized(DataType.DOUBLE, n, sizes[l]) : out;
            boolean sigmoidForm = hidden && activation == Activation.TANH && target.length() >= SIGMOID_TANH_MIN_ELEMENTS;
            double alpha = sigmoidForm ? 2.0 : 1.0;
            double b = hidden ? 0.0 : beta;
            if (l > 1) {
                Nd4j.gemm(a, weights(p, l), target, false, false, alpha, b);
            } else if (x2 == null) {
                Nd4j.gemm(x1, weights(p, 1), target, false, false, alpha, b);
            } else {
                long k = x1.columns();
                Nd4j.gemm(x1, NdArrays.view(p, offsets[1], k, sizes[1]), target, false, false, alpha, b);
                Nd4j.gemm(x2, NdArrays.view(p, offsets[1] + k * sizes[1], sizes[0] - k, sizes[1]), target, false, false,
                        alpha, 1.0);
            }
            Nd4j.gemm(ones, NdArrays.view(p, biasOffset(l), 1, sizes[l]), target, false, false, alpha, 1.0);
            if (hidden) {
                if (sigmoidForm) {
                    Nd4j.exec(new Sigmoid(target, target));
                    target.muli(2.0).subi(1.0);
                } else if (activation == Activation.TANH) {
                    Nd4j.exec(new Tanh(target, target));
                } else {
                    Nd4j.exec(new RectifiedLinear(target, target, 0.0));
                }
                a = target;
            }
        }
        return out;
    }

    /** Equal when layer sizes and activation are equal. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Mlp other && Arrays.equals(sizes, other.sizes) && activation == other.activation;
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(sizes) + activation.hashCode();
    }

    @Override
    public String toString() {
        return "Mlp" + Arrays.toString(sizes) + "/" + activation;
    }
}

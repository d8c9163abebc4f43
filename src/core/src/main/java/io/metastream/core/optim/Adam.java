package io.metastream.core.optim;

import io.metastream.core.internal.ByteReader;
import io.metastream.core.internal.ByteWriter;
import io.metastream.core.internal.NdArrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.Axpy;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.DivOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.floating.Sqrt;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Adam (Kingma and Ba, 2015) with bias correction over one flat float64 parameter vector:
 * {@code m ← β1 m + (1-β1) g}, {@code v ← β2 v + (1-β2) g²},
 * {@code p ← p − lr/(1-β1^t) · m / (sqrt(v/(1-β2^t)) + ε)}.
 *
 * <h2>Threading and ownership</h2>
 * Not thread-safe. An instance is owned by the one caller that applies its steps (for example the
 * meta-learner's outer loop); its moment estimates are only meaningful for the parameter vector it
 * steps. Persist it with {@link #toBytes()} and restore with {@link #fromBytes(byte[])}.
 */
public final class Adam {

    static final int FORMAT_VERSION = 1;
    private static final String FORMAT = "Adam state";

    private final int numParams;
    private final double learningRate;
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final INDArray m;
    private final INDArray v;
    private final INDArray scratch;
    private long steps;

    /** Adam with {@code β1 = 0.9}, {@code β2 = 0.999}, {@code ε = 1e-8}. */
    public Adam(int numParams, double learningRate) {
        this(numParams, learningRate, 0.9, 0.999, 1e-8);
    }

    /**
     * @param numParams length of the parameter vectors this optimizer steps, positive
     * @param learningRate step size, positive and finite
     * @param beta1 decay of the first moment, in [0, 1)
     * @param beta2 decay of the second moment, in [0, 1)
     * @param epsilon denominator guard, positive
     */
    public Adam(int numParams, double learningRate, double beta1, double beta2, double epsilon) {
        this(numParams, learningRate, beta1, beta2, epsilon, null, null, 0);
    }

    private Adam(int numParams, double learningRate, double beta1, double beta2, double epsilon, double[] m, double[] v,
            long steps) {
        if (numParams <= 0) {
            throw new IllegalArgumentException("numParams is " + numParams + "; pass the length of the parameter vector (> 0)");
        }
        if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
            throw new IllegalArgumentException("learningRate is " + learningRate + "; use a finite value > 0, e.g. 1e-3");
        }
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("beta1 is " + beta1 + "; use a value in [0, 1), e.g. 0.9");
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("beta2 is " + beta2 + "; use a value in [0, 1), e.g. 0.999");
        }
        if (!(epsilon > 0) || !Double.isFinite(epsilon)) {
            throw new IllegalArgumentException("epsilon is " + epsilon + "; use a small finite value > 0, e.g. 1e-8");
        }
        if (steps < 0) {
            throw new IllegalArgumentException("steps is " + steps + "; it counts applied steps and cannot be negative");
        }
        this.numParams = numParams;
        this.learningRate = learningRate;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.m = m == null ? Nd4j.zeros(DataType.DOUBLE, 1, numParams) : NdArrays.row(m);
        this.v = v == null ? Nd4j.zeros(DataType.DOUBLE, 1, numParams) : NdArrays.row(v);
        this.scratch = Nd4j.zeros(DataType.DOUBLE, 1, numParams);
        this.steps = steps;
    }

    /**
     * Applies one step: updates {@code params} in place from {@code grad}. Both are DOUBLE arrays
     * with {@link #numParams()} elements; {@code grad} is not modified. Does not check finiteness:
     * callers that must not apply a non-finite step check before calling (or step a copy, see
     * {@link #copy()}).
     */
    public void step(INDArray params, INDArray grad) {
        NdArrays.requireDoubleLength(params, numParams, "params");
        NdArrays.requireDoubleLength(grad, numParams, "grad");
        // same-shape operands for the element-wise ops; reshape of a contiguous array is a view
        INDArray p = params.rank() == 2 && params.rows() == 1 ? params : params.reshape(1, numParams);
        INDArray g = grad.rank() == 2 && grad.rows() == 1 ? grad : grad.reshape(1, numParams);
        steps++;
        double bc1 = 1.0 - Math.pow(beta1, steps);
        double bc2 = 1.0 - Math.pow(beta2, steps);
        m.muli(beta1);
        Nd4j.exec(new Axpy(g, m, m, 1.0 - beta1));
        Nd4j.exec(new MulOp(g, g, scratch));
        v.muli(beta2);
        Nd4j.exec(new Axpy(scratch, v, v, 1.0 - beta2));
        // scratch = sqrt(v / bc2) + eps
        Nd4j.exec(new Sqrt(v, scratch));
        scratch.muli(1.0 / Math.sqrt(bc2)).addi(epsilon);
        Nd4j.exec(new DivOp(m, scratch, scratch));
        Nd4j.exec(new Axpy(scratch, p, p, -learningRate / bc1));
        if (p != params) {
            params.assign(p.reshape(params.shape())); // no-op copy when p is a view of params
        }
    }

    /** Number of steps applied so far (the bias-correction time {@code t}). */
    public long steps() {
        return steps;
    }

    public int numParams() {
        return numParams;
    }

    public double learningRate() {
        return learningRate;
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double epsilon() {
        return epsilon;
    }

    /** An independent copy with the same hyperparameters, moments and step count. */
    public Adam copy() {
        return new Adam(numParams, learningRate, beta1, beta2, epsilon, NdArrays.toFlatArray(m), NdArrays.toFlatArray(v), steps);
    }

    /**
     * Overwrites this optimizer's moments and step count with those of {@code source} (which must
     * step vectors of the same length), keeping this optimizer's hyperparameters. Two native copies
     * and no allocation: a learner keeps a preallocated backup and rolls a step back with it.
     */
    public void copyFrom(Adam source) {
        if (source == null) {
            throw new IllegalArgumentException("source is null; pass the Adam whose state to copy");
        }
        if (source.numParams != numParams) {
            throw new IllegalArgumentException("source steps " + source.numParams + " parameters but this optimizer steps "
                    + numParams + "; copy only between optimizers of the same parameter vector");
        }
        m.assign(source.m);
        v.assign(source.v);
        steps = source.steps;
    }

    /**
     * An independent copy that keeps the moments and step count but uses {@code newLearningRate},
     * e.g. when a restored learner runs with a changed configuration.
     */
    public Adam withLearningRate(double newLearningRate) {
        return new Adam(numParams, newLearningRate, beta1, beta2, epsilon, NdArrays.toFlatArray(m), NdArrays.toFlatArray(v),
                steps);
    }

    /**
     * Serialises hyperparameters, step count and moments. Format (little-endian): int format
     * version (1), int numParams, double learningRate, beta1, beta2, epsilon, long steps, then m and
     * v each as int length + doubles.
     */
    public byte[] toBytes() {
        return new ByteWriter(48 + 16 * numParams)
                .putInt(FORMAT_VERSION)
                .putInt(numParams)
                .putDouble(learningRate)
                .putDouble(beta1)
                .putDouble(beta2)
                .putDouble(epsilon)
                .putLong(steps)
                .putDoubles(NdArrays.toFlatArray(m))
                .putDoubles(NdArrays.toFlatArray(v))
                .toByteArray();
    }

    /**
     * Restores an optimizer written by {@link #toBytes()}.
     *
     * @throws IllegalArgumentException on an unknown format version, truncation or inconsistent
     *     lengths, saying which field is wrong
     */
    public static Adam fromBytes(byte[] bytes) {
        ByteReader r = new ByteReader(bytes, FORMAT);
        r.readVersion(FORMAT_VERSION);
        int n = r.readCount("numParams", Integer.MAX_VALUE);
        double lr = r.readDouble("learningRate");
        double b1 = r.readDouble("beta1");
        double b2 = r.readDouble("beta2");
        double eps = r.readDouble("epsilon");
        long steps = r.readLong("steps");
        double[] m = r.readDoubles("first moment m", n);
        double[] v = r.readDoubles("second moment v", n);
        r.expectEnd();
        return new Adam(n, lr, b1, b2, eps, m, v, steps);
    }
}

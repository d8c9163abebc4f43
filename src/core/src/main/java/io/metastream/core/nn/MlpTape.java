package io.metastream.core.nn;

import io.metastream.core.internal.NdArrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.Axpy;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One recorded forward and backward pass of an {@link Mlp} at fixed parameters and data: the loss,
 * its gradient, and exact Hessian-vector products that reuse the recorded activations. Created by
 * {@link Mlp#tape}. A second-order meta-gradient needs the gradient at {@code φ_j} during the inner
 * loop and {@code H(φ_j) v} afterwards; the tape computes the forward/backward pass once for both.
 *
 * <h2>Threading and ownership</h2>
 * Not thread-safe: one tape belongs to one caller. The tape keeps references to the parameters and
 * data it was created with; they must not be mutated while the tape is used. Arrays returned by
 * {@link #gradient()} and {@link #hessianVectorProduct} belong to the caller.
 *
 * <h2>Math</h2>
 * With {@code a_0 = x}, {@code z_l = a_{l-1} W_l + b_l}, {@code a_l = σ(z_l)} for hidden layers and
 * a linear output {@code z_L}, the MSE gives {@code δ_L = c (z_L - y)} with {@code c = 2 / (n·out)},
 * {@code δ_{l-1} = (δ_l W_l^T) ⊙ σ'(z_{l-1})}, {@code ∇W_l = a_{l-1}^T δ_l}. The R-operator in
 * direction {@code V} propagates {@code R(z_l) = R(a_{l-1}) W_l + a_{l-1} V_W + V_b},
 * {@code R(a_l) = σ'(z_l) ⊙ R(z_l)}, then backwards {@code R(∇W_l) = R(a_{l-1})^T δ_l + a_{l-1}^T R(δ_l)}
 * and {@code R(δ_{l-1}) = [R(δ_l) W_l^T + δ_l V_W^T] ⊙ σ' + (δ_l W_l^T) ⊙ R(σ')} where for tanh
 * {@code σ' = 1 - a²} and {@code R(σ') = -2 a ⊙ R(a)}; for ReLU {@code R(σ') = 0}.
 *
 * <h2>Cost</h2>
 * Inputs are augmented with a column of ones so that each layer's weights and bias (contiguous in
 * the flat layout) apply in one GEMM, forward and backward. For {@code H} hidden layers a pass is
 * about {@code 4H + 3} ops forward and {@code 3H + 1} backward; a Hessian-vector product about
 * {@code 9H + 3}. All buffers and their views are made once per tape: within package
 * {@code nn} a tape can be re-recorded with new parameters and data ({@link InnerLoop} does), so a
 * steady-state meta-gradient allocates almost nothing.
 */
public final class MlpTape {

    private final Mlp mlp;
    private final int n;
    private final int layers;
    private final double c;
    private final boolean tanh;

    /** a[l], l = 0..L-1: augmented inputs of layer l+1, {@code [n, s_l + 1]} (last column ones). */
    private final INDArray[] a;
    /** x0: the input columns of a[0]; act[l], l = 1..L-1: the activation columns of a[l]. */
    private final INDArray x0;
    private final INDArray[] act;
    /** Hidden pre-activation z[l], derivative d[l] = σ'(z[l]), dL/da dh[l], dL/dz delta[l]. */
    private final INDArray[] z;
    private final INDArray[] d;
    private final INDArray[] dh;
    private final INDArray[] delta;
    /** Output minus target, {@code [n, out]}; δ_L = c · residual. */
    private final INDArray residual;

    private FlatVector params;
    private double loss = Double.NaN;
    private FlatVector grad;
    /** dh and delta hold this recording's backward pass. */
    private boolean backwardDone;
    /** grad holds this recording's gradient. */
    private boolean gradientValid;
    private boolean dhTimesAValid;

    // Hessian-vector product buffers, allocated on first use.
    private INDArray[] rz;
    private INDArray[] ra;
    private INDArray[] rdelta;
    private INDArray[] tmp;
    private INDArray[] dhTimesA;
    private FlatVector hv;
    private FlatVector vCopy;

    /** An unrecorded tape for batches of {@code n} rows; see {@link #record}. */
    MlpTape(Mlp mlp, int n) {
        this.mlp = mlp;
        this.n = n;
        this.layers = mlp.numLayers();
        this.c = 2.0 / ((double) n * mlp.outputSize());
        this.tanh = mlp.activation() == Activation.TANH;

        Scratch s = new Scratch();
        int[] ha = new int[layers];
        int[] hz = new int[layers];
        int[] hd = new int[layers];
        int[] hdh = new int[layers];
        int[] hdelta = new int[layers];
        for (int l = 0; l < layers; l++) {
            ha[l] = s.augmented(n, mlp.size(l));
            if (l > 0) {
                hz[l] = s.plain(n, mlp.size(l));
                hd[l] = s.plain(n, mlp.size(l));
                hdh[l] = s.plain(n, mlp.size(l));
                hdelta[l] = s.plain(n, mlp.size(l));
            }
        }
        int hres = s.plain(n, mlp.outputSize());
        INDArray[] m = s.allocate();
        a = new INDArray[layers];
        act = new INDArray[layers];
        z = new INDArray[layers];
        d = new INDArray[layers];
        dh = new INDArray[layers];
        delta = new INDArray[layers];
        for (int l = 0; l < layers; l++) {
            a[l] = m[ha[l]];
            if (l > 0) {
                act[l] = NdArrays.leadingColumns(a[l], mlp.size(l));
                z[l] = m[hz[l]];
                d[l] = m[hd[l]];
                dh[l] = m[hdh[l]];
                delta[l] = m[hdelta[l]];
            }
        }
        x0 = NdArrays.leadingColumns(a[0], mlp.size(0));
        residual = m[hres];
    }

    /** Number of rows the tape records. */
    int rows() {
        return n;
    }

    /**
     * Runs the forward pass at {@code p} on {@code x [n, in]}, {@code y [n, out]} (shapes checked by
     * the caller) and records it; the gradient is computed on demand. {@code p} is kept by
     * reference and must not change until the tape is recorded again.
     */
    void record(FlatVector p, INDArray x, INDArray y) {
        this.params = p;
        this.backwardDone = false;
        this.gradientValid = false;
        this.dhTimesAValid = false;
        x0.assign(x);
        for (int l = 1; l < layers; l++) {
            mlp.hiddenLayer(a[l - 1], p.block[l], z[l], act[l]);
            if (tanh) {
                // σ' = 1 − a², from the activations: cheaper than tanh_derivative, which recomputes tanh
                Nd4j.exec(new MulOp(act[l], act[l], d[l]));
                d[l].rsubi(1.0);
            } else {
                Nd4j.exec(new Step(act[l], d[l], 0.0)); // relu(z) > 0 exactly when z > 0
            }
        }
        residual.assign(y);
        Nd4j.gemm(a[layers - 1], p.block[layers], residual, false, false, 1.0, -1.0);
        loss = Nd4j.getBlasWrapper().dot(residual, residual) / ((double) n * mlp.outputSize());
    }

    /** The backward pass into the tape's gradient buffer (reused by the next call after a record). */
    FlatVector backward() {
        if (gradientValid) {
            return grad;
        }
        if (grad == null) {
            grad = new FlatVector(mlp);
        }
        for (int l = layers; l >= 1; l--) {
            INDArray del = l == layers ? residual : delta[l];
            double ds = l == layers ? c : 1.0;
            Nd4j.gemm(a[l - 1], del, grad.block[l], true, false, ds, 0.0);
            if (l > 1) {
                Nd4j.gemm(del, params.weights[l], dh[l - 1], false, true, ds, 0.0);
                Nd4j.exec(new MulOp(dh[l - 1], d[l - 1], delta[l - 1]));
            }
        }
        backwardDone = true;
        gradientValid = true;
        return grad;
    }

    /** {@code H v} into the tape's product buffer (overwritten by the next call). */
    FlatVector hvp(FlatVector v) {
        if (!backwardDone) {
            backward(); // fills dh and delta
        }
        ensureHvpBuffers();
        if (tanh && !dhTimesAValid) {
            for (int h = 1; h < layers; h++) {
                Nd4j.exec(new MulOp(dh[h], act[h], dhTimesA[h]));
            }
            dhTimesAValid = true;
        }
        // forward R-pass
        for (int l = 1; l <= layers; l++) {
            Nd4j.gemm(a[l - 1], v.block[l], rz[l], false, false, 1.0, 0.0);
            if (l > 1) {
                Nd4j.gemm(ra[l - 1], params.weights[l], rz[l], false, false, 1.0, 1.0);
            }
            if (l < layers) {
                Nd4j.exec(new MulOp(d[l], rz[l], ra[l]));
            }
        }
        // backward R-pass; R(δ_L) = c R(z_L)
        for (int l = layers; l >= 1; l--) {
            INDArray del = l == layers ? residual : delta[l];
            double ds = l == layers ? c : 1.0;
            INDArray rdel = l == layers ? rz[layers] : rdelta[l];
            double rs = l == layers ? c : 1.0;
            Nd4j.gemm(a[l - 1], rdel, hv.block[l], true, false, rs, 0.0);
            if (l > 1) {
                int h = l - 1;
                Nd4j.gemm(ra[h], del, hv.weights[l], true, false, ds, 1.0);
                INDArray t = rdelta[h];
                Nd4j.gemm(rdel, params.weights[l], t, false, true, rs, 0.0);
                Nd4j.gemm(del, v.weights[l], t, false, true, ds, 1.0);
                Nd4j.exec(new MulOp(t, d[h], t));
                if (tanh) {
                    Nd4j.exec(new MulOp(dhTimesA[h], ra[h], tmp[h]));
                    Nd4j.exec(new Axpy(tmp[h], t, t, -2.0));
                }
            }
        }
        return hv;
    }

    public Mlp mlp() {
        return mlp;
    }

    /** Number of rows of the recorded batch. */
    public int batchSize() {
        return n;
    }

    /** The mean squared error at the recorded parameters and data. */
    public double loss() {
        return loss;
    }

    /** The gradient {@code [1, numParams]} of the loss, as a new array owned by the caller. */
    public INDArray gradient() {
        FlatVector g = backward();
        // hand the buffer over instead of copying it; the tape's next backward pass gets a new one
        grad = null;
        gradientValid = false;
        return g.array;
    }

    /**
     * The exact Hessian of the loss at the recorded parameters times {@code v} (see the class
     * comment for the R-operator equations).
     *
     * @param v {@code [1, numParams]} DOUBLE; not modified
     * @return a new {@code [1, numParams]} array owned by the caller
     */
    public INDArray hessianVectorProduct(INDArray v) {
        INDArray vv = mlp.checkParams(v, "v");
        if (vCopy == null) {
            vCopy = new FlatVector(mlp);
        }
        vCopy.array.assign(vv);
        FlatVector out = hvp(vCopy);
        hv = null; // handed over; the next product gets a new buffer
        return out.array;
    }

    private void ensureHvpBuffers() {
        if (hv == null) {
            hv = new FlatVector(mlp);
        }
        if (rz != null) {
            return;
        }
        Scratch s = new Scratch();
        int[] hrz = new int[layers + 1];
        int[] hra = new int[layers];
        int[] hrd = new int[layers];
        int[] ht = new int[layers];
        int[] hs = new int[layers];
        for (int l = 1; l <= layers; l++) {
            hrz[l] = s.plain(n, mlp.size(l));
            if (l < layers) {
                hra[l] = s.plain(n, mlp.size(l));
                hrd[l] = s.plain(n, mlp.size(l));
                if (tanh) {
                    ht[l] = s.plain(n, mlp.size(l));
                    hs[l] = s.plain(n, mlp.size(l));
                }
            }
        }
        INDArray[] m = s.allocate();
        rz = new INDArray[layers + 1];
        ra = new INDArray[layers];
        rdelta = new INDArray[layers];
        tmp = new INDArray[layers];
        dhTimesA = new INDArray[layers];
        for (int l = 1; l <= layers; l++) {
            rz[l] = m[hrz[l]];
            if (l < layers) {
                ra[l] = m[hra[l]];
                rdelta[l] = m[hrd[l]];
                if (tanh) {
                    tmp[l] = m[ht[l]];
                    dhTimesA[l] = m[hs[l]];
                }
            }
        }
    }
}

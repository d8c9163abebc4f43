package io.metastream.core.nn;

import io.metastream.core.internal.NdArrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.Axpy;
import org.nd4j.linalg.factory.Nd4j;

/**
 * MAML's inner loop on an {@link Mlp} and its exact meta-gradient, with buffers reused across calls.
 * The inner loop is {@code φ_0 = θ}, {@code φ_{j+1} = φ_j − α ∇L(φ_j; x_a, y_a)} for
 * {@code j < k}; the meta-objective is {@code L(φ_k; x_e, y_e)} and its gradient
 * {@code (I − α H(φ_0)) ⋯ (I − α H(φ_{k−1})) ∇L(φ_k; x_e, y_e)}, computed right to left with exact
 * Hessian-vector products ({@link MlpTape}).
 *
 * <p>Each call reuses one recorded pass per inner step, their views and the parameter buffers
 * (re-allocated only when the batch sizes change), so a steady stream of calls allocates almost
 * nothing besides the returned arrays; ND4J charges about 5 µs for each new array or view.
 *
 * <h2>Threading and ownership</h2>
 * Not thread-safe: an instance belongs to one thread (for instance through a {@link ThreadLocal}
 * held by a stateless caller). Arguments are not modified; returned arrays belong to the caller.
 */
public final class InnerLoop {

    private final Mlp mlp;
    private final double innerLr;
    private final int innerSteps;
    private MlpTape[] adaptTapes;
    private MlpTape evalTape;
    /** phis[j] = φ_j for j = 0..k (phis[0] = θ). */
    private final FlatVector[] phis;
    /** Meta-SGD only: grads[j] = ∇L(φ_j; x_a, y_a), and α ⊙ v. */
    private FlatVector[] grads;
    private FlatVector scaled;

    /**
     * @param innerLr step size α, finite and positive
     * @param innerSteps number of inner steps k, at least 0
     */
    public InnerLoop(Mlp mlp, double innerLr, int innerSteps) {
        if (mlp == null) {
            throw new IllegalArgumentException("mlp is null");
        }
        if (!(innerLr > 0) || !Double.isFinite(innerLr)) {
            throw new IllegalArgumentException("innerLr is " + innerLr + "; use a finite value > 0");
        }
        if (innerSteps < 0) {
            throw new IllegalArgumentException("innerSteps is " + innerSteps + "; use a value >= 0");
        }
        this.mlp = mlp;
        this.innerLr = innerLr;
        this.innerSteps = innerSteps;
        this.phis = new FlatVector[innerSteps + 1];
        for (int j = 0; j <= innerSteps; j++) {
            phis[j] = new FlatVector(mlp);
        }
    }

    public Mlp mlp() {
        return mlp;
    }

    public double innerLr() {
        return innerLr;
    }

    public int innerSteps() {
        return innerSteps;
    }

    /**
     * The adapted parameters {@code φ_k} for {@code θ} and adaptation data {@code x [n, in]},
     * {@code y [n, out]}.
     *
     * @return a new {@code [1, numParams]} array; {@code theta} is untouched
     */
    public INDArray adapt(INDArray theta, INDArray x, INDArray y) {
        int n = checkData(x, y, "x", "y");
        runInnerLoop(theta, null, x, y, n);
        return phis[innerSteps].array.dup();
    }

    /**
     * Meta-SGD's inner loop (Li et al. 2017): {@code φ_{j+1} = φ_j − α ⊙ ∇L(φ_j)} with one learned
     * step size per parameter.
     *
     * @param stepSizes α, {@code [1, numParams]} DOUBLE
     * @return a new {@code [1, numParams]} array; the arguments are untouched
     */
    public INDArray adapt(INDArray theta, INDArray stepSizes, INDArray x, INDArray y) {
        int n = checkData(x, y, "x", "y");
        NdArrays.requireDoubleLength(stepSizes, mlp.numParams(), "stepSizes");
        runInnerLoop(theta, stepSizes, x, y, n);
        return phis[innerSteps].array.dup();
    }

    /**
     * Meta-SGD's meta-gradient: of {@code (θ, α) ↦ L(φ_k(θ, α); xEval, yEval)} with respect to both,
     * as one {@code [1, 2 numParams]} array ({@code θ}'s part first). Backwards from
     * {@code v = ∇L(φ_k)}: {@code ∂/∂α += −∇L_a(φ_j) ⊙ v}, then {@code v ← v − H_j (α ⊙ v)} (dropped
     * with {@code firstOrder}).
     */
    public Result metaGradient(INDArray theta, INDArray stepSizes, INDArray xAdapt, INDArray yAdapt, INDArray xEval,
            INDArray yEval, boolean firstOrder) {
        int m = checkData(xAdapt, yAdapt, "xAdapt", "yAdapt");
        checkData(xEval, yEval, "xEval", "yEval");
        NdArrays.requireDoubleLength(stepSizes, mlp.numParams(), "stepSizes");
        INDArray alpha = stepSizes.reshape(1, mlp.numParams());
        runInnerLoop(theta, alpha, xAdapt, yAdapt, m);
        double[] losses = new double[2];
        FlatVector v = evalGradient(xEval, yEval, losses);
        INDArray gAlpha = Nd4j.zeros(DataType.DOUBLE, 1, mlp.numParams());
        if (scaled == null) {
            scaled = new FlatVector(mlp);
        }
        for (int j = innerSteps - 1; j >= 0; j--) {
            Nd4j.exec(new MulOp(grads[j].array, v.array, scaled.array));
            gAlpha.subi(scaled.array);
            if (!firstOrder) {
                Nd4j.exec(new MulOp(alpha, v.array, scaled.array));
                FlatVector hv = adaptTapes[j].hvp(scaled);
                v.array.subi(hv.array);
            }
        }
        double[] both = java.util.Arrays.copyOf(NdArrays.toFlatArray(v.array), 2 * mlp.numParams());
        System.arraycopy(NdArrays.toFlatArray(gAlpha), 0, both, mlp.numParams(), mlp.numParams());
        return new Result(NdArrays.row(both), losses[0], losses[1]);
    }

    /**
     * The meta-gradient of {@code θ ↦ L(φ_k(θ); xEval, yEval)} and the evaluation losses before
     * ({@code L(θ)}) and after ({@code L(φ_k)}) adaptation. With {@code firstOrder} the Hessian
     * terms are dropped (the gradient is {@code ∇L(φ_k; xEval, yEval)}).
     */
    public Result metaGradient(INDArray theta, INDArray xAdapt, INDArray yAdapt, INDArray xEval, INDArray yEval,
            boolean firstOrder) {
        int m = checkData(xAdapt, yAdapt, "xAdapt", "yAdapt");
        checkData(xEval, yEval, "xEval", "yEval");
        runInnerLoop(theta, null, xAdapt, yAdapt, m);
        double[] losses = new double[2];
        FlatVector v = evalGradient(xEval, yEval, losses);
        if (!firstOrder) {
            for (int j = innerSteps - 1; j >= 0; j--) {
                FlatVector hv = adaptTapes[j].hvp(v);
                Nd4j.exec(new Axpy(hv.array, v.array, v.array, -innerLr));
            }
        }
        return new Result(v.array.dup(), losses[0], losses[1]);
    }

    /** Records the evaluation pass at φ_k; {@code losses} gets L(θ) and L(φ_k); returns ∇L(φ_k) (the tape's buffer). */
    private FlatVector evalGradient(INDArray xEval, INDArray yEval, double[] losses) {
        int k = (int) xEval.rows();
        if (evalTape == null || evalTape.rows() != k) {
            evalTape = new MlpTape(mlp, k);
        }
        if (innerSteps > 0) {
            evalTape.record(phis[0], xEval, yEval);
            losses[0] = evalTape.loss();
        }
        evalTape.record(phis[innerSteps], xEval, yEval);
        losses[1] = evalTape.loss();
        if (innerSteps == 0) {
            losses[0] = losses[1];
        }
        return evalTape.backward();
    }

    /**
     * Sets phis[0] = θ and runs the k inner steps (of size innerLr, or α per parameter when
     * {@code alpha} is not null, keeping each step's gradient), leaving tape j recorded at φ_j.
     */
    private void runInnerLoop(INDArray theta, INDArray alpha, INDArray x, INDArray y, int n) {
        NdArrays.requireDoubleLength(theta, mlp.numParams(), "theta");
        phis[0].array.assign(theta.rank() == 2 && theta.rows() == 1 ? theta : theta.reshape(1, mlp.numParams()));
        if (adaptTapes == null || (innerSteps > 0 && adaptTapes[0].rows() != n)) {
            adaptTapes = new MlpTape[innerSteps];
            for (int j = 0; j < innerSteps; j++) {
                adaptTapes[j] = new MlpTape(mlp, n);
            }
        }
        for (int j = 0; j < innerSteps; j++) {
            adaptTapes[j].record(phis[j], x, y);
            FlatVector g = adaptTapes[j].backward();
            if (alpha == null) {
                Nd4j.exec(new Axpy(g.array, phis[j].array, phis[j + 1].array, -innerLr));
            } else {
                if (grads == null) {
                    grads = new FlatVector[innerSteps];
                    for (int i = 0; i < innerSteps; i++) {
                        grads[i] = new FlatVector(mlp);
                    }
                }
                grads[j].array.assign(g.array);
                Nd4j.exec(new MulOp(alpha, g.array, phis[j + 1].array));
                Nd4j.exec(new Axpy(phis[j].array, phis[j + 1].array, phis[j + 1].array, -1.0));
                phis[j + 1].array.negi();
            }
        }
    }

    private int checkData(INDArray x, INDArray y, String xName, String yName) {
        int n = NdArrays.requireDoubleMatrix(x, -1, mlp.inputSize(), xName);
        NdArrays.requireDoubleMatrix(y, n, mlp.outputSize(), yName);
        return n;
    }

    /**
     * A meta-gradient {@code [1, numParams]} (owned by the caller) with the evaluation losses before
     * and after adaptation.
     */
    public record Result(INDArray gradient, double preAdaptLoss, double postAdaptLoss) {}
}

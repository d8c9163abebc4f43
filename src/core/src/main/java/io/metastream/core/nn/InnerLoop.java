package io.metastream.core.nn;

import io.metastream.core.internal.NdArrays;
import org.nd4j.linalg.api.ndarray.INDArray;
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
        runInnerLoop(theta, x, y, n);
        return phis[innerSteps].array.dup();
    }

    /**
     * The meta-gradient of {@code θ ↦ L(φ_k(θ); xEval, yEval)} and the evaluation losses before
     * ({@code L(θ)}) and after ({@code L(φ_k)}) adaptation. With {@code firstOrder} the Hessian
     * terms are dropped (the gradient is {@code ∇L(φ_k; xEval, yEval)}).
     */
    public Result metaGradient(INDArray theta, INDArray xAdapt, INDArray yAdapt, INDArray xEval, INDArray yEval,
            boolean firstOrder) {
        int m = checkData(xAdapt, yAdapt, "xAdapt", "yAdapt");
        int k = checkData(xEval, yEval, "xEval", "yEval");
        runInnerLoop(theta, xAdapt, yAdapt, m);
        if (evalTape == null || evalTape.rows() != k) {
            evalTape = new MlpTape(mlp, k);
        }
        double pre = Double.NaN;
        if (innerSteps > 0) {
            evalTape.record(phis[0], xEval, yEval);
            pre = evalTape.loss();
        }
        evalTape.record(phis[innerSteps], xEval, yEval);
        double post = evalTape.loss();
        if (innerSteps == 0) {
            pre = post;
        }
        FlatVector v = evalTape.backward();
        if (!firstOrder) {
            for (int j = innerSteps - 1; j >= 0; j--) {
                FlatVector hv = adaptTapes[j].hvp(v);
                Nd4j.exec(new Axpy(hv.array, v.array, v.array, -innerLr));
            }
        }
        return new Result(v.array.dup(), pre, post);
    }

    /** Sets phis[0] = θ and runs the k inner steps, leaving tape j recorded at φ_j. */
    private void runInnerLoop(INDArray theta, INDArray x, INDArray y, int n) {
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
            Nd4j.exec(new Axpy(g.array, phis[j].array, phis[j + 1].array, -innerLr));
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

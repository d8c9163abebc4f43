package io.metastream.core.grbal;

import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.Activation;
import io.metastream.core.nn.Mlp;
import java.util.Arrays;

/**
 * Last-layer adaptation solved exactly: the network's hidden layers give features {@code Φ} (with a
 * constant 1 for the bias), and the output layer {@code W = [W_L; b_L]} is replaced by the ridge
 * regression of the adaptation window's targets on its features, shrunk toward θ's own output layer
 * {@code W_0}:
 * <pre>
 *   W = (ΦᵀΦ + λ I)⁻¹ (Φᵀ Y + λ W_0)
 * </pre>
 * the posterior mean of Bayesian linear regression with prior {@code N(W_0, σ²/λ)}, i.e. gradient
 * descent on the last layer run to convergence with a learned pull toward θ. {@code λ = exp(logλ)}
 * (log λ clamped to ±20) is meta-learned with the network; all in the normaliser's space. A network without hidden layers
 * uses its inputs as features.
 *
 * <h2>Meta-gradient</h2>
 * With {@code G = ∂L/∂W} from the evaluation window and {@code Ĝ = A⁻¹G} ({@code A = ΦᵀΦ + λI}
 * symmetric): {@code ∂L/∂W_0 = λĜ}, {@code ∂L/∂λ = Σ Ĝ ⊙ (W_0 − W)},
 * {@code ∂L/∂Φ = (Y − ΦW)Ĝᵀ − ΦĜWᵀ} on the adaptation window, and the evaluation window's own
 * {@code ∂L/∂Φ_e}; both flow back through the hidden layers.
 *
 * <p>Thread-safe: stateless apart from its sizes.
 */
public final class RidgeAdaptation {

    private final Mlp mlp;
    /** The hidden layers as a network whose (linear) output is the last hidden pre-activation; null without hidden layers. */
    private final Mlp hidden;
    private final int features;
    private final int out;
    /** Offset of the output block [W_L; b_L] in the flat parameters. */
    private final int lastBlock;

    public RidgeAdaptation(Mlp mlp) {
        if (mlp == null) {
            throw new IllegalArgumentException("mlp is null");
        }
        this.mlp = mlp;
        int[] sizes = mlp.layerSizes();
        int layers = mlp.numLayers();
        this.hidden = layers > 1 ? new Mlp(Arrays.copyOf(sizes, layers), mlp.activation()) : null;
        this.features = sizes[layers - 1];
        this.out = sizes[layers];
        this.lastBlock = (int) mlp.weightOffset(layers);
    }

    /** Largest |log λ| used; beyond it λ is clamped, so a published rule can neither make the system singular nor overflow. */
    static final double MAX_LOG_LAMBDA = 20;

    private static double lambda(double logLambda) {
        return Math.exp(Math.max(-MAX_LOG_LAMBDA, Math.min(MAX_LOG_LAMBDA, logLambda)));
    }

    /** The adapted network: {@code theta} with its output layer solved on the window. */
    public double[] adapt(double[] theta, double logLambda, double[] x, double[] y, int rows) {
        return adaptAndScore(theta, logLambda, x, y, rows).params();
    }

    /**
     * {@link #adapt}, and the window's loss (MSE over rows and outputs, as {@link Mlp#loss}) before and
     * after it: both from the features the solve computes anyway (only the output layer changes), so no
     * further pass through the network.
     */
    public Adapted adaptAndScore(double[] theta, double logLambda, double[] x, double[] y, int rows) {
        requireTheta(theta);
        double[][] phi = features(theta, x, rows, null);
        double lambda = lambda(logLambda);
        double[][] a = gram(phi, lambda);
        double[][] chol = cholesky(a);
        double[][] w = solve(chol, rhs(phi, y, theta, lambda));
        double[] adapted = theta.clone();
        writeBlock(w, adapted);
        return new Adapted(adapted, loss(phi, block(theta), y), loss(phi, w, y));
    }

    /** The adapted parameters and the window's loss before and after. */
    public record Adapted(double[] params, double lossBefore, double lossAfter) {}

    private double loss(double[][] phi, double[][] w, double[] y) {
        double sum = 0;
        for (int i = 0; i < phi.length; i++) {
            double[] row = phi[i];
            for (int j = 0; j < out; j++) {
                double f = 0;
                for (int k = 0; k <= features; k++) {
                    f += row[k] * w[k][j];
                }
                double d = y[i * out + j] - f;
                sum += d * d;
            }
        }
        return sum / ((double) phi.length * out);
    }

    /**
     * The meta-gradient of {@code (θ, logλ) ↦ L(adapt(θ, logλ; x_a, y_a); x_e, y_e)} as
     * {@code [∂/∂θ..., ∂/∂logλ]}, and the evaluation losses before and after adaptation.
     */
    public Result metaGradient(double[] theta, double logLambda, double[] xa, double[] ya, int rowsA, double[] xe,
            double[] ye, int rowsE) {
        requireTheta(theta);
        double lambda = lambda(logLambda);
        double[][] preA = new double[rowsA][];
        double[][] phiA = features(theta, xa, rowsA, preA);
        double[][] preE = new double[rowsE][];
        double[][] phiE = features(theta, xe, rowsE, preE);
        double[][] chol = cholesky(gram(phiA, lambda));
        double[][] w0 = block(theta);
        double[][] w = solve(chol, rhs(phiA, ya, theta, lambda));
        // evaluation loss: mean over rowsE * out of (Φ_e W − Y_e)²
        double scale = 2.0 / ((double) rowsE * out);
        double[][] res = new double[rowsE][out];
        double post = 0;
        double pre = 0;
        for (int i = 0; i < rowsE; i++) {
            for (int j = 0; j < out; j++) {
                double p = 0;
                double p0 = 0;
                for (int f = 0; f <= features; f++) {
                    p += phiE[i][f] * w[f][j];
                    p0 += phiE[i][f] * w0[f][j];
                }
                double r = p - ye[i * out + j];
                double r0 = p0 - ye[i * out + j];
                res[i][j] = r;
                post += r * r;
                pre += r0 * r0;
            }
        }
        post /= (double) rowsE * out;
        pre /= (double) rowsE * out;
        double[][] g = new double[features + 1][out]; // ∂L/∂W
        double[][] dPhiE = new double[rowsE][features + 1];
        for (int i = 0; i < rowsE; i++) {
            for (int j = 0; j < out; j++) {
                double rs = scale * res[i][j];
                for (int f = 0; f <= features; f++) {
                    g[f][j] += phiE[i][f] * rs;
                    dPhiE[i][f] += rs * w[f][j];
                }
            }
        }
        double[][] gHat = solve(chol, g);
        double[] grad = new double[theta.length + 1];
        // W_0 and λ
        double dLambda = 0;
        for (int f = 0; f <= features; f++) {
            for (int j = 0; j < out; j++) {
                grad[lastBlock + f * out + j] = lambda * gHat[f][j];
                dLambda += gHat[f][j] * (w0[f][j] - w[f][j]);
            }
        }
        grad[theta.length] = Math.abs(logLambda) <= MAX_LOG_LAMBDA ? lambda * dLambda : 0; // d/dlogλ, 0 where clamped
        // ∂L/∂Φ_a = (Y − ΦW) Ĝᵀ − Φ Ĝ Wᵀ
        double[][] dPhiA = new double[rowsA][features + 1];
        double[][] gw = new double[features + 1][features + 1]; // Ĝ Wᵀ
        for (int f = 0; f <= features; f++) {
            for (int k = 0; k <= features; k++) {
                double s = 0;
                for (int j = 0; j < out; j++) {
                    s += gHat[f][j] * w[k][j];
                }
                gw[f][k] = s;
            }
        }
        for (int i = 0; i < rowsA; i++) {
            double[] r = new double[out];
            for (int j = 0; j < out; j++) {
                double p = 0;
                for (int f = 0; f <= features; f++) {
                    p += phiA[i][f] * w[f][j];
                }
                r[j] = ya[i * out + j] - p;
            }
            for (int k = 0; k <= features; k++) {
                double s = 0;
                for (int j = 0; j < out; j++) {
                    s += r[j] * gHat[k][j];
                }
                for (int f = 0; f <= features; f++) {
                    s -= phiA[i][f] * gw[f][k];
                }
                dPhiA[i][k] = s;
            }
        }
        if (hidden != null) {
            backThroughHidden(theta, xa, rowsA, preA, dPhiA, grad);
            backThroughHidden(theta, xe, rowsE, preE, dPhiE, grad);
        }
        return new Result(grad, pre, post);
    }

    /** Adds to {@code grad}'s prefix the hidden layers' gradient for feature gradients {@code dPhi}. */
    private void backThroughHidden(double[] theta, double[] x, int rows, double[][] pre, double[][] dPhi, double[] grad) {
        double[] dz = new double[rows * features];
        for (int i = 0; i < rows; i++) {
            for (int f = 0; f < features; f++) {
                dz[i * features + f] = dPhi[i][f] * activationDerivative(pre[i][f]);
            }
        }
        Mlp.Backward b = hidden.backward(NdArrays.row(Arrays.copyOf(theta, hidden.numParams())),
                NdArrays.matrix(x, rows, mlp.inputSize()), NdArrays.matrix(dz, rows, features));
        double[] g = NdArrays.toFlatArray(b.paramGradient());
        for (int i = 0; i < g.length; i++) {
            grad[i] += g[i];
        }
    }

    private double activate(double z) {
        return mlp.activation() == Activation.TANH ? Activation.tanh(z) : Math.max(0, z);
    }

    private double activationDerivative(double z) {
        if (mlp.activation() == Activation.TANH) {
            double t = Activation.tanh(z);
            return 1 - t * t;
        }
        return z > 0 ? 1 : 0;
    }

    /** Features with a trailing 1, {@code [rows][features + 1]}; the pre-activations go to {@code pre} when given. */
    private double[][] features(double[] theta, double[] x, int rows, double[][] pre) {
        int in = mlp.inputSize();
        if (x.length < (long) rows * in) {
            throw new IllegalArgumentException("ridge adaptation needs " + rows + " rows of " + in + " inputs, got "
                    + x.length + " values");
        }
        double[][] phi = new double[rows][features + 1];
        if (hidden == null) {
            for (int i = 0; i < rows; i++) {
                System.arraycopy(x, i * in, phi[i], 0, in);
                phi[i][features] = 1;
            }
            return phi;
        }
        double[] z = mlp.preActivation(theta, x, rows, mlp.numLayers() - 1); // plain Java: no ND4J per-call cost
        for (int i = 0; i < rows; i++) {
            if (pre != null) {
                pre[i] = Arrays.copyOfRange(z, i * features, (i + 1) * features);
            }
            for (int f = 0; f < features; f++) {
                phi[i][f] = activate(z[i * features + f]);
            }
            phi[i][features] = 1;
        }
        return phi;
    }

    private static double[][] gram(double[][] phi, double lambda) {
        int d = phi.length == 0 ? 0 : phi[0].length;
        if (phi.length == 0) {
            throw new IllegalArgumentException("ridge adaptation needs at least one transition");
        }
        double[][] a = new double[d][d];
        for (double[] row : phi) {
            for (int f = 0; f < d; f++) {
                double v = row[f];
                if (v == 0) {
                    continue;
                }
                for (int k = 0; k <= f; k++) {
                    a[f][k] += v * row[k];
                }
            }
        }
        for (int f = 0; f < d; f++) {
            a[f][f] += lambda;
            for (int k = 0; k < f; k++) {
                a[k][f] = a[f][k];
            }
        }
        return a;
    }

    private double[][] rhs(double[][] phi, double[] y, double[] theta, double lambda) {
        double[][] b = block(theta);
        for (double[] row : b) {
            for (int j = 0; j < out; j++) {
                row[j] *= lambda;
            }
        }
        for (int i = 0; i < phi.length; i++) {
            for (int f = 0; f <= features; f++) {
                double v = phi[i][f];
                for (int j = 0; j < out; j++) {
                    b[f][j] += v * y[i * out + j];
                }
            }
        }
        return b;
    }

    /** θ's output block {@code [features + 1][out]} (weights, then the bias row). */
    private double[][] block(double[] theta) {
        double[][] w = new double[features + 1][out];
        for (int f = 0; f <= features; f++) {
            System.arraycopy(theta, lastBlock + f * out, w[f], 0, out);
        }
        return w;
    }

    private void writeBlock(double[][] w, double[] theta) {
        for (int f = 0; f <= features; f++) {
            System.arraycopy(w[f], 0, theta, lastBlock + f * out, out);
        }
    }

    /** Lower Cholesky factor of a symmetric positive definite matrix. */
    private static double[][] cholesky(double[][] a) {
        int d = a.length;
        double[][] l = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i][j];
                for (int k = 0; k < j; k++) {
                    s -= l[i][k] * l[j][k];
                }
                if (i == j) {
                    // λ ≥ e^-20 keeps pivots positive; rounding can not, and NaN features stay NaN (screened downstream)
                    l[i][i] = Math.sqrt(Math.max(s, 1e-300));
                } else {
                    l[i][j] = s / l[j][j];
                }
            }
        }
        return l;
    }

    /** {@code A⁻¹ B} from A's Cholesky factor. */
    private static double[][] solve(double[][] l, double[][] b) {
        int d = l.length;
        int m = b[0].length;
        double[][] x = new double[d][m];
        for (int c = 0; c < m; c++) {
            double[] y = new double[d];
            for (int i = 0; i < d; i++) {
                double s = b[i][c];
                for (int k = 0; k < i; k++) {
                    s -= l[i][k] * y[k];
                }
                y[i] = s / l[i][i];
            }
            for (int i = d - 1; i >= 0; i--) {
                double s = y[i];
                for (int k = i + 1; k < d; k++) {
                    s -= l[k][i] * x[k][c];
                }
                x[i][c] = s / l[i][i];
            }
        }
        return x;
    }

    private void requireTheta(double[] theta) {
        if (theta.length != mlp.numParams()) {
            throw new IllegalArgumentException("theta has " + theta.length + " values but the network has " + mlp.numParams());
        }
    }

    /** Gradient {@code [θ..., logλ]}, and the evaluation losses before (θ) and after adaptation. */
    public record Result(double[] gradient, double preAdaptLoss, double postAdaptLoss) {}
}

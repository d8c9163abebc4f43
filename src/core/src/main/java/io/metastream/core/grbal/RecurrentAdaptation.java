package io.metastream.core.grbal;

import io.metastream.core.nn.Mlp;
import java.util.Random;

/**
 * ReBAL's update rule (Nagabandi, Clavera et al. 2019, the recurrence-based sibling of GrBAL): a GRU
 * reads the task's last M transitions and its final hidden state {@code h} shifts every bias of the
 * dynamics network, {@code b_l ← b_l + h V_l}. Feeding {@code h} to each layer as extra inputs is the
 * same function, so the adapted model stays an ordinary network on {@code [obs, act]} and travels as
 * GrBAL's adaptations do (a delta on θ that touches only biases).
 *
 * <h2>The GRU</h2>
 * Input {@code u_t = [x_t, y_t]} (normalised network input and target of transition t, size
 * {@code d = in + out}), {@code h_0 = 0}:
 * <pre>
 *   z = σ(u W_z + h U_z + b_z)        r = σ(u W_r + h U_r + b_r)
 *   n = tanh(u W_n + r ⊙ (h U_n) + b_n)
 *   h' = (1 − z) ⊙ n + z ⊙ h
 * </pre>
 *
 * <h2>Parameter layout</h2>
 * One flat vector: {@code W_z [d,H], U_z [H,H], b_z [H]}, the same for {@code r} and {@code n}, then
 * {@code V [H, B]} where {@code B} is the network's bias count (layer 1's biases first), all row-major.
 *
 * <h2>Threading</h2>
 * Stateless apart from its sizes; every call allocates its own (small, plain Java) buffers, so one
 * instance may be shared by threads.
 */
public final class RecurrentAdaptation {

    private final Mlp mlp;
    private final int d;
    private final int h;
    private final int biasCount;
    /** biasStart[l - 1] = offset of layer l's biases in the flat network parameters. */
    private final int[] biasStart;
    private final int[] biasSize;
    private final int numParams;

    /**
     * @param mlp the dynamics network whose biases the hidden state shifts
     * @param hidden the GRU's hidden size H, at least 1
     */
    public RecurrentAdaptation(Mlp mlp, int hidden) {
        if (mlp == null) {
            throw new IllegalArgumentException("mlp is null");
        }
        if (hidden < 1) {
            throw new IllegalArgumentException("recurrent hidden size is " + hidden + "; use a value >= 1");
        }
        this.mlp = mlp;
        this.d = mlp.inputSize() + mlp.outputSize();
        this.h = hidden;
        int layers = mlp.numLayers();
        int[] sizes = mlp.layerSizes();
        this.biasStart = new int[layers];
        this.biasSize = new int[layers];
        int b = 0;
        for (int l = 1; l <= layers; l++) {
            biasStart[l - 1] = (int) mlp.biasOffset(l);
            biasSize[l - 1] = sizes[l];
            b += sizes[l];
        }
        this.biasCount = b;
        long n = 3L * ((long) d * h + (long) h * h + h) + (long) h * biasCount;
        if (n > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("a recurrent adaptation of hidden size " + hidden + " for " + mlp
                    + " would have " + n + " parameters; use a smaller recurrentSize");
        }
        this.numParams = (int) n;
    }

    /** Parameter count of the GRU and the bias projection for a network and hidden size. */
    public static int numParams(Mlp mlp, int hidden) {
        return new RecurrentAdaptation(mlp, hidden).numParams;
    }

    public int numParams() {
        return numParams;
    }

    public int hiddenSize() {
        return h;
    }

    /**
     * Initial parameters: GRU weights uniform in ±1/√H, biases 0 except {@code b_z = 1} (the state
     * starts out mostly kept), and {@code V} uniform in ±0.1/√H so the first adaptations are small.
     */
    public double[] initParams(Random rng) {
        double[] p = new double[numParams];
        double s = 1 / Math.sqrt(h);
        for (int g = 0; g < 3; g++) {
            int w = gateOffset(g);
            for (int i = 0; i < d * h + h * h; i++) {
                p[w + i] = s * (2 * rng.nextDouble() - 1);
            }
            if (g == 0) {
                java.util.Arrays.fill(p, w + d * h + h * h, w + d * h + h * h + h, 1.0);
            }
        }
        int v = vOffset();
        for (int i = 0; i < h * biasCount; i++) {
            p[v + i] = 0.1 * s * (2 * rng.nextDouble() - 1);
        }
        return p;
    }

    private int gateOffset(int gate) {
        return gate * (d * h + h * h + h);
    }

    private int vOffset() {
        return 3 * (d * h + h * h + h);
    }

    /**
     * The final hidden state after reading {@code rows} transitions.
     *
     * @param x normalised inputs, row-major {@code [rows, in]}
     * @param y normalised targets, row-major {@code [rows, out]}
     */
    public double[] hidden(double[] params, double[] x, double[] y, int rows) {
        return run(params, x, y, rows, null);
    }

    /**
     * The adapted network parameters: {@code theta} (flat, the network's layout) with every bias
     * shifted by {@code h V}.
     */
    public double[] adapt(double[] params, double[] theta, double[] x, double[] y, int rows) {
        requireLength(params, theta);
        double[] hs = hidden(params, x, y, rows);
        double[] phi = theta.clone();
        shiftBiases(params, hs, phi);
        return phi;
    }

    private void shiftBiases(double[] params, double[] hs, double[] phi) {
        int v = vOffset();
        int col = 0;
        for (int l = 0; l < biasStart.length; l++) {
            for (int j = 0; j < biasSize[l]; j++, col++) {
                double s = 0;
                for (int i = 0; i < h; i++) {
                    s += hs[i] * params[v + i * biasCount + col];
                }
                phi[biasStart[l] + j] += s;
            }
        }
    }

    /**
     * Backpropagates {@code dPhi} (the gradient of a loss with respect to the adapted network
     * parameters) into the adaptation's parameters.
     *
     * @return {@code dL/dparams}, a new array of {@link #numParams()} values
     */
    public double[] backward(double[] params, double[] x, double[] y, int rows, double[] dPhi) {
        if (dPhi.length != mlp.numParams()) {
            throw new IllegalArgumentException("dPhi has " + dPhi.length + " values but the network has " + mlp.numParams());
        }
        Tape tape = new Tape(rows);
        double[] hs = run(params, x, y, rows, tape);
        double[] grad = new double[numParams];
        int v = vOffset();
        double[] dh = new double[h];
        int col = 0;
        for (int l = 0; l < biasStart.length; l++) {
            for (int j = 0; j < biasSize[l]; j++, col++) {
                double g = dPhi[biasStart[l] + j];
                for (int i = 0; i < h; i++) {
                    grad[v + i * biasCount + col] += hs[i] * g;
                    dh[i] += params[v + i * biasCount + col] * g;
                }
            }
        }
        int oz = gateOffset(0);
        int or = gateOffset(1);
        int on = gateOffset(2);
        double[] daz = new double[h];
        double[] dar = new double[h];
        double[] dan = new double[h];
        double[] dq = new double[h];
        for (int t = rows - 1; t >= 0; t--) {
            double[] hp = tape.prev[t];
            double[] z = tape.z[t];
            double[] r = tape.r[t];
            double[] n = tape.n[t];
            double[] q = tape.q[t];
            double[] dPrev = new double[h];
            for (int k = 0; k < h; k++) {
                double dz = dh[k] * (hp[k] - n[k]);
                double dn = dh[k] * (1 - z[k]);
                dPrev[k] = dh[k] * z[k];
                dan[k] = dn * (1 - n[k] * n[k]);
                double dr = dan[k] * q[k];
                dq[k] = dan[k] * r[k];
                dar[k] = dr * r[k] * (1 - r[k]);
                daz[k] = dz * z[k] * (1 - z[k]);
            }
            accumulateGate(grad, params, oz, t, x, y, hp, daz, daz, dPrev);
            accumulateGate(grad, params, or, t, x, y, hp, dar, dar, dPrev);
            // n: W_n and b_n see da_n; U_n sees dq (the r-gated recurrent term)
            accumulateGate(grad, params, on, t, x, y, hp, dan, dq, dPrev);
            dh = dPrev;
        }
        return grad;
    }

    /**
     * Gradients of a gate's W and b for the gradient {@code da} of its input term, and of its U for
     * the gradient {@code dRec} of its recurrent term (the same as {@code da} except in n, where r
     * gates it); adds {@code U dRec} to {@code dPrev}.
     */
    private void accumulateGate(double[] grad, double[] params, int off, int t, double[] x, double[] y, double[] hp,
            double[] da, double[] dRec, double[] dPrev) {
        accumulateInput(grad, off, t, x, y, da);
        int u = off + d * h;
        for (int i = 0; i < h; i++) {
            double hi = hp[i];
            double s = 0;
            for (int k = 0; k < h; k++) {
                grad[u + i * h + k] += hi * dRec[k];
                s += params[u + i * h + k] * dRec[k];
            }
            dPrev[i] += s;
        }
        int b = off + d * h + h * h;
        for (int k = 0; k < h; k++) {
            grad[b + k] += da[k];
        }
    }

    private void accumulateInput(double[] grad, int off, int t, double[] x, double[] y, double[] da) {
        int in = mlp.inputSize();
        int out = mlp.outputSize();
        for (int i = 0; i < d; i++) {
            double ui = i < in ? x[t * in + i] : y[t * out + i - in];
            if (ui == 0) {
                continue;
            }
            int row = off + i * h;
            for (int k = 0; k < h; k++) {
                grad[row + k] += ui * da[k];
            }
        }
    }

    /** Runs the GRU from h = 0; records every step's values into {@code tape} when it is not null. */
    private double[] run(double[] params, double[] x, double[] y, int rows, Tape tape) {
        if (params.length != numParams) {
            throw new IllegalArgumentException("recurrent adaptation parameters have " + params.length + " values but "
                    + numParams + " are expected (hidden size " + h + ", network " + mlp + ")");
        }
        int in = mlp.inputSize();
        int out = mlp.outputSize();
        if (rows < 0 || x.length < (long) rows * in || y.length < (long) rows * out) {
            throw new IllegalArgumentException("recurrent adaptation needs " + rows + " rows of " + in + " inputs and "
                    + out + " targets, got " + x.length + " and " + y.length + " values");
        }
        double[] hs = new double[h];
        double[] u = new double[d];
        for (int t = 0; t < rows; t++) {
            System.arraycopy(x, t * in, u, 0, in);
            System.arraycopy(y, t * out, u, in, out);
            double[] z = affine(params, gateOffset(0), u, hs);
            double[] r = affine(params, gateOffset(1), u, hs);
            int on = gateOffset(2);
            double[] q = new double[h];
            int un = on + d * h;
            for (int i = 0; i < h; i++) {
                double hi = hs[i];
                if (hi == 0) {
                    continue;
                }
                for (int k = 0; k < h; k++) {
                    q[k] += hi * params[un + i * h + k];
                }
            }
            double[] n = new double[h];
            int bn = un + h * h;
            for (int k = 0; k < h; k++) {
                double a = params[bn + k];
                for (int i = 0; i < d; i++) {
                    a += u[i] * params[on + i * h + k];
                }
                z[k] = sigmoid(z[k]);
                r[k] = sigmoid(r[k]);
                n[k] = Math.tanh(a + r[k] * q[k]);
            }
            double[] next = new double[h];
            for (int k = 0; k < h; k++) {
                next[k] = (1 - z[k]) * n[k] + z[k] * hs[k];
            }
            if (tape != null) {
                tape.prev[t] = hs;
                tape.z[t] = z;
                tape.r[t] = r;
                tape.n[t] = n;
                tape.q[t] = q;
            }
            hs = next;
        }
        return hs;
    }

    /** {@code u W + h U + b} of the gate at {@code off}. */
    private double[] affine(double[] p, int off, double[] u, double[] hs) {
        double[] a = new double[h];
        int b = off + d * h + h * h;
        System.arraycopy(p, b, a, 0, h);
        for (int i = 0; i < d; i++) {
            double ui = u[i];
            int row = off + i * h;
            for (int k = 0; k < h; k++) {
                a[k] += ui * p[row + k];
            }
        }
        int uo = off + d * h;
        for (int i = 0; i < h; i++) {
            double hi = hs[i];
            if (hi == 0) {
                continue;
            }
            int row = uo + i * h;
            for (int k = 0; k < h; k++) {
                a[k] += hi * p[row + k];
            }
        }
        return a;
    }

    private static double sigmoid(double a) {
        return 1 / (1 + Math.exp(-a));
    }

    private void requireLength(double[] params, double[] theta) {
        if (theta.length != mlp.numParams()) {
            throw new IllegalArgumentException("theta has " + theta.length + " values but the network has " + mlp.numParams());
        }
        if (params.length != numParams) {
            throw new IllegalArgumentException("recurrent adaptation parameters have " + params.length + " values but "
                    + numParams + " are expected");
        }
    }

    /** Per-step values of a forward pass, for the backward pass. */
    private final class Tape {
        final double[][] prev;
        final double[][] z;
        final double[][] r;
        final double[][] n;
        final double[][] q;

        Tape(int rows) {
            prev = new double[rows][];
            z = new double[rows][];
            r = new double[rows][];
            n = new double[rows][];
            q = new double[rows][];
        }
    }
}

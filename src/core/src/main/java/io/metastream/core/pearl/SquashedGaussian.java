package io.metastream.core.pearl;

/**
 * SAC's tanh-squashed Gaussian policy head over a batch of rows, in plain Java. The policy network
 * outputs per row the mean {@code μ} and the log standard deviation {@code ℓ} (clamped to
 * {@code [}{@value #LOG_STD_MIN}{@code , }{@value #LOG_STD_MAX}{@code ]} as in oyster) of a Gaussian
 * over the pre-squash action {@code u = μ + σ ⊙ ξ} ({@code σ = e^ℓ}, {@code ξ ~ N(0, I)} given);
 * the action is {@code a = tanh(u)} and
 * {@code log π(a) = Σ_j [−ξ_j²/2 − ℓ_j − log(2π)/2] − Σ_j log(1 − a_j² + }{@value #EPS}{@code )}.
 *
 * <h2>Gradients</h2>
 * With {@code k_j = 2 a_j (1 − a_j²) / (1 − a_j² + ε)}: {@code ∂log π/∂μ_j = k_j},
 * {@code ∂log π/∂ℓ_j = −1 + k_j σ_j ξ_j}, {@code ∂a_j/∂μ_j = 1 − a_j²},
 * {@code ∂a_j/∂ℓ_j = (1 − a_j²) σ_j ξ_j}; the clamp passes no gradient outside its range.
 *
 * <p>Not thread-safe; one instance per batch shape, reused.
 */
final class SquashedGaussian {

    static final double LOG_STD_MIN = -20.0;
    static final double LOG_STD_MAX = 2.0;
    static final double EPS = 1e-6;
    private static final double HALF_LOG_2PI = 0.5 * Math.log(2.0 * Math.PI);

    final int rows;
    final int act;
    /** a, row-major {@code [rows, act]}. */
    final double[] action;
    /** log π(a) per row. */
    final double[] logPi;
    private final double[] sigma;
    private final double[] xi;
    private final double[] k;
    private final boolean[] inRange;

    SquashedGaussian(int rows, int act) {
        this.rows = rows;
        this.act = act;
        action = new double[rows * act];
        logPi = new double[rows];
        sigma = new double[rows * act];
        xi = new double[rows * act];
        k = new double[rows * act];
        inRange = new boolean[rows * act];
    }

    /**
     * Samples actions and their log-probabilities.
     *
     * @param out policy outputs, row-major {@code [rows, 2·act]}: means, then log standard deviations
     * @param noise {@code ξ}, row-major {@code [rows, act]}
     */
    void sample(double[] out, double[] noise) {
        int w = 2 * act;
        for (int r = 0; r < rows; r++) {
            double lp = 0;
            for (int j = 0; j < act; j++) {
                int i = r * act + j;
                double mean = out[r * w + j];
                double ls = out[r * w + act + j];
                inRange[i] = ls >= LOG_STD_MIN && ls <= LOG_STD_MAX;
                double lsc = Math.min(LOG_STD_MAX, Math.max(LOG_STD_MIN, ls));
                double s = Math.exp(lsc);
                double e = noise[i];
                double a = Math.tanh(mean + s * e);
                double oneMinus = 1.0 - a * a;
                sigma[i] = s;
                xi[i] = e;
                action[i] = a;
                k[i] = 2.0 * a * oneMinus / (oneMinus + EPS);
                lp += -0.5 * e * e - lsc - HALF_LOG_2PI - Math.log(oneMinus + EPS);
            }
            logPi[r] = lp;
        }
    }

    /**
     * The gradient with respect to the policy outputs of the last {@link #sample} of
     * {@code Σ_r [wLogPi · log π_r + Σ_j dA[r, j] · a[r, j]]}.
     *
     * @param wLogPi weight of every row's log-probability
     * @param dA {@code dL/da}, row-major {@code [rows, act]}
     * @param dOut receives {@code dL/d(outputs)}, row-major {@code [rows, 2·act]}
     */
    void backward(double wLogPi, double[] dA, double[] dOut) {
        int w = 2 * act;
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < act; j++) {
                int i = r * act + j;
                double a = action[i];
                double dMu = wLogPi * k[i] + dA[i] * (1.0 - a * a);
                dOut[r * w + j] = dMu;
                dOut[r * w + act + j] = inRange[i] ? -wLogPi + dMu * sigma[i] * xi[i] : 0.0;
            }
        }
    }

    /** {@code tanh(μ)}, the deterministic action, for one row of outputs {@code [2·act]}. */
    static double[] meanAction(double[] out, int act) {
        double[] a = new double[act];
        for (int j = 0; j < act; j++) {
            a[j] = Math.tanh(out[j]);
        }
        return a;
    }
}

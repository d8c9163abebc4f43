package io.metastream.core.pearl;

/**
 * Dense linear algebra on small square matrices stored row-major inside larger arrays (the
 * {@code L × L} precision and covariance of a posterior with rank factors, L = latent size, about 5):
 * plain Java, where an ND4J call would cost more than the arithmetic.
 */
final class SmallMatrices {

    private SmallMatrices() {
    }

    /**
     * Lower-triangular Cholesky factor C of the symmetric positive-definite {@code a[a0..]} (n × n),
     * written to {@code c[c0..]} with zeros above the diagonal.
     *
     * @throws IllegalStateException when the matrix is not positive definite (in floating point)
     */
    static void cholesky(double[] a, int a0, int n, double[] c, int c0) {
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (j > i) {
                    c[c0 + i * n + j] = 0.0;
                    continue;
                }
                double s = a[a0 + i * n + j];
                for (int k = 0; k < j; k++) {
                    s -= c[c0 + i * n + k] * c[c0 + j * n + k];
                }
                if (i == j) {
                    if (!(s > 0) || !Double.isFinite(s)) {
                        throw new IllegalStateException("matrix is not positive definite (pivot " + i + " is " + s + ")");
                    }
                    c[c0 + i * n + i] = Math.sqrt(s);
                } else {
                    c[c0 + i * n + j] = s / c[c0 + j * n + j];
                }
            }
        }
    }

    /**
     * A lower-triangular factor C of {@code Σ = Λ⁻¹} ({@code C Cᵀ = Σ}, positive diagonal) for the
     * symmetric positive-definite precision {@code lam[l0..]} (n × n), written to {@code c[c0..]}.
     * With P the order-reversing permutation and {@code PΛP = L Lᵀ}, {@code C = P L⁻ᵀ P}: it needs
     * only the Cholesky factor of Λ, which stays well conditioned where Σ's own would not (Λ ⪰ I here).
     *
     * @throws IllegalStateException when Λ is not positive definite (in floating point)
     */
    static void covarianceFactorFromPrecision(double[] lam, int l0, int n, double[] c, int c0) {
        double[] rev = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                rev[i * n + j] = lam[l0 + (n - 1 - i) * n + (n - 1 - j)];
            }
        }
        double[] l = new double[n * n];
        cholesky(rev, 0, n, l, 0);
        // Y = L⁻¹ (lower triangular) by forward substitution
        double[] y = new double[n * n];
        for (int col = 0; col < n; col++) {
            for (int i = col; i < n; i++) {
                double s = i == col ? 1.0 : 0.0;
                for (int k = col; k < i; k++) {
                    s -= l[i * n + k] * y[k * n + col];
                }
                y[i * n + col] = s / l[i * n + i];
            }
        }
        // C[i][j] = (L⁻ᵀ)[n−1−i][n−1−j] = Y[n−1−j][n−1−i]
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                c[c0 + i * n + j] = j > i ? 0.0 : y[(n - 1 - j) * n + (n - 1 - i)];
            }
        }
    }

    /** {@code out[o0..] = C Cᵀ} for the n × n lower-triangular {@code c[c0..]}. */
    static void timesTranspose(double[] c, int c0, int n, double[] out, int o0) {
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = 0;
                for (int k = 0; k <= j; k++) {
                    s += c[c0 + i * n + k] * c[c0 + j * n + k];
                }
                out[o0 + i * n + j] = s;
                out[o0 + j * n + i] = s;
            }
        }
    }

    /** {@code out[o0..o0+n) = M x} for the n × n matrix {@code m[m0..]} and vector {@code x[x0..x0+n)}. */
    static void multiply(double[] m, int m0, int n, double[] x, int x0, double[] out, int o0) {
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < n; j++) {
                s += m[m0 + i * n + j] * x[x0 + j];
            }
            out[o0 + i] = s;
        }
    }
}

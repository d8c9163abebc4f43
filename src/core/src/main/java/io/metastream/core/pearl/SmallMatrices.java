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

    /** The inverse of the symmetric positive-definite {@code a[a0..]} (n × n) into {@code inv[i0..]}, via Cholesky. */
    static void invertSpd(double[] a, int a0, int n, double[] inv, int i0) {
        double[] c = new double[n * n];
        cholesky(a, a0, n, c, 0);
        // solve C Y = I (Y = C⁻¹, lower triangular), then A⁻¹ = Yᵀ Y
        double[] y = new double[n * n];
        for (int col = 0; col < n; col++) {
            for (int i = col; i < n; i++) {
                double s = i == col ? 1.0 : 0.0;
                for (int k = col; k < i; k++) {
                    s -= c[i * n + k] * y[k * n + col];
                }
                y[i * n + col] = s / c[i * n + i];
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = 0;
                for (int k = i; k < n; k++) {
                    s += y[k * n + i] * y[k * n + j];
                }
                inv[i0 + i * n + j] = s;
                inv[i0 + j * n + i] = s;
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

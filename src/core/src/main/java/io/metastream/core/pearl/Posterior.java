package io.metastream.core.pearl;

import java.util.Arrays;
import java.util.Random;

/**
 * A Gaussian belief {@code q(z | c)} over the task variable z, as inferred by a {@link ContextEncoder}
 * (or the prior {@code N(0, I)} before any context): diagonal, {@code N(mean, diag(variance))}, or
 * with a full covariance {@code Σ = C Cᵀ} given by its lower-triangular Cholesky factor C (the
 * encoder with rank factors, {@link PearlConfig#encoderRank()}).
 *
 * <p>Immutable and thread-safe: the constructor and accessors copy the arrays.
 *
 * @param mean {@code μ}, one value per latent dimension
 * @param variance {@code σ²} (the diagonal of Σ), positive, same length as {@code mean}
 * @param covarianceFactor null for a diagonal posterior; otherwise C row-major {@code [L, L]}, lower
 *     triangular with a positive diagonal and {@code Σ_k C_jk² = variance_j}
 */
public record Posterior(double[] mean, double[] variance, double[] covarianceFactor) {

    /** A diagonal posterior. */
    public Posterior(double[] mean, double[] variance) {
        this(mean, variance, null);
    }

    /** A full-covariance posterior {@code N(mean, C Cᵀ)}; the variances are computed from C. */
    public static Posterior withCovarianceFactor(double[] mean, double[] choleskyLower) {
        if (mean == null || choleskyLower == null || choleskyLower.length != mean.length * mean.length) {
            throw new IllegalArgumentException("a full-covariance posterior needs a mean of L values and a Cholesky factor "
                    + "of L·L values, row-major");
        }
        int l = mean.length;
        double[] var = new double[l];
        for (int j = 0; j < l; j++) {
            for (int k = 0; k <= j; k++) {
                var[j] += choleskyLower[j * l + k] * choleskyLower[j * l + k];
            }
        }
        return new Posterior(mean, var, choleskyLower);
    }

    /** Validates and copies. */
    public Posterior {
        if (mean == null || variance == null) {
            throw new IllegalArgumentException("mean and variance must be non-null arrays of the latent dimension");
        }
        if (mean.length == 0 || mean.length != variance.length) {
            throw new IllegalArgumentException("mean has " + mean.length + " and variance " + variance.length
                    + " entries; both need the latent dimension (> 0)");
        }
        mean = mean.clone();
        variance = variance.clone();
        for (int j = 0; j < variance.length; j++) {
            if (!(variance[j] > 0) || !Double.isFinite(variance[j]) || !Double.isFinite(mean[j])) {
                throw new IllegalArgumentException("dimension " + j + " has mean " + mean[j] + " and variance " + variance[j]
                        + "; a posterior needs finite means and finite positive variances");
            }
        }
        if (covarianceFactor != null) {
            covarianceFactor = checkedFactor(covarianceFactor, variance);
        }
    }

    private static double[] checkedFactor(double[] c, double[] variance) {
        int l = variance.length;
        if (c.length != l * l) {
            throw new IllegalArgumentException("covarianceFactor has " + c.length + " values; a latent dimension of " + l
                    + " needs " + (l * l) + " (row-major lower-triangular Cholesky factor)");
        }
        c = c.clone();
        for (int j = 0; j < l; j++) {
            double rowSq = 0;
            for (int k = 0; k < l; k++) {
                double v = c[j * l + k];
                if (!Double.isFinite(v) || (k > j && v != 0.0) || (k == j && !(v > 0))) {
                    throw new IllegalArgumentException("covarianceFactor[" + j + "][" + k + "] is " + v
                            + "; it must be finite, lower triangular, with a positive diagonal");
                }
                rowSq += v * v;
            }
            if (Math.abs(rowSq - variance[j]) > 1e-9 * Math.max(1.0, variance[j]) + 1e-12 * rowSq) {
                throw new IllegalArgumentException("dimension " + j + " has variance " + variance[j]
                        + " but the covariance factor gives " + rowSq + "; they must agree");
            }
        }
        return c;
    }

    /** The prior {@code N(0, I)} of dimension {@code latentDim}, used before a task has any context. */
    public static Posterior prior(int latentDim) {
        if (latentDim <= 0) {
            throw new IllegalArgumentException("latentDim is " + latentDim + "; use a value > 0");
        }
        double[] var = new double[latentDim];
        Arrays.fill(var, 1.0);
        return new Posterior(new double[latentDim], var);
    }

    @Override
    public double[] mean() {
        return mean.clone();
    }

    @Override
    public double[] variance() {
        return variance.clone();
    }

    /** A copy of the Cholesky factor of the covariance, or null for a diagonal posterior. */
    @Override
    public double[] covarianceFactor() {
        return covarianceFactor == null ? null : covarianceFactor.clone();
    }

    /** True when the covariance is full ({@link #covarianceFactor()} is not null). */
    public boolean fullCovariance() {
        return covarianceFactor != null;
    }

    public int latentDim() {
        return mean.length;
    }

    /** The standard deviations {@code σ}. */
    public double[] std() {
        double[] s = new double[variance.length];
        for (int j = 0; j < s.length; j++) {
            s[j] = Math.sqrt(variance[j]);
        }
        return s;
    }

    /**
     * {@code z = μ + σ ⊙ ε} (diagonal) or {@code z = μ + C ε} (full covariance) for the given
     * standard-normal draw {@code ε} (the reparameterisation).
     */
    public double[] sample(double[] eps) {
        if (eps == null || eps.length != mean.length) {
            throw new IllegalArgumentException("eps must hold " + mean.length + " standard-normal values");
        }
        double[] z = new double[mean.length];
        int l = z.length;
        for (int j = 0; j < l; j++) {
            if (covarianceFactor == null) {
                z[j] = mean[j] + Math.sqrt(variance[j]) * eps[j];
            } else {
                double s = mean[j];
                for (int k = 0; k <= j; k++) {
                    s += covarianceFactor[j * l + k] * eps[k];
                }
                z[j] = s;
            }
        }
        return z;
    }

    /** A sample drawn with {@code rng} (latentDim calls of {@link Random#nextGaussian()}). */
    public double[] sample(Random rng) {
        if (rng == null) {
            throw new IllegalArgumentException("rng is null; pass a seeded java.util.Random");
        }
        double[] eps = new double[mean.length];
        for (int j = 0; j < eps.length; j++) {
            eps[j] = rng.nextGaussian();
        }
        return sample(eps);
    }

    /**
     * {@code KL(q ‖ N(0, I)) = ½ (tr Σ + μᵀμ − L − log det Σ)}, which for a diagonal posterior is
     * {@code ½ Σ_j (σ²_j + μ²_j − 1 − log σ²_j)}.
     */
    public double klToStandardNormal() {
        int l = mean.length;
        double kl = 0;
        for (int j = 0; j < l; j++) {
            double logVar = covarianceFactor == null ? Math.log(variance[j])
                    : 2.0 * Math.log(covarianceFactor[j * l + j]);
            kl += 0.5 * (variance[j] + mean[j] * mean[j] - 1.0 - logVar);
        }
        return kl;
    }

    /** Arrays compare by content. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Posterior p && Arrays.equals(mean, p.mean) && Arrays.equals(variance, p.variance)
                && Arrays.equals(covarianceFactor, p.covarianceFactor);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(mean) + Arrays.hashCode(variance)) + Arrays.hashCode(covarianceFactor);
    }

    @Override
    public String toString() {
        return "Posterior[mean=" + Arrays.toString(mean) + ", variance=" + Arrays.toString(variance)
                + (covarianceFactor == null ? "" : ", covarianceFactor=" + Arrays.toString(covarianceFactor)) + "]";
    }
}

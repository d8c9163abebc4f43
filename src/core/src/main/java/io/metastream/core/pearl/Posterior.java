package io.metastream.core.pearl;

import java.util.Arrays;
import java.util.Random;

/**
 * A diagonal Gaussian belief {@code q(z | c) = N(mean, diag(variance))} over the task variable z,
 * as inferred by a {@link ContextEncoder} (or the prior {@code N(0, I)} before any context).
 *
 * <p>Immutable and thread-safe: the constructor and accessors copy the arrays.
 *
 * @param mean {@code μ}, one value per latent dimension
 * @param variance {@code σ²}, positive, same length as {@code mean}
 */
public record Posterior(double[] mean, double[] variance) {

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

    /** {@code z = μ + σ ⊙ ε} for the given standard-normal draw {@code ε} (the reparameterisation). */
    public double[] sample(double[] eps) {
        if (eps == null || eps.length != mean.length) {
            throw new IllegalArgumentException("eps must hold " + mean.length + " standard-normal values");
        }
        double[] z = new double[mean.length];
        for (int j = 0; j < z.length; j++) {
            z[j] = mean[j] + Math.sqrt(variance[j]) * eps[j];
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

    /** {@code KL(q ‖ N(0, I)) = ½ Σ_j (σ²_j + μ²_j − 1 − log σ²_j)}. */
    public double klToStandardNormal() {
        double kl = 0;
        for (int j = 0; j < mean.length; j++) {
            kl += 0.5 * (variance[j] + mean[j] * mean[j] - 1.0 - Math.log(variance[j]));
        }
        return kl;
    }

    /** Arrays compare by content. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Posterior p && Arrays.equals(mean, p.mean) && Arrays.equals(variance, p.variance);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(mean) + Arrays.hashCode(variance);
    }

    @Override
    public String toString() {
        return "Posterior[mean=" + Arrays.toString(mean) + ", variance=" + Arrays.toString(variance) + "]";
    }
}

package io.metastream.core.pearl;

import static io.metastream.core.pearl.ContextEncoderTest.randn;
import static io.metastream.core.pearl.ContextEncoderTest.relErr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.Activation;
import io.metastream.core.nn.Mlp;
import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Every hand-written SAC/PEARL gradient against central finite differences (float64, tanh networks,
 * step 1e-6): critics' parameters, the task variable z, the encoder through z and the KL term, the
 * policy parameters through the squashed, reparameterised action, and the temperature.
 */
class PearlObjectiveTest {

    private static final double H = 1e-6;

    private static final PearlConfig CFG = PearlConfig.builder().obsDim(3).actDim(2).latentDim(2).netHidden(6, 5)
            .encoderHidden(7).activation(Activation.TANH).gamma(0.9).rewardScale(2.0).build();

    /** A fixed problem: two tasks with 4 and 3 RL rows, random networks, z and noise. */
    private static final class Fixture {
        final Random rng = new Random(11);
        final int[] rows = {4, 3};
        final int m = 7;
        final PearlObjective obj = new PearlObjective(CFG);
        final Mlp q = CFG.qMlp();
        final Mlp pol = CFG.policyMlp();
        final INDArray q1 = perturbed(q);
        final INDArray q2 = perturbed(q);
        final INDArray q1t = perturbed(q);
        final INDArray q2t = perturbed(q);
        final INDArray policy = perturbed(pol).muli(0.7);
        final double[] zQ = gauss(4);
        final double[] zBar = zQ.clone();
        final double[] nextNoise = gauss(m * 2);
        final double[] noise = gauss(m * 2);
        final double alpha = 0.3;

        final double[] obs = gauss(m * 3);

        Fixture() {
            double[] done = new double[m];
            done[2] = 1.0;
            obj.load(rows, obs, uniform(m * 2), gauss(m), gauss(m * 3), done);
        }

        /** Policy outputs on the actor's inputs {@code [s, z̄]}. */
        double[] policyOutputs() {
            double[] x = new double[m * 5];
            for (int r = 0; r < m; r++) {
                int t = r < rows[0] ? 0 : 1;
                System.arraycopy(obs, r * 3, x, r * 5, 3);
                System.arraycopy(zBar, t * 2, x, r * 5 + 3, 2);
            }
            return NdArrays.toFlatArray(pol.forward(policy, NdArrays.matrix(x, m, 5)));
        }

        INDArray perturbed(Mlp mlp) {
            return mlp.initParams(rng).addi(randn(rng, 1, mlp.numParams(), 0.2));
        }

        double[] gauss(int n) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = rng.nextGaussian();
            }
            return v;
        }

        double[] uniform(int n) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = 2 * rng.nextDouble() - 1;
            }
            return v;
        }

        INDArray grad(Mlp mlp) {
            return Nd4j.zeros(DataType.DOUBLE, 1, mlp.numParams());
        }

        double criticLoss() {
            return obj.critic(q1, q2, q1t, q2t, policy, alpha, zQ, zBar, nextNoise, grad(q), grad(q)).loss();
        }

        double actorLoss() {
            return obj.actor(policy, q1, q2, alpha, zBar, noise, grad(pol)).loss();
        }
    }

    /** Central differences of {@code f} with respect to each element of {@code x}, changed in place and restored. */
    private static double[] finiteDifferences(INDArray x, DoubleSupplier f) {
        double[] fd = new double[(int) x.length()];
        for (int i = 0; i < fd.length; i++) {
            double v = x.getDouble(i);
            x.putScalar(i, v + H);
            double up = f.getAsDouble();
            x.putScalar(i, v - H);
            double down = f.getAsDouble();
            x.putScalar(i, v);
            fd[i] = (up - down) / (2 * H);
        }
        return fd;
    }

    private static double[] finiteDifferences(double[] x, DoubleSupplier f) {
        double[] fd = new double[x.length];
        for (int i = 0; i < fd.length; i++) {
            double v = x[i];
            x[i] = v + H;
            double up = f.getAsDouble();
            x[i] = v - H;
            double down = f.getAsDouble();
            x[i] = v;
            fd[i] = (up - down) / (2 * H);
        }
        return fd;
    }

    @Test
    void criticGradientsForBothCriticsAndForZMatchFiniteDifferences() {
        Fixture f = new Fixture();
        INDArray g1 = f.grad(f.q);
        INDArray g2 = f.grad(f.q);
        PearlObjective.Critic c = f.obj.critic(f.q1, f.q2, f.q1t, f.q2t, f.policy, f.alpha, f.zQ, f.zBar, f.nextNoise, g1,
                g2);
        double[] a1 = NdArrays.toFlatArray(g1);
        double[] a2 = NdArrays.toFlatArray(g2);
        double e1 = relErr(a1, finiteDifferences(f.q1, f::criticLoss));
        double e2 = relErr(a2, finiteDifferences(f.q2, f::criticLoss));
        // z of the critics only: the target's z̄ is a constant
        double ez = relErr(c.dLdz(), finiteDifferences(f.zQ, f::criticLoss));
        System.out.printf("critic gradient check: Q1 %.3e, Q2 %.3e (%d parameters each), z %.3e%n", e1, e2, a1.length, ez);
        assertThat(e1).isLessThan(1e-5);
        assertThat(e2).isLessThan(1e-5);
        assertThat(ez).isLessThan(1e-5);
        assertThat(c.loss()).isPositive();
    }

    @Test
    void criticTargetIsTheScaledRewardWithoutDiscountOrAtTerminalTransitions() {
        Fixture f = new Fixture();
        double[] reward = {1.0, -2.0, 0.5};
        double expected = 2.0 * (1.0 - 2.0 + 0.5) / 3; // rewardScale 2
        PearlObjective myopic = new PearlObjective(CFG.toBuilder().gamma(0.0).build());
        myopic.load(new int[] {3}, f.gauss(9), f.uniform(6), reward, f.gauss(9), new double[3]);
        assertThat(myopic.critic(f.q1, f.q2, f.q1t, f.q2t, f.policy, f.alpha, new double[2], new double[2], f.gauss(6),
                f.grad(f.q), f.grad(f.q)).meanTarget()).isCloseTo(expected, within(1e-12));
        PearlObjective terminal = new PearlObjective(CFG);
        terminal.load(new int[] {3}, f.gauss(9), f.uniform(6), reward, f.gauss(9), new double[] {1, 1, 1});
        assertThat(terminal.critic(f.q1, f.q2, f.q1t, f.q2t, f.policy, f.alpha, new double[2], new double[2], f.gauss(6),
                f.grad(f.q), f.grad(f.q)).meanTarget()).isCloseTo(expected, within(1e-12));
    }

    @Test
    void encoderGradientThroughTheCriticAndTheKlMatchesFiniteDifferences() {
        Fixture f = new Fixture();
        ContextEncoder enc = CFG.encoder();
        Random rng = new Random(12);
        INDArray encParams = enc.initParams(rng).addi(randn(rng, 1, enc.mlp().numParams(), 0.1));
        double[] ctx = randn(rng, 5 + 2, CFG.contextDim(), 1.0).data().asDouble();
        double[] eps = f.gauss(4);
        double beta = 0.4;
        EncoderPass pass = new EncoderPass(enc, new int[] {5, 2});
        DoubleSupplier loss = () -> {
            pass.forward(encParams, ctx);
            double[] z = new double[4];
            pass.sample(eps, z);
            return f.obj.critic(f.q1, f.q2, f.q1t, f.q2t, f.policy, f.alpha, z, f.zBar, f.nextNoise, f.grad(f.q),
                    f.grad(f.q)).loss() + beta * pass.klSum();
        };
        pass.forward(encParams, ctx);
        double[] z = new double[4];
        pass.sample(eps, z);
        PearlObjective.Critic c = f.obj.critic(f.q1, f.q2, f.q1t, f.q2t, f.policy, f.alpha, z, f.zBar, f.nextNoise,
                f.grad(f.q), f.grad(f.q));
        INDArray g = Nd4j.zeros(DataType.DOUBLE, 1, enc.mlp().numParams());
        pass.backward(eps, c.dLdz(), beta, g);
        double[] analytic = NdArrays.toFlatArray(g);
        double err = relErr(analytic, finiteDifferences(encParams, loss));
        System.out.printf("encoder through critic + KL gradient check: %d parameters, relative error %.3e%n",
                analytic.length, err);
        assertThat(err).isLessThan(1e-5);
    }

    @Test
    void actorGradientThroughTheSquashedReparameterisedActionMatchesFiniteDifferences() {
        Fixture f = new Fixture();
        // precondition: every log std is inside the clamp, where the loss is smooth
        assertThat(java.util.Arrays.stream(f.policyOutputs()).map(Math::abs).max().orElseThrow()).isLessThan(2.0);
        INDArray g = f.grad(f.pol);
        PearlObjective.Actor a = f.obj.actor(f.policy, f.q1, f.q2, f.alpha, f.zBar, f.noise, g);
        double[] analytic = NdArrays.toFlatArray(g);
        double err = relErr(analytic, finiteDifferences(f.policy, f::actorLoss));
        System.out.printf("actor gradient check: %d parameters, relative error %.3e%n", analytic.length, err);
        assertThat(err).isLessThan(1e-5);
        assertThat(a.meanLogPi()).isFinite();
    }

    @Test
    void temperatureGradientMatchesFiniteDifferences() {
        double meanLogPi = -0.8;
        double target = -2.0;
        double logAlpha = 0.3;
        double[] lg = PearlObjective.alphaLossAndGradient(logAlpha, meanLogPi, target);
        double fd = (PearlObjective.alphaLossAndGradient(logAlpha + H, meanLogPi, target)[0]
                - PearlObjective.alphaLossAndGradient(logAlpha - H, meanLogPi, target)[0]) / (2 * H);
        System.out.printf("alpha gradient check: analytic %.12f, finite difference %.12f%n", lg[1], fd);
        assertThat(lg[1]).isCloseTo(fd, within(1e-9));
        // entropy estimate 0.8 is above the target −2: the gradient is positive, so gradient descent lowers α
        assertThat(lg[1]).isPositive();
        assertThat(PearlObjective.alphaLossAndGradient(logAlpha, 3.0, target)[1]).isNegative();
    }

    @Test
    void logProbabilityIsTheChangeOfVariablesDensityOfTheSquashedGaussian() {
        SquashedGaussian sg = new SquashedGaussian(1, 2);
        double[] out = {0.3, -0.5, Math.log(0.8), Math.log(1.7)};
        double[] xi = {0.4, -1.1};
        sg.sample(out, xi);
        double exact = 0; // log of the density of a = tanh(u), u ~ N(mean, std²)
        double guarded = 0; // the same with SAC's ε in log(1 − a² + ε)
        double[] mean = {0.3, -0.5};
        double[] std = {0.8, 1.7};
        for (int j = 0; j < 2; j++) {
            double a = sg.action[j];
            double u = 0.5 * Math.log((1 + a) / (1 - a)); // atanh
            double gauss = -0.5 * Math.pow((u - mean[j]) / std[j], 2) - Math.log(std[j]) - 0.5 * Math.log(2 * Math.PI);
            exact += gauss - Math.log(1 - a * a); // |du/da| = 1 / (1 − a²)
            guarded += gauss - Math.log(1 - a * a + SquashedGaussian.EPS);
        }
        assertThat(sg.logPi[0]).isCloseTo(guarded, within(1e-12));
        assertThat(sg.logPi[0]).isCloseTo(exact, within(1e-4)); // the guard costs O(ε / (1 − a²))
        assertThat(sg.action[0]).isCloseTo(Math.tanh(0.3 + 0.8 * 0.4), within(1e-15));
    }
}

package io.metastream.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class MlpTest {

    static INDArray randn(Random rng, int rows, int cols) {
        double[] v = new double[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextGaussian();
        }
        return Nd4j.create(v, new long[] {rows, cols}, DataType.DOUBLE);
    }

    static double relErr(INDArray a, INDArray b) {
        return a.sub(b).norm2Number().doubleValue() / Math.max(1e-300, b.norm2Number().doubleValue());
    }

    /** Plain-Java reference forward pass, independent of the GEMM/view implementation. */
    static double[][] referenceForward(Mlp mlp, double[] p, double[][] x) {
        int[] s = mlp.layerSizes();
        double[][] a = x;
        int off = 0;
        for (int l = 1; l < s.length; l++) {
            int in = s[l - 1];
            int out = s[l];
            double[][] z = new double[a.length][out];
            for (int r = 0; r < a.length; r++) {
                for (int j = 0; j < out; j++) {
                    double acc = p[off + in * out + j];
                    for (int i = 0; i < in; i++) {
                        acc += a[r][i] * p[off + i * out + j];
                    }
                    boolean hidden = l < s.length - 1;
                    z[r][j] = !hidden ? acc : mlp.activation() == Activation.TANH ? Math.tanh(acc) : Math.max(0, acc);
                }
            }
            off += (in + 1) * out;
            a = z;
        }
        return a;
    }

    @Test
    void forwardMatchesPlainJavaReferenceAndLossIsMse() {
        for (Activation act : Activation.values()) {
            Mlp mlp = new Mlp(new int[] {4, 7, 5, 3}, act);
            Random rng = new Random(3);
            INDArray p = mlp.initParams(rng).addi(randn(rng, 1, mlp.numParams()).muli(0.1));
            INDArray x = randn(rng, 6, 4);
            INDArray y = randn(rng, 6, 3);
            double[][] ref = referenceForward(mlp, p.toDoubleVector(), x.toDoubleMatrix());
            INDArray out = mlp.forward(p, x);
            assertThat(relErr(out, Nd4j.create(ref))).isLessThan(1e-13);
            double mse = Nd4j.create(ref).sub(y).norm2Number().doubleValue();
            mse = mse * mse / 18.0;
            assertThat(mlp.loss(p, x, y)).isCloseTo(mse, org.assertj.core.data.Offset.offset(1e-12));
            assertThat(mlp.lossAndGradient(p, x, y).loss()).isCloseTo(mse, org.assertj.core.data.Offset.offset(1e-12));
        }
    }

    @Test
    void largeBatchesGiveTheSameForwardPassGradientsAndHessianProducts() {
        Mlp mlp = new Mlp(new int[] {4, 64, 64, 3}, Activation.TANH);
        Random rng = new Random(5);
        INDArray p = mlp.initParams(rng);
        int n = 200; // 200 x 64 elements per hidden layer: above Mlp.SIGMOID_TANH_MIN_ELEMENTS
        assertThat((long) n * 64).isGreaterThanOrEqualTo(Mlp.SIGMOID_TANH_MIN_ELEMENTS);
        INDArray x = randn(rng, n, 4).muli(3);
        INDArray y = randn(rng, n, 3);
        double[][] ref = referenceForward(mlp, p.toDoubleVector(), x.toDoubleMatrix());
        assertThat(relErr(mlp.forward(p, x), Nd4j.create(ref))).isLessThan(1e-13);
        // gradient and HVP on a large batch equal the row-wise sums of small-batch pieces
        INDArray gBig = mlp.lossAndGradient(p, x, y).gradient();
        INDArray v = randn(rng, 1, mlp.numParams());
        INDArray hvBig = mlp.hessianVectorProduct(p, x, y, v);
        INDArray gSum = Nd4j.create(DataType.DOUBLE, 1, mlp.numParams());
        INDArray hvSum = Nd4j.create(DataType.DOUBLE, 1, mlp.numParams());
        for (int from = 0; from < n; from += 20) {
            INDArray xs = x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, from + 20),
                    org.nd4j.linalg.indexing.NDArrayIndex.all()).dup();
            INDArray ys = y.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, from + 20),
                    org.nd4j.linalg.indexing.NDArrayIndex.all()).dup();
            gSum.addi(mlp.lossAndGradient(p, xs, ys).gradient().muli(20.0 / n));
            hvSum.addi(mlp.hessianVectorProduct(p, xs, ys, v).muli(20.0 / n));
        }
        assertThat(relErr(gBig, gSum)).isLessThan(1e-12);
        assertThat(relErr(hvBig, hvSum)).isLessThan(1e-12);
    }

    @Test
    void forwardWithTwoInputBlocksAndBaseEqualsConcatenatedForwardPlusBase() {
        Mlp mlp = new Mlp(new int[] {5, 8, 2}, Activation.TANH);
        Random rng = new Random(4);
        INDArray p = mlp.initParams(rng);
        INDArray x1 = randn(rng, 9, 2);
        INDArray x2 = randn(rng, 9, 3);
        INDArray base = randn(rng, 9, 2);
        INDArray expected = mlp.forward(p, Nd4j.hstack(x1, x2)).add(base);
        assertThat(relErr(mlp.forward(p, x1, x2, base), expected)).isLessThan(1e-14);
    }

    @Test
    void preparedParametersComputeTheSameFunction() {
        for (Activation act : Activation.values()) {
            for (int[] sizes : new int[][] {{5, 9, 7, 2}, {5, 2}, {5, 64, 64, 2}}) {
                Mlp mlp = new Mlp(sizes, act);
                Random rng = new Random(17);
                INDArray p = mlp.initParams(rng).addi(randn(rng, 1, mlp.numParams()).muli(0.2));
                PreparedParams prepared = mlp.prepare(p);
                for (int n : new int[] {1, 6, 200}) {
                    INDArray x1 = randn(rng, n, 3);
                    INDArray x2 = randn(rng, n, 2);
                    INDArray base = randn(rng, n, 2);
                    INDArray expected = mlp.forward(p, x1, x2, base);
                    assertThat(relErr(mlp.forward(prepared, x1, x2, base), expected)).as("%s %s n=%d", act, mlp, n)
                            .isLessThan(1e-13);
                    INDArray x = Nd4j.hstack(x1, x2);
                    assertThat(relErr(mlp.forward(prepared, x, null, null), mlp.forward(p, x))).isLessThan(1e-13);
                }
                p.addi(1.0); // the prepared copy is independent of later changes
                assertThat(relErr(mlp.forward(prepared, randn(new Random(1), 2, 5), null, null),
                        mlp.forward(p.subi(1.0), randn(new Random(1), 2, 5)))).isLessThan(1e-13);
            }
        }
        Mlp other = new Mlp(new int[] {5, 3, 2}, Activation.TANH);
        assertThatThrownBy(() -> other.forward(new Mlp(new int[] {5, 4, 2}, Activation.TANH).prepare(
                new Mlp(new int[] {5, 4, 2}, Activation.TANH).initParams(new Random(1))), randn(new Random(2), 1, 5), null, null))
                .hasMessageContaining("call prepare(..) on this network");
    }

    @Test
    void gradientMatchesCentralFiniteDifferences() {
        for (Activation act : Activation.values()) {
            Mlp mlp = new Mlp(new int[] {3, 6, 5, 2}, act);
            Random rng = new Random(11);
            INDArray p = mlp.initParams(rng).addi(randn(rng, 1, mlp.numParams()).muli(0.1));
            INDArray x = randn(rng, 7, 3);
            INDArray y = randn(rng, 7, 2);
            INDArray g = mlp.lossAndGradient(p, x, y).gradient();
            INDArray fd = Nd4j.create(DataType.DOUBLE, 1, mlp.numParams());
            double eps = 1e-6;
            for (int i = 0; i < mlp.numParams(); i++) {
                double orig = p.getDouble(0, i);
                p.putScalar(0, i, orig + eps);
                double lp = mlp.loss(p, x, y);
                p.putScalar(0, i, orig - eps);
                double lm = mlp.loss(p, x, y);
                p.putScalar(0, i, orig);
                fd.putScalar(0, i, (lp - lm) / (2 * eps));
            }
            assertThat(relErr(g, fd)).as("gradient relative error for %s", act).isLessThan(1e-6);
        }
    }

    @Test
    void hessianVectorProductMatchesFiniteDifferencesOfGradients() {
        Mlp mlp = new Mlp(new int[] {3, 6, 5, 2}, Activation.TANH);
        Random rng = new Random(12);
        INDArray p = mlp.initParams(rng).addi(randn(rng, 1, mlp.numParams()).muli(0.3));
        INDArray x = randn(rng, 8, 3);
        INDArray y = randn(rng, 8, 2);
        for (int trial = 0; trial < 3; trial++) {
            INDArray v = randn(rng, 1, mlp.numParams());
            INDArray hv = mlp.hessianVectorProduct(p, x, y, v);
            double eps = 1e-5;
            INDArray gp = mlp.lossAndGradient(p.add(v.mul(eps)), x, y).gradient();
            INDArray gm = mlp.lossAndGradient(p.sub(v.mul(eps)), x, y).gradient();
            INDArray fd = gp.sub(gm).divi(2 * eps);
            assertThat(relErr(hv, fd)).isLessThan(1e-5);
        }
    }

    @Test
    void hessianVectorProductOfSingleLayerAndReluNetsMatchesFiniteDifferences() {
        // A linear model has a constant Hessian; ReLU has zero curvature in its activations, so
        // small central differences away from kinks agree exactly as well.
        for (int[] sizes : new int[][] {{3, 2}, {3, 6, 5, 2}}) {
            Mlp mlp = new Mlp(sizes, Activation.RELU);
            Random rng = new Random(13);
            INDArray p = mlp.initParams(rng).addi(randn(rng, 1, mlp.numParams()).muli(0.1));
            INDArray x = randn(rng, 8, 3);
            INDArray y = randn(rng, 8, 2);
            INDArray v = randn(rng, 1, mlp.numParams());
            INDArray hv = mlp.hessianVectorProduct(p, x, y, v);
            double eps = 1e-7;
            INDArray gp = mlp.lossAndGradient(p.add(v.mul(eps)), x, y).gradient();
            INDArray gm = mlp.lossAndGradient(p.sub(v.mul(eps)), x, y).gradient();
            assertThat(relErr(hv, gp.sub(gm).divi(2 * eps))).isLessThan(1e-5);
        }
    }

    @Test
    void hessianVectorProductIsSymmetric() {
        Mlp mlp = new Mlp(new int[] {4, 16, 16, 3}, Activation.TANH);
        Random rng = new Random(14);
        INDArray p = mlp.initParams(rng);
        INDArray x = randn(rng, 10, 4);
        INDArray y = randn(rng, 10, 3);
        MlpTape tape = mlp.tape(p, x, y);
        INDArray u = randn(rng, 1, mlp.numParams());
        INDArray v = randn(rng, 1, mlp.numParams());
        double uHv = u.mul(tape.hessianVectorProduct(v)).sumNumber().doubleValue();
        double vHu = v.mul(tape.hessianVectorProduct(u)).sumNumber().doubleValue();
        assertThat(Math.abs(uHv - vHu)).isLessThan(1e-10 * Math.max(1, Math.abs(uHv)));
    }

    @Test
    void tapeReusesPassForRepeatedProductsAndDoesNotModifyArguments() {
        Mlp mlp = new Mlp(new int[] {4, 9, 3}, Activation.TANH);
        Random rng = new Random(15);
        INDArray p = mlp.initParams(rng);
        INDArray x = randn(rng, 5, 4);
        INDArray y = randn(rng, 5, 3);
        INDArray v = randn(rng, 1, mlp.numParams());
        INDArray pCopy = p.dup();
        INDArray vCopy = v.dup();
        MlpTape tape = mlp.tape(p, x, y);
        INDArray first = tape.hessianVectorProduct(v);
        INDArray second = tape.hessianVectorProduct(v);
        assertThat(second).isEqualTo(first);
        assertThat(first).isEqualTo(mlp.hessianVectorProduct(p, x, y, v));
        assertThat(tape.gradient()).isEqualTo(mlp.lossAndGradient(p, x, y).gradient());
        assertThat(p).isEqualTo(pCopy);
        assertThat(v).isEqualTo(vCopy);
    }

    @Test
    void initParamsIsDeterministicForASeedAndHasZeroBiases() {
        Mlp mlp = new Mlp(new int[] {4, 64, 64, 3}, Activation.TANH);
        INDArray a = mlp.initParams(new Random(42));
        INDArray b = mlp.initParams(new Random(42));
        INDArray c = mlp.initParams(new Random(43));
        assertThat(a).isEqualTo(b);
        assertThat(a).isNotEqualTo(c);
        assertThat(a.shape()).containsExactly(1, mlp.numParams());
        assertThat(mlp.numParams()).isEqualTo(5 * 64 + 65 * 64 + 65 * 3);
        for (int l = 1; l <= mlp.numLayers(); l++) {
            for (long i = mlp.biasOffset(l); i < mlp.biasOffset(l) + mlp.layerSizes()[l]; i++) {
                assertThat(a.getDouble(0, i)).isZero();
            }
        }
        double limit = Math.sqrt(6.0 / (4 + 64));
        assertThat(a.getDouble(0, 0)).isBetween(-limit, limit);
    }

    @Test
    void acceptsParameterViewsAndRejectsWrongShapesWithActionableMessages() {
        Mlp mlp = new Mlp(new int[] {2, 3, 1}, Activation.TANH);
        INDArray p = mlp.initParams(new Random(1));
        INDArray bigger = Nd4j.create(DataType.DOUBLE, 1, mlp.numParams() + 5);
        INDArray view = bigger.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(5, 5 + mlp.numParams())).reshape(1, mlp.numParams());
        view.assign(p);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 2);
        assertThat(mlp.forward(view, x)).isEqualTo(mlp.forward(p, x));

        assertThatThrownBy(() -> mlp.forward(Nd4j.create(DataType.DOUBLE, 1, 3), x))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("params has 3 elements");
        assertThatThrownBy(() -> mlp.forward(p.castTo(DataType.FLOAT), x))
                .hasMessageContaining("castTo(DataType.DOUBLE)");
        assertThatThrownBy(() -> mlp.forward(p, Nd4j.create(DataType.DOUBLE, 3, 4)))
                .hasMessageContaining("[n>=1, 2]");
        assertThatThrownBy(() -> new Mlp(new int[] {2, 0, 1}, Activation.TANH)).hasMessageContaining("layerSizes[1] is 0");
        assertThatThrownBy(() -> new Mlp(new int[] {2}, Activation.TANH)).hasMessageContaining("at least 2 entries");
    }
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Activation.class)
    void thePlainJavaForwardAndLossAgreeWithTheNd4jOnes(Activation activation) {
        Mlp mlp = new Mlp(new int[] {5, 16, 12, 3}, activation);
        Random rng = new Random(4);
        double[] p = new double[mlp.numParams()];
        for (int i = 0; i < p.length; i++) {
            p[i] = rng.nextGaussian() * 0.5;
        }
        int rows = 7;
        double[] x = new double[rows * 5];
        double[] y = new double[rows * 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = rng.nextGaussian();
        }
        for (int i = 0; i < y.length; i++) {
            y[i] = rng.nextGaussian();
        }
        INDArray params = Nd4j.create(p, new long[] {1, p.length}, DataType.DOUBLE);
        INDArray xs = Nd4j.create(x, new long[] {rows, 5}, DataType.DOUBLE);
        double[] nd4j = mlp.forward(params, xs).dup().data().asDouble();
        double[] plain = mlp.preActivation(p, x, rows, mlp.numLayers());
        assertThat(plain).hasSize(nd4j.length);
        for (int i = 0; i < plain.length; i++) {
            assertThat(plain[i]).isCloseTo(nd4j[i], org.assertj.core.data.Offset.offset(1e-12));
        }
        double lossNd4j = mlp.loss(params, xs, Nd4j.create(y, new long[] {rows, 3}, DataType.DOUBLE));
        assertThat(mlp.loss(p, x, y, rows)).isCloseTo(lossNd4j, org.assertj.core.data.Offset.offset(1e-12 * lossNd4j));
        // the last hidden layer's pre-activation is what a network without the output layer returns
        Mlp hidden = new Mlp(new int[] {5, 16, 12}, activation);
        double[] h = hidden.forward(Nd4j.create(java.util.Arrays.copyOf(p, hidden.numParams()), new long[] {1, hidden.numParams()},
                DataType.DOUBLE), xs).dup().data().asDouble();
        double[] hp = mlp.preActivation(p, x, rows, 2);
        for (int i = 0; i < hp.length; i++) {
            assertThat(hp[i]).isCloseTo(h[i], org.assertj.core.data.Offset.offset(1e-12));
        }
    }
    @Test
    void theFastTanhIsWithinRoundingOfMathTanhEverywhere() {
        Random rng = new Random(9);
        for (int i = 0; i < 200_000; i++) {
            double z = (i % 2 == 0 ? rng.nextGaussian() * 3 : rng.nextGaussian() * 0.03) * (i % 7 == 0 ? 200 : 1);
            assertThat(Activation.tanh(z)).as("tanh(%s)", z).isCloseTo(Math.tanh(z), org.assertj.core.data.Offset.offset(5e-16));
        }
        assertThat(Activation.tanh(1000)).isEqualTo(1.0);
        assertThat(Activation.tanh(-1000)).isEqualTo(-1.0);
        assertThat(Activation.tanh(0.0)).isEqualTo(0.0);
        assertThat(Activation.tanh(Double.NaN)).isNaN();
    }
}

package io.metastream.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class InnerLoopTest {

    private static final Mlp MLP = new Mlp(new int[] {3, 7, 6, 2}, Activation.TANH);

    @Test
    void metaGradientComposesGradientsAndHessianProductsOfThePublicApi() {
        Random rng = new Random(1);
        INDArray theta = MLP.initParams(rng);
        INDArray xa = MlpTest.randn(rng, 5, 3);
        INDArray ya = MlpTest.randn(rng, 5, 2);
        INDArray xe = MlpTest.randn(rng, 4, 3);
        INDArray ye = MlpTest.randn(rng, 4, 2);
        double lr = 0.2;
        INDArray phi1 = theta.sub(MLP.lossAndGradient(theta, xa, ya).gradient().mul(lr));
        INDArray phi2 = phi1.sub(MLP.lossAndGradient(phi1, xa, ya).gradient().mul(lr));
        INDArray v = MLP.lossAndGradient(phi2, xe, ye).gradient();
        v.subi(MLP.hessianVectorProduct(phi1, xa, ya, v).mul(lr));
        v.subi(MLP.hessianVectorProduct(theta, xa, ya, v).mul(lr));

        InnerLoop loop = new InnerLoop(MLP, lr, 2);
        InnerLoop.Result r = loop.metaGradient(theta, xa, ya, xe, ye, false);
        assertThat(MlpTest.relErr(r.gradient(), v)).isLessThan(1e-13);
        assertThat(r.preAdaptLoss()).isCloseTo(MLP.loss(theta, xe, ye), org.assertj.core.data.Offset.offset(1e-13));
        assertThat(r.postAdaptLoss()).isCloseTo(MLP.loss(phi2, xe, ye), org.assertj.core.data.Offset.offset(1e-13));
        assertThat(MlpTest.relErr(loop.adapt(theta, xa, ya), phi2)).isLessThan(1e-14);
        INDArray firstOrder = loop.metaGradient(theta, xa, ya, xe, ye, true).gradient();
        assertThat(MlpTest.relErr(firstOrder, MLP.lossAndGradient(phi2, xe, ye).gradient())).isLessThan(1e-14);
    }

    @Test
    void reusedBuffersCarryNoStateBetweenCallsEvenWhenBatchSizesChange() {
        Random rng = new Random(2);
        InnerLoop reused = new InnerLoop(MLP, 0.1, 1);
        for (int call = 0; call < 4; call++) {
            int m = 3 + call % 2;
            int k = 6 - call % 3;
            INDArray theta = MLP.initParams(rng);
            INDArray xa = MlpTest.randn(rng, m, 3);
            INDArray ya = MlpTest.randn(rng, m, 2);
            INDArray xe = MlpTest.randn(rng, k, 3);
            INDArray ye = MlpTest.randn(rng, k, 2);
            InnerLoop.Result a = reused.metaGradient(theta, xa, ya, xe, ye, false);
            InnerLoop.Result b = new InnerLoop(MLP, 0.1, 1).metaGradient(theta, xa, ya, xe, ye, false);
            assertThat(a.gradient()).isEqualTo(b.gradient());
            assertThat(a.preAdaptLoss()).isEqualTo(b.preAdaptLoss());
            assertThat(a.postAdaptLoss()).isEqualTo(b.postAdaptLoss());
        }
    }

    @Test
    void zeroInnerStepsIsPlainGradientDescentOnTheEvaluationData() {
        Random rng = new Random(3);
        INDArray theta = MLP.initParams(rng);
        INDArray x = MlpTest.randn(rng, 4, 3);
        INDArray y = MlpTest.randn(rng, 4, 2);
        InnerLoop.Result r = new InnerLoop(MLP, 0.1, 0).metaGradient(theta, x, y, x, y, false);
        assertThat(MlpTest.relErr(r.gradient(), MLP.lossAndGradient(theta, x, y).gradient())).isLessThan(1e-14);
        assertThat(r.preAdaptLoss()).isEqualTo(r.postAdaptLoss());
        assertThat(new InnerLoop(MLP, 0.1, 0).adapt(theta, x, y)).isEqualTo(theta);
    }

    @Test
    void rejectsBadSettingsAndData() {
        assertThatThrownBy(() -> new InnerLoop(MLP, 0, 1)).hasMessageContaining("innerLr is 0.0");
        assertThatThrownBy(() -> new InnerLoop(MLP, 0.1, -1)).hasMessageContaining("innerSteps is -1");
        INDArray theta = MLP.initParams(new Random(4));
        INDArray x = MlpTest.randn(new Random(5), 4, 3);
        assertThatThrownBy(() -> new InnerLoop(MLP, 0.1, 1).adapt(theta, x, MlpTest.randn(new Random(6), 3, 2)))
                .hasMessageContaining("y has shape [3, 2] but [4, 2] is required");
    }
}

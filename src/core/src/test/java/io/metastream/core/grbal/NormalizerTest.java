package io.metastream.core.grbal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class NormalizerTest {

    private static Segment randomSegment(Random rng, int n) {
        double[][] o = new double[n][2];
        double[][] a = new double[n][1];
        double[][] no = new double[n][2];
        for (int t = 0; t < n; t++) {
            o[t][0] = 5 + 2 * rng.nextGaussian();
            o[t][1] = -1 + 0.1 * rng.nextGaussian();
            a[t][0] = 3 * rng.nextGaussian();
            no[t][0] = o[t][0] + 0.5 + rng.nextGaussian();
            no[t][1] = o[t][1] + 0.01 * rng.nextGaussian();
        }
        return new Segment(o, a, no);
    }

    @Test
    void matchesDirectMeanAndSampleStdAcrossSegments() {
        Random rng = new Random(1);
        Segment s1 = randomSegment(rng, 30);
        Segment s2 = randomSegment(rng, 50);
        Normalizer norm = new Normalizer(2, 1);
        norm.update(s1);
        norm.update(s2);
        assertThat(norm.count()).isEqualTo(80);
        double[] col = new double[80];
        for (int t = 0; t < 80; t++) {
            col[t] = t < 30 ? s1.obs()[t][0] : s2.obs()[t - 30][0];
        }
        double mean = java.util.Arrays.stream(col).average().orElseThrow();
        double var = java.util.Arrays.stream(col).map(v -> (v - mean) * (v - mean)).sum() / 79;
        assertThat(norm.inputMean()[0]).isCloseTo(mean, within(1e-12));
        assertThat(norm.inputStd()[0]).isCloseTo(Math.sqrt(var), within(1e-12));
    }

    @Test
    void normalisesSegmentsAndBatchesAlikeAndDenormalisesTargets() {
        Random rng = new Random(2);
        Normalizer norm = new Normalizer(2, 1);
        Segment s = randomSegment(rng, 40);
        norm.update(s);
        INDArray fromSegment = norm.inputs(s);
        INDArray fromBatch = norm.inputs(Nd4j.create(s.obs()), Nd4j.create(s.act()));
        assertThat(fromBatch).isEqualTo(fromSegment);
        // normalised inputs have mean 0 and std 1 on the data they were fitted to
        assertThat(fromSegment.mean(0).norm2Number().doubleValue()).isLessThan(1e-12);
        assertThat(fromSegment.std(0).sub(1.0).norm2Number().doubleValue()).isLessThan(1e-12);
        INDArray raw = Nd4j.create(s.nextObs()).sub(Nd4j.create(s.obs()));
        assertThat(norm.denormalizeDelta(norm.targets(s)).sub(raw).norm2Number().doubleValue()).isLessThan(1e-12);
    }

    @Test
    void usesUnitScaleBeforeTwoSamplesAndFloorsConstantDimensions() {
        Normalizer norm = new Normalizer(1, 1);
        assertThat(norm.inputStd()).containsExactly(1.0, 1.0);
        norm.update(new Segment(new double[][] {{3}}, new double[][] {{2}}, new double[][] {{3}}));
        assertThat(norm.inputStd()).containsExactly(1.0, 1.0);
        assertThat(norm.inputMean()).containsExactly(3.0, 2.0);
        norm.update(new Segment(new double[][] {{3}}, new double[][] {{4}}, new double[][] {{3}}));
        assertThat(norm.inputStd()[0]).isEqualTo(Normalizer.STD_FLOOR);
        assertThat(norm.targetStd()[0]).isEqualTo(Normalizer.STD_FLOOR);
    }

    @Test
    void freezingStopsUpdatesAndCopiesAreIndependent() {
        Normalizer norm = new Normalizer(2, 1);
        Segment s = randomSegment(new Random(3), 5);
        norm.update(s);
        Normalizer copy = norm.copy();
        norm.freeze();
        assertThat(norm.frozen()).isTrue();
        assertThat(norm.frozenCopy()).isSameAs(norm);
        assertThatThrownBy(() -> norm.update(s)).isInstanceOf(IllegalStateException.class).hasMessageContaining("frozen");
        copy.update(s);
        assertThat(copy.count()).isEqualTo(10);
        assertThat(norm.count()).isEqualTo(5);
    }

    @Test
    void roundTripsThroughBytesAndRejectsUnknownVersions() {
        Normalizer norm = new Normalizer(2, 1);
        norm.update(randomSegment(new Random(4), 20));
        norm.freeze();
        Normalizer back = Normalizer.fromBytes(norm.toBytes());
        assertThat(back.toBytes()).isEqualTo(norm.toBytes());
        assertThat(back.frozen()).isTrue();
        assertThat(back.inputStd()).containsExactly(norm.inputStd());
        byte[] future = norm.toBytes();
        ByteBuffer.wrap(future).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 7);
        assertThatThrownBy(() -> Normalizer.fromBytes(future)).hasMessageContaining("unknown format version 7");
        assertThatThrownBy(() -> norm.inputs(new Segment(new double[][] {{1}}, new double[][] {{1}}, new double[][] {{1}})))
                .hasMessageContaining("obsDim 1 and actDim 1 but this normalizer was built for obsDim 2 and actDim 1");
    }
}

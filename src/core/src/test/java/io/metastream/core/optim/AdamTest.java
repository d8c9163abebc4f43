package io.metastream.core.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class AdamTest {

    /** Gradient of f(p) = sum_i w_i (p_i - c_i)^2. */
    private static INDArray quadraticGradient(INDArray p, INDArray c, INDArray w) {
        return p.sub(c).muli(w).muli(2.0);
    }

    @Test
    void minimisesAQuadratic() {
        INDArray c = Nd4j.createFromArray(new double[] {1.0, -2.0, 3.0, 0.5}).reshape(1, 4);
        INDArray w = Nd4j.createFromArray(new double[] {1.0, 10.0, 0.1, 3.0}).reshape(1, 4);
        INDArray p = Nd4j.zeros(DataType.DOUBLE, 1, 4);
        Adam adam = new Adam(4, 0.05);
        for (int i = 0; i < 2000; i++) {
            adam.step(p, quadraticGradient(p, c, w));
        }
        assertThat(adam.steps()).isEqualTo(2000);
        assertThat(p.sub(c).norm2Number().doubleValue()).isLessThan(1e-3);
    }

    @Test
    void firstStepMovesEachParameterByTheLearningRateAgainstTheGradientSign() {
        // with bias correction, step 1 is lr * g / (|g| + eps')
        INDArray p = Nd4j.zeros(DataType.DOUBLE, 1, 3);
        new Adam(3, 0.1).step(p, Nd4j.createFromArray(new double[] {2.0, -0.5, 1e-3}).reshape(1, 3));
        assertThat(p.toDoubleVector()).containsExactly(new double[] {-0.1, 0.1, -0.1},
                org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void updatesRankOneVectorsAndViewsInPlace() {
        INDArray g = Nd4j.createFromArray(new double[] {1, -1, 2});
        INDArray flat = Nd4j.zeros(DataType.DOUBLE, 3);
        new Adam(3, 0.1).step(flat, g);
        assertThat(flat.toDoubleVector()).containsExactly(new double[] {-0.1, 0.1, -0.1},
                org.assertj.core.data.Offset.offset(1e-6));
        INDArray big = Nd4j.zeros(DataType.DOUBLE, 1, 8);
        INDArray view = big.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 0, true),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 5));
        new Adam(3, 0.1).step(view, g.reshape(1, 3));
        assertThat(big.toDoubleVector()).containsExactly(new double[] {0, 0, -0.1, 0.1, -0.1, 0, 0, 0},
                org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void restoredStateGivesTheIdenticalNextStep() {
        Adam adam = new Adam(5, 0.01, 0.8, 0.99, 1e-7);
        INDArray p = Nd4j.createFromArray(new double[] {0.1, 0.2, 0.3, 0.4, 0.5}).reshape(1, 5);
        for (int i = 0; i < 7; i++) {
            adam.step(p, p.mul(i + 1.0).addi(0.3));
        }
        Adam restored = Adam.fromBytes(adam.toBytes());
        assertThat(restored.steps()).isEqualTo(7);
        assertThat(restored.toBytes()).isEqualTo(adam.toBytes());
        INDArray g = Nd4j.createFromArray(new double[] {0.5, -1, 2, -3, 0}).reshape(1, 5);
        INDArray p1 = p.dup();
        INDArray p2 = p.dup();
        adam.step(p1, g);
        restored.step(p2, g);
        assertThat(p2).isEqualTo(p1);
        assertThat(restored.toBytes()).isEqualTo(adam.toBytes());
    }

    @Test
    void copyIsIndependentAndWithLearningRateKeepsMoments() {
        Adam adam = new Adam(2, 0.1);
        INDArray p = Nd4j.zeros(DataType.DOUBLE, 1, 2);
        adam.step(p, Nd4j.ones(DataType.DOUBLE, 1, 2));
        Adam copy = adam.copy();
        adam.step(p, Nd4j.ones(DataType.DOUBLE, 1, 2));
        assertThat(copy.steps()).isEqualTo(1);
        Adam slower = copy.withLearningRate(0.05);
        assertThat(slower.learningRate()).isEqualTo(0.05);
        assertThat(slower.steps()).isEqualTo(1);
    }

    @Test
    void rejectsUnknownVersionsTruncationAndBadSettingsWithClearMessages() {
        byte[] bytes = new Adam(3, 0.1).toBytes();
        byte[] future = bytes.clone();
        ByteBuffer.wrap(future).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 99);
        assertThatThrownBy(() -> Adam.fromBytes(future)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown format version 99");
        assertThatThrownBy(() -> Adam.fromBytes(Arrays.copyOf(bytes, bytes.length - 3)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("truncated");
        assertThatThrownBy(() -> new Adam(0, 0.1)).hasMessageContaining("numParams is 0");
        assertThatThrownBy(() -> new Adam(3, -1)).hasMessageContaining("learningRate is -1.0");
        assertThatThrownBy(() -> new Adam(3, 0.1, 1.0, 0.999, 1e-8)).hasMessageContaining("beta1 is 1.0");
        assertThatThrownBy(() -> new Adam(3, 0.1).step(Nd4j.zeros(DataType.DOUBLE, 1, 4), Nd4j.zeros(DataType.DOUBLE, 1, 3)))
                .hasMessageContaining("params has 4 elements");
    }

    @Test
    void copyFromRollsBackMomentsAndStepCountKeepingTheOwnLearningRate() {
        Adam a = new Adam(3, 0.1);
        INDArray p = Nd4j.createFromArray(new double[][] {{1, 2, 3}});
        INDArray g = Nd4j.createFromArray(new double[][] {{0.5, -1, 2}});
        a.step(p, g);
        Adam backup = new Adam(3, 0.5);
        backup.copyFrom(a);
        assertThat(backup.steps()).isEqualTo(1);
        assertThat(backup.learningRate()).isEqualTo(0.5);
        INDArray p2 = p.dup();
        a.step(p, g);
        a.copyFrom(backup); // undo the second step's optimizer state
        a.step(p2, g);
        assertThat(p2.toDoubleVector()).containsExactly(p.toDoubleVector());
        assertThat(a.steps()).isEqualTo(2);
        assertThatThrownBy(() -> a.copyFrom(new Adam(4, 0.1))).hasMessageContaining("source steps 4 parameters");
    }
}

package io.metastream.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class NdArraysTest {

    private static INDArray sequence(int rows, int cols) {
        double[] v = new double[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        return NdArrays.matrix(v, rows, cols);
    }

    @Test
    void flatArraysOfOffsetAndStridedViewsAreRowMajorCopies() {
        INDArray m = sequence(4, 5);
        INDArray rows = m.get(NDArrayIndex.interval(1, 3), NDArrayIndex.all()); // contiguous, offset 5
        assertThat(NdArrays.toFlatArray(rows)).containsExactly(5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
        INDArray col = m.getColumn(2); // strided
        assertThat(NdArrays.toFlatArray(col)).containsExactly(2, 7, 12, 17);
        INDArray f = m.dup('f');
        assertThat(NdArrays.toFlatArray(f)).containsExactly(NdArrays.toFlatArray(m));
    }

    @Test
    void viewsShareStorageAndColumnViewsSkipTheRest() {
        INDArray flat = sequence(1, 12);
        INDArray v = NdArrays.view(flat, 2, 2, 3);
        assertThat(v.toDoubleMatrix()).isDeepEqualTo(new double[][] {{2, 3, 4}, {5, 6, 7}});
        v.assign(0.0);
        assertThat(flat.getDouble(0, 7)).isZero();
        assertThat(flat.getDouble(0, 8)).isEqualTo(8.0);
        INDArray m = sequence(3, 4);
        assertThat(NdArrays.columns(m, 1, 2).toDoubleMatrix()).isDeepEqualTo(new double[][] {{1, 2}, {5, 6}, {9, 10}});
        assertThat(NdArrays.leadingColumns(m, 3).toDoubleMatrix())
                .isDeepEqualTo(new double[][] {{0, 1, 2}, {4, 5, 6}, {8, 9, 10}});
    }

    @Test
    void finitenessCheckSeesNaNAndInfinities() {
        assertThat(NdArrays.allFinite(sequence(2, 2))).isTrue();
        assertThat(NdArrays.allFinite(Nd4j.createFromArray(1.0, Double.NaN))).isFalse();
        assertThat(NdArrays.allFinite(Nd4j.createFromArray(1.0, Double.POSITIVE_INFINITY))).isFalse();
        assertThat(NdArrays.allFinite(Nd4j.createFromArray(Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY))).isFalse();
    }
}

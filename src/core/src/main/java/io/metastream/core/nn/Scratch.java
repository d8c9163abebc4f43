package io.metastream.core.nn;

import io.metastream.core.internal.NdArrays;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Lays out several matrices in one native allocation. Allocation is a large share of ND4J's per-op
 * cost, so a pass allocates once and hands out views. Matrices declared with
 * {@link #augmented(int, int)} get an extra trailing column of ones, so that a layer's weights and
 * bias (stored contiguously as {@code [in + 1, out]}) apply in one GEMM.
 *
 * <p>Not thread-safe; used within one call.
 */
final class Scratch {

    private final List<long[]> specs = new ArrayList<>(); // {rows, cols, onesColumn ? 1 : 0}
    private long total;

    /** Declares a plain {@code [rows, cols]} matrix (zero-initialised); returns its handle. */
    int plain(int rows, int cols) {
        specs.add(new long[] {rows, cols, 0, total});
        total += (long) rows * cols;
        return specs.size() - 1;
    }

    /** Declares a {@code [rows, cols + 1]} matrix whose last column is ones; returns its handle. */
    int augmented(int rows, int cols) {
        specs.add(new long[] {rows, cols + 1L, 1, total});
        total += (long) rows * (cols + 1L);
        return specs.size() - 1;
    }

    /** Allocates the block; the returned array's element {@code i} is the matrix of handle {@code i}. */
    INDArray[] allocate() {
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("scratch of " + total + " doubles is too large; use smaller batches");
        }
        double[] init = new double[(int) total];
        for (long[] s : specs) {
            if (s[2] == 1) {
                int rows = (int) s[0];
                int cols = (int) s[1];
                int base = (int) s[3];
                for (int r = 0; r < rows; r++) {
                    init[base + r * cols + cols - 1] = 1.0;
                }
            }
        }
        INDArray block = Nd4j.create(init, new long[] {1, total}, DataType.DOUBLE);
        INDArray[] out = new INDArray[specs.size()];
        for (int i = 0; i < out.length; i++) {
            long[] s = specs.get(i);
            out[i] = NdArrays.view(block, s[3], s[0], s[1]);
        }
        return out;
    }
}

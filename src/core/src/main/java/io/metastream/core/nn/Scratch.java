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
 * <p>The block is allocated uninitialised (zeroing or copying a Java array costs far more than the
 * allocation): plain matrices hold garbage until their first write, so every user must write a
 * plain matrix fully (e.g. GEMM with {@code beta = 0}, an op with it as output) before reading it.
 * All augmented matrices sit at the start of the block and are set to one with a single op; their
 * leading columns are then overwritten by the caller.
 *
 * <p>Not thread-safe; used within one call.
 */
final class Scratch {

    private final List<long[]> augmentedSpecs = new ArrayList<>(); // {rows, cols incl. ones}
    private final List<long[]> plainSpecs = new ArrayList<>(); // {rows, cols}
    private final List<int[]> handles = new ArrayList<>(); // {kind (1 = augmented), index}

    /** Declares a plain {@code [rows, cols]} matrix (uninitialised); returns its handle. */
    int plain(int rows, int cols) {
        plainSpecs.add(new long[] {rows, cols});
        handles.add(new int[] {0, plainSpecs.size() - 1});
        return handles.size() - 1;
    }

    /** Declares a {@code [rows, cols + 1]} matrix whose last column is ones; returns its handle. */
    int augmented(int rows, int cols) {
        augmentedSpecs.add(new long[] {rows, cols + 1L});
        handles.add(new int[] {1, augmentedSpecs.size() - 1});
        return handles.size() - 1;
    }

    /** Allocates the block; the returned array's element {@code i} is the matrix of handle {@code i}. */
    INDArray[] allocate() {
        long[] augOffset = new long[augmentedSpecs.size()];
        long[] plainOffset = new long[plainSpecs.size()];
        long total = 0;
        for (int i = 0; i < augOffset.length; i++) {
            augOffset[i] = total;
            total += augmentedSpecs.get(i)[0] * augmentedSpecs.get(i)[1];
        }
        long augmentedTotal = total;
        for (int i = 0; i < plainOffset.length; i++) {
            plainOffset[i] = total;
            total += plainSpecs.get(i)[0] * plainSpecs.get(i)[1];
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("scratch of " + total + " doubles is too large; use smaller batches");
        }
        INDArray block = Nd4j.createUninitialized(DataType.DOUBLE, 1, Math.max(1, total));
        if (augmentedTotal > 0) {
            NdArrays.view(block, 0, 1, augmentedTotal).assign(1.0);
        }
        INDArray[] out = new INDArray[handles.size()];
        for (int h = 0; h < out.length; h++) {
            int[] k = handles.get(h);
            long[] spec = k[0] == 1 ? augmentedSpecs.get(k[1]) : plainSpecs.get(k[1]);
            long off = k[0] == 1 ? augOffset[k[1]] : plainOffset[k[1]];
            out[h] = NdArrays.view(block, off, spec[0], spec[1]);
        }
        return out;
    }
}

package io.metastream.core.nn;

import io.metastream.core.internal.NdArrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A parameter-shaped vector {@code [1, numParams]} of an {@link Mlp} with its per-layer views made
 * once. Creating an INDArray view costs about 5 µs in ND4J 1.0.0-M2.1 (shape information and
 * native pointer bookkeeping), as much as a small op, so buffers that are used many times keep
 * their views.
 *
 * <p>Not thread-safe; owned by the object that created it.
 */
final class FlatVector {

    final INDArray array;
    /** block[l] = [W_l; b_l] as {@code [in_l + 1, out_l]}, for l = 1..L. */
    final INDArray[] block;
    /** weights[l] = W_l as {@code [in_l, out_l]}. */
    final INDArray[] weights;

    /** A new uninitialised vector. */
    FlatVector(Mlp mlp) {
        this(mlp, Nd4j.createUninitialized(DataType.DOUBLE, 1, mlp.numParams()));
    }

    /** Views over {@code contiguous}, which must be a contiguous DOUBLE array of numParams elements. */
    FlatVector(Mlp mlp, INDArray contiguous) {
        this.array = contiguous;
        int layers = mlp.numLayers();
        block = new INDArray[layers + 1];
        weights = new INDArray[layers + 1];
        for (int l = 1; l <= layers; l++) {
            long off = mlp.weightOffset(l);
            block[l] = NdArrays.view(contiguous, off, mlp.size(l - 1) + 1L, mlp.size(l));
            weights[l] = NdArrays.view(contiguous, off, mlp.size(l - 1), mlp.size(l));
        }
    }
}

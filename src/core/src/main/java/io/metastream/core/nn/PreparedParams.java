package io.metastream.core.nn;

import io.metastream.core.internal.NdArrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Parameters of an {@link Mlp} prepared by {@link Mlp#prepare} for repeated forward passes: a
 * private, possibly reparameterised copy with its per-layer views made once (ND4J charges about
 * 5 µs per view). Only {@link Mlp#forward(PreparedParams, INDArray, INDArray, INDArray)} reads it.
 *
 * <p>Immutable and thread-safe: the views are only read, and the cached split of the first layer
 * is replaced atomically.
 */
public final class PreparedParams {

    private final Mlp mlp;
    private final INDArray array;
    private final boolean sigmoidForm;
    private final INDArray[] weights;
    private final INDArray[] bias;
    /** {k, top [k, h], bottom [in − k, h]} for the last split width asked for. */
    private volatile Object[] split;

    PreparedParams(Mlp mlp, INDArray array, boolean sigmoidForm) {
        this.mlp = mlp;
        this.array = array;
        this.sigmoidForm = sigmoidForm;
        int layers = mlp.numLayers();
        weights = new INDArray[layers + 1];
        bias = new INDArray[layers + 1];
        for (int l = 1; l <= layers; l++) {
            weights[l] = NdArrays.view(array, mlp.weightOffset(l), mlp.size(l - 1), mlp.size(l));
            bias[l] = NdArrays.view(array, mlp.biasOffset(l), 1, mlp.size(l));
        }
    }

    /** The network these parameters belong to. */
    public Mlp mlp() {
        return mlp;
    }

    /** True when tanh hidden layers were rewritten to use the logistic sigmoid. */
    boolean sigmoidForm() {
        return sigmoidForm;
    }

    INDArray weights(int layer) {
        return weights[layer];
    }

    INDArray bias(int layer) {
        return bias[layer];
    }

    /** Rows {@code [0, k)} and {@code [k, in)} of the first layer's weights. */
    INDArray[] firstLayerSplit(long k) {
        Object[] s = split;
        if (s == null || (Long) s[0] != k) {
            int h = mlp.size(1);
            long off = mlp.weightOffset(1);
            s = new Object[] {k, NdArrays.view(array, off, k, h), NdArrays.view(array, off + k * h, mlp.size(0) - k, h)};
            split = s;
        }
        return new INDArray[] {(INDArray) s[1], (INDArray) s[2]};
    }
}

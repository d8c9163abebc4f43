package io.metastream.sim;

import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.grbal.Normalizer;
import io.metastream.core.nn.Activation;
import io.metastream.core.nn.Mlp;
import java.util.Random;

/** Untrained dynamics models of the right shapes, for tests that need a model but not a good one. */
public final class TestModels {

    private TestModels() {}

    /** A {obsDim + actDim, 64, 64, obsDim} tanh network with fresh Xavier weights. */
    public static DynamicsModel untrained(TaskFamily family, long seed) {
        Mlp mlp = new Mlp(new int[] {family.obsDim() + family.actDim(), 64, 64, family.obsDim()}, Activation.TANH);
        return new DynamicsModel(mlp, mlp.initParams(new Random(seed)), new Normalizer(family.obsDim(), family.actDim()));
    }
}

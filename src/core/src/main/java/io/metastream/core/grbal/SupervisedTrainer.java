package io.metastream.core.grbal;

import io.metastream.core.nn.Mlp;
import io.metastream.core.optim.Adam;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * The non-meta baseline: one dynamics model of the same architecture as the meta-model, trained by
 * plain minibatch Adam on the pooled transitions of every task (no adaptation, no meta-objective).
 * Its normaliser is fitted on all the data first. Stateless.
 */
public final class SupervisedTrainer {
    private SupervisedTrainer() {}

    /**
     * @param cfg     supplies the architecture (observation, action and hidden sizes, activation) and seed
     * @param data    the training transitions, grouped in any way
     * @param steps   Adam steps
     * @param batch   minibatch size (sampled with replacement)
     * @param lr      Adam learning rate
     * @param seed    seed of the initialisation and the minibatch sampling
     * @throws IllegalArgumentException if there is no data or a setting is not positive
     */
    public static DynamicsModel train(GrbalConfig cfg, List<Segment> data, int steps, int batch, double lr, long seed) {
        Objects.requireNonNull(cfg, "cfg");
        requireSettings(data, steps, batch, lr);
        Normalizer normalizer = new Normalizer(cfg.obsDim(), cfg.actDim());
        for (Segment s : data) {
            normalizer.update(s);
        }
        normalizer.freeze();
        Random rng = new Random(seed);
        Mlp mlp = cfg.mlp();
        return fit(mlp, mlp.initParams(rng), normalizer, data, steps, batch, lr, rng);
    }

    /**
     * Fine-tunes {@code start}'s parameters (in its own normaliser's space) on {@code data} by plain
     * minibatch Adam: how well the network can fit the data from where it starts, e.g. a task's model
     * with far more of the task's data than an adaptation window holds.
     */
    public static DynamicsModel fineTune(DynamicsModel start, List<Segment> data, int steps, int batch, double lr, long seed) {
        Objects.requireNonNull(start, "start");
        requireSettings(data, steps, batch, lr);
        return fit(start.mlp(), start.params().dup(), start.normalizer(), data, steps, batch, lr, new Random(seed));
    }

    private static void requireSettings(List<Segment> data, int steps, int batch, double lr) {
        if (data == null || data.isEmpty()) {
            throw new IllegalArgumentException("no training data: pass at least one segment");
        }
        if (steps <= 0 || batch <= 0 || !(lr > 0)) {
            throw new IllegalArgumentException("steps, batch and lr must be positive, got " + steps + ", " + batch
                    + ", " + lr);
        }
    }

    private static DynamicsModel fit(Mlp mlp, INDArray params, Normalizer normalizer, List<Segment> data, int steps,
            int batch, double lr, Random rng) {
        INDArray[] xs = new INDArray[data.size()];
        INDArray[] ys = new INDArray[data.size()];
        for (int i = 0; i < data.size(); i++) {
            xs[i] = normalizer.inputs(data.get(i));
            ys[i] = normalizer.targets(data.get(i));
        }
        INDArray x = xs.length == 1 ? xs[0] : Nd4j.concat(0, xs);
        INDArray y = ys.length == 1 ? ys[0] : Nd4j.concat(0, ys);
        int n = (int) x.rows();
        Adam adam = new Adam(mlp.numParams(), lr);
        int[] rows = new int[Math.min(batch, n)];
        for (int s = 0; s < steps; s++) {
            for (int i = 0; i < rows.length; i++) {
                rows[i] = rng.nextInt(n);
            }
            INDArray bx = x.getRows(rows);
            INDArray by = y.getRows(rows);
            adam.step(params, mlp.lossAndGradient(params, bx, by).gradient());
        }
        return new DynamicsModel(mlp, params, normalizer);
    }
}

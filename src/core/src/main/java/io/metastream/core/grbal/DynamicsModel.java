package io.metastream.core.grbal;

import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.Mlp;
import io.metastream.core.mpc.BatchDynamics;
import io.metastream.core.nn.PreparedParams;
import io.metastream.core.nn.RowForward;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An immutable learned dynamics model {@code s' = s + denorm(f_θ(norm(s, a)))}: a network, its
 * parameters (in the normaliser's space) and a frozen {@link Normalizer}. Used for one-step
 * prediction, as the {@code BatchDynamics} of the MPC planner ({@link #rollout()}), and for
 * per-task adaptation on recent transitions ({@link #adapt}).
 *
 * <p>For prediction the normalisation is folded into the first and last layers once (lazily) and the
 * result {@linkplain Mlp#prepare prepared}, so a batched prediction costs two GEMMs per layer (weights,
 * bias) and one activation per hidden layer, with no separate normalisation ops.
 *
 * <h2>Threading and ownership</h2>
 * Immutable and thread-safe. The constructor copies the parameters and freezes a copy of the
 * normalizer. {@link #params()} and {@link #normalizer()} return the model's own instances, which
 * must not be mutated.
 */
public final class DynamicsModel {

    private final Mlp mlp;
    private final INDArray params;
    private final Normalizer normalizer;
    /** The learned adaptation rule the model was meta-trained with, or null (plain gradient steps). */
    private final LearnedAdaptation adaptation;
    /** Parameters with normalisation folded in, prepared on first prediction (benign race). */
    private volatile PreparedParams rawSpaceParams;
    /** The planner's view of this model, made on first use (benign race); one instance per model. */
    private volatile BatchDynamics rollout;

    /**
     * @param mlp the network; input size {@code obsDim + actDim} and output size {@code obsDim} of
     *     the normalizer
     * @param params DOUBLE parameters with {@code mlp.numParams()} elements (copied)
     * @param normalizer the normaliser the parameters were trained with (a frozen copy is kept)
     */
    public DynamicsModel(Mlp mlp, INDArray params, Normalizer normalizer) {
        this(mlp, params, normalizer, null);
    }

    /**
     * A model that adapts with a learned rule ({@code adaptation} may be null: plain gradient steps).
     *
     * @throws IllegalArgumentException when the rule's parameter count does not fit {@code mlp}
     */
    public DynamicsModel(Mlp mlp, INDArray params, Normalizer normalizer, LearnedAdaptation adaptation) {
        this(check(mlp, params, normalizer), params.dup().reshape(1, mlp.numParams()), normalizer.frozenCopy(),
                checkAdaptation(mlp, adaptation), true);
    }

    private DynamicsModel(Mlp mlp, INDArray ownedParams, Normalizer frozenNormalizer, LearnedAdaptation adaptation,
            boolean owned) {
        this.mlp = mlp;
        this.params = ownedParams;
        this.normalizer = frozenNormalizer;
        this.adaptation = adaptation;
    }

    private static LearnedAdaptation checkAdaptation(Mlp mlp, LearnedAdaptation a) {
        if (a != null) {
            a.requireFits(mlp);
        }
        return a;
    }

    /** The learned adaptation rule the model carries, if any. */
    public java.util.Optional<LearnedAdaptation> learnedAdaptation() {
        return java.util.Optional.ofNullable(adaptation);
    }

    private static Mlp check(Mlp mlp, INDArray params, Normalizer normalizer) {
        if (mlp == null || normalizer == null) {
            throw new IllegalArgumentException("mlp and normalizer must be non-null");
        }
        int obsDim = normalizer.obsDim();
        int actDim = normalizer.actDim();
        if (mlp.inputSize() != obsDim + actDim || mlp.outputSize() != obsDim) {
            throw new IllegalArgumentException("network " + mlp + " maps " + mlp.inputSize() + " -> " + mlp.outputSize()
                    + " but the normalizer needs " + (obsDim + actDim) + " (obsDim + actDim) -> " + obsDim + " (obsDim)");
        }
        NdArrays.requireDoubleLength(params, mlp.numParams(), "params");
        return mlp;
    }

    public Mlp mlp() {
        return mlp;
    }

    /** The parameters {@code [1, numParams]} in normalised space. Shared: do not mutate. */
    public INDArray params() {
        return params;
    }

    /** The frozen normalizer. Shared, and immutable because frozen. */
    public Normalizer normalizer() {
        return normalizer;
    }

    public int obsDim() {
        return normalizer.obsDim();
    }

    public int actDim() {
        return normalizer.actDim();
    }

    /**
     * Predicted next observations in raw space, {@code obs + denormalised f(normalised [obs, act])}.
     *
     * @param obs {@code [n, obsDim]}
     * @param act {@code [n, actDim]}
     * @return a new {@code [n, obsDim]} array
     */
    public INDArray predictNext(INDArray obs, INDArray act) {
        int n = NdArrays.requireDoubleMatrix(obs, -1, obsDim(), "obs");
        NdArrays.requireDoubleMatrix(act, n, actDim(), "act");
        return mlp.forward(rawSpaceParams(), obs, act, obs);
    }

    /**
     * The model as the planner's {@link BatchDynamics}: the same function as {@link #predictNext},
     * computed in plain Java over row-major arrays ({@link RowForward}; tanh units to within 5e-6), so
     * a planner's many small rollout batches pay no ND4J per-op cost. The same instance on every
     * call, so a planner batching several agents rolls out those sharing this model together. Thread-safe.
     */
    public BatchDynamics rollout() {
        BatchDynamics r = rollout;
        if (r == null) {
            RowForward net = new RowForward(mlp, NdArrays.toFlatArray(foldNormalization()));
            int obsDim = obsDim();
            r = (obs, act, from, rows, out) -> net.forward(obs, obsDim, act, obs, from, rows, out);
            rollout = r;
        }
        return r;
    }

    /** Single-transition convenience form of {@link #predictNext(INDArray, INDArray)}. */
    public double[] predictNext(double[] obs, double[] act) {
        if (obs == null || act == null || obs.length != obsDim() || act.length != actDim()) {
            throw new IllegalArgumentException("obs must have " + obsDim() + " and act " + actDim() + " elements");
        }
        return NdArrays.toFlatArray(predictNext(NdArrays.matrix(obs, 1, obs.length), NdArrays.matrix(act, 1, act.length)));
    }

    /** One-step mean squared prediction error in raw observation space (mean over all elements). */
    public double predictionMse(Segment s) {
        checkSegment(s);
        int n = s.length();
        INDArray pred = predictNext(NdArrays.matrix(s.obsFlat(), n, obsDim()), NdArrays.matrix(s.actFlat(), n, actDim()));
        double[] p = NdArrays.toFlatArray(pred);
        double[] next = s.nextObsFlat();
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            double d = p[i] - next[i];
            sum += d * d;
        }
        return sum / p.length;
    }

    /** The training loss (MSE in normalised target space) on a segment. */
    public double normalizedLoss(Segment s) {
        checkSegment(s);
        return mlp.loss(flatParams(), normalizer.inputArray(s), normalizer.targetArray(s), s.length()); // plain Java, see Mlp.preActivation
    }

    private double[] flatParams() {
        double[] p = flatParams;
        if (p == null) {
            p = NdArrays.toFlatArray(params);
            flatParams = p;
        }
        return p;
    }

    /** {@link #params} as a flat array, made on first use (the parameters never change). */
    private volatile double[] flatParams;

    /** The same network and normalizer with other parameters (copied). */
    public DynamicsModel withParams(INDArray newParams) {
        NdArrays.requireDoubleLength(newParams, mlp.numParams(), "params");
        return new DynamicsModel(mlp, newParams.dup().reshape(1, mlp.numParams()), normalizer, adaptation, true);
    }

    /**
     * The model adapted to a task from {@code context}, its last transitions. A model that carries a
     * {@linkplain #learnedAdaptation() learned rule} adapts with it (Meta-SGD's learned step sizes, or
     * ReBAL's GRU) and ignores the two arguments; otherwise {@code innerSteps} gradient steps of size
     * {@code innerLr} on the normalised loss over {@code context} (GrBAL's inner loop,
     * {@link Grbal#adapt}). Pass the configuration's {@code innerLr} and {@code innerSteps}. The
     * adapted model carries no rule of its own.
     */
    public DynamicsModel adapt(Segment context, double innerLr, int innerSteps) {
        checkSegment(context);
        INDArray x = normalizer.inputs(context);
        INDArray y = normalizer.targets(context);
        INDArray phi = adaptation != null ? adaptation.apply(mlp, params, x, y)
                : Grbal.adapt(mlp, params, x, y, innerLr, innerSteps);
        return new DynamicsModel(mlp, phi, normalizer, null, true);
    }

    /**
     * {@link #adapt}, with the normalised loss on {@code context} before ({@code this}) and after (the
     * adapted model), as {@link #normalizedLoss} gives them. Under the ridge rule the losses come from the
     * features the solve computes anyway; otherwise from two more passes.
     */
    public Adapted adaptAndScore(Segment context, double innerLr, int innerSteps) {
        checkSegment(context);
        if (adaptation != null && adaptation.isRidge()) {
            RidgeAdaptation.Adapted r = new RidgeAdaptation(mlp).adaptAndScore(flatParams(), adaptation.ridgeLogLambda(),
                    normalizer.inputArray(context), normalizer.targetArray(context), context.length());
            return new Adapted(new DynamicsModel(mlp, NdArrays.row(r.params()), normalizer, null, true), r.lossBefore(),
                    r.lossAfter());
        }
        DynamicsModel phi = adapt(context, innerLr, innerSteps);
        return new Adapted(phi, normalizedLoss(context), phi.normalizedLoss(context));
    }

    /** An adapted model and the context's normalised loss before and after adapting. */
    public record Adapted(DynamicsModel model, double contextLossBefore, double contextLossAfter) {}

    private void checkSegment(Segment s) {
        if (s == null) {
            throw new IllegalArgumentException("segment is null");
        }
        if (s.obsDim() != obsDim() || s.actDim() != actDim()) {
            throw new IllegalArgumentException("segment has obsDim " + s.obsDim() + " and actDim " + s.actDim()
                    + " but the model expects " + obsDim() + " and " + actDim());
        }
    }

    private PreparedParams rawSpaceParams() {
        PreparedParams raw = rawSpaceParams;
        if (raw == null) {
            raw = mlp.prepare(foldNormalization());
            rawSpaceParams = raw;
        }
        return raw;
    }

    /**
     * Folds {@code x_n = (x − μx) / σx} into layer 1 ({@code W1' = W1 / σx}, {@code b1' = b1 − (μx/σx) W1})
     * and {@code Δ = y_n σy + μy} into the output layer ({@code WL' = WL σy}, {@code bL' = bL σy + μy}).
     */
    private INDArray foldNormalization() {
        double[] p = NdArrays.toFlatArray(params);
        double[] mx = normalizer.inputMean();
        double[] sx = normalizer.inputStd();
        double[] my = normalizer.targetMean();
        double[] sy = normalizer.targetStd();
        int[] sizes = mlp.layerSizes();
        int in = sizes[0];
        int h = sizes[1];
        int w = (int) mlp.weightOffset(1);
        int b = (int) mlp.biasOffset(1);
        for (int i = 0; i < in; i++) {
            for (int j = 0; j < h; j++) {
                double wij = p[w + i * h + j] / sx[i];
                p[w + i * h + j] = wij;
                p[b + j] -= mx[i] * wij;
            }
        }
        int layers = mlp.numLayers();
        int k = sizes[layers - 1];
        int out = sizes[layers];
        w = (int) mlp.weightOffset(layers);
        b = (int) mlp.biasOffset(layers);
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < out; j++) {
                p[w + i * out + j] *= sy[j];
            }
        }
        for (int j = 0; j < out; j++) {
            p[b + j] = p[b + j] * sy[j] + my[j];
        }
        return NdArrays.row(p);
    }

    @Override
    public String toString() {
        return "DynamicsModel[" + mlp + ", " + normalizer + "]";
    }
}

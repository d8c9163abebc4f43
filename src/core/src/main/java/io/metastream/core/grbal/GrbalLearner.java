package io.metastream.core.grbal;

import io.metastream.core.internal.ByteReader;
import io.metastream.core.internal.ByteWriter;
import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.Mlp;
import io.metastream.core.optim.Adam;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GrBAL's outer loop over a stream of task segments: meta-parameters {@code θ}, their Adam state,
 * the input/target normalizer, and the meta-batch being collected.
 *
 * <h2>Call order</h2>
 * <ol>
 *   <li>Create with {@link #GrbalLearner(GrbalConfig)} ({@code θ} drawn from {@code cfg.seed()}) or
 *       {@link #restore(GrbalConfig, byte[])}.
 *   <li>Call {@link #offer(String, Segment)} for each segment. Each call updates the normalizer
 *       while it is warming up (then freezes it for good), computes one meta-gradient with the
 *       current {@code θ} and adds it to the pending meta-batch. Every {@code metaBatchSize}-th call
 *       averages the batch, clips it to {@code maxGradNorm} and applies one Adam step, returning a
 *       {@link StepResult}; other calls return empty.
 *   <li>Read {@link #currentModel()} (an independent snapshot) whenever a new model version should
 *       be published; {@link #outerSteps()} is its version.
 *   <li>Call {@link #snapshot()} to checkpoint; the snapshot includes the pending meta-batch, so a
 *       restored learner continues exactly as this one would have.
 * </ol>
 *
 * <h2>Failure policy</h2>
 * An outer step whose mean losses, averaged gradient or resulting parameters are not finite is
 * rejected: {@code θ} and Adam keep their previous values, the batch is dropped,
 * {@link #rejectedSteps()} increments and the returned result has {@code accepted == false}.
 *
 * <p>Before a segment enters a meta-batch it is screened: one whose meta-gradient is not finite, or
 * whose pre-adaptation loss lies more than {@code outlierSigma} standard deviations above the running
 * mean of the log losses taken so far (checked once 50 segments were taken; the deviation is at least
 * 0.5 in log space, a factor of e^(0.5 outlierSigma)), is held back ({@link #heldBackSegments()}) and
 * the normaliser's update from it is undone. A task with {@code quarantineAfter} segments held back in
 * a row is quarantined ({@link #quarantinedTasks()}): its later segments are dropped
 * ({@link #quarantinedSegments()}). The running statistics and the quarantine are not part of a
 * snapshot: after a restore they build up again.
 *
 * <h2>Threading and ownership</h2>
 * Not thread-safe: one instance is owned by one operator (one thread) and every method must be
 * called from it. Snapshots returned by {@link #currentModel()} may be handed to other threads.
 *
 * <h2>Known limits</h2>
 * {@link #tasksSeen()} keeps every distinct task id in memory (and in snapshots); streams with
 * unboundedly many task ids grow it without bound.
 */
public final class GrbalLearner {

    private static final Logger LOG = LoggerFactory.getLogger(GrbalLearner.class);
    static final int SNAPSHOT_VERSION = 1;
    private static final String FORMAT = "GrbalLearner snapshot";

    private final GrbalConfig cfg;
    private final Grbal grbal;
    private final Mlp mlp;
    private INDArray theta;
    private Adam adam;
    private Normalizer normalizer;
    private final Set<String> taskIds;
    private long outerSteps;
    private long segmentsSeen;
    private long transitionsSeen;
    private long rejectedSteps;
    private final INDArray pendingSum;
    private int pendingCount;
    private double pendingPreSum;
    private double pendingPostSum;
    /** Segments taken before the outlier check starts. */
    static final int OUTLIER_WARMUP_SEGMENTS = 50;
    /** Smallest standard deviation of log losses the outlier check divides by. */
    static final double OUTLIER_STD_FLOOR = 0.5;
    private static final double LOSS_EMA = 0.01;
    private long lossCount;
    private double logLossMean;
    private double logLossVar;
    private long heldBackSegments;
    private long quarantinedSegments;
    private final java.util.Map<String, Integer> heldBackInARow = new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<String, Integer> eldest) {
            return size() > MAX_TRACKED_TASKS;
        }
    };
    private final Set<String> quarantined = new java.util.LinkedHashSet<>();

    /** A fresh learner: {@code θ} from {@code mlp.initParams(new Random(cfg.seed()))}, zero Adam state. */
    public GrbalLearner(GrbalConfig cfg) {
        this(requireCfg(cfg), new Grbal(cfg).initMetaParams(new Random(cfg.seed())), new Adam(cfg.metaParams(), cfg.metaLr()),
                new Normalizer(cfg.obsDim(), cfg.actDim()));
    }

    private GrbalLearner(GrbalConfig cfg, INDArray theta, Adam adam, Normalizer normalizer) {
        this.cfg = cfg;
        this.grbal = new Grbal(cfg);
        this.mlp = grbal.mlp();
        this.theta = theta;
        this.adam = adam;
        this.normalizer = normalizer;
        this.taskIds = new HashSet<>();
        this.pendingSum = Nd4j.zeros(DataType.DOUBLE, 1, cfg.metaParams());
    }

    private static GrbalConfig requireCfg(GrbalConfig cfg) {
        if (cfg == null) {
            throw new IllegalArgumentException("cfg is null; build one with GrbalConfig.builder()");
        }
        return cfg;
    }

    /**
     * Feeds one segment of task {@code taskId}. Uses its last {@code adaptWindow + predictWindow}
     * transitions: the first {@code adaptWindow} to adapt, the next {@code predictWindow} to score.
     *
     * @return the outer step's result when this segment completed a meta-batch, otherwise empty
     * @throws IllegalArgumentException when the segment is shorter than
     *     {@code adaptWindow + predictWindow} or has other dimensions than the configuration
     */
    public Optional<StepResult> offer(String taskId, Segment segment) {
        if (taskId == null) {
            throw new IllegalArgumentException("taskId is null; every segment must name its task");
        }
        if (segment == null) {
            throw new IllegalArgumentException("segment is null");
        }
        if (segment.obsDim() != cfg.obsDim() || segment.actDim() != cfg.actDim()) {
            throw new IllegalArgumentException("segment of task '" + taskId + "' has obsDim " + segment.obsDim() + " and actDim "
                    + segment.actDim() + " but the configuration says " + cfg.obsDim() + " and " + cfg.actDim());
        }
        int window = cfg.windowLength();
        if (segment.length() < window) {
            throw new IllegalArgumentException("segment of task '" + taskId + "' has " + segment.length()
                    + " transitions but adaptWindow + predictWindow = " + cfg.adaptWindow() + " + " + cfg.predictWindow() + " = "
                    + window + " are needed; buffer more transitions before offering");
        }
        if (quarantined.contains(taskId)) {
            quarantinedSegments++;
            return Optional.empty();
        }
        segmentsSeen++;
        transitionsSeen += segment.length();
        trackTask(taskId);
        Normalizer beforeUpdate = normalizer.frozen() ? null : normalizer.copy();
        if (!normalizer.frozen()) {
            if (normalizer.count() < cfg.normalizerWarmupTransitions()) {
                normalizer.update(segment);
            }
            if (normalizer.count() >= cfg.normalizerWarmupTransitions()) {
                normalizer.freeze();
            }
        }
        Segment used = segment.last(window);
        Segment adaptPart = used.slice(0, cfg.adaptWindow());
        Segment evalPart = used.slice(cfg.adaptWindow(), window);
        Grbal.MetaGradient mg = grbal.metaGradient(theta, normalizer.inputs(adaptPart), normalizer.targets(adaptPart),
                normalizer.inputs(evalPart), normalizer.targets(evalPart));
        String why = beforeUpdate != null && !finiteStatistics(normalizer)
                ? "normaliser statistics that would no longer be finite" : screen(mg);
        if (why != null) {
            if (beforeUpdate != null) {
                normalizer = beforeUpdate;
            }
            holdBack(taskId, why);
            return Optional.empty();
        }
        heldBackInARow.remove(taskId);
        double logLoss = Math.log(Math.max(mg.preAdaptLoss(), 1e-300));
        if (lossCount == 0) {
            logLossMean = logLoss;
        } else {
            double d = logLoss - logLossMean;
            logLossMean += LOSS_EMA * d;
            logLossVar = (1 - LOSS_EMA) * (logLossVar + LOSS_EMA * d * d);
        }
        lossCount++;
        pendingSum.addi(mg.gradient());
        pendingPreSum += mg.preAdaptLoss();
        pendingPostSum += mg.postAdaptLoss();
        pendingCount++;
        if (pendingCount < cfg.metaBatchSize()) {
            return Optional.empty();
        }
        return Optional.of(outerStep());
    }

    private static boolean finiteStatistics(Normalizer n) {
        for (double[] v : List.of(n.inputMean(), n.inputStd(), n.targetMean(), n.targetStd())) {
            for (double x : v) {
                if (!Double.isFinite(x)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Why a segment's meta-gradient must not enter a batch, or null when it may. */
    private String screen(Grbal.MetaGradient mg) {
        if (!Double.isFinite(mg.preAdaptLoss()) || !Double.isFinite(mg.postAdaptLoss())
                || !NdArrays.allFinite(mg.gradient())) {
            return "a non-finite loss or gradient";
        }
        if (cfg.outlierSigma() > 0 && lossCount >= OUTLIER_WARMUP_SEGMENTS) {
            double std = Math.max(Math.sqrt(logLossVar), OUTLIER_STD_FLOOR);
            double z = (Math.log(Math.max(mg.preAdaptLoss(), 1e-300)) - logLossMean) / std;
            if (z > cfg.outlierSigma()) {
                return String.format("a pre-adaptation loss of %.4g, %.1f standard deviations above the running mean "
                        + "(typical loss %.4g)", mg.preAdaptLoss(), z, Math.exp(logLossMean));
            }
        }
        return null;
    }

    private void holdBack(String taskId, String why) {
        heldBackSegments++;
        int inARow = heldBackInARow.merge(taskId, 1, Integer::sum);
        if (cfg.quarantineAfter() > 0 && inARow >= cfg.quarantineAfter()) {
            heldBackInARow.remove(taskId);
            if (quarantined.size() < MAX_TRACKED_TASKS) {
                quarantined.add(taskId);
            }
            LOG.warn("GrBAL: task '{}' quarantined after {} of its segments in a row were held back (the last for {}); "
                    + "its segments are dropped from now on ({} tasks quarantined)", taskId, inARow, why, quarantined.size());
        } else if (heldBackSegments <= 10 || Long.bitCount(heldBackSegments) == 1) {
            LOG.warn("GrBAL: a segment of task '{}' held back for {} ({} held back so far)", taskId, why, heldBackSegments);
        }
    }

    /** Segments held back before entering a batch (non-finite, or an outlier loss). */
    public long heldBackSegments() {
        return heldBackSegments;
    }

    /** Segments dropped because their task is quarantined. */
    public long quarantinedSegments() {
        return quarantinedSegments;
    }

    /** Ids of the quarantined tasks, in the order they were quarantined. */
    public Set<String> quarantinedTasks() {
        return java.util.Collections.unmodifiableSet(quarantined);
    }

    private StepResult outerStep() {
        double pre = pendingPreSum / pendingCount;
        double post = pendingPostSum / pendingCount;
        INDArray g = pendingSum.div(pendingCount);
        clearPending();
        double norm = g.norm2Number().doubleValue();
        boolean ok = Double.isFinite(pre) && Double.isFinite(post) && Double.isFinite(norm);
        if (ok) {
            if (cfg.maxGradNorm() > 0 && norm > cfg.maxGradNorm()) {
                g.muli(cfg.maxGradNorm() / norm);
            }
            INDArray trialTheta = theta.dup();
            Adam trialAdam = adam.copy();
            trialAdam.step(trialTheta, g);
            ok = NdArrays.allFinite(trialTheta);
            if (ok) {
                theta = trialTheta;
                adam = trialAdam;
                outerSteps++;
            }
        }
        if (!ok) {
            rejectedSteps++;
            LOG.warn("GrBAL outer step rejected (pre-adapt loss {}, post-adapt loss {}, gradient norm {}); "
                    + "parameters kept at version {}, {} rejected so far", pre, post, norm, outerSteps, rejectedSteps);
        }
        return new StepResult(outerSteps, ok, pre, post);
    }

    private void clearPending() {
        pendingSum.assign(0.0);
        pendingCount = 0;
        pendingPreSum = 0;
        pendingPostSum = 0;
    }

    /** Accepted outer steps so far; the version of {@link #currentModel()}. */
    public long outerSteps() {
        return outerSteps;
    }

    /** Most task ids remembered for {@link #tasksSeen()} (they are part of every snapshot). */
    public static final int MAX_TRACKED_TASKS = 100_000;

    /** Number of distinct task ids offered, up to {@value #MAX_TRACKED_TASKS}. */
    public long tasksSeen() {
        return taskIds.size();
    }

    /** Remembers a task id unless {@value #MAX_TRACKED_TASKS} are remembered already: the snapshot stays bounded. */
    void trackTask(String taskId) {
        if (taskIds.size() < MAX_TRACKED_TASKS) {
            taskIds.add(taskId);
        }
    }

    /** Sum of the lengths of all offered segments. */
    public long transitionsSeen() {
        return transitionsSeen;
    }

    public long segmentsSeen() {
        return segmentsSeen;
    }

    /** Outer steps rejected for non-finite values. */
    public long rejectedSteps() {
        return rejectedSteps;
    }

    /** Meta-gradients collected towards the next outer step. */
    public int pendingGradients() {
        return pendingCount;
    }

    public GrbalConfig config() {
        return cfg;
    }

    /** A copy of the current meta-parameters {@code θ} (the network's, then a learned adaptation rule's). */
    public INDArray theta() {
        return theta.dup();
    }

    /**
     * A snapshot of the current model (copied parameters, frozen copy of the normalizer, and the
     * learned adaptation rule when the configuration has one).
     */
    public DynamicsModel currentModel() {
        return new DynamicsModel(mlp, grbal.networkPart(theta), normalizer, grbal.learnedPart(theta));
    }

    /** A copy of the learner's normalizer (frozen or not, as it is now). */
    public Normalizer normalizer() {
        return normalizer.copy();
    }

    /**
     * Serialises the complete learner state: {@code θ}, Adam state, normalizer, counters, distinct
     * task ids and the pending meta-batch (kept, so restoring mid-batch loses nothing). Format
     * (little-endian): int version (1), string config hash, int numParams + θ doubles, Adam bytes,
     * Normalizer bytes (each int length + bytes), long outerSteps, segmentsSeen, transitionsSeen,
     * rejectedSteps, int task count + strings (sorted), int pending count, double pending pre- and
     * post-loss sums, pending gradient sum (int length + doubles).
     */
    public byte[] snapshot() {
        List<String> ids = new ArrayList<>(taskIds);
        Collections.sort(ids);
        ByteWriter w = new ByteWriter(32 * cfg.metaParams() + 1024)
                .putInt(SNAPSHOT_VERSION)
                .putString(cfg.configHash())
                .putDoubles(NdArrays.toFlatArray(theta))
                .putBytes(adam.toBytes())
                .putBytes(normalizer.toBytes())
                .putLong(outerSteps)
                .putLong(segmentsSeen)
                .putLong(transitionsSeen)
                .putLong(rejectedSteps)
                .putInt(ids.size());
        for (String id : ids) {
            w.putString(id);
        }
        w.putInt(pendingCount).putDouble(pendingPreSum).putDouble(pendingPostSum)
                .putDoubles(NdArrays.toFlatArray(pendingSum));
        return w.toByteArray();
    }

    /**
     * Restores a learner from {@link #snapshot()}. The configuration's Adam learning rate replaces
     * the snapshot's if they differ; a differing config hash is logged as a warning, not rejected,
     * so settings such as {@code metaLr} may change across restarts.
     *
     * @throws IllegalArgumentException on an unknown format version, corruption, or a snapshot whose
     *     parameter count or dimensions do not fit {@code cfg}
     */
    public static GrbalLearner restore(GrbalConfig cfg, byte[] snapshot) {
        requireCfg(cfg);
        ByteReader r = new ByteReader(snapshot, FORMAT);
        r.readVersion(SNAPSHOT_VERSION);
        String hash = r.readString("config hash");
        Mlp mlp = cfg.mlp();
        int n = r.readCount("theta length", Integer.MAX_VALUE);
        if (n != cfg.metaParams()) {
            throw new IllegalArgumentException(FORMAT + " holds " + n + " parameters but the configuration's network " + mlp
                    + " with adaptation " + cfg.adaptation().settingName() + " has " + cfg.metaParams()
                    + "; restore with the configuration the snapshot was taken with (config hash " + hash + ")");
        }
        double[] th = new double[n];
        for (int i = 0; i < n; i++) {
            th[i] = r.readDouble("theta[" + i + "]");
        }
        Adam adam = Adam.fromBytes(r.readBytes("Adam state"));
        if (adam.numParams() != n) {
            throw new IllegalArgumentException(FORMAT + " is corrupt: Adam state has " + adam.numParams()
                    + " parameters but theta has " + n);
        }
        if (adam.learningRate() != cfg.metaLr()) {
            adam = adam.withLearningRate(cfg.metaLr());
        }
        Normalizer norm = Normalizer.fromBytes(r.readBytes("normalizer"));
        if (norm.obsDim() != cfg.obsDim() || norm.actDim() != cfg.actDim()) {
            throw new IllegalArgumentException(FORMAT + " has a normalizer for obsDim " + norm.obsDim() + " and actDim "
                    + norm.actDim() + " but the configuration says " + cfg.obsDim() + " and " + cfg.actDim());
        }
        GrbalLearner l = new GrbalLearner(cfg, NdArrays.row(th), adam, norm);
        l.outerSteps = r.readLong("outerSteps");
        l.segmentsSeen = r.readLong("segmentsSeen");
        l.transitionsSeen = r.readLong("transitionsSeen");
        l.rejectedSteps = r.readLong("rejectedSteps");
        int tasks = r.readCount("task id count", r.remaining());
        for (int i = 0; i < tasks; i++) {
            l.taskIds.add(r.readString("task id " + i));
        }
        l.pendingCount = r.readCount("pending count", Integer.MAX_VALUE);
        l.pendingPreSum = r.readDouble("pending pre-adapt loss sum");
        l.pendingPostSum = r.readDouble("pending post-adapt loss sum");
        double[] pending = r.readDoubles("pending gradient sum", n);
        r.expectEnd();
        l.pendingSum.assign(NdArrays.row(pending));
        if (l.pendingCount >= cfg.metaBatchSize()) {
            // The configuration shrank the batch; apply on the next offer rather than silently dropping.
            LOG.warn("restored {} pending meta-gradients with metaBatchSize {}; the next offer completes the batch",
                    l.pendingCount, cfg.metaBatchSize());
        }
        if (!hash.equals(cfg.configHash())) {
            LOG.warn("restoring a GrBAL learner snapshot taken with config hash {} under config hash {}", hash,
                    cfg.configHash());
        }
        return l;
    }

    /**
     * Outcome of one outer step.
     *
     * @param outerSteps accepted outer steps after this one (unchanged when rejected)
     * @param accepted false when the step was rejected for non-finite values
     * @param preAdaptLoss mean over the batch of the evaluation loss before adaptation (normalised)
     * @param postAdaptLoss mean over the batch of the evaluation loss after adaptation (normalised)
     */
    public record StepResult(long outerSteps, boolean accepted, double preAdaptLoss, double postAdaptLoss) {}
}

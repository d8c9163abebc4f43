package io.metastream.flink.grbal;

import io.metastream.core.nn.Nd4jBackend;
import io.metastream.client.ModelVerifier;
import io.metastream.client.Transitions;
import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.grbal.GrbalConfig;
import io.metastream.core.grbal.Segment;
import io.metastream.core.io.ModelBlob;
import io.metastream.schema.AdaptedModel;
import io.metastream.schema.FastWeights;
import io.metastream.schema.ModelVersion;
import io.metastream.schema.Transition;
import io.metastream.flink.internal.KeyedSeeds;
import io.metastream.flink.internal.ModelBroadcast;
import io.metastream.flink.internal.TaskStateTtl;
import io.metastream.flink.internal.TaskTransitions;
import io.metastream.flink.internal.KeyedRing;
import io.metastream.flink.internal.TaskOperator;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The inner loop, one key per task. Keyed state: the task's replay shard (its last {@code replayCapacity}
 * transitions, a {@link KeyedRing} that reads and writes only the entries it touches; the newest M
 * are the context window) and counters.
 * Broadcast state: the latest {@link ModelVersion} (theta), read back from the models topic.
 *
 * <p>Per transition: append it to the window; after {@code segmentStride} new transitions with a full
 * window, send the newest M+K transitions to the meta-learner as a {@link GrbalSegment} (side output
 * {@link #SEGMENTS}) plus {@code replaySegments} windows drawn from older parts of the shard (replay: the
 * per-task replay is sharded across the cluster and only samples travel to the learner);
 * after {@code adaptEvery} new transitions the task is pending, and just before the next checkpoint barrier
 * ({@link TaskOperator}) each pending task with at least M in the window and a model present has theta
 * adapted on its last M transitions (GrBAL's inner loop) and gets an {@link AdaptedModel} carrying
 * phi - theta: one adaptation per active task per checkpoint, the most a read_committed reader can see.
 * Transitions that arrive before the first model stay in the window; when the first model arrives every
 * task with enough context is pending.
 */
public final class GrbalTaskFunction
        extends KeyedBroadcastProcessFunction<String, Transition, ModelVersion, AdaptedModel>
        implements TaskOperator.Deferring<AdaptedModel> {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(GrbalTaskFunction.class);

    private static final long serialVersionUID = 1L;

    public static final OutputTag<GrbalSegment> SEGMENTS =
            new OutputTag<>("task-segments", org.apache.flink.api.java.typeutils.TypeExtractor.createTypeInfo(GrbalSegment.class));

    /** The replay shard's state name (the ring's entries; its next sequence number is {@code replay-ring-next}). */
    static final String SHARD = "replay-ring";
    static final ValueStateDescriptor<Integer> SINCE_ADAPT = new ValueStateDescriptor<>("since-adapt", Types.INT);
    static final ValueStateDescriptor<Integer> SINCE_SEGMENT = new ValueStateDescriptor<>("since-segment", Types.INT);
    /** Segments cut for the task so far: with the seed and the task id it seeds the task's replay draws. */
    static final ValueStateDescriptor<Integer> SEGMENTS_CUT = new ValueStateDescriptor<>("segments-cut", Types.INT);
    /** Per agent of the task: {episodeId, step} of its last transition taken. */
    static final org.apache.flink.api.common.state.MapStateDescriptor<String, long[]> LAST_STEP =
            new org.apache.flink.api.common.state.MapStateDescriptor<>("last-step", Types.STRING,
                    org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO);

    private final String modelName;
    private final HashMap<String, String> grbalConfig;
    private final int adaptEvery;
    private final int segmentStride;
    private final int replayCapacity;
    private final int replaySegments;

    private transient GrbalConfig config;
    private transient ModelBroadcast<DynamicsModel> models;
    private transient Counter adaptations;
    private transient Counter nonFiniteAdaptations;
    private transient Counter segments;
    private transient Counter replayed;
    private transient KeyedRing<Transition> shard;
    private transient ValueState<Integer> sinceAdapt;
    private transient ValueState<Integer> sinceSegment;
    private transient ValueState<Integer> segmentsCut;
    private transient org.apache.flink.api.common.state.MapState<String, long[]> lastStep;
    private transient Counter repeatedSteps;
    private transient TaskTransitions accepted;
    private transient TaskStateTtl expiry;
    private transient io.metastream.flink.internal.AdaptationMetrics adaptationMetrics;
    /** Tasks to adapt before the next barrier, with their newest transition's time (null: not known). */
    private transient LinkedHashMap<String, Instant> pending;
    private transient io.metastream.flink.internal.LearnerInputPacer pacer;

    public GrbalTaskFunction(String modelName, Map<String, String> grbalConfig, int adaptEvery, int segmentStride,
            int replayCapacity, int replaySegments) {
        this.modelName = Objects.requireNonNull(modelName, "modelName");
        this.grbalConfig = new HashMap<>(grbalConfig);
        if (adaptEvery <= 0 || segmentStride <= 0) {
            throw new IllegalArgumentException("adaptEvery and segmentStride must be positive, got "
                    + adaptEvery + ", " + segmentStride);
        }
        this.adaptEvery = adaptEvery;
        this.segmentStride = segmentStride;
        GrbalConfig cfg = GrbalConfig.fromMap(grbalConfig); // fail at graph construction, not at run time
        if (replayCapacity < cfg.adaptWindow() + cfg.predictWindow()) {
            throw new IllegalArgumentException("replay capacity " + replayCapacity + " is smaller than one segment (M+K = "
                    + (cfg.adaptWindow() + cfg.predictWindow()) + "); raise metastream.replay-capacity");
        }
        if (replaySegments < 0) {
            throw new IllegalArgumentException("replaySegments must not be negative, got " + replaySegments);
        }
        this.replayCapacity = replayCapacity;
        this.replaySegments = replaySegments;
    }

    @Override
    public void open(OpenContext openContext) {
        Nd4jBackend.load();
        config = GrbalConfig.fromMap(grbalConfig);
        models = new ModelBroadcast<>(modelName, v -> ModelVerifier.verifyAndDecode(v, DynamicsModel.class), getRuntimeContext().getMetricGroup(),
                getRuntimeContext().getGlobalJobParameters());
        adaptations = getRuntimeContext().getMetricGroup().counter("adaptations");
        nonFiniteAdaptations = getRuntimeContext().getMetricGroup().counter("nonFiniteAdaptations");
        segments = getRuntimeContext().getMetricGroup().counter("segments");
        replayed = getRuntimeContext().getMetricGroup().counter("replaySegments");
        shard = new KeyedRing<>(getRuntimeContext(), SHARD, replayCapacity, new AvroTypeInfo<>(Transition.class));
        sinceAdapt = getRuntimeContext().getState(SINCE_ADAPT);
        sinceSegment = getRuntimeContext().getState(SINCE_SEGMENT);
        segmentsCut = getRuntimeContext().getState(SEGMENTS_CUT);
        lastStep = getRuntimeContext().getMapState(LAST_STEP);
        repeatedSteps = getRuntimeContext().getMetricGroup().counter("repeatedSteps");
        accepted = new TaskTransitions(getRuntimeContext());
        expiry = new TaskStateTtl(getRuntimeContext(), List.of(shard::clear, sinceAdapt::clear, sinceSegment::clear,
                segmentsCut::clear, lastStep::clear, accepted::clear));
        adaptationMetrics = new io.metastream.flink.internal.AdaptationMetrics(getRuntimeContext().getMetricGroup());
        pending = new LinkedHashMap<>();
        pacer = new io.metastream.flink.internal.LearnerInputPacer(getRuntimeContext().getMetricGroup(),
                config.seed() * 31 + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
    }

    /** A task silent for the time to live: all its state goes ({@link TaskStateTtl}). */
    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<AdaptedModel> out) throws Exception {
        expiry.expireIfDue(timestamp);
    }

    private int capacity() {
        return config.adaptWindow() + config.predictWindow();
    }

    @Override
    public void processElement(Transition t, ReadOnlyContext ctx, Collector<AdaptedModel> out) throws Exception {
        expiry.touch(ctx.timerService());
        if (repeated(t)) {
            repeatedSteps.inc();
            return;
        }
        accepted.accept();
        int size = shard.append(t);
        int newForSegment = ModelBroadcast.increment(sinceSegment);
        int newForAdapt = ModelBroadcast.increment(sinceAdapt);

        if (size >= config.adaptWindow() && newForAdapt >= adaptEvery) {
            pending.put(ctx.getCurrentKey(), t.getTimestamp());
        }
        if (size < capacity() || newForSegment < segmentStride) {
            return;
        }
        if (!pacer.send()) {
            sinceSegment.update(0); // the learner cannot use more now (LearnerInputPacer): not built, not sent
            return;
        }
        // the newest M+K (a segment): only those entries are read
        List<Transition> w = shard.newest(capacity());
        if (w.size() == capacity()) {
            ModelVersion latest = models.held(ctx.getBroadcastState(ModelBroadcast.MODELS));
            long thetaVersion = latest == null ? -1 : latest.getVersion();
            String task = ctx.getCurrentKey();
            ctx.output(SEGMENTS, segment(task, w, thetaVersion));
            segments.inc();
            long oldest = replaySegments > 0 && size > capacity() ? shard.oldestHeld() : 0;
            long held = shard.nextSequence() - oldest;
            if (replaySegments > 0 && held > capacity()) {
                // replay: older windows of this task's shard (among the rows still held), so the learner
                // sees more than the newest data
                SplittableRandom rng = new SplittableRandom(
                        KeyedSeeds.of(config.seed(), task, ModelBroadcast.increment(segmentsCut)));
                for (int i = 0; i < replaySegments; i++) {
                    long start = oldest + rng.nextInt((int) (held - capacity() + 1));
                    List<Transition> old = shard.range(start, start + capacity());
                    if (old.size() == capacity()) {
                        ctx.output(SEGMENTS, segment(task, old, thetaVersion));
                        replayed.inc();
                    }
                }
            }
            sinceSegment.update(0);
        }
    }

    @Override
    public List<String> takePending() {
        return new ArrayList<>(pending.keySet());
    }

    /** Adapts a pending task on its newest M transitions, once its window holds M and a model is present. */
    @Override
    public void flush(String task, ReadOnlyBroadcastState<String, ModelVersion> state, Collector<AdaptedModel> out)
            throws Exception {
        Instant newest = pending.remove(task);
        ModelVersion latest = models.held(state);
        if (latest == null) {
            return; // the first model marks every task with context pending again
        }
        List<Transition> w = shard.newest(config.adaptWindow());
        if (w.size() < config.adaptWindow()) {
            return;
        }
        AdaptedModel adapted = adapt(task, w, latest, accepted.current());
        if (adapted != null) {
            adaptationMetrics.adapted(shard.size(), newest);
            out.collect(adapted);
        }
        sinceAdapt.update(0);
    }

    @Override
    public void processBroadcastElement(ModelVersion model, Context ctx, Collector<AdaptedModel> out) throws Exception {
        ModelBroadcast.Offer offer = models.offer(ctx.getBroadcastState(ModelBroadcast.MODELS), model);
        if (offer != ModelBroadcast.Offer.IGNORED) {
            pacer.onVersion(model);
        }
        if (offer == ModelBroadcast.Offer.FIRST) {
            // First model: every task with context is adapted before the next barrier (its transitions were
            // kept, not dropped); flush skips those with fewer than M.
            ctx.applyToKeyedState(shard.entriesDescriptor(),
                    (String taskId, MapState<Long, Transition> ring) -> pending.putIfAbsent(taskId, null));
        }
    }

    private AdaptedModel adapt(String taskId, List<Transition> w, ModelVersion latest, long taskTransitions) {
        DynamicsModel theta = models.decode(latest);
        if (theta == null) {
            return null;
        }
        Segment context = Transitions.toSegment(w.subList(w.size() - config.adaptWindow(), w.size()));
        DynamicsModel.Adapted scored = theta.adaptAndScore(context, config.innerLr(), config.innerSteps());
        DynamicsModel phi = scored.model();
        INDArray delta = phi.params().sub(theta.params());
        if (!allFinite(delta)) {
            // an inner step that diverged on this task's context: publish nothing, agents keep the last good one
            nonFiniteAdaptations.inc();
            LOG.warn("Task {}: the adaptation on v{} is not finite; not publishing it", taskId, latest.getVersion());
            return null;
        }
        byte[] deltaBytes = ModelBlob.encodeDelta(delta);
        adaptations.inc();
        return AdaptedModel.newBuilder()
                .setTaskId(taskId)
                .setModelName(modelName)
                .setBaseVersion(latest.getVersion())
                .setAlgorithm(latest.getAlgorithm())
                .setAdaptation(FastWeights.newBuilder()
                        .setDelta(ByteBuffer.wrap(deltaBytes))
                        .setDeltaSha256(ModelBlob.sha256Hex(deltaBytes))
                        .build())
                .setContextTransitions(context.length())
                .setTaskTransitions(taskTransitions)
                .setInnerSteps(config.innerSteps())
                .setContextLossBefore(scored.contextLossBefore())
                .setContextLossAfter(scored.contextLossAfter())
                .setCreatedAt(Instant.now())
                .build();
    }

    /**
     * True for a step an agent already sent: the same episode and a step not after its last one (a
     * producer's retry without idempotence, or a replayed log). A lower episode id is taken as the agent
     * starting over (a restarted simulator counts episodes from 0 again), not as a repeat.
     */
    private boolean repeated(Transition t) throws Exception {
        String agent = t.getAgentId() == null ? "" : t.getAgentId();
        long[] last = lastStep.get(agent);
        if (last != null && last[0] == t.getEpisodeId() && t.getStep() <= last[1]) {
            return true;
        }
        lastStep.put(agent, new long[] {t.getEpisodeId(), t.getStep()});
        return false;
    }

    private static boolean allFinite(INDArray a) {
        for (double v : a.ravel().toDoubleVector()) {
            if (!Double.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    private GrbalSegment segment(String taskId, List<Transition> w, long thetaVersion) {
        GrbalSegment s = new GrbalSegment();
        s.taskId = taskId;
        s.thetaVersion = thetaVersion;
        s.length = w.size();
        s.obsDim = config.obsDim();
        s.actDim = config.actDim();
        s.obs = new double[s.length * s.obsDim];
        s.act = new double[s.length * s.actDim];
        s.nextObs = new double[s.length * s.obsDim];
        long oldest = Long.MAX_VALUE;
        for (int i = 0; i < s.length; i++) {
            Transition t = w.get(i);
            copy(t.getObservation(), s.obs, i * s.obsDim);
            copy(t.getAction(), s.act, i * s.actDim);
            copy(t.getNextObservation(), s.nextObs, i * s.obsDim);
            oldest = Math.min(oldest, t.getPolicyVersion() == null ? -1 : t.getPolicyVersion());
        }
        s.oldestPolicyVersion = oldest;
        return s;
    }

    private static void copy(List<Float> from, double[] to, int offset) {
        for (int i = 0; i < from.size(); i++) {
            to[offset + i] = from.get(i);
        }
    }
}

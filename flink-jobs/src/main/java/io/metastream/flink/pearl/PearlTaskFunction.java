package io.metastream.flink.pearl;

import io.metastream.core.nn.Nd4jBackend;
import io.metastream.flink.internal.KeyedRing;
import io.metastream.flink.internal.KeyedSeeds;
import io.metastream.flink.internal.ModelBroadcast;
import io.metastream.flink.internal.TaskOperator;
import io.metastream.flink.internal.TaskStateTtl;
import io.metastream.flink.internal.TaskTransitions;
import io.metastream.client.ModelVerifier;
import io.metastream.core.pearl.PearlConfig;
import io.metastream.core.pearl.PearlPolicy;
import io.metastream.core.pearl.Posterior;
import io.metastream.core.pearl.TaskSampler;
import io.metastream.schema.AdaptedModel;
import io.metastream.schema.GaussianPosterior;
import io.metastream.schema.ModelVersion;
import io.metastream.schema.Transition;
import io.metastream.schema.TransitionKind;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.TypeExtractor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/**
 * PEARL's per-task side, one key per task. Keyed state: the task's <b>context window</b> (its newest
 * {@code contextWindow} exploration transitions as context rows {@code (s, a, r, s')}, r the sparse
 * reward where the family has one) and its <b>replay shard</b> (its newest {@code replayCapacity}
 * transitions as replay rows {@code (s, a, r, s', done)}, r the dense reward). Broadcast state: the
 * newest PEARL {@link ModelVersion}.
 *
 * <p>Per transition: append it (to the context only when it is exploration data: kind null or
 * EXPLORATION); after {@code adaptEvery} new exploration transitions the task is pending, and just
 * before the next checkpoint barrier ({@link TaskOperator}), with a model present, the encoder of the
 * newest version runs on each pending task's context window and the task's posterior q(z | c) goes out
 * as an {@link AdaptedModel} with a {@code GaussianPosterior} (one per active task per checkpoint); after {@code sampleEvery} new transitions send
 * the meta-learner a {@link PearlTaskSample} (side output {@link #SAMPLES}): {@code contextSize} rows
 * from the context window and {@code batchSize} rows from the replay shard. The replay never feeds the
 * context (garage issue #1365). When the first model arrives, every task that already has context is
 * pending.
 */
public final class PearlTaskFunction
        extends KeyedBroadcastProcessFunction<String, Transition, ModelVersion, AdaptedModel>
        implements TaskOperator.Deferring<AdaptedModel> {
    private static final long serialVersionUID = 1L;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PearlTaskFunction.class);

    public static final OutputTag<PearlTaskSample> SAMPLES =
            new OutputTag<>("pearl-task-samples", TypeExtractor.createTypeInfo(PearlTaskSample.class));

    /** State names of the context window's and the replay shard's rings ({@link KeyedRing}). */
    static final String CONTEXT = "pearl-context-ring";
    static final String REPLAY = "pearl-replay-ring";
    static final ValueStateDescriptor<Integer> SINCE_ADAPT = new ValueStateDescriptor<>("since-adapt", Types.INT);
    static final ValueStateDescriptor<Integer> SINCE_SAMPLE = new ValueStateDescriptor<>("since-sample", Types.INT);
    /** Samples sent for the task so far: with the seed and the task id it seeds the sample's draws. */
    static final ValueStateDescriptor<Integer> SAMPLES_SENT = new ValueStateDescriptor<>("samples-sent", Types.INT);
    /**
     * Per agent of the task, {episodeId, step, bits of the context reward} of its latest transition
     * (contextPreviousReward only); longs, so that any episode id compares exactly.
     */
    /** Per agent of the task: {episodeId, step} of its last transition taken (repeats are dropped). */
    static final MapStateDescriptor<String, long[]> AGENT_STEP = new MapStateDescriptor<>("pearl-agent-step",
            Types.STRING, PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO);
    static final MapStateDescriptor<String, long[]> LAST_STEP = new MapStateDescriptor<>("pearl-last-step",
            Types.STRING, PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO);

    private final String modelName;
    private final HashMap<String, String> pearlConfig;
    private final int adaptEvery;
    private final int sampleEvery;
    private final int contextWindow;
    private final int replayCapacity;

    private transient TaskTransitions accepted;
    private transient PearlConfig config;
    private transient ModelBroadcast<PearlPolicy> models;
    private transient Counter posteriors;
    private transient Counter samples;
    private transient Counter failedPosteriors;
    private transient KeyedRing<double[]> context;
    private transient KeyedRing<double[]> replay;
    private transient TaskStateTtl expiry;
    private transient io.metastream.flink.internal.AdaptationMetrics adaptationMetrics;
    private transient ValueState<Integer> sinceAdapt;
    private transient ValueState<Integer> sinceSample;
    private transient ValueState<Integer> samplesSent;
    private transient MapState<String, long[]> lastStep;
    private transient MapState<String, long[]> agentStep;
    private transient org.apache.flink.metrics.Counter repeatedSteps;
    private transient ValueStateDescriptor<Integer> sinceAdaptDescriptor;
    /** Tasks to adapt before the next barrier, with their newest transition's time (null: not known). */
    private transient java.util.LinkedHashMap<String, Instant> pending;
    private transient io.metastream.flink.internal.LearnerInputPacer pacer;

    public PearlTaskFunction(String modelName, Map<String, String> pearlConfig, int adaptEvery, int sampleEvery,
            int contextWindow, int replayCapacity) {
        this.modelName = Objects.requireNonNull(modelName, "modelName");
        this.pearlConfig = new HashMap<>(pearlConfig);
        PearlConfig.fromMap(pearlConfig); // fail at graph construction, not at run time
        if (adaptEvery <= 0 || sampleEvery <= 0 || contextWindow <= 0 || replayCapacity <= 0) {
            throw new IllegalArgumentException("adapt-every, pearl.sample-every, pearl.context-window and replay-capacity "
                    + "must be positive, got " + adaptEvery + ", " + sampleEvery + ", " + contextWindow + ", "
                    + replayCapacity);
        }
        this.adaptEvery = adaptEvery;
        this.sampleEvery = sampleEvery;
        this.contextWindow = contextWindow;
        this.replayCapacity = replayCapacity;
    }

    @Override
    public void open(OpenContext openContext) {
        Nd4jBackend.load();
        config = PearlConfig.fromMap(pearlConfig);
        models = new ModelBroadcast<>(modelName, this::decodePolicy, getRuntimeContext().getMetricGroup(),
                getRuntimeContext().getGlobalJobParameters());
        posteriors = getRuntimeContext().getMetricGroup().counter("posteriors");
        samples = getRuntimeContext().getMetricGroup().counter("taskSamples");
        failedPosteriors = getRuntimeContext().getMetricGroup().counter("failedPosteriors");
        sinceAdaptDescriptor = SINCE_ADAPT;
        context = new KeyedRing<>(getRuntimeContext(), CONTEXT, contextWindow,
                PrimitiveArrayTypeInfo.DOUBLE_PRIMITIVE_ARRAY_TYPE_INFO);
        replay = new KeyedRing<>(getRuntimeContext(), REPLAY, replayCapacity,
                PrimitiveArrayTypeInfo.DOUBLE_PRIMITIVE_ARRAY_TYPE_INFO);
        sinceAdapt = getRuntimeContext().getState(sinceAdaptDescriptor);
        sinceSample = getRuntimeContext().getState(SINCE_SAMPLE);
        samplesSent = getRuntimeContext().getState(SAMPLES_SENT);
        lastStep = getRuntimeContext().getMapState(LAST_STEP);
        agentStep = getRuntimeContext().getMapState(AGENT_STEP);
        repeatedSteps = getRuntimeContext().getMetricGroup().counter("repeatedSteps");
        accepted = new TaskTransitions(getRuntimeContext());
        expiry = new TaskStateTtl(getRuntimeContext(), List.of(context::clear, replay::clear, sinceAdapt::clear,
                sinceSample::clear, samplesSent::clear, lastStep::clear, agentStep::clear, accepted::clear));
        adaptationMetrics = new io.metastream.flink.internal.AdaptationMetrics(getRuntimeContext().getMetricGroup());
        pending = new java.util.LinkedHashMap<>();
        pacer = new io.metastream.flink.internal.LearnerInputPacer(getRuntimeContext().getMetricGroup(),
                config.seed() * 31 + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
    }

    /** A task silent for the time to live: all its state goes ({@link TaskStateTtl}). */
    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<AdaptedModel> out) throws Exception {
        expiry.expireIfDue(timestamp);
    }

    /**
     * The context reward of the same agent's previous step in the same episode, or NaN when it is
     * unknown (first step, a gap, another episode); remembers this step and forgets the agent at the
     * end of its episode.
     */
    private double previousReward(Transition t, double r) throws Exception {
        String agent = t.getAgentId() == null ? "" : t.getAgentId();
        long[] last = lastStep.get(agent);
        double previous = last != null && last[0] == t.getEpisodeId() && last[1] == t.getStep() - 1L
                ? Double.longBitsToDouble(last[2]) : Double.NaN;
        if (t.getDone()) {
            lastStep.remove(agent);
        } else {
            lastStep.put(agent, new long[] {t.getEpisodeId(), t.getStep(), Double.doubleToLongBits(r)});
        }
        return previous;
    }

    @Override
    public void processElement(Transition t, ReadOnlyContext ctx, Collector<AdaptedModel> out) throws Exception {
        expiry.touch(ctx.timerService());
        String agent = t.getAgentId() == null ? "" : t.getAgentId();
        long[] seen = agentStep.get(agent);
        if (seen != null && seen[0] == t.getEpisodeId() && t.getStep() <= seen[1]) {
            repeatedSteps.inc(); // a step this agent sent already (a retry, a replayed log); a lower episode is a restart
            return;
        }
        agentStep.put(agent, new long[] {t.getEpisodeId(), t.getStep()});
        accepted.accept();
        double[] s = doubles(t.getObservation());
        double[] a = doubles(t.getAction());
        double[] next = doubles(t.getNextObservation());
        replay.append(TaskSampler.replayRow(s, a, t.getReward(), next, false));
        boolean exploration = t.getKind() == null || t.getKind() == TransitionKind.EXPLORATION;
        double r = t.getSparseReward() != null ? t.getSparseReward() : t.getReward();
        double previous = config.contextPreviousReward() ? previousReward(t, r) : Double.NaN;
        int cSize = exploration ? context.append(TaskSampler.contextRow(config, s, a, r, next, previous)) : context.size();
        int newForAdapt = exploration ? ModelBroadcast.increment(sinceAdapt) : 0;
        int newForSample = ModelBroadcast.increment(sinceSample);
        if (cSize > 0 && newForAdapt >= adaptEvery) {
            pending.put(ctx.getCurrentKey(), t.getTimestamp());
        }
        if (cSize > 0 && newForSample >= sampleEvery && !pacer.send()) {
            sinceSample.update(0); // the learner cannot use more now (LearnerInputPacer): not built, not sent
        } else if (cSize > 0 && newForSample >= sampleEvery) {
            ModelVersion latest = models.held(ctx.getBroadcastState(ModelBroadcast.MODELS));
            List<double[]> ctxRows = context.newest(contextWindow);
            Random rng = new Random(KeyedSeeds.of(config.seed(), ctx.getCurrentKey(), ModelBroadcast.increment(samplesSent)));
            double[][] ctxBatch = TaskSampler.contextBatch(ctxRows, config, rng);
            ctx.output(SAMPLES, PearlTaskSample.of(ctx.getCurrentKey(), latest == null ? 0 : latest.getVersion(),
                    System.currentTimeMillis(), config.obsDim(), config.actDim(), ctxBatch, pickReplay(config.batchSize(), rng)));
            samples.inc();
            sinceSample.update(0);
        }
    }

    /**
     * {@code n} replay rows drawn uniformly with replacement (as {@link TaskSampler#pick}) among the rows
     * still held, reading only the rows drawn; should a drawn row expire meanwhile, the rest are drawn
     * among the rows then held.
     */
    private double[][] pickReplay(int n, Random rng) throws Exception {
        long oldest = replay.oldestHeld();
        int size = (int) (replay.nextSequence() - oldest);
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) {
            double[] row = replay.at(oldest + rng.nextInt(size));
            if (row == null) {
                double[][] rest = TaskSampler.pick(replay.range(oldest, oldest + size), n - i, rng);
                System.arraycopy(rest, 0, out, i, rest.length);
                return out;
            }
            out[i] = row;
        }
        return out;
    }

    private static double[] doubles(List<Float> values) {
        double[] d = new double[values.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = values.get(i);
        }
        return d;
    }

    @Override
    public void processBroadcastElement(ModelVersion model, Context ctx, Collector<AdaptedModel> out) throws Exception {
        ModelBroadcast.Offer offer = models.offer(ctx.getBroadcastState(ModelBroadcast.MODELS), model);
        if (offer != ModelBroadcast.Offer.IGNORED) {
            pacer.onVersion(model);
        }
        if (offer == ModelBroadcast.Offer.FIRST) {
            // First model: every task with context gets its posterior before the next barrier (its data
            // was kept, not dropped).
            ctx.applyToKeyedState(context.entriesDescriptor(),
                    (String taskId, MapState<Long, double[]> rows) -> pending.putIfAbsent(taskId, null));
        }
    }

    @Override
    public List<String> takePending() {
        return new ArrayList<>(pending.keySet());
    }

    /** The posterior of a pending task on its context window, once a model is present. */
    @Override
    public void flush(String task, org.apache.flink.api.common.state.ReadOnlyBroadcastState<String, ModelVersion> state,
            Collector<AdaptedModel> out) throws Exception {
        Instant newest = pending.remove(task);
        ModelVersion latest = models.held(state);
        if (latest == null) {
            return; // the first model marks every task with context pending again
        }
        List<double[]> rows = context.newest(contextWindow);
        if (rows.isEmpty()) {
            return;
        }
        AdaptedModel posterior = posterior(task, rows, latest, accepted.current());
        if (posterior != null) {
            adaptationMetrics.adapted(context.size(), newest);
            out.collect(posterior);
        }
        sinceAdapt.update(0);
    }

    /** Verifies and decodes a policy whose sizes match the job's; throws for any other. */
    private PearlPolicy decodePolicy(ModelVersion model) {
        PearlPolicy p = ModelVerifier.verifyAndDecode(model, PearlPolicy.class);
        if (p.obsDim() != config.obsDim() || p.actDim() != config.actDim() || p.latentDim() != config.latentDim()) {
            throw new IllegalArgumentException("policy dimensions obs " + p.obsDim() + ", act " + p.actDim()
                    + ", latent " + p.latentDim() + " differ from the job's " + config.obsDim() + ", "
                    + config.actDim() + ", " + config.latentDim());
        }
        return p;
    }

    private AdaptedModel posterior(String taskId, List<double[]> rows, ModelVersion latest, long taskTransitions) {
        PearlPolicy policy = models.decode(latest);
        if (policy == null) {
            return null;
        }
        Posterior q;
        try {
            q = policy.posterior(rows.toArray(new double[0][]));
        } catch (RuntimeException e) {
            // finite rows whose values overflow the encoder (e.g. 1e200): keep the task's last posterior
            failedPosteriors.inc();
            LOG.warn("No posterior for task {} with model v{}: {}", taskId, latest.getVersion(), e.toString());
            return null;
        }
        double[] std = q.std();
        List<Float> mean = new ArrayList<>(q.latentDim());
        List<Float> sd = new ArrayList<>(q.latentDim());
        for (int i = 0; i < q.latentDim(); i++) {
            mean.add((float) q.mean()[i]);
            sd.add((float) Math.max(std[i], Float.MIN_NORMAL));
        }
        List<Float> factor = new ArrayList<>();
        double[] c = q.covarianceFactor();
        if (c != null) {
            int l = q.latentDim();
            for (int i = 0; i < c.length; i++) {
                factor.add(i / l == i % l ? (float) Math.max(c[i], Float.MIN_NORMAL) : (float) c[i]);
            }
        }
        posteriors.inc();
        return AdaptedModel.newBuilder()
                .setTaskId(taskId)
                .setModelName(modelName)
                .setBaseVersion(latest.getVersion())
                .setAlgorithm(latest.getAlgorithm())
                .setAdaptation(GaussianPosterior.newBuilder().setMean(mean).setStddev(sd).setCovarianceFactor(factor).build())
                .setContextTransitions(rows.size())
                .setTaskTransitions(taskTransitions)
                .setInnerSteps(0)
                .setCreatedAt(Instant.now())
                .build();
    }
}

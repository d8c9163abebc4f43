package io.metastream.flink.pearl;

import io.metastream.core.nn.Nd4jBackend;
import io.metastream.flink.internal.VersionPublisher;
import io.metastream.core.pearl.PearlConfig;
import io.metastream.core.pearl.PearlLearner;
import io.metastream.core.pearl.PearlPolicy;
import io.metastream.core.pearl.TaskBatch;
import io.metastream.schema.ModelVersion;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeMap;

/**
 * PEARL's outer loop, parallelism 1 (the GPU-capable operator). Pools the newest {@value #POOL_PER_TASK}
 * {@link PearlTaskSample}s of every task; each arriving sample triggers {@code updatesPerSample}
 * gradient steps of {@link PearlLearner} (SAC critics + encoder with the KL term, actor, temperature)
 * on a meta-batch of {@code metaBatch} distinct pooled tasks (fewer while fewer tasks have reported),
 * one pooled sample per task. A sample that reached the learner later than {@code maxSampleAgeMillis}
 * after it was drawn is pooled without a step (counter {@code lateSamples}): a learner slower than the
 * fleet then trains on fresh data rather than on an ever longer backlog. A {@link ModelVersion}
 * (encoding {@value PearlPolicy#ENCODING}: the encoder and the actor) is published after every
 * {@code publishEvery} accepted steps; versions start at 1, are consecutive and name their parent.
 *
 * <p>Checkpointed state: the learner snapshot (all networks, targets, Adam moments, temperature,
 * counters) and the last published version, and the pool (list state {@code pearl-learner-pool}, in
 * the order the tasks first reported), so the first step after a restore draws its meta-batch from
 * every task pooled before rather than from the one task whose sample arrived first.
 */
public final class PearlLearnerFunction extends ProcessFunction<PearlTaskSample, ModelVersion>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;
    static final int POOL_PER_TASK = 4;
    /** Most tasks pooled at once: beyond it the task that sent nothing for longest leaves the pool. */
    static final int MAX_POOLED_TASKS = 10_000;

    private final String modelName;
    private final HashMap<String, String> pearlConfig;
    private final HashMap<String, String> jobConfig;
    private final int publishEvery;
    private final int updatesPerSample;
    private final long maxSampleAgeMillis;

    private transient PearlLearner learner;
    private transient VersionPublisher publisher;
    private transient ListState<PearlTaskSample> checkpointedPool;
    private transient Map<String, ArrayDeque<PearlTaskSample>> pool;
    private transient List<String> poolTasks;
    /** Per pooled task: the sequence number of its newest sample. */
    private transient Map<String, Long> lastSample;
    private transient long samplesPooled;
    private transient Random rng;
    private transient double[] sums;
    private transient int sumCount;
    private transient Counter lateSamples;
    private transient Counter badSamples;
    private transient Counter rejectedSteps;
    private transient Counter outerSteps;
    private transient Counter skippedSteps;
    private transient io.metastream.flink.internal.ComputeBudget budget;
    private transient io.metastream.flink.internal.LearnerInputPacer.Usage usage;

    public PearlLearnerFunction(String modelName, Map<String, String> pearlConfig, Map<String, String> jobConfig,
            int publishEvery, int updatesPerSample, long maxSampleAgeMillis) {
        this.modelName = Objects.requireNonNull(modelName, "modelName");
        this.pearlConfig = new HashMap<>(pearlConfig);
        this.jobConfig = new HashMap<>(jobConfig);
        if (publishEvery <= 0 || updatesPerSample <= 0 || maxSampleAgeMillis <= 0) {
            throw new IllegalArgumentException("publish-every, pearl.updates-per-sample and pearl.max-sample-age must be "
                    + "positive, got " + publishEvery + ", " + updatesPerSample + ", " + maxSampleAgeMillis + " ms");
        }
        this.publishEvery = publishEvery;
        this.updatesPerSample = updatesPerSample;
        this.maxSampleAgeMillis = maxSampleAgeMillis;
        PearlConfig.fromMap(pearlConfig);
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        Nd4jBackend.load();
        checkpointedPool = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("pearl-learner-pool", PearlTaskSample.class));
        PearlConfig cfg = PearlConfig.fromMap(pearlConfig);
        publisher = new VersionPublisher(modelName, "PEARL", jobConfig, "pearl-learner");
        byte[] restored = publisher.initialize(context, "PEARL learner", getRuntimeContext().getGlobalJobParameters());
        learner = restored == null ? new PearlLearner(cfg) : PearlLearner.restore(cfg, restored);
        pool = new HashMap<>();
        poolTasks = new ArrayList<>();
        lastSample = new HashMap<>();
        if (context.isRestored()) {
            for (PearlTaskSample s : checkpointedPool.get()) {
                addToPool(s);
            }
        }
        rng = new Random(cfg.seed() * 104_729 + publisher.version());
        sums = new double[4];
        sumCount = 0;
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        publisher.snapshot(learner.snapshot());
        List<PearlTaskSample> pooled = new ArrayList<>();
        for (String t : poolTasks) {
            pooled.addAll(pool.get(t));
        }
        checkpointedPool.update(pooled);
    }

    /** Adds a valid sample to its task's pool, dropping that task's oldest beyond {@value #POOL_PER_TASK}. */
    private void addToPool(PearlTaskSample s) {
        ArrayDeque<PearlTaskSample> q = pool.computeIfAbsent(s.taskId, k -> {
            poolTasks.add(k);
            return new ArrayDeque<>();
        });
        q.addLast(s);
        if (q.size() > POOL_PER_TASK) {
            q.removeFirst();
        }
        lastSample.put(s.taskId, ++samplesPooled);
        String evicted = leastRecent(lastSample, MAX_POOLED_TASKS);
        if (evicted != null) {
            pool.remove(evicted);
            poolTasks.remove(evicted);
            lastSample.remove(evicted);
        }
    }

    /** The task with the oldest newest sample when more than {@code max} are pooled, else null. */
    static String leastRecent(Map<String, Long> lastSample, int max) {
        if (lastSample.size() <= max) {
            return null;
        }
        String oldest = null;
        long min = Long.MAX_VALUE;
        for (Map.Entry<String, Long> e : lastSample.entrySet()) {
            if (e.getValue() < min) {
                min = e.getValue();
                oldest = e.getKey();
            }
        }
        return oldest;
    }

    @Override
    public void open(OpenContext openContext) {
        lateSamples = getRuntimeContext().getMetricGroup().counter("lateSamples");
        badSamples = getRuntimeContext().getMetricGroup().counter("badSamples");
        rejectedSteps = getRuntimeContext().getMetricGroup().counter("rejectedSteps");
        outerSteps = getRuntimeContext().getMetricGroup().counter("outerSteps");
        skippedSteps = getRuntimeContext().getMetricGroup().counter("skippedSteps");
        budget = io.metastream.flink.internal.ComputeBudget.from(getRuntimeContext().getGlobalJobParameters());
        usage = new io.metastream.flink.internal.LearnerInputPacer.Usage();
        publisher.registerGauges(getRuntimeContext().getMetricGroup());
        getRuntimeContext().getMetricGroup().gauge("clippedGradients", () -> learner.clippedGradients());
    }

    @Override
    public void processElement(PearlTaskSample s, Context ctx, Collector<ModelVersion> out) {
        PearlConfig cfg = learner.config();
        try {
            if (s.obsDim != cfg.obsDim() || s.actDim != cfg.actDim()) {
                throw new IllegalArgumentException("sample dimensions obs " + s.obsDim + ", act " + s.actDim
                        + " differ from the learner's " + cfg.obsDim() + ", " + cfg.actDim());
            }
            s.toTaskBatch(); // validates the rows; the pool keeps the sample, the wire and checkpoint form
        } catch (IllegalArgumentException e) {
            badSamples.inc();
            return;
        }
        addToPool(s);
        if (System.currentTimeMillis() - s.createdAtMillis > maxSampleAgeMillis) {
            lateSamples.inc();
            return;
        }
        usage.offered(updatesPerSample);
        for (int u = 0; u < updatesPerSample; u++) {
            if (!budget.allows()) {
                skippedSteps.inc(); // over the learner's share of wall time (see ComputeBudget); the sample stays pooled
                continue;
            }
            usage.used(1);
            long started = System.nanoTime();
            PearlLearner.StepResult step = learner.step(metaBatch(cfg.metaBatch()));
            budget.spent(System.nanoTime() - started);
            if (!step.accepted()) {
                rejectedSteps.inc();
                publisher.warnIfStalled(rejectedSteps.getCount() + " steps rejected so far (non-finite loss, gradient or parameters)");
                continue;
            }
            outerSteps.inc();
            sums[0] += step.criticLoss();
            sums[1] += step.actorLoss();
            sums[2] += step.klDivergence();
            sums[3] += step.alpha();
            sumCount++;
            if (learner.version() % publishEvery == 0) {
                out.collect(nextVersion());
            }
        }
    }

    /** Up to {@code size} distinct pooled tasks, one random pooled sample each. */
    private List<TaskBatch> metaBatch(int size) {
        List<String> tasks = new ArrayList<>(poolTasks);
        Collections.shuffle(tasks, rng);
        List<TaskBatch> batch = new ArrayList<>(Math.min(size, tasks.size()));
        for (String t : tasks.subList(0, Math.min(size, tasks.size()))) {
            ArrayDeque<PearlTaskSample> q = pool.get(t);
            int pick = rng.nextInt(q.size());
            Iterator<PearlTaskSample> it = q.iterator();
            PearlTaskSample b = it.next();
            for (int i = 0; i < pick; i++) {
                b = it.next();
            }
            batch.add(b.toTaskBatch());
        }
        return batch;
    }

    private ModelVersion nextVersion() {
        PearlConfig cfg = learner.config();
        byte[] blob = learner.currentPolicy().encode();
        Map<String, Double> metrics = new LinkedHashMap<>();
        if (sumCount > 0) {
            metrics.put("criticLoss", sums[0] / sumCount);
            metrics.put("actorLoss", sums[1] / sumCount);
            metrics.put("klDivergence", sums[2] / sumCount);
            metrics.put("alpha", sums[3] / sumCount);
        }
        metrics.put("rejectedSteps", (double) learner.rejectedSteps());
        metrics.put("clippedGradients", (double) learner.clippedGradients());
        metrics.put("lateSamples", (double) lateSamples.getCount());
        metrics.put("skippedSteps", (double) skippedSteps.getCount());
        metrics.put(io.metastream.flink.internal.LearnerInputPacer.OFFERED_METRIC, (double) usage.offered());
        metrics.put(io.metastream.flink.internal.LearnerInputPacer.USED_METRIC, (double) usage.used());
        metrics.put("pooledTasks", (double) poolTasks.size());
        sums = new double[4];
        sumCount = 0;
        return publisher.next(new VersionPublisher.Payload(cfg.toMap(), cfg.configHash(), cfg.seed(), PearlPolicy.ENCODING,
                blob, poolTasks.size(),
                learner.version() * (long) cfg.batchSize() * Math.min(cfg.metaBatch(), poolTasks.size()),
                learner.version(), metrics));
    }
}

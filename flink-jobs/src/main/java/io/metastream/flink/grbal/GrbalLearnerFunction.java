package io.metastream.flink.grbal;

import io.metastream.core.nn.Nd4jBackend;
import io.metastream.flink.internal.VersionPublisher;
import io.metastream.core.grbal.GrbalConfig;
import io.metastream.core.grbal.GrbalLearner;
import io.metastream.core.grbal.Segment;
import io.metastream.core.io.ModelBlob;
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
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The outer loop. Runs with parallelism 1 (the GPU-capable operator): feeds every {@link GrbalSegment}
 * to a {@link GrbalLearner}, which recomputes the task's meta-gradient against the current theta and
 * applies an Adam step per meta-batch, and publishes a {@link ModelVersion} after every
 * {@code publishEvery} accepted outer steps. Versions start at 1 and are consecutive; each names its
 * parent.
 *
 * <p>State (operator state, one element): the learner snapshot (theta, Adam moments, normaliser,
 * counters) plus the last published version. Restored after a failure, the learner continues from the
 * checkpoint; versions emitted after that checkpoint were in an aborted Kafka transaction, so
 * read_committed consumers never see a number twice or a gap.
 *
 * <p>Staleness: because the learner recomputes gradients with its own theta, the version a segment was
 * cut against does not bias the gradient; a segment is only dropped (counter {@code staleSegments}) when
 * the data in it was collected by a policy more than {@code maxPolicyLag} versions old.
 */
public final class GrbalLearnerFunction extends ProcessFunction<GrbalSegment, ModelVersion>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    private final String modelName;
    private final HashMap<String, String> grbalConfig;
    private final HashMap<String, String> jobConfig;
    private final int publishEvery;
    private final long maxPolicyLag;

    private transient GrbalLearner learner;
    private transient VersionPublisher publisher;
    private transient double preLossSum;
    private transient double postLossSum;
    private transient int lossCount;
    private transient Counter staleSegments;
    private transient Counter rejectedSteps;
    private transient Counter outerSteps;
    private transient Counter skippedSegments;
    private transient io.metastream.flink.internal.ComputeBudget budget;
    private transient io.metastream.flink.internal.LearnerInputPacer.Usage usage;

    public GrbalLearnerFunction(String modelName, Map<String, String> grbalConfig, Map<String, String> jobConfig,
            int publishEvery, long maxPolicyLag) {
        this.modelName = Objects.requireNonNull(modelName, "modelName");
        this.grbalConfig = new HashMap<>(grbalConfig);
        this.jobConfig = new HashMap<>(jobConfig);
        if (publishEvery <= 0) {
            throw new IllegalArgumentException("publishEvery must be positive, got " + publishEvery);
        }
        if (maxPolicyLag < 0) {
            throw new IllegalArgumentException("maxPolicyLag must not be negative, got " + maxPolicyLag);
        }
        this.publishEvery = publishEvery;
        this.maxPolicyLag = maxPolicyLag;
        GrbalConfig.fromMap(grbalConfig);
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        Nd4jBackend.load();
        GrbalConfig cfg = GrbalConfig.fromMap(grbalConfig);
        publisher = new VersionPublisher(modelName, "GRBAL", jobConfig, "meta-learner");
        byte[] restored = publisher.initialize(context, "meta-learner", getRuntimeContext().getGlobalJobParameters());
        learner = restored == null ? new GrbalLearner(cfg) : GrbalLearner.restore(cfg, restored);
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        publisher.snapshot(learner.snapshot());
    }

    @Override
    public void open(OpenContext openContext) {
        staleSegments = getRuntimeContext().getMetricGroup().counter("staleSegments");
        rejectedSteps = getRuntimeContext().getMetricGroup().counter("rejectedSteps");
        outerSteps = getRuntimeContext().getMetricGroup().counter("outerSteps");
        skippedSegments = getRuntimeContext().getMetricGroup().counter("skippedSegments");
        budget = io.metastream.flink.internal.ComputeBudget.from(getRuntimeContext().getGlobalJobParameters());
        usage = new io.metastream.flink.internal.LearnerInputPacer.Usage();
        publisher.registerGauges(getRuntimeContext().getMetricGroup());
        // the divergence guard: segments held back before a batch, and tasks quarantined for sending such
        getRuntimeContext().getMetricGroup().gauge("heldBackSegments", () -> learner.heldBackSegments());
        getRuntimeContext().getMetricGroup().gauge("quarantinedSegments", () -> learner.quarantinedSegments());
        getRuntimeContext().getMetricGroup().gauge("quarantinedTasks", () -> learner.quarantinedTasks().size());
    }

    @Override
    public void processElement(GrbalSegment s, Context ctx, Collector<ModelVersion> out) {
        if (s.oldestPolicyVersion >= 0 && publisher.version() - s.oldestPolicyVersion > maxPolicyLag) {
            staleSegments.inc();
            publisher.warnIfStalled(staleSegments.getCount() + " segments dropped as collected with a too old policy");
            return;
        }
        usage.offered(1);
        if (!budget.allows()) {
            skippedSegments.inc(); // over the learner's share of wall time: skipped, not queued (see ComputeBudget)
            return;
        }
        usage.used(1);
        long started = System.nanoTime();
        Segment segment = s.toSegment();
        java.util.Optional<GrbalLearner.StepResult> result = learner.offer(s.taskId, segment);
        budget.spent(System.nanoTime() - started);
        result.ifPresent(step -> {
            if (!step.accepted()) {
                rejectedSteps.inc();
                publisher.warnIfStalled(rejectedSteps.getCount() + " outer steps rejected so far (non-finite loss, gradient or parameters)");
                return;
            }
            outerSteps.inc();
            preLossSum += step.preAdaptLoss();
            postLossSum += step.postAdaptLoss();
            lossCount++;
            if (learner.outerSteps() % publishEvery == 0) {
                out.collect(nextVersion());
            }
        });
    }

    private ModelVersion nextVersion() {
        GrbalConfig cfg = learner.config();
        Map<String, Double> metrics = new TreeMap<>();
        if (lossCount > 0) {
            metrics.put("preAdaptLoss", preLossSum / lossCount);
            metrics.put("postAdaptLoss", postLossSum / lossCount);
        }
        metrics.put("rejectedSteps", (double) learner.rejectedSteps());
        metrics.put("staleSegments", (double) staleSegments.getCount());
        metrics.put("skippedSegments", (double) skippedSegments.getCount());
        metrics.put(io.metastream.flink.internal.LearnerInputPacer.OFFERED_METRIC, (double) usage.offered());
        metrics.put(io.metastream.flink.internal.LearnerInputPacer.USED_METRIC, (double) usage.used());
        metrics.put("segmentsSeen", (double) learner.segmentsSeen());
        metrics.put("heldBackSegments", (double) learner.heldBackSegments());
        metrics.put("quarantinedTasks", (double) learner.quarantinedTasks().size());
        preLossSum = 0;
        postLossSum = 0;
        lossCount = 0;
        return publisher.next(new VersionPublisher.Payload(cfg.toMap(), cfg.configHash(), cfg.seed(), ModelBlob.ENCODING,
                ModelBlob.encode(learner.currentModel()), learner.tasksSeen(), learner.transitionsSeen(),
                learner.outerSteps(), metrics));
    }
}

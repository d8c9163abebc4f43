package io.metastream.flink.internal;

import io.metastream.core.io.ModelBlob;
import io.metastream.core.nn.Nd4jBackend;
import io.metastream.schema.ModelVersion;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.runtime.state.FunctionInitializationContext;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What every meta-learner operator shares: version numbering, the parent link, provenance, and the
 * checkpoint of the learner together with the last published version.
 *
 * <p>Versions start at 1 and are consecutive; each names its parent. The version counter is checkpointed
 * with the learner's snapshot ({@link LearnerCheckpoint}), so after a restore the learner continues from
 * the checkpoint and the versions published after it, which were in an aborted Kafka transaction, are
 * numbered again: read_committed consumers never see a number twice or a gap.
 *
 * <p>Lifecycle: {@link #initialize} in {@code initializeState}, {@link #snapshot} in {@code snapshotState},
 * {@link #next} when the learner has a version to publish. Owned by one operator instance.
 */
public final class VersionPublisher {

    /** One version's payload and counters, as the algorithm knows them. */
    public record Payload(Map<String, String> algorithmConfig, String configHash, long seed, String parameterEncoding,
            byte[] parameters, long tasksSeen, long transitionsSeen, long outerSteps, Map<String, Double> metrics) {}

    private final String modelName;
    private final String algorithm;
    private final Map<String, String> jobInfo;
    private final String stateName;
    private ListState<byte[]> checkpointed;
    private long version;
    private String runId;
    private ModelTrust trust;
    private long stallWarningMillis;
    private volatile long lastPublishedMillis;
    private long lastStallWarningMillis;

    /**
     * @param algorithm the {@code ModelVersion.algorithm} field (e.g. GRBAL)
     * @param jobInfo   job settings recorded in every version's config as {@code job.<key>}
     * @param stateName name of the operator list state (stable: savepoints find it by name)
     */
    public VersionPublisher(String modelName, String algorithm, Map<String, String> jobInfo, String stateName) {
        this.modelName = Objects.requireNonNull(modelName, "modelName");
        this.algorithm = Objects.requireNonNull(algorithm, "algorithm");
        this.jobInfo = new TreeMap<>(jobInfo);
        this.stateName = Objects.requireNonNull(stateName, "stateName");
    }

    /**
     * Registers the operator state and restores the version counter.
     *
     * @return the learner snapshot of the checkpoint, or null on a fresh start
     */
    public byte[] initialize(FunctionInitializationContext context, String what, Map<String, String> jobParameters)
            throws Exception {
        trust = ModelTrust.from(jobParameters);
        stallWarningMillis = java.time.Duration.parse(jobParameters.getOrDefault(STALL_WARNING, "PT10M")).toMillis();
        lastPublishedMillis = System.currentTimeMillis();
        checkpointed = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>(stateName, PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        version = 0;
        runId = java.util.UUID.randomUUID().toString();
        if (context.isRestored()) {
            Iterator<byte[]> it = checkpointed.get().iterator();
            if (it.hasNext()) {
                LearnerCheckpoint c = LearnerCheckpoint.decode(it.next(), what);
                version = c.version();
                if (!c.runId().isEmpty()) {
                    runId = c.runId();
                }
                return c.snapshot();
            }
        }
        return null;
    }

    /** Global job parameter: after how long without a new version the learner warns (an ISO-8601 duration). */
    public static final String STALL_WARNING = "metastream.stall-warning-after";

    /** Registers the gauges every learner has: {@code modelVersion} and {@code secondsSinceLastVersion}. */
    public void registerGauges(org.apache.flink.metrics.MetricGroup metrics) {
        metrics.gauge("modelVersion", this::version);
        metrics.gauge("secondsSinceLastVersion", this::secondsSinceLastVersion);
    }

    /** Seconds since the last version was published (or since the learner started); a gauge. */
    public double secondsSinceLastVersion() {
        return (System.currentTimeMillis() - lastPublishedMillis) / 1000.0;
    }

    /**
     * Logs a warning, at most once per stall interval, when nothing was published for that long although
     * the learner keeps receiving data ({@code why}: e.g. every step rejected as non-finite). A learner
     * that keeps rejecting steps would otherwise stop publishing silently.
     */
    public void warnIfStalled(String why) {
        long now = System.currentTimeMillis();
        if (stalled(lastPublishedMillis, lastStallWarningMillis, now, stallWarningMillis)) {
            lastStallWarningMillis = now;
            org.slf4j.LoggerFactory.getLogger(VersionPublisher.class).warn("Model {} has published no version for {} s "
                    + "(last v{}) although data arrives: {}", modelName, (now - lastPublishedMillis) / 1000, version, why);
        }
    }

    /** True when a stall warning is due: nothing published for {@code after}, and none warned within it. */
    static boolean stalled(long lastPublished, long lastWarned, long now, long after) {
        return now - lastPublished >= after && now - lastWarned >= after;
    }

    /** The run's id: chosen on a fresh start, restored with the checkpoint. */
    public String runId() {
        return runId;
    }

    /** Checkpoints the learner's snapshot with the last published version. */
    public void snapshot(byte[] learnerSnapshot) throws Exception {
        checkpointed.update(List.of(new LearnerCheckpoint(version, runId, learnerSnapshot).encode()));
    }

    /** The last published version (0 before the first). */
    public long version() {
        return version;
    }

    /** The next version, numbered, linked to its parent, stamped with provenance and the run, and signed when a key is configured. */
    public ModelVersion next(Payload p) {
        Map<String, String> config = new TreeMap<>(p.algorithmConfig());
        jobInfo.forEach((k, v) -> config.put("job." + k, v));
        long parent = version;
        version++;
        lastPublishedMillis = System.currentTimeMillis();
        ModelVersion v = ModelVersion.newBuilder()
                .setModelName(modelName)
                .setVersion(version)
                .setParentVersion(parent == 0 ? null : parent)
                .setAlgorithm(algorithm)
                .setConfigHash(p.configHash())
                .setConfig(new HashMap<>(config))
                .setSeed(p.seed())
                .setParameterEncoding(p.parameterEncoding())
                .setParameters(ByteBuffer.wrap(p.parameters()))
                .setParametersSha256(ModelBlob.sha256Hex(p.parameters()))
                .setTasksSeen(p.tasksSeen())
                .setTransitionsSeen(p.transitionsSeen())
                .setOuterSteps(p.outerSteps())
                .setMetrics(new HashMap<>(p.metrics()))
                .setCreatedAt(Instant.now())
                .setCodeVersion(CodeVersion.get())
                .setPlatform(Nd4jBackend.platform())
                .setRunId(runId)
                .build();
        trust.sign(v);
        return v;
    }
}

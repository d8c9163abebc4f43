package io.metastream.flink.internal;

import io.metastream.schema.ModelVersion;

import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The model side of every task operator: the newest {@link ModelVersion} of the job's model, held in
 * broadcast state under the model's name, and its decoded form, cached for the version held.
 *
 * <p>A version is taken only when it is newer than the one held (a replay after a restart or an
 * out-of-order record is ignored) and when it decodes: a record that fails its checksum, its encoding
 * or the algorithm's own checks is counted ({@code rejectedModels}), logged and ignored, so a hostile
 * record on the models topic never replaces a good model. Created in {@code open()}; not thread-safe
 * (one per operator instance, called from its task thread).
 *
 * @param <M> the decoded model (a dynamics model, a policy, ...)
 */
public final class ModelBroadcast<M> {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ModelBroadcast.class);

    /** The broadcast state of every task operator: model name to the newest version taken. */
    public static final MapStateDescriptor<String, ModelVersion> MODELS = new MapStateDescriptor<>(
            "latest-model", Types.STRING, new AvroTypeInfo<>(ModelVersion.class));

    /** What {@link #offer} did with a version. */
    public enum Offer {
        /** Another model's version, an old one, or one that did not decode: nothing changed. */
        IGNORED,
        /** The first version this operator holds: tasks that buffered context can now be served. */
        FIRST,
        /** A newer version replaced the one held. */
        NEWER
    }

    /** The largest step from the version held to a new one; a larger jump is refused. */
    public static final long MAX_VERSION_JUMP = 10_000;

    private final String modelName;
    private final Function<ModelVersion, M> decoder;
    private final ModelTrust trust;
    private final Counter rejected;
    private long cachedVersion = -1;
    private M cached;

    /**
     * @param decoder verifies and decodes a version; any {@link RuntimeException} it throws rejects the version
     * @param jobParameters the job's global parameters, which name the trusted keys ({@link ModelTrust})
     */
    public ModelBroadcast(String modelName, Function<ModelVersion, M> decoder, MetricGroup metrics,
            Map<String, String> jobParameters) {
        this.modelName = Objects.requireNonNull(modelName, "modelName");
        this.decoder = Objects.requireNonNull(decoder, "decoder");
        this.trust = ModelTrust.from(jobParameters);
        this.rejected = metrics.counter("rejectedModels");
    }

    /** The version held, or null before the first. */
    public ModelVersion held(ReadOnlyBroadcastState<String, ModelVersion> state) throws Exception {
        return state.get(modelName);
    }

    /** Takes {@code model} into {@code state} when it is this job's, newer than the one held, and decodes. */
    public Offer offer(BroadcastState<String, ModelVersion> state, ModelVersion model) throws Exception {
        if (!modelName.equals(model.getModelName())) {
            return Offer.IGNORED;
        }
        ModelVersion held = state.get(modelName);
        if (held != null && held.getVersion() >= model.getVersion()) {
            return Offer.IGNORED; // replay after a restart, or out of order
        }
        if (held != null && model.getVersion() > held.getVersion() + MAX_VERSION_JUMP) {
            rejected.inc();
            LOG.warn("Ignoring model {} v{}: more than {} above the version held, v{}", modelName, model.getVersion(),
                    MAX_VERSION_JUMP, held.getVersion());
            return Offer.IGNORED;
        }
        if (decode(model) == null) {
            return Offer.IGNORED;
        }
        state.put(modelName, model);
        LOG.debug("Task operator now holds {} v{}", modelName, model.getVersion());
        return held == null ? Offer.FIRST : Offer.NEWER;
    }

    /** The decoded model of {@code model} (cached per version), or null when it was rejected. */
    public M decode(ModelVersion model) {
        if (model.getVersion() == cachedVersion) {
            return cached;
        }
        try {
            trust.check(model);
            M m = decoder.apply(model);
            cached = m;
            cachedVersion = model.getVersion();
            return m;
        } catch (RuntimeException e) {
            rejected.inc();
            LOG.warn("Ignoring model {} v{}: {}", model.getModelName(), model.getVersion(), e.toString());
            return null;
        }
    }

    /** Adds one to a keyed counter (absent = 0) and returns the new count. */
    public static int increment(org.apache.flink.api.common.state.ValueState<Integer> counter) throws java.io.IOException {
        Integer v = counter.value();
        int n = (v == null ? 0 : v) + 1;
        counter.update(n);
        return n;
    }
}

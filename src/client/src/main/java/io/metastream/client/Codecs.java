package io.metastream.client;

import io.metastream.schema.AdaptedModel;
import io.metastream.schema.DeadLetter;
import io.metastream.schema.ModelVersion;
import io.metastream.schema.Transition;

/**
 * Codecs for the metastream topics. Each call builds a new {@link AvroCodec} (loading its history
 * schemas), so keep the result: one per operator instance or per client is enough, since codecs are
 * thread-safe.
 */
public final class Codecs {

    private Codecs() {
    }

    /** Values of the experience topic. */
    public static AvroCodec<Transition> transition() {
        return AvroCodec.of(Transition.class);
    }

    /** Values of the models topic. */
    public static AvroCodec<ModelVersion> modelVersion() {
        return AvroCodec.of(ModelVersion.class);
    }

    /** Values of the adapted topic. */
    public static AvroCodec<AdaptedModel> adaptedModel() {
        return AvroCodec.of(AdaptedModel.class);
    }

    /** Values of the dead-letter topic. */
    public static AvroCodec<DeadLetter> deadLetter() {
        return AvroCodec.of(DeadLetter.class);
    }
}

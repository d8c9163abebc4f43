package io.metastream.client;

import io.metastream.client.grbal.DynamicsModelFormat;
import io.metastream.client.pearl.PearlPolicyFormat;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The parameter encodings this client reads, one registration line each (see {@link ModelFormat}).
 */
public final class ModelFormats {
    private ModelFormats() {}

    private static final List<ModelFormat<?, ?>> ALL = List.of(
            new DynamicsModelFormat(),
            new PearlPolicyFormat());

    /** Every format, in registration order. */
    public static List<ModelFormat<?, ?>> all() {
        return ALL;
    }

    /** The encoding of every format, in registration order. */
    public static List<String> encodings() {
        return ALL.stream().map(ModelFormat::encoding).collect(Collectors.toList());
    }

    /** The format of {@code encoding}, if this client has one. */
    public static Optional<ModelFormat<?, ?>> byEncoding(String encoding) {
        return ALL.stream().filter(f -> f.encoding().equals(encoding)).findFirst();
    }

    /** The format that applies adaptations of this record type, if this client has one. */
    public static Optional<ModelFormat<?, ?>> byAdaptation(Object adaptation) {
        return adaptation == null ? Optional.empty()
                : ALL.stream().filter(f -> f.adaptationType().isInstance(adaptation)).findFirst();
    }
}

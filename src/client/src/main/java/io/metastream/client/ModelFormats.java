package io.metastream.client;

import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.io.ModelBlob;
import io.metastream.core.pearl.PearlPolicy;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The parameter encodings this client decodes, one line each: how the blob of a {@code ModelVersion}
 * with that {@code parameterEncoding} becomes the model agents act with. The client dispatches on the
 * encoding a version declares, never on its algorithm's name; an algorithm with a new encoding adds a
 * line here.
 */
public final class ModelFormats {
    private ModelFormats() {}

    /**
     * One encoding.
     *
     * @param decode the blob's decoder; throws {@link IllegalArgumentException} for bytes it cannot read
     */
    public record Format(String encoding, Class<?> type, Function<byte[], ?> decode) {}

    private static final List<Format> ALL = List.of(
            new Format(ModelBlob.ENCODING, DynamicsModel.class, ModelBlob::decode),
            new Format(PearlPolicy.ENCODING, PearlPolicy.class, PearlPolicy::decode));

    /** The encoding of every format, in registration order. */
    public static List<String> encodings() {
        return ALL.stream().map(Format::encoding).collect(Collectors.toList());
    }

    /** The format of {@code encoding}, if this client has one. */
    public static Optional<Format> byEncoding(String encoding) {
        return ALL.stream().filter(f -> f.encoding().equals(encoding)).findFirst();
    }
}

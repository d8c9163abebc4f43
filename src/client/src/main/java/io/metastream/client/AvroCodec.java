package io.metastream.client;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Encodes and decodes one Avro record type in the
 * <a href="https://avro.apache.org/docs/1.12.0/specification/#single-object-encoding">single-object
 * encoding</a>: the marker {@code C3 01}, the 8-byte little-endian CRC-64-AVRO fingerprint of the
 * writer schema's Parsing Canonical Form, then the Avro binary body. This is the wire format of every
 * metastream topic; any language with an Avro library can produce it from the {@code .avsc} files.
 *
 * <p><b>Schema evolution.</b> {@link #decode} accepts records written with the current schema of
 * {@code T} and with every historical version of it shipped as a class-path resource
 * {@code io/metastream/schema/history/<Name>-v<N>.avsc} ({@code N} = 0, 1, 2, ... without gaps; the
 * first missing number ends the list). Old records are resolved to the current class: fields the old
 * schema lacks take their defaults. The history is checked when the codec is built: a history schema
 * that cannot be resolved to the current one fails construction.
 *
 * <p><b>Errors.</b> {@link #decode} throws {@link CodecException}: {@code MALFORMED} for input that
 * is not a single-object message of this type (null, too short, wrong marker, a body that is
 * truncated, corrupt or followed by extra bytes; the message gives the byte offset and field), and
 * {@code UNKNOWN_SCHEMA} for a well-formed header whose fingerprint is not known (the message gives
 * it in hex). A body is checked for well-formedness before Avro decodes it, so a corrupt length cannot
 * make the reader allocate gigabytes.
 *
 * <p><b>Threading.</b> Thread-safe: Avro's message encoders and decoders are kept per thread.
 * Not {@link Serializable}: in a Flink operator create the codec in {@code open()}, or ship a
 * {@link #factory(Class)} and call it there.
 *
 * @param <T> a generated Avro specific record class
 */
public final class AvroCodec<T extends SpecificRecord> {

    /** Class-path folder of historical writer schemas. */
    public static final String HISTORY_FOLDER = "io/metastream/schema/history/";

    static final int HEADER_LENGTH = 10;
    private static final byte MARKER_0 = (byte) 0xC3;
    private static final byte MARKER_1 = (byte) 0x01;

    private final Class<T> type;
    private final Schema schema;
    private final long fingerprint;
    private final Map<Long, Schema> writerSchemas;
    private final ThreadLocal<BinaryMessageEncoder<T>> encoders;
    private final ThreadLocal<BinaryMessageDecoder<T>> decoders;

    private AvroCodec(Class<T> type) {
        this.type = type;
        SpecificData model = SpecificData.getForClass(type);
        this.schema = model.getSchema(type);
        if (schema == null || schema.getType() != Schema.Type.RECORD) {
            throw new IllegalArgumentException(type.getName() + " is not a generated Avro record class");
        }
        this.fingerprint = SchemaNormalization.parsingFingerprint64(schema);
        Map<Long, Schema> known = new LinkedHashMap<>();
        known.put(fingerprint, schema);
        SchemaStore.Cache store = new SchemaStore.Cache();
        for (int version = 0; ; version++) {
            Schema old = loadHistory(type, schema, version);
            if (old == null) {
                break;
            }
            store.addSchema(old);
            known.putIfAbsent(SchemaNormalization.parsingFingerprint64(old), old);
        }
        this.writerSchemas = Collections.unmodifiableMap(known);
        this.encoders = ThreadLocal.withInitial(() -> new BinaryMessageEncoder<>(model, schema));
        this.decoders = ThreadLocal.withInitial(() -> new BinaryMessageDecoder<>(model, schema, store));
    }

    /** A codec for {@code type}, with its history schemas loaded from the class path. */
    public static <T extends SpecificRecord> AvroCodec<T> of(Class<T> type) {
        return new AvroCodec<>(Objects.requireNonNull(type, "type"));
    }

    /** A serializable recipe for a codec, to ship inside a Flink function and call in {@code open()}. */
    public static <T extends SpecificRecord> Factory<T> factory(Class<T> type) {
        return new Factory<>(Objects.requireNonNull(type, "type"));
    }

    /**
     * The single-object encoding of {@code record} with the current schema.
     *
     * @throws IllegalArgumentException if the record cannot be written, e.g. a required field is null
     */
    public byte[] encode(T record) {
        Objects.requireNonNull(record, "record");
        ByteBuffer buffer;
        try {
            buffer = encoders.get().encode(record);
        } catch (IOException e) {
            throw new UncheckedIOException("encoding to memory failed", e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cannot encode this " + schema.getName() + ": " + e.getMessage(), e);
        }
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    /**
     * Decodes a single-object encoded message written with any known schema of {@code T}.
     *
     * @throws CodecException {@code MALFORMED} or {@code UNKNOWN_SCHEMA}, see the class comment
     */
    public T decode(byte[] bytes) {
        if (bytes == null) {
            throw new CodecException(CodecException.Reason.MALFORMED, "no bytes (null value, e.g. a tombstone): not a "
                    + schema.getName() + " message");
        }
        if (bytes.length < HEADER_LENGTH) {
            throw new CodecException(CodecException.Reason.MALFORMED, "message of " + bytes.length + " bytes is shorter "
                    + "than the 10-byte single-object header (C3 01 + 8-byte schema fingerprint)");
        }
        if (bytes[0] != MARKER_0 || bytes[1] != MARKER_1) {
            throw new CodecException(CodecException.Reason.MALFORMED, String.format(
                    "bytes 0-1 are %02X %02X, not the single-object marker C3 01: the producer did not use Avro "
                            + "single-object encoding (plain Avro binary? JSON? a schema-registry framing?)",
                    bytes[0] & 0xff, bytes[1] & 0xff));
        }
        long writerFingerprint = ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Schema writer = writerSchemas.get(writerFingerprint);
        if (writer == null) {
            throw new CodecException(CodecException.Reason.UNKNOWN_SCHEMA, String.format(
                    "writer schema fingerprint %s is not a known %s schema (known: %s); upgrade this reader, or add the "
                            + "writer's schema as %s%s-v<N>.avsc", hex(writerFingerprint), schema.getFullName(),
                    writerSchemas.keySet().stream().map(AvroCodec::hex).collect(Collectors.joining(", ")),
                    HISTORY_FOLDER, schema.getName()));
        }
        try {
            BinaryShapeCheck.check(writer, bytes, HEADER_LENGTH);
        } catch (BinaryShapeCheck.Malformed e) {
            throw new CodecException(CodecException.Reason.MALFORMED, "corrupt " + schema.getName() + " body (writer schema "
                    + hex(writerFingerprint) + ") at byte offset " + e.offset + " of " + bytes.length + ": " + e.getMessage());
        }
        try {
            return decoders.get().decode(bytes);
        } catch (IOException | RuntimeException e) {
            throw new CodecException(CodecException.Reason.MALFORMED, "cannot decode " + schema.getName() + " (writer schema "
                    + hex(writerFingerprint) + ", " + bytes.length + " bytes): " + e, e);
        }
    }

    /** The record class. */
    public Class<T> type() {
        return type;
    }

    /** The current (reader) schema, which {@link #encode} writes. */
    public Schema schema() {
        return schema;
    }

    /** CRC-64-AVRO fingerprint of the current schema, as written (little-endian) in every encoded message. */
    public long fingerprint() {
        return fingerprint;
    }

    /** Every schema {@link #decode} accepts, by fingerprint: the current one first, then the history. */
    public Map<Long, Schema> knownWriterSchemas() {
        return writerSchemas;
    }

    static String hex(long fingerprint) {
        return String.format("0x%016X", fingerprint);
    }

    private static Schema loadHistory(Class<?> type, Schema current, int version) {
        String resource = HISTORY_FOLDER + current.getName() + "-v" + version + ".avsc";
        ClassLoader loader = AvroCodec.class.getClassLoader();
        InputStream in = loader == null ? null : loader.getResourceAsStream(resource);
        if (in == null && type.getClassLoader() != null && type.getClassLoader() != loader) {
            in = type.getClassLoader().getResourceAsStream(resource);
        }
        if (in == null) {
            return null;
        }
        Schema old;
        try (InputStream stream = in) {
            old = new Schema.Parser().parse(new String(stream.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("history schema " + resource + " does not parse: " + e.getMessage(), e);
        }
        if (!old.getFullName().equals(current.getFullName())) {
            throw new IllegalStateException("history schema " + resource + " defines " + old.getFullName()
                    + ", expected " + current.getFullName() + "; fix the file's name/namespace");
        }
        SchemaCompatibility.SchemaPairCompatibility compat =
                SchemaCompatibility.checkReaderWriterCompatibility(current, old);
        if (compat.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            throw new IllegalStateException("history schema " + resource + " cannot be read by the current "
                    + current.getFullName() + " schema: " + compat.getDescription()
                    + "; give new fields defaults instead of breaking old writers");
        }
        return old;
    }

    /**
     * A serializable way to make an {@link AvroCodec} where the codec itself cannot travel (Flink
     * functions are serialized; the codec is not). Immutable and thread-safe; every {@link #get()}
     * returns a new codec.
     */
    public static final class Factory<T extends SpecificRecord> implements Supplier<AvroCodec<T>>, Serializable {
        private static final long serialVersionUID = 1L;
        private final Class<T> type;

        private Factory(Class<T> type) {
            this.type = type;
        }

        @Override
        public AvroCodec<T> get() {
            return AvroCodec.of(type);
        }
    }
}

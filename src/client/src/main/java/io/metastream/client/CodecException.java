package io.metastream.client;

/**
 * A message could not be decoded by an {@link AvroCodec}. The {@link #reason()} tells a reader what
 * to do: a {@link Reason#MALFORMED} record will never decode (dead-letter it); an
 * {@link Reason#UNKNOWN_SCHEMA} record was written with a schema this reader does not know (upgrade
 * the reader or register the writer schema as a history version).
 */
public final class CodecException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why decoding failed. */
    public enum Reason {
        /** Not an Avro single-object encoded message of the expected type: bad header, truncated or corrupt body. */
        MALFORMED,
        /** A well-formed header whose writer-schema fingerprint is not among the known writer schemas. */
        UNKNOWN_SCHEMA
    }

    private final Reason reason;

    CodecException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    CodecException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}

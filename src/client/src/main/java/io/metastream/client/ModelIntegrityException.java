package io.metastream.client;

/**
 * A model or adaptation record failed verification: its checksum does not match its bytes, its
 * encoding is not supported, or its bytes do not decode. The record must not be used; readers keep
 * the last good model.
 */
public final class ModelIntegrityException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ModelIntegrityException(String message) {
        super(message);
    }

    ModelIntegrityException(String message, Throwable cause) {
        super(message, cause);
    }
}

package io.metastream.core.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Little-endian reader for the versioned binary formats of metastream-core, counterpart of
 * {@link ByteWriter}. Every read names the field it reads so that a truncated or corrupted input
 * fails with an {@link IllegalArgumentException} saying what was expected where.
 *
 * <p>Not thread-safe; create one per decoding.
 */
public final class ByteReader {

    private final ByteBuffer buf;
    private final String format;

    /**
     * @param format the name of the format being decoded, used in error messages
     */
    public ByteReader(byte[] data, String format) {
        if (data == null) {
            throw new IllegalArgumentException(format + ": input is null");
        }
        this.buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        this.format = format;
    }

    private void need(long bytes, String field) {
        if (bytes < 0 || buf.remaining() < bytes) {
            throw new IllegalArgumentException(format + " is truncated or corrupt: reading " + field + " at byte offset "
                    + buf.position() + " needs " + bytes + " bytes but only " + buf.remaining() + " remain (total "
                    + buf.limit() + ")");
        }
    }

    public int position() {
        return buf.position();
    }

    public int remaining() {
        return buf.remaining();
    }

    public byte[] readRaw(int n, String field) {
        need(n, field);
        byte[] out = new byte[n];
        buf.get(out);
        return out;
    }

    public int readInt(String field) {
        need(4, field);
        return buf.getInt();
    }

    public long readLong(String field) {
        need(8, field);
        return buf.getLong();
    }

    public double readDouble(String field) {
        need(8, field);
        return buf.getDouble();
    }

    public boolean readBoolean(String field) {
        need(1, field);
        byte b = buf.get();
        if (b != 0 && b != 1) {
            throw new IllegalArgumentException(format + " is corrupt: " + field + " at byte offset " + (buf.position() - 1)
                    + " is " + b + " but must be 0 or 1");
        }
        return b == 1;
    }

    /** Reads a non-negative int count, checking it against {@code max}. */
    public int readCount(String field, long max) {
        int n = readInt(field);
        if (n < 0 || n > max) {
            throw new IllegalArgumentException(format + " is corrupt: " + field + " is " + n + " but must be in [0, " + max + "]");
        }
        return n;
    }

    /** Reads an int-prefixed double array whose length must equal {@code expectedLength} (or any, if negative). */
    public double[] readDoubles(String field, int expectedLength) {
        int n = readCount(field + " length", buf.remaining() / 8);
        if (expectedLength >= 0 && n != expectedLength) {
            throw new IllegalArgumentException(format + " is corrupt: " + field + " has " + n + " values but " + expectedLength
                    + " are required");
        }
        double[] out = new double[n];
        need(8L * n, field);
        for (int i = 0; i < n; i++) {
            out[i] = buf.getDouble();
        }
        return out;
    }

    /** Reads an int-prefixed byte array. */
    public byte[] readBytes(String field) {
        int n = readInt(field + " length");
        if (n < 0) {
            throw new IllegalArgumentException(format + " is corrupt: " + field + " length is " + n);
        }
        return readRaw(n, field);
    }

    public String readString(String field) {
        return new String(readBytes(field), StandardCharsets.UTF_8);
    }

    /** Fails when bytes remain after the last field. */
    public void expectEnd() {
        if (buf.remaining() != 0) {
            throw new IllegalArgumentException(format + " is corrupt: " + buf.remaining() + " unexpected trailing bytes after offset "
                    + buf.position() + " (total " + buf.limit() + ")");
        }
    }

    /** Reads the leading int format version and fails unless it is one of {@code supported}. */
    public int readVersion(int... supported) {
        int v = readInt("format version");
        for (int s : supported) {
            if (s == v) {
                return v;
            }
        }
        throw new IllegalArgumentException(format + " has unknown format version " + v + "; this build reads version(s) "
                + java.util.Arrays.toString(supported) + ". Upgrade metastream-core or re-create the data with this version.");
    }
}

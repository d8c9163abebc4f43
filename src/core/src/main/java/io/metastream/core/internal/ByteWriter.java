package io.metastream.core.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Growable little-endian byte sink for the versioned binary formats of metastream-core.
 *
 * <p>Not thread-safe; create one per encoding.
 */
public final class ByteWriter {

    private ByteBuffer buf;

    public ByteWriter(int initialCapacity) {
        buf = ByteBuffer.allocate(Math.max(16, initialCapacity)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void ensure(int more) {
        if (buf.remaining() < more) {
            long needed = (long) buf.position() + more;
            long cap = Math.max(needed, 2L * buf.capacity());
            if (cap > Integer.MAX_VALUE - 8) {
                throw new IllegalStateException("encoding exceeds 2 GiB");
            }
            ByteBuffer bigger = ByteBuffer.allocate((int) cap).order(ByteOrder.LITTLE_ENDIAN);
            buf.flip();
            bigger.put(buf);
            buf = bigger;
        }
    }

    public ByteWriter putRaw(byte[] bytes) {
        ensure(bytes.length);
        buf.put(bytes);
        return this;
    }

    public ByteWriter putInt(int v) {
        ensure(4);
        buf.putInt(v);
        return this;
    }

    public ByteWriter putLong(long v) {
        ensure(8);
        buf.putLong(v);
        return this;
    }

    public ByteWriter putDouble(double v) {
        ensure(8);
        buf.putDouble(v);
        return this;
    }

    public ByteWriter putBoolean(boolean v) {
        ensure(1);
        buf.put((byte) (v ? 1 : 0));
        return this;
    }

    /** Writes {@code values.length} as an int, then the values. */
    public ByteWriter putDoubles(double[] values) {
        putInt(values.length);
        ensure(8 * values.length);
        for (double v : values) {
            buf.putDouble(v);
        }
        return this;
    }

    /** Writes the length as an int, then the bytes. */
    public ByteWriter putBytes(byte[] bytes) {
        putInt(bytes.length);
        return putRaw(bytes);
    }

    /** Writes UTF-8 bytes with an int length prefix. */
    public ByteWriter putString(String s) {
        return putBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(buf.array(), buf.position());
    }
}

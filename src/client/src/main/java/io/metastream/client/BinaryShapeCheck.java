package io.metastream.client;

import org.apache.avro.Schema;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Walks an Avro binary body against its writer schema without building objects, and rejects it
 * unless it is exactly one well-formed datum: every varint short enough, every length, union branch and
 * enum index in range, every block of items small enough to fit in the bytes that remain, and no
 * trailing bytes.
 *
 * <p>Why: Avro's decoders trust the lengths they read and allocate before reading, so a corrupt
 * length (a poison record on a topic) can ask for gigabytes and end a consumer with
 * {@link OutOfMemoryError}. After this check the real decoder cannot be misled that way, and a
 * failure can name the byte offset and the field.
 *
 * <p>Stateless apart from one call's cursor: create one per message (cheap); not thread-safe.
 */
final class BinaryShapeCheck {

    /** A body that is not one well-formed datum; offset is absolute in the message. */
    static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;
        final int offset;

        Malformed(int offset, String message) {
            super(message, null, false, false);
            this.offset = offset;
        }
    }

    private static final int MAX_EMPTY_ITEMS = 1 << 20;

    private final byte[] bytes;
    private final int end;
    private final Map<Schema, Integer> minSizes = new HashMap<>();
    private int pos;

    private BinaryShapeCheck(byte[] bytes, int start) {
        this.bytes = bytes;
        this.end = bytes.length;
        this.pos = start;
    }

    /** Checks that {@code bytes[start..]} holds exactly one datum of {@code writer}. */
    static void check(Schema writer, byte[] bytes, int start) throws Malformed {
        BinaryShapeCheck c = new BinaryShapeCheck(bytes, start);
        c.walk(writer, writer.getName());
        if (c.pos != c.end) {
            throw new Malformed(c.pos, (c.end - c.pos) + " trailing bytes after the end of the " + writer.getName()
                    + " record");
        }
    }

    private void walk(Schema s, String path) throws Malformed {
        switch (s.getType()) {
            case NULL -> { }
            case BOOLEAN -> {
                need(1, path);
                if (bytes[pos] != 0 && bytes[pos] != 1) {
                    throw new Malformed(pos, path + ": boolean byte is " + (bytes[pos] & 0xff) + ", not 0 or 1");
                }
                pos++;
            }
            case INT -> readVarint(5, path);
            case LONG -> readVarint(10, path);
            case FLOAT -> skip(4, path);
            case DOUBLE -> skip(8, path);
            case FIXED -> skip(s.getFixedSize(), path);
            case STRING, BYTES -> {
                int at = pos;
                long length = readVarint(10, path);
                if (length < 0 || length > end - pos) {
                    throw new Malformed(at, path + ": length " + length + " but " + (end - pos)
                            + " bytes remain (truncated or corrupt)");
                }
                pos += (int) length;
            }
            case ENUM -> {
                int at = pos;
                long index = readVarint(5, path);
                if (index < 0 || index >= s.getEnumSymbols().size()) {
                    throw new Malformed(at, path + ": enum index " + index + " outside 0.." + (s.getEnumSymbols().size() - 1));
                }
            }
            case UNION -> {
                int at = pos;
                long index = readVarint(5, path);
                List<Schema> branches = s.getTypes();
                if (index < 0 || index >= branches.size()) {
                    throw new Malformed(at, path + ": union branch " + index + " outside 0.." + (branches.size() - 1));
                }
                walk(branches.get((int) index), path);
            }
            case RECORD -> {
                for (Schema.Field f : s.getFields()) {
                    walk(f.schema(), path + "." + f.name());
                }
            }
            case ARRAY -> walkBlocks(s.getElementType(), null, path);
            case MAP -> walkBlocks(s.getValueType(), Schema.create(Schema.Type.STRING), path);
            default -> throw new Malformed(pos, path + ": unsupported schema type " + s.getType());
        }
    }

    private void walkBlocks(Schema item, Schema key, String path) throws Malformed {
        int itemMin = minSize(item) + (key == null ? 0 : 1);
        long index = 0;
        while (true) {
            int at = pos;
            long count = readVarint(10, path);
            if (count == 0) {
                return;
            }
            if (count < 0) {
                count = -count;
                int sizeAt = pos;
                long blockBytes = readVarint(10, path);
                if (blockBytes < 0) {
                    throw new Malformed(sizeAt, path + ": negative block size " + blockBytes);
                }
            }
            long remaining = end - pos;
            if ((itemMin > 0 && count > remaining / itemMin) || (itemMin == 0 && count > MAX_EMPTY_ITEMS)) {
                throw new Malformed(at, path + ": a block of " + count + " items cannot fit in the " + remaining
                        + " bytes that remain");
            }
            for (long i = 0; i < count; i++, index++) {
                String itemPath = path + "[" + index + "]";
                if (key != null) {
                    walk(key, itemPath + ".key");
                }
                walk(item, itemPath);
            }
        }
    }

    /** Fewest bytes a datum of {@code s} can take; 0 for recursive references (no bound assumed). */
    private int minSize(Schema s) {
        Integer known = minSizes.get(s);
        if (known != null) {
            return known;
        }
        minSizes.put(s, 0);
        int size = switch (s.getType()) {
            case NULL -> 0;
            case FLOAT -> 4;
            case DOUBLE -> 8;
            case FIXED -> s.getFixedSize();
            case RECORD -> {
                long sum = 0;
                for (Schema.Field f : s.getFields()) {
                    sum += minSize(f.schema());
                }
                yield (int) Math.min(sum, Integer.MAX_VALUE);
            }
            default -> 1; // boolean, int, long, enum, string, bytes, union, array, map: at least one byte
        };
        minSizes.put(s, size);
        return size;
    }

    private long readVarint(int maxBytes, String path) throws Malformed {
        int start = pos;
        long value = 0;
        for (int i = 0; i < maxBytes; i++) {
            if (pos >= end) {
                throw new Malformed(pos, path + ": message ends inside a number (truncated?)");
            }
            int b = bytes[pos++] & 0xff;
            value |= (long) (b & 0x7f) << (7 * i);
            if ((b & 0x80) == 0) {
                return (value >>> 1) ^ -(value & 1);
            }
        }
        throw new Malformed(start, path + ": varint longer than " + maxBytes + " bytes");
    }

    private void need(long n, String path) throws Malformed {
        if (n > end - pos) {
            throw new Malformed(pos, path + ": needs " + n + " bytes but only " + (end - pos) + " remain (truncated?)");
        }
    }

    private void skip(long n, String path) throws Malformed {
        need(n, path);
        pos += (int) n;
    }
}

package io.metastream.flink.internal;

import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A task's newest {@code capacity} rows (transitions, context rows) in keyed state, as a ring that reads
 * and writes only what changes: map state from a row's sequence number within the task to the row, plus
 * the next sequence number. Appending writes one entry and deletes the one that falls out; reading a
 * window or drawing a sample reads those entries alone. On the RocksDB backend each of those is one key,
 * where a list state is read whole (every row deserialised) to take the last few.
 *
 * <p>Readers get the entries that exist and check what they got (a ring restored with a smaller capacity
 * holds rows beyond it until they are overwritten).
 *
 * @param <T> the row type
 */
public final class KeyedRing<T> {

    private final MapState<Long, T> entries;
    private final ValueState<Long> next;
    private final MapStateDescriptor<Long, T> entriesDescriptor;
    private final int capacity;

    /**
     * @param name the state's name (two states: {@code name} and {@code name + "-next"})
     * @param capacity rows kept per task, at least 1
     */
    public KeyedRing(RuntimeContext runtime, String name, int capacity, TypeInformation<T> type) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a ring needs capacity >= 1, got " + capacity);
        }
        this.capacity = capacity;
        this.entriesDescriptor = new MapStateDescriptor<>(name, Types.LONG, type);
        this.entries = runtime.getMapState(entriesDescriptor);
        this.next = runtime.getState(new ValueStateDescriptor<>(name + "-next", Types.LONG));
    }

    /** The descriptor of the entries, for {@code applyToKeyedState} over every task ({@link #ordered}). */
    public MapStateDescriptor<Long, T> entriesDescriptor() {
        return entriesDescriptor;
    }

    public int capacity() {
        return capacity;
    }

    /** Appends a row to the current task's ring, dropping its oldest entry when full; returns the number held. */
    public int append(T row) throws Exception {
        long n = nextSequence();
        entries.put(n, row);
        if (n >= capacity) {
            entries.remove(n - capacity);
        }
        next.update(n + 1);
        return size(n + 1);
    }

    /** Rows held for the current task (at most the capacity). */
    public int size() throws Exception {
        return size(nextSequence());
    }

    private int size(long nextSequence) {
        return (int) Math.min(nextSequence, capacity);
    }

    /** The current task's sequence number of its next row (= rows ever appended). */
    public long nextSequence() throws Exception {
        Long v = next.value();
        return v == null ? 0 : v;
    }

    /**
     * The current task's rows with sequence numbers in {@code [from, to)}, oldest first; entries
     * outside the ring or missing are left out, so the list may be shorter than {@code to - from}.
     */
    public List<T> range(long from, long to) throws Exception {
        long oldest = Math.max(0, nextSequence() - capacity);
        List<T> out = new ArrayList<>((int) Math.max(0, Math.min(to - from, capacity)));
        for (long i = Math.max(from, oldest); i < to; i++) {
            T row = entries.get(i);
            if (row != null) {
                out.add(row);
            }
        }
        return out;
    }

    /** The current task's row with sequence number {@code seq}, or null when it is outside the ring or missing. */
    public T get(long seq) throws Exception {
        long end = nextSequence();
        if (seq < Math.max(0, end - capacity) || seq >= end) {
            return null;
        }
        return entries.get(seq);
    }

    /**
     * The current task's row with sequence number {@code seq} as stored, or null; no bounds check, for a
     * caller that took {@code [oldestHeld(), nextSequence())} once and draws inside it.
     */
    public T at(long seq) throws Exception {
        return entries.get(seq);
    }

    /**
     * The sequence number of the current task's oldest row held ({@link #nextSequence()} when none is):
     * the ring holds {@code [max(0, next - capacity), next)}, all of it, so no entry is read.
     */
    public long oldestHeld() throws Exception {
        long end = nextSequence();
        return Math.max(0, end - capacity);
    }

    /** Removes the current task's ring. */
    public void clear() {
        entries.clear();
        next.clear();
    }

    /** The current task's newest {@code n} rows (fewer if it holds fewer), oldest first. */
    public List<T> newest(int n) throws Exception {
        long end = nextSequence();
        return range(end - n, end);
    }

    /**
     * The newest {@code capacity} rows of one task's ring as given to {@code applyToKeyedState}, oldest
     * first (older keys can be left from a larger capacity before a restore).
     */
    public static <T> List<T> ordered(MapState<Long, T> ring, int capacity) throws Exception {
        TreeMap<Long, T> sorted = new TreeMap<>();
        for (Map.Entry<Long, T> e : ring.entries()) {
            sorted.put(e.getKey(), e.getValue());
        }
        List<T> all = new ArrayList<>(sorted.values());
        return all.size() <= capacity ? all : new ArrayList<>(all.subList(all.size() - capacity, all.size()));
    }
}

package io.metastream.flink.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

class KeyedRingTest {

    /** "+x" appends x to the key's ring of 3; "?" prints size, next sequence, newest 2, the whole ring and get(1). */
    static final class RingFunction extends KeyedProcessFunction<String, String, String> {
        private transient KeyedRing<String> ring;

        @Override
        public void open(OpenContext openContext) {
            ring = new KeyedRing<>(getRuntimeContext(), "ring", 3, Types.STRING);
        }

        @Override
        public void processElement(String in, Context ctx, Collector<String> out) throws Exception {
            if (in.startsWith("+")) {
                ring.append(in.substring(1));
            } else if (in.equals("clear")) {
                ring.clear();
            } else {
                long next = ring.nextSequence();
                out.collect(ring.size() + " " + next + " " + ring.newest(2) + " " + ring.range(0, next) + " " + ring.get(1)
                        + " " + ring.oldestHeld());
            }
        }
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, String, String> harness(String backend)
            throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new RingFunction()),
                (String s) -> "task", Types.STRING);
        if (backend.equals("rocksdb")) {
            h.setStateBackend((StateBackend) new EmbeddedRocksDBStateBackend());
        }
        h.setup();
        h.open();
        return h;
    }

    @ParameterizedTest
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void keepsTheNewestRowsInOrderAndDropsTheOldest(String backend) throws Exception {
        try (var h = harness(backend)) {
            for (String x : List.of("+a", "+b", "?", "+c", "+d", "+e", "?")) {
                h.processElement(x, 0);
            }
            assertThat(h.extractOutputValues()).containsExactly(
                    "2 2 [a, b] [a, b] b 0",
                    "3 5 [d, e] [c, d, e] null 2");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void aClearedRingStartsAgainFromSequenceZero(String backend) throws Exception {
        try (var h = harness(backend)) {
            for (String x : List.of("+a", "+b", "+c", "+d", "clear", "?", "+e", "?")) {
                h.processElement(x, 0);
            }
            assertThat(h.extractOutputValues()).containsExactly(
                    "0 0 [] [] null 0",
                    "1 1 [e] [e] null 0");
        }
    }
}

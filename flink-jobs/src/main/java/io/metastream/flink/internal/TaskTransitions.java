package io.metastream.flink.internal;

import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;

/**
 * Each task's count of accepted transitions (keyed state, so exactly once across failures), reported
 * in every {@code AdaptedModel.taskTransitions}: what a producer's ledger is checked against. The
 * subtask's total is also the metric {@value #METRIC} (a counter: after a restore it counts again from
 * zero, the state does not).
 */
public final class TaskTransitions {

    private static final ValueStateDescriptor<Long> ACCEPTED = new ValueStateDescriptor<>("accepted-transitions", Types.LONG);

    private final ValueStateDescriptor<Long> descriptor;
    private final ValueState<Long> state;
    private final org.apache.flink.metrics.Counter counter;

    /** The task operator's metric of accepted transitions. */
    public static final String METRIC = "transitionsAccepted";

    public TaskTransitions(org.apache.flink.api.common.functions.RuntimeContext runtime) {
        this.descriptor = ACCEPTED;
        this.state = runtime.getState(descriptor);
        this.counter = runtime.getMetricGroup().counter(METRIC);
    }

    /** Counts one more accepted transition of the current task; returns the new count. */
    public long accept() throws java.io.IOException {
        Long v = state.value();
        long n = (v == null ? 0 : v) + 1;
        state.update(n);
        counter.inc();
        return n;
    }

    /** Forgets the current task's count. */
    public void clear() {
        state.clear();
    }

    /** The current task's count. */
    public long current() throws java.io.IOException {
        Long v = state.value();
        return v == null ? 0 : v;
    }
}

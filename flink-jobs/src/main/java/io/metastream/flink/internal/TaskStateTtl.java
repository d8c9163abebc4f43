package io.metastream.flink.internal;

import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.TimerService;

import java.time.Duration;
import java.util.Map;

/**
 * The time to live of a task operator's keyed state: a task that sends nothing for this long loses its
 * window and counters, so task ids that stop (or that a producer made up) do not hold state for ever.
 *
 * <p>Each task has one processing-time timer, re-armed by its transitions; when the task's latest timer
 * fires, the function clears every state of the task. The timer is due at the ttl after the task's last
 * transition, rounded up to a slot of a sixteenth of the ttl (at least 10 ms), so a task re-arms it at
 * most once per slot and a transition costs one read of a small value state. Flink's own state TTL was
 * used before: its incremental cleanup visited ten other tasks' whole windows on every state access
 * (copying each row), which made the task operator thirty times slower, and without that cleanup the
 * heap backend never frees the state of a task that has gone.
 */
public final class TaskStateTtl {

    /** Global job parameter: the time to live as an ISO-8601 duration; absent or zero for none. */
    public static final String KEY = "metastream.task-state-ttl";

    private static final ValueStateDescriptor<Long> DUE = new ValueStateDescriptor<>("task-expires-at", Types.LONG);

    private final ValueState<Long> due;
    private final long ttlMillis;
    private final long slotMillis;

    /** The time to live in {@code jobParameters}, or null when task state lives for ever. */
    public static Duration ttl(Map<String, String> jobParameters) {
        String v = jobParameters.get(KEY);
        if (v == null || v.isBlank()) {
            return null;
        }
        Duration ttl = Duration.parse(v);
        return ttl.isZero() || ttl.isNegative() ? null : ttl;
    }

    /**
     * @param taskState what clears each of the function's states of the current task (the expiry's own
     *                  is cleared with them)
     */
    public TaskStateTtl(RuntimeContext runtime, java.util.List<Runnable> taskState) {
        Duration ttl = ttl(runtime.getGlobalJobParameters());
        this.ttlMillis = ttl == null ? 0 : ttl.toMillis();
        this.slotMillis = Math.max(10, ttlMillis / 16);
        this.due = ttl == null ? null : runtime.getState(DUE);
        this.taskState = java.util.List.copyOf(taskState);
    }

    private final java.util.List<Runnable> taskState;

    /** In {@code onTimer}: when the timer at {@code timestamp} is the current task's expiry, clears all its state. */
    public void expireIfDue(long timestamp) throws java.io.IOException {
        if (expired(timestamp)) {
            taskState.forEach(Runnable::run);
            clear();
        }
    }

    /** Whether task state expires at all. */
    public boolean enabled() {
        return due != null;
    }

    /** On every transition of the current task: moves its expiry to the ttl from now (by slots). */
    public void touch(TimerService timers) throws java.io.IOException {
        if (due == null) {
            return;
        }
        long now = timers.currentProcessingTime();
        long at = ((now + ttlMillis) / slotMillis + 1) * slotMillis;
        Long current = due.value();
        if (current == null || current != at) {
            if (current != null) {
                timers.deleteProcessingTimeTimer(current);
            }
            timers.registerProcessingTimeTimer(at);
            due.update(at);
        }
    }

    /**
     * In {@code onTimer}: true when the timer at {@code timestamp} is the current task's expiry (the task
     * sent nothing since it was armed); the caller then clears the task's state and this one's.
     */
    public boolean expired(long timestamp) throws java.io.IOException {
        if (due == null) {
            return false;
        }
        Long current = due.value();
        return current != null && current == timestamp;
    }

    /** Forgets the current task's expiry (with the rest of its state). */
    public void clear() {
        if (due != null) {
            due.clear();
        }
    }
}

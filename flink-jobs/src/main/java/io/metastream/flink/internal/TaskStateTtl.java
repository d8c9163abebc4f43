package io.metastream.flink.internal;

import org.apache.flink.api.common.state.StateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.util.InstantiationUtil;

import java.time.Duration;
import java.util.Map;

/**
 * The time to live of the task operators' keyed state: a task that sends nothing for this long loses its
 * window and counters, so task ids that stop (or that a producer made up) do not hold state forever.
 * Measured in processing time from the task's last write; expired state is never returned and is
 * removed on access and incrementally.
 */
public final class TaskStateTtl {

    /** Global job parameter: the time to live as an ISO-8601 duration; absent or zero for none. */
    public static final String KEY = "metastream.task-state-ttl";

    private TaskStateTtl() {}

    /** The configuration for {@code jobParameters}, or null when state lives for ever. */
    public static StateTtlConfig config(Map<String, String> jobParameters) {
        String v = jobParameters.get(KEY);
        if (v == null || v.isBlank()) {
            return null;
        }
        Duration ttl = Duration.parse(v);
        if (ttl.isZero() || ttl.isNegative()) {
            return null;
        }
        return StateTtlConfig.newBuilder(ttl)
                .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                .cleanupIncrementally(10, false)
                .build();
    }

    /** {@code descriptor} itself without a time to live, else a copy of it with {@code ttl}. */
    public static <D extends StateDescriptor<?, ?>> D with(D descriptor, StateTtlConfig ttl) {
        if (ttl == null) {
            return descriptor;
        }
        try {
            // with the job's class loader (on a cluster, the user-code class loader that loaded this class;
            // InstantiationUtil.clone's default, Flink's own, cannot see Avro's type info in the job jar)
            D copy = InstantiationUtil.clone(descriptor, TaskStateTtl.class.getClassLoader());
            copy.enableTimeToLive(ttl);
            return copy;
        } catch (java.io.IOException | ClassNotFoundException e) {
            throw new IllegalStateException("cannot copy state descriptor " + descriptor.getName(), e);
        }
    }
}

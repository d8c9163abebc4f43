package io.metastream.flink.internal;

import io.metastream.schema.AdaptedModel;
import io.metastream.schema.ModelVersion;
import io.metastream.schema.Transition;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;

import java.util.List;

/** Test harnesses on the job's {@link TaskOperator}, and its output after a pre-barrier flush. */
public final class TaskOperatorHarness {

    private static long barriers;

    private TaskOperatorHarness() {}

    /** A harness on the task operator running {@code f}, opened (max parallelism 1, one subtask). */
    public static KeyedBroadcastOperatorTestHarness<String, Transition, ModelVersion, AdaptedModel> open(
            KeyedBroadcastProcessFunction<String, Transition, ModelVersion, AdaptedModel> f) throws Exception {
        var h = new KeyedBroadcastOperatorTestHarness<String, Transition, ModelVersion, AdaptedModel>(
                new TaskOperator<>(f), Transition::getTaskId, Types.STRING, 1, 1, 0);
        h.open();
        return h;
    }

    /** Everything emitted so far, after the operator's pre-barrier flush (where adaptations are made). */
    public static List<AdaptedModel> flushed(KeyedBroadcastOperatorTestHarness<String, Transition, ModelVersion, AdaptedModel> h)
            throws Exception {
        h.prepareSnapshotPreBarrier(++barriers);
        return h.extractOutputValues();
    }
}

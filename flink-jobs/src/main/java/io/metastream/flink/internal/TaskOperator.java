package io.metastream.flink.internal;

import io.metastream.schema.ModelVersion;
import io.metastream.schema.Transition;

import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.streaming.api.operators.TimestampedCollector;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.apache.flink.util.Collector;

import java.util.List;

/**
 * The task operator: Flink's keyed broadcast operator (keyed task state, the model in broadcast state)
 * that also lets its function emit what it deferred <em>just before each checkpoint barrier</em> and at
 * the end of input.
 *
 * <p>Why: the adapted models go to Kafka through an exactly-once sink, so no read_committed consumer sees
 * a record before the checkpoint after it completes. An adaptation computed earlier than just before
 * that checkpoint's barrier is superseded by the next one of the same task before anyone can act on it;
 * computing it is pure cost. A {@link Deferring} function marks a task as pending when it gets new
 * transitions and adapts each pending task once, here: one adaptation per active task per checkpoint,
 * however fast its transitions come, with no added latency for a read_committed reader.
 *
 * <p>The pending set is not state. After a restore, the transitions after the restored checkpoint are
 * read again and mark their tasks again; everything before it was adapted before that checkpoint's
 * barrier and is in its committed output.
 */
public final class TaskOperator<OUT> extends CoBroadcastWithKeyedOperator<String, Transition, ModelVersion, OUT> {

    private static final long serialVersionUID = 1L;

    /** A task function whose adaptations wait for the next checkpoint barrier. */
    public interface Deferring<OUT> {

        /**
         * Takes the tasks marked pending since the last call (the function forgets them); the operator
         * then calls {@link #flush} for each with that task as the current key.
         */
        List<String> takePending();

        /** Emits the task's deferred output (its adaptation), with the task as the current key. */
        void flush(String task, ReadOnlyBroadcastState<String, ModelVersion> models, Collector<OUT> out) throws Exception;
    }

    private transient TimestampedCollector<OUT> flushOut;

    public TaskOperator(KeyedBroadcastProcessFunction<String, Transition, ModelVersion, OUT> function) {
        super(function, List.of(ModelBroadcast.MODELS));
        if (!(function instanceof Deferring)) {
            throw new IllegalArgumentException(function.getClass().getName() + " does not implement "
                    + Deferring.class.getName());
        }
    }

    @SuppressWarnings("unchecked")
    private Deferring<OUT> function() {
        return (Deferring<OUT>) userFunction;
    }

    @Override
    public void open() throws Exception {
        super.open();
        flushOut = new TimestampedCollector<>(output);
        flushOut.eraseTimestamp();
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flush();
    }

    @Override
    public void finish() throws Exception {
        flush();
        super.finish();
    }

    private void flush() throws Exception {
        List<String> pending = function().takePending();
        if (pending.isEmpty()) {
            return;
        }
        ReadOnlyBroadcastState<String, ModelVersion> models = getOperatorStateBackend().getBroadcastState(ModelBroadcast.MODELS);
        for (String task : pending) {
            setCurrentKey(task);
            function().flush(task, models, flushOut);
        }
    }
}

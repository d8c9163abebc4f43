package io.metastream.flink.internal;

import io.metastream.client.AvroCodec;
import io.metastream.client.CodecException;
import io.metastream.client.Codecs;
import io.metastream.schema.DeadLetter;
import io.metastream.schema.DeadLetterReason;
import io.metastream.schema.Transition;

import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes and validates experience records. Good records continue as {@link Transition}s; every other
 * record goes, with its raw bytes and a reason, to the {@link #DEAD_LETTERS} side output and is counted
 * (metric {@code deadLetters} and {@code deadLetters.<REASON>}). It never throws on input.
 *
 * <p>Rules: the value decodes as a known Transition schema; taskId is non-empty and equals the record
 * key when a key is present (the key decides the partition, so a mismatch would split a task);
 * observation and nextObservation have {@code obsDim} values and action {@code actDim}; every number is
 * finite; step is not negative.
 */
public final class TransitionValidator extends ProcessFunction<RawRecord, Transition> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", new AvroTypeInfo<>(DeadLetter.class));

    private final int obsDim;
    private final int actDim;

    private transient AvroCodec<Transition> codec;
    private transient Counter deadLetters;
    private transient Map<DeadLetterReason, Counter> byReason;
    private transient LongCounter valid;
    private transient LongCounter invalid;

    public TransitionValidator(int obsDim, int actDim) {
        if (obsDim <= 0 || actDim <= 0) {
            throw new IllegalArgumentException("obsDim and actDim must be positive, got " + obsDim + ", " + actDim);
        }
        this.obsDim = obsDim;
        this.actDim = actDim;
    }

    @Override
    public void open(OpenContext openContext) {
        codec = Codecs.transition();
        valid = new LongCounter();
        invalid = new LongCounter();
        // accumulators, so that a JobClient (the local runner) can read the totals
        getRuntimeContext().addAccumulator("transitionsValid", valid);
        getRuntimeContext().addAccumulator("deadLetters", invalid);
        MetricGroup group = getRuntimeContext().getMetricGroup();
        deadLetters = group.counter("deadLetters");
        byReason = new EnumMap<>(DeadLetterReason.class);
        for (DeadLetterReason r : DeadLetterReason.values()) {
            byReason.put(r, group.counter("deadLetters." + r.name()));
        }
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<Transition> out) {
        if (raw.value == null) {
            reject(raw, DeadLetterReason.MALFORMED, "record has no value (tombstone)", ctx);
            return;
        }
        Transition t;
        try {
            t = codec.decode(raw.value);
        } catch (CodecException e) {
            DeadLetterReason reason = e.reason() == CodecException.Reason.UNKNOWN_SCHEMA
                    ? DeadLetterReason.UNKNOWN_SCHEMA : DeadLetterReason.MALFORMED;
            reject(raw, reason, e.getMessage(), ctx);
            return;
        } catch (RuntimeException e) {
            reject(raw, DeadLetterReason.MALFORMED, "cannot decode: " + e, ctx);
            return;
        }
        String problem;
        if ((problem = fieldProblem(t, raw.key)) != null) {
            reject(raw, DeadLetterReason.INVALID_FIELD, problem, ctx);
        } else if ((problem = dimensionProblem(t)) != null) {
            reject(raw, DeadLetterReason.WRONG_DIMENSION, problem, ctx);
        } else if ((problem = finiteProblem(t)) != null) {
            reject(raw, DeadLetterReason.NON_FINITE, problem, ctx);
        } else {
            valid.add(1);
            out.collect(t);
        }
    }

    private static String fieldProblem(Transition t, byte[] key) {
        if (t.getTaskId() == null || t.getTaskId().isEmpty()) {
            return "taskId is empty";
        }
        if (key != null) {
            String k = new String(key, StandardCharsets.UTF_8);
            if (!k.equals(t.getTaskId())) {
                return "record key '" + k + "' differs from taskId '" + t.getTaskId() + "'; key records by taskId";
            }
        }
        if (t.getStep() < 0) {
            return "step is negative: " + t.getStep();
        }
        return null;
    }

    private String dimensionProblem(Transition t) {
        if (t.getObservation().size() != obsDim) {
            return "observation has " + t.getObservation().size() + " values, the model expects " + obsDim;
        }
        if (t.getNextObservation().size() != obsDim) {
            return "nextObservation has " + t.getNextObservation().size() + " values, the model expects " + obsDim;
        }
        if (t.getAction().size() != actDim) {
            return "action has " + t.getAction().size() + " values, the model expects " + actDim;
        }
        return null;
    }

    private static String finiteProblem(Transition t) {
        if (!Float.isFinite(t.getReward())) {
            return "reward is " + t.getReward();
        }
        if (t.getSparseReward() != null && !Float.isFinite(t.getSparseReward())) {
            return "sparseReward is " + t.getSparseReward();
        }
        String p = firstNonFinite("observation", t.getObservation());
        if (p == null) {
            p = firstNonFinite("action", t.getAction());
        }
        if (p == null) {
            p = firstNonFinite("nextObservation", t.getNextObservation());
        }
        return p;
    }

    private static String firstNonFinite(String field, List<Float> values) {
        for (int i = 0; i < values.size(); i++) {
            Float v = values.get(i);
            if (v == null || !Float.isFinite(v)) {
                return field + "[" + i + "] is " + v;
            }
        }
        return null;
    }

    private void reject(RawRecord raw, DeadLetterReason reason, String message, Context ctx) {
        deadLetters.inc();
        invalid.add(1);
        byReason.get(reason).inc();
        ctx.output(DEAD_LETTERS, DeadLetter.newBuilder()
                .setSourceTopic(raw.topic == null ? "" : raw.topic)
                .setSourcePartition(raw.partition)
                .setSourceOffset(raw.offset)
                .setKey(raw.key == null ? null : java.nio.ByteBuffer.wrap(raw.key))
                .setValue(raw.value == null ? null : java.nio.ByteBuffer.wrap(raw.value))
                .setReason(reason)
                .setMessage(message == null ? reason.name() : message)
                .setTimestamp(java.time.Instant.now())
                .build());
    }
}

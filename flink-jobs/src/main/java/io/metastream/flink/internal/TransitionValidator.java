package io.metastream.flink.internal;

import io.metastream.client.AvroCodec;
import io.metastream.client.CodecException;
import io.metastream.client.Codecs;
import io.metastream.client.Counts;
import io.metastream.client.TransitionRules;
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

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * Decodes and validates experience records. Good records continue as {@link Transition}s; every other
 * record goes, with its raw bytes and a reason, to the {@link #DEAD_LETTERS} side output and is counted
 * (metric {@code deadLetters} and {@code deadLetters.<REASON>}). It never throws on input.
 *
 * <p>Rules: the value decodes as a known Transition schema ({@code MALFORMED}, {@code UNKNOWN_SCHEMA}
 * otherwise), then {@link TransitionRules}.
 */
public final class TransitionValidator extends ProcessFunction<RawRecord, Transition> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", new AvroTypeInfo<>(DeadLetter.class));

    /** A task whose first this-many records (at one validator instance) were all rejected gets a WARN. */
    static final int ALL_REJECTED_WARN_AFTER = 100;
    /** Default of the largest experience record accepted: Kafka's default message size. */
    public static final int DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
    /** Most key bytes a dead letter copies. */
    public static final int MAX_DEAD_LETTER_KEY_BYTES = 1024;
    /** Most value bytes a dead letter copies. */
    public static final int MAX_DEAD_LETTER_VALUE_BYTES = 64 * 1024;
    /** Most characters of a dead letter's message. */
    public static final int MAX_DEAD_LETTER_MESSAGE_CHARS = 2000;
    /** Tasks followed for that warning per instance; the least recently seen are forgotten beyond it. */
    static final int TRACKED_TASKS = 10_000;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TransitionValidator.class);

    private final TransitionRules rules;

    private transient AvroCodec<Transition> codec;
    private transient Counter deadLetters;
    private transient Map<DeadLetterReason, Counter> byReason;
    private transient LongCounter valid;
    private transient LongCounter invalid;
    /** Per record key: {accepted, rejected} while no record was accepted; a key with one accepted is dropped. */
    private transient Map<String, long[]> onlyRejected;
    private transient long allRejectedWarnings;

    private final int maxRecordBytes;

    /** A validator with the default bounds (values ±{@value TransitionRules#DEFAULT_MAX_ABS_VALUE}, records of 1 MiB). */
    public TransitionValidator(int obsDim, int actDim) {
        this(new TransitionRules(obsDim, actDim), DEFAULT_MAX_RECORD_BYTES);
    }

    /** @param maxRecordBytes larger records are dead-lettered as TOO_LARGE without being decoded */
    public TransitionValidator(TransitionRules rules, int maxRecordBytes) {
        if (maxRecordBytes <= 0) {
            throw new IllegalArgumentException("maxRecordBytes must be positive, got " + maxRecordBytes);
        }
        this.rules = java.util.Objects.requireNonNull(rules, "rules");
        this.maxRecordBytes = maxRecordBytes;
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
        onlyRejected = new java.util.LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, long[]> eldest) {
                return size() > TRACKED_TASKS;
            }
        };
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
        if (raw.value.length > maxRecordBytes) {
            reject(raw, DeadLetterReason.TOO_LARGE, "record has " + raw.value.length + " bytes; at most " + maxRecordBytes
                    + " are accepted (metastream.max-record-bytes)", ctx);
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
        Optional<TransitionRules.Violation> broken = rules.check(t, raw.key);
        if (broken.isPresent()) {
            reject(raw, broken.get().reason(), broken.get().message(), ctx);
        } else {
            valid.add(1);
            if (!onlyRejected.isEmpty()) {
                onlyRejected.remove(t.getTaskId());
            }
            out.collect(t);
        }
    }

    /**
     * A producer whose every record is refused (sizes that are not the job's, a wrong key) would otherwise
     * see nothing happen: {@value #ALL_REJECTED_WARN_AFTER} rejected records of a key in a row, none accepted,
     * get one WARN naming the key and the reason, and so does every tenfold count after it.
     */
    private void warnWhenATaskIsAllRejected(RawRecord raw, DeadLetterReason reason, String message) {
        String key = raw.key == null ? "(no key)" : new String(raw.key, java.nio.charset.StandardCharsets.UTF_8);
        long[] n = onlyRejected.computeIfAbsent(key, k -> new long[1]);
        n[0]++;
        if (n[0] % ALL_REJECTED_WARN_AFTER == 0 && Counts.isPowerOfTen(n[0] / ALL_REJECTED_WARN_AFTER)) {
            allRejectedWarnings++;
            LOG.warn("The last {} records of task key '{}' were all dead-lettered, none accepted; the latest: {}: {}. "
                    + "Check what the producer writes against the job's settings (metastream.obs-dim, "
                    + "metastream.act-dim, key = taskId)", n[0], key, reason, message);
        }
    }

    /** Warnings logged by {@link #warnWhenATaskIsAllRejected} (tests). */
    long allRejectedWarnings() {
        return allRejectedWarnings;
    }

    private void reject(RawRecord raw, DeadLetterReason reason, String message, Context ctx) {
        warnWhenATaskIsAllRejected(raw, reason, message);
        deadLetters.inc();
        invalid.add(1);
        byReason.get(reason).inc();
        ctx.output(DEAD_LETTERS, deadLetter(raw, reason, message, java.time.Instant.now()));
    }

    /**
     * The dead letter of a rejected record, bounded whatever the record's size: at most
     * {@value #MAX_DEAD_LETTER_KEY_BYTES} key and {@value #MAX_DEAD_LETTER_VALUE_BYTES} value bytes and
     * {@value #MAX_DEAD_LETTER_MESSAGE_CHARS} message characters, the original sizes recorded, so that it
     * always fits the dead-letter topic (the broker's default limit of 1 MiB) and an oversized input
     * cannot fail the exactly-once sink and restart the job on the same record forever.
     */
    static DeadLetter deadLetter(RawRecord raw, DeadLetterReason reason, String message, java.time.Instant now) {
        String text = message == null ? reason.name() : message;
        if (text.length() > MAX_DEAD_LETTER_MESSAGE_CHARS) {
            String cut = " ... (truncated)";
            text = text.substring(0, MAX_DEAD_LETTER_MESSAGE_CHARS - cut.length()) + cut;
        }
        return DeadLetter.newBuilder()
                .setSourceTopic(raw.topic == null ? "" : raw.topic)
                .setSourcePartition(raw.partition)
                .setSourceOffset(raw.offset)
                .setKey(prefix(raw.key, MAX_DEAD_LETTER_KEY_BYTES))
                .setKeySize(raw.key == null ? -1 : raw.key.length)
                .setValue(prefix(raw.value, MAX_DEAD_LETTER_VALUE_BYTES))
                .setValueSize(raw.value == null ? -1 : raw.value.length)
                .setReason(reason)
                .setMessage(text)
                .setTimestamp(now)
                .build();
    }

    private static java.nio.ByteBuffer prefix(byte[] bytes, int max) {
        return bytes == null ? null : java.nio.ByteBuffer.wrap(bytes, 0, Math.min(bytes.length, max)).slice();
    }
}

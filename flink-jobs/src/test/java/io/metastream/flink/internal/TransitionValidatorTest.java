package io.metastream.flink.internal;

import io.metastream.client.Codecs;
import io.metastream.client.BadRecords;
import io.metastream.schema.DeadLetter;
import io.metastream.schema.DeadLetterReason;
import io.metastream.schema.Transition;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

class TransitionValidatorTest {

    static Transition transition(String task, float... obs) {
        return Transition.newBuilder()
                .setTaskId(task).setAgentId("a").setEpisodeId(1).setStep(0)
                .setObservation(List.of(obs[0], obs[1], obs[2])).setAction(List.of(0.5f)).setReward(-1f)
                .setNextObservation(List.of(obs[0], obs[1], obs[2])).setDone(false)
                .setPolicyVersion(null).setTimestamp(Instant.ofEpochMilli(1000)).build();
    }

    @Test
    void passesGoodRecordsAndRoutesEachBadKindWithItsReason() throws Exception {
        OneInputStreamOperatorTestHarness<RawRecord, Transition> h =
                ProcessFunctionTestHarnesses.forProcessFunction(new TransitionValidator(3, 1));
        Transition good = transition("task-1", 1f, 0f, 0.5f);
        h.processElement(new StreamRecord<>(new RawRecord("exp", 0, 0,
                "task-1".getBytes(StandardCharsets.UTF_8), Codecs.transition().encode(good))));
        Map<DeadLetterReason, ProducerRecord<byte[], byte[]>> bad = BadRecords.oneOfEach("exp", "task-1", 3, 1);
        long offset = 1;
        for (ProducerRecord<byte[], byte[]> r : bad.values()) {
            h.processElement(new StreamRecord<>(new RawRecord("exp", 0, offset++, r.key(), r.value())));
        }
        h.processElement(new StreamRecord<>(new RawRecord("exp", 1, 99, null, null)));

        assertThat(h.extractOutputValues()).containsExactly(good);
        ConcurrentLinkedQueue<StreamRecord<DeadLetter>> dead = h.getSideOutput(TransitionValidator.DEAD_LETTERS);
        List<DeadLetterReason> reasons = dead.stream().map(r -> r.getValue().getReason()).collect(Collectors.toList());
        assertThat(reasons).containsExactlyInAnyOrder(DeadLetterReason.MALFORMED, DeadLetterReason.UNKNOWN_SCHEMA,
                DeadLetterReason.WRONG_DIMENSION, DeadLetterReason.NON_FINITE, DeadLetterReason.INVALID_FIELD,
                DeadLetterReason.OUT_OF_RANGE, DeadLetterReason.TOO_LARGE, DeadLetterReason.MALFORMED);
        DeadLetter first = dead.peek().getValue();
        assertThat(first.getSourceTopic()).isEqualTo("exp");
        assertThat(first.getValue()).isNotNull();
        assertThat(first.getMessage()).isNotBlank();
        h.close();
    }

    @Test
    void aDeadLetterFitsTheBrokersDefaultLimitWhateverTheRecordsSize() throws Exception {
        OneInputStreamOperatorTestHarness<RawRecord, Transition> h =
                ProcessFunctionTestHarnesses.forProcessFunction(new TransitionValidator(3, 1));
        byte[] key = new byte[5000];
        java.util.Arrays.fill(key, (byte) 'k');
        byte[] value = new byte[4 * 1024 * 1024];
        new java.util.Random(1).nextBytes(value);
        h.processElement(new StreamRecord<>(new RawRecord("exp", 2, 7, key, value)));

        DeadLetter d = h.getSideOutput(TransitionValidator.DEAD_LETTERS).peek().getValue();
        assertThat(d.getReason()).isEqualTo(DeadLetterReason.TOO_LARGE);
        assertThat(d.getValueSize()).isEqualTo(value.length);
        assertThat(d.getKeySize()).isEqualTo(key.length);
        assertThat(d.getValue().remaining()).isEqualTo(TransitionValidator.MAX_DEAD_LETTER_VALUE_BYTES);
        assertThat(d.getKey().remaining()).isEqualTo(TransitionValidator.MAX_DEAD_LETTER_KEY_BYTES);
        byte[] prefix = new byte[d.getValue().remaining()];
        d.getValue().duplicate().get(prefix);
        assertThat(prefix).isEqualTo(java.util.Arrays.copyOf(value, prefix.length));
        assertThat(d.getMessage().length()).isLessThanOrEqualTo(TransitionValidator.MAX_DEAD_LETTER_MESSAGE_CHARS);
        assertThat(Codecs.deadLetter().encode(d).length).as("encoded dead letter").isLessThan(1024 * 1024);
        h.close();

        DeadLetter longMessage = TransitionValidator.deadLetter(new RawRecord("exp", 0, 1, null, null),
                DeadLetterReason.INVALID_FIELD, "x".repeat(1_000_000), Instant.EPOCH);
        assertThat(longMessage.getMessage()).hasSize(TransitionValidator.MAX_DEAD_LETTER_MESSAGE_CHARS).endsWith("(truncated)");
        assertThat(longMessage.getKeySize()).isEqualTo(-1);
        assertThat(longMessage.getValueSize()).isEqualTo(-1);
    }

    @Test
    void statedBoundsHaveTheirOwnReasons() throws Exception {
        OneInputStreamOperatorTestHarness<RawRecord, Transition> h = ProcessFunctionTestHarnesses.forProcessFunction(
                new TransitionValidator(new io.metastream.client.TransitionRules(3, 1, 100.0), 2000));
        Transition inRange = transition("t", 100f, -100f, 0f);
        Transition beyond = transition("t", 100.5f, 0f, 0f);
        Transition negativeVersion = transition("t", 1f, 0f, 0f);
        negativeVersion.setPolicyVersion(-1L);
        Transition longAgent = transition("t", 1f, 0f, 0f);
        longAgent.setAgentId("a".repeat(io.metastream.client.TransitionRules.MAX_ID_CHARS + 1));
        long offset = 0;
        for (Transition t : List.of(inRange, beyond, negativeVersion, longAgent)) {
            h.processElement(new StreamRecord<>(new RawRecord("exp", 0, offset++, "t".getBytes(StandardCharsets.UTF_8),
                    Codecs.transition().encode(t))));
        }
        h.processElement(new StreamRecord<>(new RawRecord("exp", 0, offset, null, new byte[2001])));

        assertThat(h.extractOutputValues()).containsExactly(inRange);
        List<DeadLetter> dead = h.getSideOutput(TransitionValidator.DEAD_LETTERS).stream().map(StreamRecord::getValue).toList();
        assertThat(dead).extracting(DeadLetter::getReason).containsExactly(DeadLetterReason.OUT_OF_RANGE,
                DeadLetterReason.INVALID_FIELD, DeadLetterReason.TOO_LARGE, DeadLetterReason.TOO_LARGE);
        assertThat(dead.get(0).getMessage()).contains("observation[0] is 100.5", "metastream.max-abs-value");
        assertThat(dead.get(1).getMessage()).contains("policyVersion is negative");
        assertThat(dead.get(2).getMessage()).contains("agentId has 257 characters");
        assertThat(dead.get(3).getMessage()).contains("2001 bytes", "metastream.max-record-bytes");
        h.close();
    }

    @Test
    void aTaskIdOutsideTheAcceptedPatternIsDeadLettered() throws Exception {
        OneInputStreamOperatorTestHarness<RawRecord, Transition> h = ProcessFunctionTestHarnesses.forProcessFunction(
                new TransitionValidator(new io.metastream.client.TransitionRules(3, 1, 1e6,
                        java.util.regex.Pattern.compile("robot-[0-9]{1,3}")), 1 << 20));
        Transition known = transition("robot-12", 1f, 0f, 0f);
        Transition stranger = transition("robot-12x", 1f, 0f, 0f);
        h.processElement(new StreamRecord<>(new RawRecord("exp", 0, 0, "robot-12".getBytes(StandardCharsets.UTF_8),
                Codecs.transition().encode(known))));
        h.processElement(new StreamRecord<>(new RawRecord("exp", 0, 1, "robot-12x".getBytes(StandardCharsets.UTF_8),
                Codecs.transition().encode(stranger))));
        assertThat(h.extractOutputValues()).containsExactly(known);
        DeadLetter d = h.getSideOutput(TransitionValidator.DEAD_LETTERS).peek().getValue();
        assertThat(d.getReason()).isEqualTo(DeadLetterReason.INVALID_FIELD);
        assertThat(d.getMessage()).contains("robot-12x", "metastream.task-id-pattern");
        h.close();
    }

    @Test
    void aNonFiniteSparseRewardIsDeadLetteredAndAFiniteOnePasses() throws Exception {
        OneInputStreamOperatorTestHarness<RawRecord, Transition> h =
                ProcessFunctionTestHarnesses.forProcessFunction(new TransitionValidator(3, 1));
        Transition sparse = transition("task-1", 1f, 0f, 0.5f);
        sparse.setSparseReward(0.75f);
        Transition broken = transition("task-1", 1f, 0f, 0.5f);
        broken.setSparseReward(Float.NaN);
        h.processElement(new StreamRecord<>(new RawRecord("exp", 0, 0, null, Codecs.transition().encode(sparse))));
        h.processElement(new StreamRecord<>(new RawRecord("exp", 0, 1, null, Codecs.transition().encode(broken))));

        assertThat(h.extractOutputValues()).containsExactly(sparse);
        DeadLetter d = h.getSideOutput(TransitionValidator.DEAD_LETTERS).peek().getValue();
        assertThat(d.getReason()).isEqualTo(DeadLetterReason.NON_FINITE);
        assertThat(d.getMessage()).contains("sparseReward is NaN");
        h.close();
    }

    @Test
    void warnsOnceATasksRecordsAreAllRejectedAndNotForATaskWithAcceptedOnes() throws Exception {
        TransitionValidator v = new TransitionValidator(3, 1);
        OneInputStreamOperatorTestHarness<RawRecord, Transition> h = ProcessFunctionTestHarnesses.forProcessFunction(v);
        byte[] wrongKey = "robot-7".getBytes(StandardCharsets.UTF_8);
        byte[] fourValues = Codecs.transition().encode(Transition.newBuilder(transition("robot-7", 1f, 0f, 0.5f))
                .setObservation(List.of(1f, 0f, 0.5f, 2f)).build());
        byte[] mixedKey = "task-2".getBytes(StandardCharsets.UTF_8);
        byte[] good = Codecs.transition().encode(transition("task-2", 1f, 0f, 0.5f));
        for (int i = 0; i < TransitionValidator.ALL_REJECTED_WARN_AFTER - 1; i++) {
            h.processElement(new StreamRecord<>(new RawRecord("exp", 0, i, wrongKey, fourValues)));
            h.processElement(new StreamRecord<>(new RawRecord("exp", 1, i, mixedKey, i % 10 == 0 ? good : fourValues)));
        }
        assertThat(v.allRejectedWarnings()).isZero();
        h.processElement(new StreamRecord<>(new RawRecord("exp", 0, 1000, wrongKey, fourValues)));
        assertThat(v.allRejectedWarnings()).isEqualTo(1);
        for (int i = 0; i < 50; i++) {
            h.processElement(new StreamRecord<>(new RawRecord("exp", 0, 2000 + i, wrongKey, fourValues)));
        }
        assertThat(v.allRejectedWarnings()).isEqualTo(1); // next at 1,000
        h.close();
    }
}

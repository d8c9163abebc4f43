package io.metastream.client;

import io.metastream.client.Codecs;
import io.metastream.schema.DeadLetterReason;
import io.metastream.schema.Transition;

import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * One deliberately bad experience record for each dead-letter reason, as a careless or foreign producer
 * might write them. The local run sends them to show that bad input is routed and counted, never fatal;
 * the integration tests use them to check each reason.
 */
public final class BadRecords {
    private BadRecords() {}

    /** Records keyed by the reason the job must give them. */
    public static Map<DeadLetterReason, ProducerRecord<byte[], byte[]>> oneOfEach(String topic, String taskId,
            int obsDim, int actDim) {
        Map<DeadLetterReason, ProducerRecord<byte[], byte[]>> m = new EnumMap<>(DeadLetterReason.class);
        byte[] key = taskId.getBytes(StandardCharsets.UTF_8);
        m.put(DeadLetterReason.MALFORMED, new ProducerRecord<>(topic, key,
                "{\"taskId\": \"json is not the wire format\"}".getBytes(StandardCharsets.UTF_8)));
        byte[] unknown = new byte[10 + 4];
        unknown[0] = (byte) 0xC3;
        unknown[1] = 0x01;
        for (int i = 2; i < 10; i++) {
            unknown[i] = (byte) (0x5A + i); // a fingerprint no schema of ours has
        }
        m.put(DeadLetterReason.UNKNOWN_SCHEMA, new ProducerRecord<>(topic, key, unknown));
        m.put(DeadLetterReason.WRONG_DIMENSION, new ProducerRecord<>(topic, key,
                Codecs.transition().encode(transition(taskId, obsDim + 1, actDim, 0f))));
        m.put(DeadLetterReason.NON_FINITE, new ProducerRecord<>(topic, key,
                Codecs.transition().encode(transition(taskId, obsDim, actDim, Float.NaN))));
        m.put(DeadLetterReason.INVALID_FIELD, new ProducerRecord<>(topic,
                (taskId + "-other-key").getBytes(StandardCharsets.UTF_8),
                Codecs.transition().encode(transition(taskId, obsDim, actDim, 0f))));
        Transition huge = transition(taskId, obsDim, actDim, 0f);
        huge.getObservation().set(0, 1e30f); // finite, and far beyond any sane observation
        m.put(DeadLetterReason.OUT_OF_RANGE, new ProducerRecord<>(topic, key, Codecs.transition().encode(huge)));
        String longId = taskId + "-" + "x".repeat(TransitionRules.MAX_ID_CHARS);
        m.put(DeadLetterReason.TOO_LARGE, new ProducerRecord<>(topic, longId.getBytes(StandardCharsets.UTF_8),
                Codecs.transition().encode(transition(longId, obsDim, actDim, 0f))));
        return m;
    }

    private static Transition transition(String taskId, int obsDim, int actDim, float reward) {
        List<Float> obs = new ArrayList<>(Collections.nCopies(obsDim, 0.1f));
        List<Float> act = new ArrayList<>(Collections.nCopies(actDim, 0.0f));
        return Transition.newBuilder()
                .setTaskId(taskId)
                .setAgentId("bad-producer")
                .setEpisodeId(0)
                .setStep(0)
                .setObservation(obs)
                .setAction(act)
                .setReward(reward)
                .setNextObservation(new ArrayList<>(obs))
                .setDone(false)
                .setPolicyVersion(null)
                .setTimestamp(Instant.now())
                .build();
    }
}

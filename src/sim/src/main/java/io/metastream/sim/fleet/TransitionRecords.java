package io.metastream.sim.fleet;

import io.metastream.schema.Transition;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Wire format of the transitions topic: key = task id as UTF-8 (so each task's steps stay in order on
 * one partition and the job can key its context windows by it), value = Avro single-object encoding.
 */
final class TransitionRecords {

    private TransitionRecords() {}

    static ProducerRecord<byte[], byte[]> toRecord(String topic, Transition transition) {
        byte[] key = transition.getTaskId().getBytes(StandardCharsets.UTF_8);
        return new ProducerRecord<>(topic, null, transition.getTimestamp().toEpochMilli(), key, encode(transition));
    }

    static byte[] encode(Transition transition) {
        try {
            ByteBuffer buffer = Transition.getEncoder().encode(transition);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException("could not Avro-encode the transition of " + transition.getAgentId(), e);
        }
    }
}

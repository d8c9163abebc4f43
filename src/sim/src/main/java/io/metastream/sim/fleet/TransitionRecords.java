package io.metastream.sim.fleet;

import io.metastream.client.AvroCodec;
import io.metastream.client.Codecs;
import io.metastream.schema.Transition;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Wire format of the transitions topic: key = task id as UTF-8 (so each task's steps stay in order on
 * one partition and the job can key its context windows by it), value = Avro single-object encoding
 * through the client's codec (the one every metastream reader uses), record timestamp = the step's
 * timestamp. Thread-safe.
 */
final class TransitionRecords {

    private final String topic;
    private final AvroCodec<Transition> codec = Codecs.transition();

    TransitionRecords(String topic) {
        this.topic = topic;
    }

    ProducerRecord<byte[], byte[]> toRecord(Transition transition) {
        byte[] key = transition.getTaskId().getBytes(StandardCharsets.UTF_8);
        return new ProducerRecord<>(topic, null, transition.getTimestamp().toEpochMilli(), key, codec.encode(transition));
    }
}

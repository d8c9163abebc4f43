package io.metastream.sim.fleet;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The fleet's only contact with Kafka: {@code KafkaProducer::send} in production, a collecting fake in
 * tests. Implementations must eventually invoke the callback exactly once per record, with a null
 * exception on success.
 */
@FunctionalInterface
interface RecordSender {

    void send(ProducerRecord<byte[], byte[]> record, Callback callback);
}

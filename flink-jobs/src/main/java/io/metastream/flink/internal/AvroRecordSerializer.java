package io.metastream.flink.internal;

import io.metastream.client.AvroCodec;

import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.flink.util.function.SerializableSupplier;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.util.Objects;

/**
 * Writes Avro records to one topic as single-object encoded values with the given key. The codec is
 * created in {@link #open} because Avro's message encoders are not serializable.
 */
public final class AvroRecordSerializer<T extends SpecificRecord> implements KafkaRecordSerializationSchema<T> {
    private static final long serialVersionUID = 1L;

    private final String topic;
    private final SerializableSupplier<AvroCodec<T>> codecFactory;
    private final SerializableFunction<T, byte[]> key;
    private transient AvroCodec<T> codec;

    public AvroRecordSerializer(String topic, SerializableSupplier<AvroCodec<T>> codecFactory,
            SerializableFunction<T, byte[]> key) {
        this.topic = Objects.requireNonNull(topic, "topic");
        this.codecFactory = Objects.requireNonNull(codecFactory, "codecFactory");
        this.key = Objects.requireNonNull(key, "key");
    }

    @Override
    public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
        codec = codecFactory.get();
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext context, Long timestamp) {
        if (codec == null) {
            codec = codecFactory.get();
        }
        return new ProducerRecord<>(topic, null, timestamp, key.apply(element), codec.encode(element));
    }
}

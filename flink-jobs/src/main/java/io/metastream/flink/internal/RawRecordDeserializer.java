package io.metastream.flink.internal;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.api.java.typeutils.TypeExtractor;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Passes Kafka records through undecoded; decoding happens in {@link TransitionValidator} so failures can be dead-lettered. */
public final class RawRecordDeserializer implements KafkaRecordDeserializationSchema<RawRecord> {
    private static final long serialVersionUID = 1L;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawRecord> out) {
        out.collect(new RawRecord(record.topic(), record.partition(), record.offset(), record.key(), record.value()));
    }

    @Override
    public TypeInformation<RawRecord> getProducedType() {
        return typeInfo();
    }

    public static TypeInformation<RawRecord> typeInfo() {
        TypeInformation<RawRecord> info = TypeExtractor.createTypeInfo(RawRecord.class);
        if (!(info instanceof PojoTypeInfo)) {
            throw new IllegalStateException("RawRecord must be a Flink POJO, got " + info);
        }
        return info;
    }
}

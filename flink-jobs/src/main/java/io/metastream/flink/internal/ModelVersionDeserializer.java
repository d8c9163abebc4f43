package io.metastream.flink.internal;

import io.metastream.client.AvroCodec;
import io.metastream.client.Codecs;
import io.metastream.schema.ModelVersion;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the models topic back (the feedback edge). A record that does not decode is counted
 * ({@code undecodableModels}) and logged, never fatal: the task operators keep the last good theta.
 */
public final class ModelVersionDeserializer implements KafkaRecordDeserializationSchema<ModelVersion> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ModelVersionDeserializer.class);

    private transient AvroCodec<ModelVersion> codec;
    private transient Counter undecodable;

    @Override
    public void open(DeserializationSchema.InitializationContext context) {
        codec = Codecs.modelVersion();
        undecodable = context.getMetricGroup().counter("undecodableModels");
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<ModelVersion> out) {
        if (record.value() == null) {
            return;
        }
        if (codec == null) {
            codec = Codecs.modelVersion();
        }
        try {
            out.collect(codec.decode(record.value()));
        } catch (RuntimeException e) {
            if (undecodable != null) {
                undecodable.inc();
            }
            LOG.warn("Ignoring undecodable record {}-{}@{} on the models topic: {}",
                    record.topic(), record.partition(), record.offset(), e.getMessage());
        }
    }

    @Override
    public TypeInformation<ModelVersion> getProducedType() {
        return new AvroTypeInfo<>(ModelVersion.class);
    }
}

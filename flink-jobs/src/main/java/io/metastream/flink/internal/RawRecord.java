package io.metastream.flink.internal;

import java.util.Arrays;
import java.util.Objects;

/**
 * A Kafka record as received, before decoding: kept so that a record the job cannot use reaches the
 * dead-letter topic byte for byte. A Flink POJO (public fields, no-arg constructor) so it needs no Kryo.
 */
public class RawRecord {
    public String topic;
    public int partition;
    public long offset;
    public byte[] key;
    public byte[] value;

    public RawRecord() {}

    public RawRecord(String topic, int partition, long offset, byte[] key, byte[] value) {
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
        this.key = key;
        this.value = value;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RawRecord)) {
            return false;
        }
        RawRecord r = (RawRecord) o;
        return partition == r.partition && offset == r.offset && Objects.equals(topic, r.topic)
                && Arrays.equals(key, r.key) && Arrays.equals(value, r.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(topic, partition, offset);
    }

    @Override
    public String toString() {
        return topic + "-" + partition + "@" + offset;
    }
}

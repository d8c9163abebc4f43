package io.metastream.sim.fleet;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * A {@link RecordSender} that keeps every record and completes its callback at once: with a
 * {@link TimeoutException} for records the failure predicate selects, successfully otherwise.
 */
final class CollectingSender implements RecordSender {

    private final List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    private final Predicate<ProducerRecord<byte[], byte[]>> fails;

    CollectingSender() {
        this(r -> false);
    }

    CollectingSender(Predicate<ProducerRecord<byte[], byte[]>> fails) {
        this.fails = fails;
    }

    @Override
    public synchronized void send(ProducerRecord<byte[], byte[]> record, Callback callback) {
        records.add(record);
        callback.onCompletion(null, fails.test(record) ? new TimeoutException("fake broker is down") : null);
    }

    synchronized List<ProducerRecord<byte[], byte[]>> records() {
        return List.copyOf(records);
    }

    synchronized int size() {
        return records.size();
    }
}

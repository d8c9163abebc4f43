package io.metastream.client;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Reads one topic from its beginning to the end offsets it had when reading started, read_committed:
 * the one "read a topic to its end" loop of the project (the job's version-numbering guard, the local
 * run's baseline and counts, the tests).
 */
public final class TopicReader {
    private TopicReader() {}

    /** What stopped a read: its end, the record limit, or the timeout. */
    public enum Stop { END, LIMIT, TIMEOUT }

    /**
     * Hands every committed record of {@code topic}, up to {@code limit} of them, to {@code action}, in
     * partition order.
     *
     * @param client  Kafka client properties (at least {@code bootstrap.servers}; security settings pass through)
     * @param timeout how long to read before giving up (a topic written faster than it can be read)
     */
    public static Stop read(Properties client, String topic, long limit, Duration timeout,
            Consumer<ConsumerRecord<byte[], byte[]>> action) {
        Objects.requireNonNull(topic, "topic");
        Properties p = new Properties();
        p.putAll(client);
        p.put("isolation.level", "read_committed");
        p.put("enable.auto.commit", "false");
        p.putIfAbsent("max.poll.records", "5000");
        try (KafkaConsumer<byte[], byte[]> c =
                     new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).collect(Collectors.toList());
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            long seen = 0;
            long deadline = System.nanoTime() + timeout.toNanos();
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                if (seen >= limit) {
                    return Stop.LIMIT;
                }
                if (System.nanoTime() >= deadline) {
                    return Stop.TIMEOUT;
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    action.accept(r);
                    if (++seen >= limit) {
                        return Stop.LIMIT;
                    }
                }
            }
            return Stop.END;
        }
    }

    /** Every committed record of {@code topic} (within one minute), from a broker at {@code servers}. */
    public static List<ConsumerRecord<byte[], byte[]>> readAll(String servers, String topic) {
        Properties p = new Properties();
        p.put("bootstrap.servers", servers);
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        read(p, topic, Long.MAX_VALUE, Duration.ofSeconds(60), out::add);
        return out;
    }

    /** The number of committed records of {@code topic}. */
    public static long count(String servers, String topic) {
        Properties p = new Properties();
        p.put("bootstrap.servers", servers);
        long[] n = {0};
        read(p, topic, Long.MAX_VALUE, Duration.ofSeconds(120), r -> n[0]++);
        return n[0];
    }
}

package io.metastream.sim.fleet;

import io.metastream.client.Codecs;
import io.metastream.client.Counts;
import io.metastream.schema.DeadLetter;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * Tells a producer that the job is rejecting its records: follows the dead-letter topic from its end
 * (read_committed) on a daemon thread and counts the dead letters whose key is one of the producer's
 * task ids. The first one, and then every tenfold count, is logged at WARN with the job's reason and
 * message (for example {@code WRONG_DIMENSION: observation has 4 values, the model expects 5}), so a
 * producer writing the wrong sizes learns it at once instead of the job idling without data.
 * Thread-safe; {@link #close()} stops the thread.
 */
public final class DeadLetterWatch implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterWatch.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Set<String> keys;
    private final String topic;
    private final AtomicLong count = new AtomicLong();
    private final AtomicReference<String> first = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean stopped;

    /**
     * Starts watching {@code topic} for dead letters keyed by one of {@code taskIds}.
     *
     * @param client Kafka client properties, at least {@code bootstrap.servers}
     */
    public DeadLetterWatch(Properties client, String topic, Set<String> taskIds) {
        this.topic = Objects.requireNonNull(topic, "topic");
        this.keys = Set.copyOf(taskIds);
        Properties p = new Properties();
        p.putAll(client);
        p.put("isolation.level", "read_committed");
        p.put("enable.auto.commit", "false");
        p.put("client.id", "metastream-dead-letter-watch");
        this.consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(i -> new TopicPartition(topic, i.partition())).collect(Collectors.toList());
        consumer.assign(parts);
        consumer.seekToEnd(parts);
        parts.forEach(consumer::position); // fix the start now: only dead letters from here on count
        this.thread = new Thread(this::loop, "metastream-dead-letter-watch");
        thread.setDaemon(true);
        thread.start();
    }

    /** Dead letters of this producer's tasks seen so far. */
    public long count() {
        return count.get();
    }

    /** The reason and message of the first one, if any. */
    public java.util.Optional<String> firstReason() {
        return java.util.Optional.ofNullable(first.get());
    }

    private void loop() {
        var codec = Codecs.deadLetter();
        try {
            while (!stopped) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.key() == null || !keys.contains(new String(r.key(), StandardCharsets.UTF_8))) {
                        continue;
                    }
                    String why;
                    try {
                        DeadLetter d = codec.decode(r.value());
                        why = d.getReason() + ": " + d.getMessage();
                    } catch (RuntimeException e) {
                        why = "(a dead letter this client cannot decode: " + e.getMessage() + ")";
                    }
                    first.compareAndSet(null, why);
                    long n = count.incrementAndGet();
                    if (Counts.isPowerOfTen(n)) {
                        LOG.warn("The job has dead-lettered {} of this producer's records (topic {}); first: {}", n,
                                topic, first.get());
                    }
                }
            }
        } catch (WakeupException e) {
            // close()
        } catch (RuntimeException e) {
            LOG.warn("Stopped watching {} for dead letters: {}", topic, e.toString());
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    @Override
    public void close() {
        stopped = true;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

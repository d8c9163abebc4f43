package io.metastream.local;

import io.metastream.client.Codecs;
import io.metastream.client.TopicReader;
import io.metastream.schema.AdaptedModel;
import io.metastream.schema.ModelVersion;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What a crash trial checks, from the topics alone: the producer's ledger (every transition the
 * experience topic holds, per task) against the job's per-task counts ({@code AdaptedModel
 * .taskTransitions}, read_committed), and every model version as it was published (a live
 * read_committed consumer: the models topic is compacted, so reading it later would miss versions).
 */
final class Ledger implements AutoCloseable {

    private final String servers;
    private final String modelsTopic;
    private final List<ModelVersion> versions = new CopyOnWriteArrayList<>();
    private final Thread watcher;
    private volatile boolean stop;

    Ledger(String servers, String modelsTopic) {
        this.servers = servers;
        this.modelsTopic = modelsTopic;
        this.watcher = new Thread(this::watch, "ledger-versions");
        watcher.setDaemon(true);
        watcher.start();
    }

    private void watch() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 32 * 1024 * 1024);
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 64 * 1024 * 1024);
        var codec = Codecs.modelVersion();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            while (parts.isEmpty() && !stop) {
                c.partitionsFor(modelsTopic).forEach(i -> parts.add(new TopicPartition(modelsTopic, i.partition())));
            }
            c.assign(parts);
            c.seekToBeginning(parts);
            while (!stop) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (r.value() != null) {
                        versions.add(codec.decode(r.value()));
                    }
                }
            }
        } catch (RuntimeException e) {
            if (!stop) {
                throw e;
            }
        }
    }

    /** Every version seen so far, in the order published. */
    List<ModelVersion> versions() {
        return List.copyOf(versions);
    }

    /** True once a committed version created at or after {@code instant} has been seen. */
    boolean versionCreatedSince(java.time.Instant instant) {
        List<ModelVersion> v = versions();
        for (int i = v.size() - 1; i >= 0; i--) {
            if (!v.get(i).getCreatedAt().isBefore(instant)) {
                return true;
            }
        }
        return false;
    }

    long latestVersion() {
        List<ModelVersion> v = versions();
        return v.isEmpty() ? 0 : v.get(v.size() - 1).getVersion();
    }

    /** Transitions the experience topic holds, per task (the key). */
    Map<String, Long> produced(String experienceTopic) {
        Map<String, Long> counts = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : TopicReader.readAll(servers, experienceTopic)) {
            counts.merge(new String(r.key(), StandardCharsets.UTF_8), 1L, Long::sum);
        }
        return counts;
    }

    /** Each task's {@code taskTransitions}, in the order its committed adaptations were published. */
    Map<String, List<Long>> counted(String adaptedTopic) {
        var codec = Codecs.adaptedModel();
        Map<String, List<Long>> counts = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : TopicReader.readAll(servers, adaptedTopic)) {
            AdaptedModel a = codec.decode(r.value());
            counts.computeIfAbsent(a.getTaskId(), k -> new ArrayList<>()).add(a.getTaskTransitions());
        }
        return counts;
    }

    /** Base versions the committed adaptations name. */
    Map<Long, Long> adaptationBases(String adaptedTopic) {
        var codec = Codecs.adaptedModel();
        Map<Long, Long> bases = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : TopicReader.readAll(servers, adaptedTopic)) {
            bases.merge(codec.decode(r.value()).getBaseVersion(), 1L, Long::sum);
        }
        return bases;
    }

    /** The result of comparing the ledger with the job's counts. */
    record Check(long produced, long lost, long duplicated, long repeatedCounts, long repeatedVersions,
            long skippedVersions, long brokenParents, long unknownBases) {
        boolean clean() {
            return lost == 0 && duplicated == 0 && repeatedCounts == 0 && repeatedVersions == 0 && skippedVersions == 0
                    && brokenParents == 0 && unknownBases == 0;
        }
    }

    /** Compares once (call after the job caught up: see {@link #awaitCaughtUp}). */
    Check check(String experienceTopic, String adaptedTopic) {
        Map<String, Long> produced = produced(experienceTopic);
        Map<String, List<Long>> counted = counted(adaptedTopic);
        long total = 0;
        long lost = 0;
        long duplicated = 0;
        long repeatedCounts = 0;
        for (Map.Entry<String, Long> e : produced.entrySet()) {
            total += e.getValue();
            List<Long> c = counted.getOrDefault(e.getKey(), List.of());
            long last = c.isEmpty() ? 0 : c.get(c.size() - 1);
            lost += Math.max(0, e.getValue() - last);
            duplicated += Math.max(0, last - e.getValue());
            for (int i = 1; i < c.size(); i++) {
                if (c.get(i) <= c.get(i - 1)) {
                    repeatedCounts++;
                }
            }
        }
        List<ModelVersion> v = versions();
        long repeated = 0;
        long skipped = 0;
        long broken = 0;
        for (int i = 1; i < v.size(); i++) {
            long prev = v.get(i - 1).getVersion();
            long cur = v.get(i).getVersion();
            if (cur <= prev) {
                repeated++;
            } else if (cur > prev + 1) {
                skipped += cur - prev - 1;
            }
            if (v.get(i).getParentVersion() == null || v.get(i).getParentVersion() != prev) {
                broken++;
            }
        }
        java.util.Set<Long> known = new java.util.HashSet<>();
        v.forEach(x -> known.add(x.getVersion()));
        long unknown = adaptationBases(adaptedTopic).keySet().stream().filter(b -> !known.contains(b)).count();
        return new Check(total, lost, duplicated, repeatedCounts, repeated, skipped, broken, unknown);
    }

    /** Waits until every task's newest count equals its ledger count (or the timeout passes); returns the check. */
    Check awaitCaughtUp(String experienceTopic, String adaptedTopic, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Check c = check(experienceTopic, adaptedTopic);
        while ((c.lost() > 0) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            c = check(experienceTopic, adaptedTopic);
        }
        return c;
    }

    @Override
    public void close() {
        stop = true;
        try {
            watcher.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package io.metastream.flink;

import io.metastream.cli.FamilySizes;
import io.metastream.client.Codecs;
import io.metastream.client.TopicReader;
import io.metastream.client.TopicNames;
import io.metastream.schema.DeadLetter;
import io.metastream.schema.ModelVersion;
import io.metastream.sim.TaskFamilies;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/** Shared helpers of the job integration tests: configuration, reading topics read_committed, bounded waits. */
final class JobTestSupport {
    private JobTestSupport() {}

    /** A MiniCluster of {@code taskManagers} TaskManagers with 2 slots each, for a test class's extension field. */
    static MiniClusterExtension miniCluster(int taskManagers) {
        return new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                .setNumberTaskManagers(taskManagers).setNumberSlotsPerTaskManager(2).build());
    }

    /** A MiniCluster whose metrics Flink's Prometheus reporter serves on {@code port}. */
    static MiniClusterExtension miniClusterWithPrometheus(int taskManagers, int port) {
        Configuration conf = new Configuration();
        conf.setString("metrics.reporter.prom.factory.class", "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        conf.setString("metrics.reporter.prom.port", Integer.toString(port));
        return new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder().setConfiguration(conf)
                .setNumberTaskManagers(taskManagers).setNumberSlotsPerTaskManager(2).build());
    }

    /** A port no one listens on now. */
    static int freePort() {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * The sum over subtasks of a job metric on a Prometheus endpoint ({@code flink_taskmanager_job_task_operator_<name>},
     * the plain samples, not a histogram's quantiles), or NaN when the endpoint has no such metric.
     */
    static double prometheusSum(String page, String name) {
        String prefix = "flink_taskmanager_job_task_operator_" + name + "{";
        double sum = Double.NaN;
        for (String line : page.split("\n")) {
            if (line.startsWith(prefix) && !line.contains("quantile=")) {
                double v = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                sum = Double.isNaN(sum) ? v : sum + v;
            }
        }
        return sum;
    }

    static String httpGet(String url) throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(url + " answered " + r.statusCode());
        }
        return r.body();
    }

    static Configuration jobConfig(String servers, TopicNames topics, String modelName, String family) {
        Configuration conf = MetaStreamOptions.forBroker(servers, topics);
        conf.set(MetaStreamOptions.MODEL_NAME, modelName);
        conf.set(MetaStreamOptions.GROUP_ID, "it-" + modelName);
        FamilySizes.apply(conf, TaskFamilies.byName(family));
        conf.set(MetaStreamOptions.PARALLELISM, 2);
        conf.set(MetaStreamOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(500));
        conf.set(MetaStreamOptions.PUBLISH_EVERY, 5);
        conf.set(MetaStreamOptions.TRANSACTION_TIMEOUT, Duration.ofMinutes(5));
        return conf;
    }

    static List<ModelVersion> readModels(String servers, String topic) {
        var codec = Codecs.modelVersion();
        return readAll(servers, topic).stream().map(r -> codec.decode(r.value())).collect(Collectors.toList());
    }

    static List<DeadLetter> readDeadLetters(String servers, String topic) {
        var codec = Codecs.deadLetter();
        return readAll(servers, topic).stream().map(r -> codec.decode(r.value())).collect(Collectors.toList());
    }

    /** Every committed record of the topic (read_committed), in partition order. */
    static List<ConsumerRecord<byte[], byte[]>> readAll(String servers, String topic) {
        return TopicReader.readAll(servers, topic);
    }

    static void send(String servers, Collection<ProducerRecord<byte[], byte[]>> records) {
        Properties p = new Properties();
        p.put("bootstrap.servers", servers);
        try (KafkaProducer<byte[], byte[]> producer =
                     new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            records.forEach(producer::send);
        }
    }

    /** Polls {@code condition} until it holds or {@code timeout} passes; fails with {@code what}. */
    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(250);
        }
    }
}

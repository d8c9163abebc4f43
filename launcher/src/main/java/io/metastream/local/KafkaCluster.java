package io.metastream.local;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.metastream.client.TopicLayout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;

/**
 * A Kafka cluster of {@code n} KRaft nodes on loopback, each a combined broker + controller in its own
 * JVM ({@link KafkaBroker#clusterNode}): topics get 3 replicas and {@code min.insync.replicas=2}, so
 * one node may die without a write being lost or refused. Nodes keep their ports and data across
 * {@link #kill}/{@link #restart}.
 *
 * <p>Threading: all methods are thread-safe; start, restart and close block.
 */
public final class KafkaCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaCluster.class);

    private final Path dir;
    private final List<KafkaBroker.NodeAddress> addresses;
    private final String clusterId = Uuid.randomUuid().toString();
    private final KafkaBroker[] nodes;
    private final String classpath;

    /**
     * @param dir       the cluster's directory: node {@code i} lives in {@code dir/node-i}
     * @param n         nodes (3 for the replication above)
     * @param classpath the nodes' class path (Kafka's broker jars); null for this JVM's
     */
    public KafkaCluster(Path dir, int n, String classpath) {
        this.dir = Objects.requireNonNull(dir, "dir").toAbsolutePath();
        try {
            this.addresses = KafkaBroker.quorumAddresses(n);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot pick free ports for " + n + " Kafka nodes", e);
        }
        this.nodes = new KafkaBroker[n];
        this.classpath = classpath;
    }

    /** Starts every node together (a node is ready once a majority of the quorum runs). */
    public void start() {
        List<CompletableFuture<Void>> starts = new ArrayList<>();
        for (int i = 0; i < nodes.length; i++) {
            int node = i;
            starts.add(CompletableFuture.runAsync(() -> startNode(node)));
        }
        try {
            CompletableFuture.allOf(starts.toArray(new CompletableFuture[0])).join();
        } catch (CompletionException e) {
            close();
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
        LOG.info("Kafka cluster of {} nodes up: {}", nodes.length, bootstrapServers());
    }

    private void startNode(int i) {
        KafkaBroker.Builder b = KafkaBroker.builder().dataDir(dir.resolve("node-" + (i + 1)))
                .clusterNode(addresses.get(i), addresses, clusterId).startTimeout(Duration.ofSeconds(90));
        if (classpath != null) {
            b.classpath(classpath);
        }
        KafkaBroker broker = b.build();
        synchronized (this) {
            nodes[i] = broker;
        }
        broker.start();
    }

    /** Every node's client address, comma-separated. */
    public String bootstrapServers() {
        return addresses.stream().map(KafkaBroker.NodeAddress::bootstrap).collect(Collectors.joining(","));
    }

    public int size() {
        return nodes.length;
    }

    /** Creates topics (replication from the brokers' defaults: 3, min.insync 2). */
    public void createTopics(Collection<NewTopic> topics) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            TopicLayout.create(admin, topics, Duration.ofSeconds(60));
        }
    }

    /** Kills node {@code i} (0-based) with SIGKILL; its data stays. */
    public synchronized void kill(int i) {
        nodes[i].kill();
    }

    /** Starts node {@code i} again on its data and ports, after {@link #kill}. */
    public void restart(int i) {
        synchronized (this) {
            nodes[i].close();
        }
        startNode(i);
    }

    public synchronized boolean isRunning(int i) {
        return nodes[i] != null && nodes[i].isRunning();
    }

    /** Stops every node (data kept). */
    @Override
    public void close() {
        List<KafkaBroker> all;
        synchronized (this) {
            all = new ArrayList<>();
            for (KafkaBroker b : nodes) {
                if (b != null) {
                    all.add(b);
                }
            }
        }
        all.parallelStream().forEach(KafkaBroker::close);
    }
}

package io.metastream.local;

import io.metastream.client.TopicLayout;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real Apache Kafka broker (KRaft, one combined broker + controller node) running in a child JVM
 * ({@code kafka.Kafka}) from the classes on this JVM's class path. Used by the local runner
 * ({@code bin/metastream run}) and by tests when no Docker engine is available.
 *
 * <p>Lifecycle: {@link #builder()} &rarr; {@link #start()} (formats the storage on first use, picks
 * free loopback ports, waits until the broker answers) &rarr; {@link #createTopics}, clients on
 * {@link #bootstrapServers()} &rarr; {@link #close()} (SIGTERM, then SIGKILL after 20 s) or
 * {@link #kill()} (SIGKILL, for fault tests). An instance starts at most once; to restart on the same
 * data, build a new instance on the same {@code dataDir}: the storage is kept and not re-formatted,
 * the ports are new.
 *
 * <p>Everything lives under {@code dataDir}: {@code kafka-logs/} (the log directory),
 * {@code server.properties}, {@code log4j2-broker.xml} (WARN and above), {@code broker.log} (the
 * child's console output, including the storage format step) and {@code tmp/}.
 *
 * <p>Class path: the child JVM gets {@code java.class.path} unless {@link Builder#classpath} says
 * otherwise; it must contain {@code org.apache.kafka:kafka_2.13} and {@code kafka-server} (provided
 * scope in flink-jobs: on the test class path and on the local runner's class path, never in the job
 * jar).
 *
 * <p>Orphans: a JVM shutdown hook stops the child when this JVM exits normally, and the child exits
 * by itself when this JVM dies without running hooks (see {@link OrphanGuardMain}).
 *
 * <p>Threading: all methods are thread-safe; {@link #start()} and {@link #close()} block.
 */
public final class KafkaBroker implements AutoCloseable {

    /** JVM flags of the broker JVM, before {@link Builder#javaOptions}: small heap, fast start. */
    public static final List<String> DEFAULT_JAVA_OPTIONS =
            List.of("-Xms256m", "-Xmx768m", "-XX:TieredStopAtLevel=1");
    /** Default bound on {@link #start()}. */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(60);
    /** How long {@link #close()} waits after SIGTERM before it sends SIGKILL. */
    public static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);
    /** Largest record the broker accepts (models can be large); matches {@link io.metastream.client.TopicLayout#MAX_MODEL_MESSAGE_BYTES}. */
    public static final int MESSAGE_MAX_BYTES = TopicLayout.MAX_MODEL_MESSAGE_BYTES;

    private static final Logger LOG = LoggerFactory.getLogger(KafkaBroker.class);
    private static final int SINGLE_NODE_ID = 1;
    private static final String HOST = "127.0.0.1";
    private static final int PORT_ATTEMPTS = 3;
    private static final Duration FORMAT_TIMEOUT = Duration.ofSeconds(60);
    private static final String LOG4J_RESOURCE = "/log4j2-broker.xml";
    private static final int LOG_TAIL_LINES = 40;

    private enum State { NEW, RUNNING, KILLED, FAILED, CLOSED }

    private final Path dataDir;
    private final boolean deleteOnClose;
    private final List<String> javaOptions;
    private final Map<String, String> brokerProperties;
    private final Duration startTimeout;
    private final String classpath;
    /** {user, password} of the SCRAM super user when the broker listener is SASL_PLAINTEXT; null for PLAINTEXT. */
    private final String[] saslAdmin;
    /** This node of a multi-node quorum ({@link Builder#clusterNode}); null for a single-node broker. */
    private final ClusterNode node;

    private final Object lock = new Object();
    private State state = State.NEW;
    private Process process;
    private Admin admin;
    private String bootstrapServers;
    private Thread shutdownHook;

    KafkaBroker(Path dataDir, boolean deleteOnClose, List<String> javaOptions,
            Map<String, String> brokerProperties, Duration startTimeout, String classpath, String[] saslAdmin,
            ClusterNode node) {
        this.saslAdmin = saslAdmin == null ? null : saslAdmin.clone();
        this.node = node;
        this.dataDir = dataDir;
        this.deleteOnClose = deleteOnClose;
        this.javaOptions = List.copyOf(javaOptions);
        this.brokerProperties = Collections.unmodifiableMap(new LinkedHashMap<>(brokerProperties));
        this.startTimeout = startTimeout;
        this.classpath = classpath;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Formats the storage if this data directory has never been formatted, starts the broker JVM and
     * waits until an Admin client sees the broker in the cluster metadata.
     *
     * @throws IllegalStateException if the broker does not come up within the start timeout or its JVM
     *                               exits; the message names the log file and quotes its last lines
     * @throws UncheckedIOException  if the data directory cannot be written
     */
    public void start() {
        synchronized (lock) {
            if (state != State.NEW) {
                throw new IllegalStateException("KafkaBroker was already started (state " + state
                        + "); build a new KafkaBroker on the same dataDir to restart it");
            }
            long begin = System.nanoTime();
            try {
                prepareDirectories();
                boolean started = false;
                for (int attempt = 1; attempt <= PORT_ATTEMPTS && !started; attempt++) {
                    started = launch(attempt == PORT_ATTEMPTS);
                }
                state = State.RUNNING;
                LOG.info("Kafka broker ready on {} after {} ms (data {})", bootstrapServers,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin), dataDir);
            } catch (IOException e) {
                fail();
                throw new UncheckedIOException("cannot prepare the Kafka data directory " + dataDir, e);
            } catch (RuntimeException | Error e) {
                fail();
                throw e;
            }
        }
    }

    /** {@code host:port} of the broker's client listener. */
    public String bootstrapServers() {
        synchronized (lock) {
            requireState(State.RUNNING, "bootstrapServers()");
            return bootstrapServers;
        }
    }

    /** Directory holding the broker's data, configuration and log. */
    public Path dataDir() {
        return dataDir;
    }

    /** The child JVM's console output (WARN and above, plus startup and shutdown lines). */
    public Path logFile() {
        return dataDir.resolve("broker.log");
    }

    /** Whether the broker JVM is running (false after {@link #kill()} or {@link #close()}). */
    public boolean isRunning() {
        synchronized (lock) {
            return state == State.RUNNING && process.isAlive();
        }
    }

    /**
     * Creates the topics ({@link Topics#create}): topics that already exist (a restart on kept data)
     * are left as they are; returns when the broker serves all of them.
     *
     * @throws IllegalStateException if a topic cannot be created or served within 60 s; the message
     *                               names it
     */
    public void createTopics(Collection<NewTopic> topics) {
        Objects.requireNonNull(topics, "topics");
        Admin a;
        synchronized (lock) {
            requireState(State.RUNNING, "createTopics()");
            a = admin;
        }
        try {
            TopicLayout.create(a, topics, Duration.ofSeconds(60));
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + " (broker log: " + logFile() + ")", e.getCause());
        }
    }

    /**
     * Kills the broker JVM with SIGKILL, without a controlled shutdown, and waits until it is gone.
     * For fault tests. The data directory is kept (a new instance on it recovers the logs);
     * {@link #close()} afterwards only cleans up.
     */
    public void kill() {
        synchronized (lock) {
            requireState(State.RUNNING, "kill()");
            closeAdmin(Duration.ZERO);
            process.destroyForcibly();
            awaitExit(process, Duration.ofSeconds(30));
            removeShutdownHook();
            state = State.KILLED;
            LOG.info("Killed Kafka broker on {} (pid {})", bootstrapServers, process.pid());
        }
    }

    /**
     * Stops the broker: SIGTERM (a controlled shutdown), SIGKILL if it has not exited after
     * {@link #STOP_TIMEOUT}; then deletes the data directory if the builder said
     * {@code deleteOnClose(true)}. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (state == State.CLOSED) {
                return;
            }
            closeAdmin(Duration.ofSeconds(5));
            if (process != null && process.isAlive()) {
                process.destroy();
                if (!awaitExit(process, STOP_TIMEOUT)) {
                    LOG.warn("Kafka broker (pid {}) did not stop within {} s after SIGTERM; killing it. Log: {}",
                            process.pid(), STOP_TIMEOUT.toSeconds(), logFile());
                    process.destroyForcibly();
                    awaitExit(process, Duration.ofSeconds(30));
                }
            }
            removeShutdownHook();
            state = State.CLOSED;
            if (deleteOnClose) {
                deleteRecursively(dataDir);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    private void prepareDirectories() throws IOException {
        Files.createDirectories(logDir());
        Files.createDirectories(dataDir.resolve("tmp"));
        try (InputStream in = KafkaBroker.class.getResourceAsStream(LOG4J_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + LOG4J_RESOURCE + " is missing from the class path of "
                        + KafkaBroker.class.getName() + "; rebuild flink-jobs");
            }
            Files.write(dataDir.resolve("log4j2-broker.xml"), in.readAllBytes());
        }
        StringBuilder args = new StringBuilder("-cp \"");
        for (char c : classpath.toCharArray()) {
            if (c == '"' || c == '\\') {
                args.append('\\');
            }
            args.append(c);
        }
        // An argument file: a test class path can exceed the 128 KiB limit of one command-line argument.
        Files.writeString(classpathArgFile(), args.append("\"\n"));
    }

    /** Starts the JVM once; returns false if it lost a port race and may be retried. */
    private boolean launch(boolean lastAttempt) throws IOException {
        int brokerPort;
        int controllerPort;
        if (node != null) {
            // a quorum member keeps its ports: the other nodes know it by them
            brokerPort = node.self().brokerPort();
            controllerPort = node.self().controllerPort();
            lastAttempt = true;
        } else {
            brokerPort = freePort();
            controllerPort = freePort();
            while (controllerPort == brokerPort) {
                controllerPort = freePort();
            }
        }
        writeServerProperties(brokerPort, controllerPort);
        if (!Files.exists(logDir().resolve("meta.properties"))) {
            format();
        }
        long logOffset = Files.exists(logFile()) ? Files.size(logFile()) : 0L;
        List<String> command = javaCommand(javaOptions);
        command.add(OrphanGuardMain.class.getName());
        command.add(Long.toString(ProcessHandle.current().pid()));
        command.add("kafka.Kafka");
        command.add(serverProperties().toString());
        process = new ProcessBuilder(command)
                .directory(dataDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()))
                .start();
        removeShutdownHook();
        installShutdownHook();
        bootstrapServers = HOST + ":" + brokerPort;

        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                closeAdmin(Duration.ZERO);
                String newOutput = readFrom(logFile(), logOffset);
                if (!lastAttempt && newOutput.contains("Address already in use")) {
                    LOG.info("Kafka broker lost a port race ({} / {}); retrying with new ports", brokerPort, controllerPort);
                    return false;
                }
                throw new IllegalStateException("Kafka broker JVM exited with code " + process.exitValue()
                        + " before it became ready. " + classpathHint(newOutput) + "Log " + logFile()
                        + ", last lines:\n" + tail(logFile()));
            }
            // The Admin client is created once the port accepts connections: before that it would log a
            // WARN for every refused connection.
            if (admin == null && portOpen(brokerPort)) {
                admin = Admin.create(adminProperties(bootstrapServers));
            }
            if (admin != null && brokerVisible()) {
                return true;
            }
            sleep(Duration.ofMillis(100));
        }
        throw new IllegalStateException("Kafka broker on " + bootstrapServers + " did not become ready within "
                + startTimeout.toSeconds() + " s; raise KafkaBroker.builder().startTimeout(...) on a slow machine. Log "
                + logFile() + ", last lines:\n" + tail(logFile()));
    }

    private boolean brokerVisible() {
        try {
            Collection<Node> nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(1000))
                    .nodes().get(2, TimeUnit.SECONDS);
            return nodes.stream().anyMatch(n -> n.id() == nodeId());
        } catch (ExecutionException | TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the Kafka broker to start", e);
        }
    }

    private void format() throws IOException {
        String clusterId = node != null ? node.clusterId() : Uuid.randomUuid().toString();
        List<String> a = new ArrayList<>(List.of("format", "-t", clusterId, "-c",
                serverProperties().toString(), "--ignore-formatted"));
        if (saslAdmin != null) {
            a.addAll(List.of("--add-scram", SCRAM + "=[name=" + saslAdmin[0] + ",password=" + saslAdmin[1] + "]"));
        }
        String[] args = a.toArray(new String[0]);
        if (!formatInProcess(args)) {
            formatInChildJvm(args);
        }
    }

    /**
     * Formats with this JVM's {@code kafka.tools.StorageTool} (its {@code execute} returns an exit code
     * instead of calling {@code System.exit}); saves a JVM start (~1.3 s). Only when the broker runs on
     * this JVM's class path and the tool is loadable; false means "use a child JVM".
     */
    private boolean formatInProcess(String[] args) throws IOException {
        if (!classpath.equals(System.getProperty("java.class.path"))) {
            return false;
        }
        Method execute;
        try {
            execute = Class.forName("kafka.tools.StorageTool", true, KafkaBroker.class.getClassLoader())
                    .getMethod("execute", String[].class, PrintStream.class);
        } catch (ReflectiveOperationException | LinkageError e) {
            return false;
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        int rc;
        Throwable failure = null;
        try (PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            rc = (Integer) execute.invoke(null, args, out);
        } catch (InvocationTargetException e) {
            rc = -1;
            failure = e.getCause();
        } catch (IllegalAccessException e) {
            return false;
        }
        Files.write(logFile(), output.toByteArray(), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        if (rc != 0) {
            throw new IllegalStateException("formatting the Kafka storage in " + logDir() + " failed"
                    + (failure != null ? ": " + failure : " with exit code " + rc) + ". Output (also in " + logFile()
                    + "):\n" + output.toString(StandardCharsets.UTF_8).strip(), failure);
        }
        return true;
    }

    private void formatInChildJvm(String[] args) throws IOException {
        List<String> command = javaCommand(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
        command.add("kafka.tools.StorageTool");
        command.addAll(List.of(args));
        long logOffset = Files.exists(logFile()) ? Files.size(logFile()) : 0L;
        Process format = new ProcessBuilder(command)
                .directory(dataDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()))
                .start();
        if (!awaitExit(format, FORMAT_TIMEOUT)) {
            format.destroyForcibly();
            throw new IllegalStateException("formatting the Kafka storage in " + logDir() + " did not finish within "
                    + FORMAT_TIMEOUT.toSeconds() + " s. Log " + logFile() + ", last lines:\n" + tail(logFile()));
        }
        if (format.exitValue() != 0) {
            String output = readFrom(logFile(), logOffset);
            throw new IllegalStateException("formatting the Kafka storage in " + logDir() + " failed with exit code "
                    + format.exitValue() + ". " + classpathHint(output) + "Output (also in " + logFile() + "):\n"
                    + output.strip());
        }
    }

    private List<String> javaCommand(List<String> jvmFlags) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags);
        command.add("-Djava.awt.headless=true");
        command.add("-Djava.io.tmpdir=" + dataDir.resolve("tmp"));
        command.add("-Dlog4j2.configurationFile=" + dataDir.resolve("log4j2-broker.xml").toUri());
        command.add("-Dkafka.logs.dir=" + dataDir);
        command.add("@" + classpathArgFile());
        return command;
    }

    private void writeServerProperties(int brokerPort, int controllerPort) throws IOException {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(nodeId()));
        // A static voter set keeps the controller address out of the formatted storage, so a restart on
        // the same data may use new ports.
        p.put("controller.quorum.voters", node != null ? node.voters()
                : SINGLE_NODE_ID + "@" + HOST + ":" + controllerPort);
        String client = saslAdmin == null ? "PLAINTEXT" : "SASL_PLAINTEXT";
        p.put("listeners", client + "://" + HOST + ":" + brokerPort + ",CONTROLLER://" + HOST + ":" + controllerPort);
        p.put("advertised.listeners", client + "://" + HOST + ":" + brokerPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", client);
        p.put("listener.security.protocol.map", client + ":" + client + ",CONTROLLER:PLAINTEXT");
        if (saslAdmin != null) {
            p.put("sasl.enabled.mechanisms", SCRAM);
            p.put("sasl.mechanism.inter.broker.protocol", SCRAM);
            p.put("listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config", jaas(saslAdmin[0], saslAdmin[1]));
            p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
            // the controller listener (loopback, PLAINTEXT) authenticates as ANONYMOUS
            p.put("super.users", "User:" + saslAdmin[0] + ";User:ANONYMOUS");
            p.put("allow.everyone.if.no.acl.found", "false");
        }
        p.put("log.dirs", logDir().toString());
        p.putAll(settings(node == null ? 1 : node.quorum().size()));
        p.putAll(brokerProperties);
        Properties props = new Properties();
        props.putAll(p);
        try (var out = Files.newBufferedWriter(serverProperties(), StandardCharsets.UTF_8)) {
            props.store(out, "generated by " + KafkaBroker.class.getName() + "; rewritten on every start");
        }
    }

    /** The SASL mechanism of a {@link Builder#saslScram} broker. */
    public static final String SCRAM = "SCRAM-SHA-512";

    private static String jaas(String user, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
                + "\" password=\"" + password + "\";";
    }

    /** Client properties to authenticate as {@code user} to a {@link Builder#saslScram} broker. */
    public static Map<String, String> saslProperties(String user, String password) {
        return Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", SCRAM, "sasl.jaas.config", jaas(user, password));
    }

    private Map<String, Object> adminProperties(String bootstrap) {
        Map<String, Object> p = new LinkedHashMap<>();
        if (saslAdmin != null) {
            p.putAll(saslProperties(saslAdmin[0], saslAdmin[1]));
        }
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "metastream-local-broker-admin");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000);
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
        return p;
    }

    private void installShutdownHook() {
        Process child = process;
        shutdownHook = new Thread(() -> {
            if (child.isAlive()) {
                child.destroy();
                if (!awaitExit(child, Duration.ofSeconds(10))) {
                    child.destroyForcibly();
                }
            }
        }, "kafka-broker-shutdown-" + child.pid());
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    private void removeShutdownHook() {
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // The JVM is already shutting down; the hook runs (or ran) anyway.
            }
            shutdownHook = null;
        }
    }

    private void fail() {
        closeAdmin(Duration.ZERO);
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            awaitExit(process, Duration.ofSeconds(30));
        }
        removeShutdownHook();
        state = State.FAILED;
    }

    private void closeAdmin(Duration timeout) {
        if (admin != null) {
            try {
                admin.close(timeout);
            } catch (RuntimeException e) {
                LOG.warn("Closing the broker's admin client failed: {}", e.toString());
            }
            admin = null;
        }
    }

    private void requireState(State expected, String operation) {
        if (state != expected) {
            throw new IllegalStateException(operation + " needs a running broker, but it is " + state
                    + (state == State.NEW ? "; call start() first" : ""));
        }
    }

    private Path logDir() {
        return dataDir.resolve("kafka-logs");
    }

    /**
     * The broker settings this project relies on, for a cluster of {@code nodes} nodes (what the
     * README's cluster section lists): replication (3 replicas and {@code min.insync.replicas=2} from
     * three nodes on), room for the job's transactions and for models, fast failure detection.
     */
    public static Map<String, String> settings(int nodes) {
        Map<String, String> p = new LinkedHashMap<>();
        String replicas = Integer.toString(Math.min(3, nodes));
        String minInSync = Integer.toString(Math.min(2, nodes));
        p.put("default.replication.factor", replicas);
        p.put("min.insync.replicas", minInSync);
        p.put("offsets.topic.replication.factor", replicas);
        p.put("transaction.state.log.replication.factor", replicas);
        p.put("transaction.state.log.min.isr", minInSync);
        p.put("share.coordinator.state.topic.replication.factor", replicas);
        p.put("share.coordinator.state.topic.min.isr", minInSync);
        p.put("num.partitions", "4");
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.num.partitions", "4");
        p.put("group.initial.rebalance.delay.ms", "0");
        // the job's transactions may stay open up to metastream.transaction-timeout (10 min by default)
        p.put("transaction.max.timeout.ms", "900000");
        p.put("message.max.bytes", Integer.toString(MESSAGE_MAX_BYTES));
        p.put("replica.fetch.max.bytes", Integer.toString(MESSAGE_MAX_BYTES));
        p.put("auto.create.topics.enable", "false");
        // After a SIGKILL the restarted node cannot register until its previous session expires
        // (DuplicateBrokerRegistrationException); Kafka's 9 s default made a restart take ~12 s, and
        // acks=all writes stall until a dead node leaves the ISR.
        p.put("broker.session.timeout.ms", "3000");
        p.put("broker.heartbeat.interval.ms", "500");
        p.put("replica.lag.time.max.ms", "5000");
        return p;
    }

    private int nodeId() {
        return node != null ? node.self().id() : SINGLE_NODE_ID;
    }

    /** One node's id and loopback ports in a multi-node quorum. */
    public record NodeAddress(int id, int brokerPort, int controllerPort) {
        /** {@code host:port} of this node's client listener. */
        public String bootstrap() {
            return HOST + ":" + brokerPort;
        }
    }

    /** Where a node sits in a quorum: itself, all voters (itself included) and the cluster id they share. */
    record ClusterNode(NodeAddress self, List<NodeAddress> quorum, String clusterId) {
        String voters() {
            return quorum.stream().map(n -> n.id() + "@" + HOST + ":" + n.controllerPort()).collect(Collectors.joining(","));
        }
    }

    /** Picks {@code n} nodes with ids 1..n and free loopback ports for a quorum. */
    public static List<NodeAddress> quorumAddresses(int n) throws IOException {
        if (n < 1) {
            throw new IllegalArgumentException("a quorum needs at least one node, got " + n);
        }
        List<ServerSocket> held = new ArrayList<>();
        try {
            List<NodeAddress> nodes = new ArrayList<>();
            for (int id = 1; id <= n; id++) {
                ServerSocket a = new ServerSocket(0, 1, InetAddress.getByName(HOST));
                ServerSocket b = new ServerSocket(0, 1, InetAddress.getByName(HOST));
                held.add(a);
                held.add(b);
                nodes.add(new NodeAddress(id, a.getLocalPort(), b.getLocalPort()));
            }
            return List.copyOf(nodes);
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
    }

    private Path serverProperties() {
        return dataDir.resolve("server.properties");
    }

    private Path classpathArgFile() {
        return dataDir.resolve("classpath.args");
    }

    private static String classpathHint(String output) {
        if (output.contains("Could not find or load main class") || output.contains("ClassNotFoundException: kafka.")) {
            return "The class path lacks the Kafka broker: add org.apache.kafka:kafka_2.13 and kafka-server "
                    + "(provided scope in flink-jobs; bin/metastream puts them on the class path). ";
        }
        return "";
    }

    private static boolean portOpen(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(HOST, port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    private static boolean awaitExit(Process p, Duration timeout) {
        try {
            return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return false;
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the Kafka broker", e);
        }
    }

    private static String readFrom(Path file, long offset) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long length = f.length();
            if (offset >= length) {
                return "";
            }
            byte[] buf = new byte[(int) Math.min(length - offset, 1 << 20)];
            f.seek(length - buf.length);
            f.readFully(buf);
            return new String(buf, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    private static String tail(Path file) {
        String text = readFrom(file, 0);
        List<String> lines = Arrays.asList(text.split("\n"));
        return lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()).stream()
                .collect(Collectors.joining("\n"));
    }

    /** Deletes a folder and everything in it, if it exists; logs (does not throw) what it cannot delete. */
    static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("Could not delete {}: {}", root, e.toString());
        }
    }

    /**
     * Builds a {@link KafkaBroker}. Only {@link #dataDir} is required.
     *
     * <p>Not thread-safe; use one builder from one thread.
     */
    public static final class Builder {
        private Path dataDir;
        private boolean deleteOnClose;
        private final List<String> javaOptions = new ArrayList<>(DEFAULT_JAVA_OPTIONS);
        private final Map<String, String> brokerProperties = new LinkedHashMap<>();
        private Duration startTimeout = DEFAULT_START_TIMEOUT;
        private String classpath;
        private String[] saslAdmin;
        private ClusterNode node;

        private Builder() {
        }

        /** Directory for the broker's data, configuration and log; created if missing. Required. */
        public Builder dataDir(Path dataDir) {
            this.dataDir = Objects.requireNonNull(dataDir, "dataDir").toAbsolutePath();
            return this;
        }

        /** Delete {@code dataDir} in {@link KafkaBroker#close()} (tests); default false (the local runner keeps data). */
        public Builder deleteOnClose(boolean deleteOnClose) {
            this.deleteOnClose = deleteOnClose;
            return this;
        }

        /**
         * JVM flags for the broker JVM, appended after {@link #DEFAULT_JAVA_OPTIONS}; for a flag given
         * twice the later one wins (e.g. {@code -Xmx2g} overrides the default heap).
         */
        public Builder javaOptions(String... options) {
            for (String o : Objects.requireNonNull(options, "options")) {
                javaOptions.add(Objects.requireNonNull(o, "a java option is null"));
            }
            return this;
        }

        /**
         * A broker setting ({@code server.properties} key) written after, and so overriding, the
         * defaults, e.g. {@code broker.session.timeout.ms}. The listener and quorum settings cannot be
         * overridden: the broker picks its ports itself.
         */
        public Builder brokerProperty(String key, String value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            if (key.equals("listeners") || key.equals("advertised.listeners") || key.equals("controller.quorum.voters")
                    || key.equals("process.roles") || key.equals("node.id") || key.equals("log.dirs")) {
                throw new IllegalArgumentException("broker property '" + key + "' is managed by KafkaBroker "
                        + "(ports are chosen at start, data lives under dataDir); remove it");
            }
            brokerProperties.put(key, value);
            return this;
        }

        /** Bound on {@link KafkaBroker#start()}; default 60 s. */
        public Builder startTimeout(Duration startTimeout) {
            Objects.requireNonNull(startTimeout, "startTimeout");
            if (startTimeout.isNegative() || startTimeout.isZero()) {
                throw new IllegalArgumentException("startTimeout must be positive, got " + startTimeout);
            }
            this.startTimeout = startTimeout;
            return this;
        }

        /** Class path of the broker JVM; default this JVM's {@code java.class.path}. */
        public Builder classpath(String classpath) {
            this.classpath = Objects.requireNonNull(classpath, "classpath");
            return this;
        }

        /**
         * A SASL_PLAINTEXT listener with SCRAM-SHA-512 and ACLs (StandardAuthorizer, nothing allowed
         * without an ACL) instead of PLAINTEXT; {@code user} is the super user, created when the storage
         * is formatted. Clients then need {@link KafkaBroker#saslProperties(String, String)}.
         */
        public Builder saslScram(String user, String password) {
            this.saslAdmin = new String[] {Objects.requireNonNull(user, "user"), Objects.requireNonNull(password, "password")};
            return this;
        }

        /**
         * Makes this broker one combined broker + controller node of a quorum: it uses {@code self}'s id
         * and fixed ports, votes with {@code quorum} (which holds {@code self}) and formats its storage
         * with {@code clusterId}. Topics then default to 3 replicas and {@code min.insync.replicas=2}
         * (fewer on a smaller quorum). Start all nodes together: a node is ready once a majority runs.
         */
        public Builder clusterNode(NodeAddress self, List<NodeAddress> quorum, String clusterId) {
            Objects.requireNonNull(self, "self");
            Objects.requireNonNull(clusterId, "clusterId");
            if (!Objects.requireNonNull(quorum, "quorum").contains(self)) {
                throw new IllegalArgumentException("the quorum " + quorum + " does not hold the node itself " + self);
            }
            this.node = new ClusterNode(self, List.copyOf(quorum), clusterId);
            return this;
        }

        public KafkaBroker build() {
            if (dataDir == null) {
                throw new IllegalStateException("dataDir is required: call dataDir(path) with a directory for the "
                        + "broker's logs, e.g. target/kafka for tests or ~/.metastream/kafka for the local runner");
            }
            String cp = classpath != null ? classpath : System.getProperty("java.class.path", "");
            if (cp.isBlank()) {
                throw new IllegalStateException("the class path for the broker JVM is empty; call classpath(...) with "
                        + "one containing org.apache.kafka:kafka_2.13 and kafka-server");
            }
            return new KafkaBroker(dataDir, deleteOnClose, javaOptions, brokerProperties, startTimeout, cp, saslAdmin, node);
        }
    }
}

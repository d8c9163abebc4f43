package io.metastream.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessSpec;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.apache.flink.runtime.util.config.memory.ProcessMemoryUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Flink standalone session cluster on loopback: one JobManager
 * ({@code StandaloneSessionClusterEntrypoint}) and TaskManagers ({@code TaskManagerRunner}), each a
 * separate JVM started from Flink's Maven jars, the way a Flink distribution's {@code bin/} scripts
 * start them. Jobs are submitted with Flink's own command-line client ({@code CliFrontend}, what
 * {@code flink run} runs), so a job reaches this cluster exactly as it reaches any other.
 *
 * <p>Everything lives under {@code dir}: {@code conf/config.yaml} (see {@link #settings()}),
 * {@code log/} (one log per process), {@code checkpoints/} and {@code savepoints/} (outside every
 * process, so they survive a killed JobManager), {@code tmp/} and {@code javacpp/} (ND4J's natives,
 * unpacked once for every job the TaskManagers run).
 *
 * <p>Class path: {@link Builder#classpath} must hold only what a distribution's {@code lib/} holds
 * (the launcher writes it to {@code launcher/target/flink-classpath.txt}); the job jar brings the
 * rest, as on any cluster.
 *
 * <p>Faults: {@link #killTaskManager}, {@link #killJobManager} send SIGKILL; {@link #startTaskManager}
 * and {@link #startJobManager} start fresh processes on the same configuration (the JobManager keeps
 * its ports, so running TaskManagers find it again). Orphans: every child exits when this JVM dies.
 *
 * <p>Threading: all methods are thread-safe.
 */
public final class FlinkCluster implements AutoCloseable {

    /** The flags a Flink distribution's {@code config.yaml} passes to every JVM on Java 17. */
    public static final List<String> JAVA17_OPTIONS = List.of(
            "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
            "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.text=ALL-UNNAMED",
            "--add-opens=java.base/java.time=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    private static final Logger LOG = LoggerFactory.getLogger(FlinkCluster.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HOST = "127.0.0.1";
    private static final Pattern JOB_ID = Pattern.compile("JobID ([0-9a-f]{32})");
    private static final Pattern SAVEPOINT = Pattern.compile("Savepoint completed\\. Path: (\\S+)");
    private static final Duration CLI_TIMEOUT = Duration.ofMinutes(3);

    private final Path dir;
    private final String classpath;
    private final int initialTaskManagers;
    private final Map<String, String> settings;
    private final Duration startTimeout;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Object lock = new Object();
    private Process jobManager;
    private final Map<String, Process> taskManagers = new LinkedHashMap<>();
    private int taskManagerCount;
    private int jobManagerCount;
    private boolean closed;
    private Thread shutdownHook;

    private FlinkCluster(Builder b, Map<String, String> settings) {
        this.dir = b.dir;
        this.classpath = b.classpath;
        this.initialTaskManagers = b.taskManagers;
        this.settings = settings;
        this.startTimeout = b.startTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Writes the configuration, starts the JobManager, waits for its REST endpoint, starts the
     * TaskManagers and waits until all have registered.
     *
     * @throws IllegalStateException if a process exits or the cluster is not up within the start
     *     timeout; the message names the log to read
     */
    public void start() {
        synchronized (lock) {
            if (shutdownHook != null || closed) {
                throw new IllegalStateException("a FlinkCluster starts once; build a new one on the same dir to restart");
            }
            try {
                prepare();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the Flink cluster's configuration under " + dir, e);
            }
            shutdownHook = new Thread(this::close, "flink-cluster-shutdown");
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
        long begin = System.nanoTime();
        startJobManager();
        for (int i = 0; i < initialTaskManagers; i++) {
            startTaskManager();
        }
        awaitTaskManagers(initialTaskManagers, startTimeout);
        LOG.info("Flink cluster up after {} ms: {} TaskManagers, REST {}", 
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin), initialTaskManagers, restUrl());
    }

    /** The settings in {@code conf/config.yaml}, in file order. */
    public Map<String, String> settings() {
        return settings;
    }

    /** {@code http://127.0.0.1:<port>}: Flink's REST endpoint (also what {@code flink run -m} takes). */
    public String restUrl() {
        return "http://" + HOST + ":" + settings.get("rest.port");
    }

    /** {@code 127.0.0.1:<port>}, for {@code flink run -m}. */
    public String restAddress() {
        return HOST + ":" + settings.get("rest.port");
    }

    /** The configuration directory ({@code FLINK_CONF_DIR}). */
    public Path confDir() {
        return dir.resolve("conf");
    }

    /** Where retained checkpoints go: {@code <dir>/checkpoints/<job id>/chk-<n>}. */
    public Path checkpointDir() {
        return dir.resolve("checkpoints");
    }

    public Path logDir() {
        return dir.resolve("log");
    }

    /** Starts a JobManager (the first, or a new one after {@link #killJobManager}) and waits for its REST endpoint. */
    public void startJobManager() {
        synchronized (lock) {
            if (jobManager != null && jobManager.isAlive()) {
                throw new IllegalStateException("the JobManager is already running (pid " + jobManager.pid() + ")");
            }
            jobManagerCount++;
            jobManager = launch(jobManagerName(), jobManagerJvm(), "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
                    jobManagerDynamic());
        }
        await("the JobManager's REST endpoint " + restUrl(), startTimeout, () -> {
            requireAlive(jobManager, "the JobManager");
            return get("/overview").isPresent();
        });
    }

    /** Kills the JobManager with SIGKILL: the job it ran is gone (no HA) unless resumed from a checkpoint. */
    public void killJobManager() {
        synchronized (lock) {
            kill(jobManager, "JobManager");
            KafkaBroker.deleteRecursively(tmpDir(jobManagerName()));
        }
    }

    /** {@code jm} for the first JobManager, {@code jm<n>} for the n-th: the name of its log and tmp folder. */
    private String jobManagerName() {
        return jobManagerCount == 1 ? "jm" : "jm" + jobManagerCount;
    }

    /** Starts one more TaskManager, named {@code tm<n>}; returns its name (its resource id). */
    public String startTaskManager() {
        synchronized (lock) {
            taskManagerCount++;
            String name = "tm" + taskManagerCount;
            List<String> dynamic = new ArrayList<>(taskManagerDynamic());
            dynamic.add("-D");
            dynamic.add("taskmanager.resource-id=" + name);
            taskManagers.put(name, launch(name, taskManagerJvm(), "org.apache.flink.runtime.taskexecutor.TaskManagerRunner", dynamic));
            return name;
        }
    }

    /** Names of the TaskManager processes that are alive. */
    public List<String> runningTaskManagers() {
        synchronized (lock) {
            return taskManagers.entrySet().stream().filter(e -> e.getValue().isAlive()).map(Map.Entry::getKey).toList();
        }
    }

    /** Kills a TaskManager with SIGKILL and waits until its process is gone. */
    public void killTaskManager(String name) {
        synchronized (lock) {
            Process p = taskManagers.get(name);
            if (p == null) {
                throw new IllegalArgumentException("no TaskManager named '" + name + "'; running: " + runningTaskManagers());
            }
            kill(p, "TaskManager " + name);
            taskManagers.remove(name);
            // a killed TaskManager leaves its copies of the job jar (~150 MB) behind; a stopped one removes them
            KafkaBroker.deleteRecursively(tmpDir(name));
        }
    }

    /** Waits until the JobManager counts {@code n} registered TaskManagers. */
    public void awaitTaskManagers(int n, Duration timeout) {
        await(n + " registered TaskManagers", timeout, () -> {
            requireAlive(jobManager, "the JobManager");
            return get("/taskmanagers").map(j -> j.path("taskmanagers").size() >= n).orElse(false);
        });
    }

    /**
     * Submits a job jar detached with Flink's command-line client, as
     * {@code flink run -m <rest> -d [-s <savepoint>] <jar> <args>} does; returns the job id.
     *
     * @param fromSavepoint a savepoint or retained checkpoint to start from; null for a fresh start
     * @throws IllegalStateException with the client's output if the submission fails
     */
    public String submit(Path jobJar, List<String> programArgs, String fromSavepoint) {
        List<String> args = new ArrayList<>(List.of("run", "-m", restAddress(), "-d"));
        if (fromSavepoint != null) {
            args.add("-s");
            args.add(fromSavepoint);
        }
        args.add(jobJar.toAbsolutePath().toString());
        args.addAll(programArgs);
        String out = cli(args);
        Matcher m = JOB_ID.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("the Flink client printed no job id; its output:\n" + out);
        }
        return m.group(1);
    }

    /** {@code flink stop --savepointPath <dir>/savepoints <job>}: a savepoint, then the job stops; returns the savepoint path. */
    public String stopWithSavepoint(String jobId) {
        String out = cli(List.of("stop", "-m", restAddress(), "--savepointPath", dir.resolve("savepoints").toUri().toString(), jobId));
        Matcher m = SAVEPOINT.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("stop-with-savepoint of " + jobId + " printed no savepoint path:\n" + out);
        }
        return m.group(1);
    }

    /** {@code flink cancel <job>}. */
    public void cancel(String jobId) {
        cli(List.of("cancel", "-m", restAddress(), jobId));
    }

    /** The job's state from the REST API ({@code RUNNING}, {@code RESTARTING}, ...); empty when the JobManager does not answer or know it. */
    public Optional<String> jobState(String jobId) {
        return get("/jobs/" + jobId).map(j -> j.path("state").asText());
    }

    /** True when every task of the job is RUNNING (not only the job itself). */
    public boolean allTasksRunning(String jobId) {
        return get("/jobs/" + jobId).map(j -> {
            if (!"RUNNING".equals(j.path("state").asText())) {
                return false;
            }
            for (JsonNode v : j.path("vertices")) {
                if (!"RUNNING".equals(v.path("status").asText())) {
                    return false;
                }
            }
            return j.path("vertices").size() > 0;
        }).orElse(false);
    }

    /** Resource ids of the TaskManagers that run at least one task of the job (from the REST API). */
    public List<String> taskManagersOf(String jobId) {
        java.util.Set<String> ids = new java.util.TreeSet<>();
        get("/jobs/" + jobId).ifPresent(j -> {
            for (JsonNode v : j.path("vertices")) {
                get("/jobs/" + jobId + "/vertices/" + v.path("id").asText() + "/taskmanagers").ifPresent(t -> {
                    for (JsonNode tm : t.path("taskmanagers")) {
                        if (tm.path("status").asText().equals("RUNNING")) {
                            ids.add(tm.path("taskmanager-id").asText());
                        }
                    }
                });
            }
        });
        return List.copyOf(ids);
    }

    /** Completed checkpoints of the job, from the REST API; -1 when unknown. */
    public long completedCheckpoints(String jobId) {
        return get("/jobs/" + jobId + "/checkpoints").map(j -> j.path("counts").path("completed").asLong(-1)).orElse(-1L);
    }

    /**
     * Restarts of the job so far, from the REST API; -1 when unknown. The larger of the job's
     * {@code numRestarts} metric and the highest attempt number of any subtask: the metric reaches the
     * REST API through its metric fetcher, which on a loaded machine can lag or answer nothing for a
     * while, whereas the attempt numbers are part of the job's own state.
     */
    public long restarts(String jobId) {
        long metric = get("/jobs/" + jobId + "/metrics?get=numRestarts")
                .map(j -> j.size() == 0 ? -1L : j.get(0).path("value").asLong(-1)).orElse(-1L);
        long[] attempt = {-1};
        get("/jobs/" + jobId).ifPresent(j -> {
            for (JsonNode v : j.path("vertices")) {
                get("/jobs/" + jobId + "/vertices/" + v.path("id").asText()).ifPresent(d -> {
                    for (JsonNode t : d.path("subtasks")) {
                        attempt[0] = Math.max(attempt[0], t.path("attempt").asLong(-1));
                    }
                });
            }
        });
        return Math.max(metric, attempt[0]);
    }

    /**
     * The newest retained checkpoint of a job on disk ({@code chk-<n>} holding {@code _metadata}), as
     * {@code flink run -s} takes it; empty if there is none.
     */
    public Optional<Path> latestRetainedCheckpoint(String jobId) {
        Path jobDir = checkpointDir().resolve(jobId);
        if (!Files.isDirectory(jobDir)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(jobDir)) {
            return s.filter(p -> p.getFileName().toString().matches("chk-\\d+"))
                    .filter(p -> Files.exists(p.resolve("_metadata")))
                    .max(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(4))));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + jobDir, e);
        }
    }

    /** Stops every process (SIGTERM, SIGKILL after 20 s). Idempotent; the directory is kept. */
    @Override
    public void close() {
        List<Process> all;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            all = new ArrayList<>(taskManagers.values());
            if (jobManager != null) {
                all.add(jobManager);
            }
            if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
                try {
                    Runtime.getRuntime().removeShutdownHook(shutdownHook);
                } catch (IllegalStateException e) {
                    // shutting down: the hook runs anyway
                }
            }
        }
        all.forEach(Process::destroy);
        for (Process p : all) {
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(20, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** Runs Flink's command-line client in a child JVM with {@code FLINK_CONF_DIR=conf}; returns its output. */
    public String cli(List<String> args) {
        Path log = logDir().resolve("client.log");
        List<String> command = new ArrayList<>(javaCommand("client", List.of("-Xmx384m", "-XX:TieredStopAtLevel=1")));
        command.add("org.apache.flink.client.cli.CliFrontend");
        command.addAll(args);
        try {
            Files.createDirectories(tmpDir("client"));
            ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
            pb.environment().put("FLINK_CONF_DIR", confDir().toString());
            Process p = pb.start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(CLI_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("the Flink client did not finish within " + CLI_TIMEOUT + ": flink " + args);
            }
            String text = new String(out, StandardCharsets.UTF_8);
            Files.writeString(log, "$ flink " + String.join(" ", args) + "\n" + text + "\n",
                    StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("flink " + args.get(0) + " failed with exit code " + p.exitValue()
                        + " (log " + log + "):\n" + text);
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run the Flink client", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running the Flink client", e);
        }
    }

    private Optional<JsonNode> get(String path) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(restUrl() + path))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? Optional.of(JSON.readTree(r.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private void prepare() throws IOException {
        for (String sub : List.of("conf", "log", "checkpoints", "savepoints", "tmp", "javacpp", "guard/io/metastream/local")) {
            Files.createDirectories(dir.resolve(sub));
        }
        StringBuilder yaml = new StringBuilder("# written by metastream's FlinkCluster; a Flink distribution reads the same keys\n");
        settings.forEach((k, v) -> yaml.append(k).append(": ").append(yamlValue(v)).append('\n'));
        Files.writeString(confDir().resolve("config.yaml"), yaml, StandardCharsets.UTF_8);
        String log4j = String.join("\n",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.file.ref = FileAppender",
                "appender.file.name = FileAppender",
                "appender.file.type = FILE",
                "appender.file.append = true",
                "appender.file.fileName = ${sys:log.file}",
                "appender.file.layout.type = PatternLayout",
                "appender.file.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
                "logger.pekko.name = org.apache.pekko", "logger.pekko.level = WARN",
                "logger.kafka.name = org.apache.kafka", "logger.kafka.level = WARN",
                "logger.netty.name = org.apache.flink.shaded.netty4", "logger.netty.level = WARN", "");
        Files.writeString(confDir().resolve("log4j.properties"), log4j, StandardCharsets.UTF_8);
        Files.writeString(confDir().resolve("log4j-cli.properties"), log4j, StandardCharsets.UTF_8);
        // The orphan guard (one JDK-only class) is the only class of ours on the cluster's class path.
        String guard = "io/metastream/local/OrphanGuardMain.class";
        try (InputStream in = FlinkCluster.class.getClassLoader().getResourceAsStream(guard)) {
            if (in == null) {
                throw new IllegalStateException(guard + " is missing from the class path of " + FlinkCluster.class.getName());
            }
            Files.write(dir.resolve("guard").resolve(guard), in.readAllBytes());
        }
        StringBuilder cp = new StringBuilder("-cp \"");
        for (char c : (dir.resolve("guard") + java.io.File.pathSeparator + classpath).toCharArray()) {
            if (c == '"' || c == '\\') {
                cp.append('\\');
            }
            cp.append(c);
        }
        Files.writeString(dir.resolve("classpath.args"), cp.append("\"\n"));
    }

    private static String yamlValue(String v) {
        return v.matches("[A-Za-z0-9_./:@=,+-]+( [A-Za-z0-9_./:@=,+-]+)*") && !v.contains(": ") ? v : JSON.valueToTree(v).toString();
    }

    private Configuration loadConfiguration() {
        return GlobalConfiguration.loadConfiguration(confDir().toString());
    }

    private List<String> jobManagerJvm() {
        JobManagerProcessSpec spec = JobManagerProcessUtils.processSpecFromConfig(loadConfiguration());
        List<String> jvm = new ArrayList<>(split(JobManagerProcessUtils.generateJvmParametersStr(spec, loadConfiguration())));
        jvm.addAll(split(settings.getOrDefault("env.java.opts.all", "")));
        jvm.addAll(split(settings.getOrDefault("env.java.opts.jobmanager", "")));
        return jvm;
    }

    private List<String> jobManagerDynamic() {
        JobManagerProcessSpec spec = JobManagerProcessUtils.processSpecFromConfig(loadConfiguration());
        return split(JobManagerProcessUtils.generateDynamicConfigsStr(spec));
    }

    private List<String> taskManagerJvm() {
        TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(loadConfiguration());
        List<String> jvm = new ArrayList<>(split(ProcessMemoryUtils.generateJvmParametersStr(spec)));
        jvm.addAll(split(settings.getOrDefault("env.java.opts.all", "")));
        jvm.addAll(split(settings.getOrDefault("env.java.opts.taskmanager", "")));
        return jvm;
    }

    private List<String> taskManagerDynamic() {
        TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(loadConfiguration());
        return split(TaskExecutorProcessUtils.generateDynamicConfigsStr(spec));
    }

    private static List<String> split(String s) {
        return Arrays.stream(s.trim().split("\\s+")).filter(x -> !x.isEmpty()).collect(Collectors.toList());
    }

    private List<String> javaCommand(String name, List<String> jvmFlags) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags);
        command.addAll(JAVA17_OPTIONS);
        command.add("-Djava.io.tmpdir=" + tmpDir(name));
        command.add("-Dlog.file=" + logDir().resolve(name + ".log"));
        command.add("-Dlog4j.configurationFile=" + confDir().resolve(name.equals("client") ? "log4j-cli.properties" : "log4j.properties").toUri());
        command.add("@" + dir.resolve("classpath.args"));
        return command;
    }

    /** Each process's own temporary folder (Flink's io.tmp.dirs and java.io.tmpdir), removed when it is killed. */
    private Path tmpDir(String name) {
        return dir.resolve("tmp").resolve(name);
    }

    private Process launch(String name, List<String> jvmFlags, String mainClass, List<String> dynamic) {
        try {
            Files.createDirectories(tmpDir(name));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + tmpDir(name), e);
        }
        List<String> command = javaCommand(name, jvmFlags);
        command.add(OrphanGuardMain.class.getName());
        command.add(Long.toString(ProcessHandle.current().pid()));
        command.add(mainClass);
        command.add("--configDir");
        command.add(confDir().toString());
        command.addAll(dynamic);
        command.add("-D");
        command.add("io.tmp.dirs=" + tmpDir(name));
        try {
            ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logDir().resolve(name + ".out").toFile()));
            // ND4J: one OpenMP thread per process (2 threads are slower on small machines)
            pb.environment().put("OMP_NUM_THREADS", "1");
            Process p = pb.start();
            LOG.info("Started Flink {} (pid {}), log {}", name, p.pid(), logDir().resolve(name + ".log"));
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start Flink " + name, e);
        }
    }

    private static void kill(Process p, String what) {
        if (p == null || !p.isAlive()) {
            throw new IllegalStateException(what + " is not running");
        }
        p.destroyForcibly();
        try {
            p.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("Killed {} (pid {})", what, p.pid());
    }

    private void requireAlive(Process p, String what) {
        if (p == null || !p.isAlive()) {
            throw new IllegalStateException(what + " exited" + (p == null ? "" : " with code " + p.exitValue())
                    + "; see the logs in " + logDir());
        }
    }

    /** Polls {@code condition} every 200 ms until it holds; throws when {@code timeout} passes. */
    public static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + what, e);
            }
        }
    }

    /**
     * Builds a {@link FlinkCluster}. Required: {@link #dir} and {@link #classpath}.
     */
    public static final class Builder {
        private Path dir;
        private String classpath;
        private int taskManagers = 2;
        private int slots = 2;
        private final Map<String, String> overrides = new LinkedHashMap<>();
        private Duration startTimeout = Duration.ofSeconds(120);

        private Builder() {
        }

        /** The cluster's directory (configuration, logs, checkpoints); created if missing. */
        public Builder dir(Path dir) {
            this.dir = Objects.requireNonNull(dir, "dir").toAbsolutePath();
            return this;
        }

        /** The JVMs' class path: Flink's jars only (launcher/target/flink-classpath.txt). */
        public Builder classpath(String classpath) {
            this.classpath = Objects.requireNonNull(classpath, "classpath");
            return this;
        }

        /** TaskManagers started by {@link FlinkCluster#start()}; default 2. */
        public Builder taskManagers(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("taskManagers must not be negative, got " + n);
            }
            this.taskManagers = n;
            return this;
        }

        /** Slots per TaskManager; default 2. */
        public Builder slotsPerTaskManager(int slots) {
            if (slots < 1) {
                throw new IllegalArgumentException("slots per TaskManager must be positive, got " + slots);
            }
            this.slots = slots;
            return this;
        }

        /** A {@code config.yaml} setting, overriding the defaults of {@link FlinkCluster#defaultSettings}. */
        public Builder setting(String key, String value) {
            overrides.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        public Builder startTimeout(Duration timeout) {
            this.startTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        public FlinkCluster build() {
            if (dir == null || classpath == null || classpath.isBlank()) {
                throw new IllegalStateException("FlinkCluster needs dir(...) and classpath(...) (Flink's jars: "
                        + "launcher/target/flink-classpath.txt, written by the Maven build)");
            }
            Map<String, String> s;
            try {
                s = defaultSettings(dir, slots, KafkaBroker.quorumAddresses(1).get(0));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot pick free ports for the Flink cluster", e);
            }
            s.putAll(overrides);
            return new FlinkCluster(this, s);
        }
    }

    /**
     * {@link #defaultSettings} as the README shows them: Flink's standard ports (6123 for RPC, 8081
     * for REST) and {@code dir} for the folders.
     */
    public static Map<String, String> documentedSettings(Path dir) {
        return defaultSettings(dir, 2, new KafkaBroker.NodeAddress(0, 6123, 8081));
    }

    /**
     * The cluster's {@code config.yaml}: loopback only, random TaskManager ports (a replacement never
     * takes a dead TaskManager's address), retained checkpoints outside the JobManager, a restart
     * strategy without an attempt limit, and ND4J's natives unpacked once into {@code <dir>/javacpp}.
     */
    static Map<String, String> defaultSettings(Path dir, int slots, KafkaBroker.NodeAddress ports) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("jobmanager.rpc.address", HOST);
        s.put("jobmanager.rpc.port", Integer.toString(ports.brokerPort()));
        s.put("jobmanager.bind-host", HOST);
        s.put("jobmanager.memory.process.size", "768m");
        s.put("jobmanager.execution.failover-strategy", "region");
        s.put("rest.address", HOST);
        s.put("rest.bind-address", HOST);
        s.put("rest.port", Integer.toString(ports.controllerPort()));
        s.put("taskmanager.bind-host", HOST);
        s.put("taskmanager.host", HOST);
        s.put("taskmanager.rpc.port", "0");
        s.put("taskmanager.numberOfTaskSlots", Integer.toString(slots));
        s.put("taskmanager.memory.process.size", "1600m");
        s.put("taskmanager.memory.managed.fraction", "0.05");
        // a job's slots on every TaskManager: losing any one of them is a real failure of the job
        s.put("cluster.evenly-spread-out-slots", "true");
        s.put("parallelism.default", "2");
        s.put("execution.checkpointing.dir", dir.resolve("checkpoints").toUri().toString());
        s.put("execution.checkpointing.savepoint-dir", dir.resolve("savepoints").toUri().toString());
        s.put("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        s.put("restart-strategy.type", "exponential-delay");
        s.put("restart-strategy.exponential-delay.initial-backoff", "1 s");
        s.put("restart-strategy.exponential-delay.max-backoff", "20 s");
        s.put("heartbeat.interval", "2000");
        s.put("heartbeat.timeout", "10000");
        s.put("web.refresh-interval", "200");
        s.put("io.tmp.dirs", dir.resolve("tmp").toString());
        s.put("env.java.opts.taskmanager", "-Dorg.bytedeco.javacpp.cachedir=" + dir.resolve("javacpp")
                + " -Dorg.bytedeco.javacpp.maxphysicalbytes=3g");
        return s;
    }
}

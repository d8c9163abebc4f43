package io.metastream.cli.pearl;

import io.metastream.cli.Json;
import io.metastream.client.CommandLineArgs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.metastream.core.pearl.PearlConfig;
import io.metastream.core.pearl.PearlLearner;
import io.metastream.core.pearl.TaskBatch;
import io.metastream.core.nn.Nd4jBackend;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Times one PEARL learner step ({@link PearlLearner#step}) at the reference sizes against the same
 * step in PyTorch ({@code bench/learner/pearl_step.py}, which mirrors it: same networks, losses,
 * gradients, Adam, Polyak and temperature updates, same finiteness guard), in one run and
 * interleaved (ND4J repetition, PyTorch repetition, ...) so that machine noise hits both sides.
 *
 * <p>Figures: a repetition times {@code --steps} steps after the warm-up; its steps per second is
 * {@code steps / wall time}; each side's figure is the median over {@code --repetitions}, and
 * {@code ratio = nd4j / pytorch} (above 1: ND4J is faster).
 *
 * <p>The PyTorch child runs with {@code OMP_NUM_THREADS} and {@code OPENBLAS_NUM_THREADS} set to
 * {@code --threads}. Its BLAS is chosen by {@code --torch-blas}: {@code nd4j} (default) loads the
 * very OpenBLAS library ND4J loaded (libblas.so.3 and liblapack.so.3 linked to it in a temporary
 * folder on {@code LD_LIBRARY_PATH}), so both sides run the same GEMM kernels; {@code system}
 * keeps whatever {@code libblas.so.3} resolves to (Debian's default is the reference BLAS, about 7×
 * slower than OpenBLAS at DGEMM); any other value is a folder prepended to {@code LD_LIBRARY_PATH}.
 * The library torch really mapped is recorded.
 *
 * <p>Exit codes: 0 success, 1 failure (Python or torch missing, a side failed), 2 bad usage.
 */
public final class LearnerBench {

    static final String USAGE = String.join("\n",
            "usage: LearnerBench --out FILE [options]",
            "  --out FILE            JSON result (required)",
            "  --steps N             timed steps per repetition (default 20)",
            "  --warmup N            untimed steps before timing, each side (default 3)",
            "  --repetitions R       interleaved repetitions per side (default 3)",
            "  --threads N           ND4J BLAS/OpenMP threads and torch.set_num_threads (default: available processors)",
            "  --python EXE          Python 3 with PyTorch (default python3)",
            "  --script FILE         the PyTorch step (default bench/learner/pearl_step.py under the repository root)",
            "  --torch-dtypes LIST   PyTorch dtypes, comma-separated; the first is the one 'ratio' compares with,",
            "                        others are extra data points (default float64; e.g. float64,float32)",
            "  --torch-blas MODE     nd4j (default: the OpenBLAS ND4J loaded), system (libblas.so.3 as installed),",
            "                        or a folder prepended to the child's LD_LIBRARY_PATH",
            "  --no-guard            PyTorch without the finiteness checks and backups PearlLearner.step always does",
            "                        (to measure their cost; the default mirrors PearlLearner.step)");

    static final String APT_HINT = "install PyTorch for Debian's Python with: sudo apt-get install -y python3-torch "
            + "(it installs into /usr/bin/python3; pass --python /usr/bin/python3 when another python3 comes first on PATH)";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private LearnerBench() {}

    public static void main(String[] args) {
        System.exit(run(Arrays.asList(args), System.out, System.err));
    }

    /** Runs the benchmark; returns the exit code (see the class comment). Never throws. */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        return run(args, out, err, PearlConfig.builder().obsDim(2).actDim(2).build());
    }

    /** As {@link #run(List, PrintStream, PrintStream)} with another learner configuration (tests use tiny nets). */
    static int run(List<String> args, PrintStream out, PrintStream err, PearlConfig cfg) {
        if (args.contains("--help") || args.contains("-h")) {
            out.println(USAGE);
            return 0;
        }
        Options o;
        try {
            o = Options.parse(args);
        } catch (UsageException e) {
            err.println("learner-bench: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        try {
            return new Session(o, cfg, out).run();
        } catch (BenchFailure e) {
            err.println("learner-bench: " + e.getMessage());
            return 1;
        } catch (RuntimeException | IOException | LinkageError e) {
            err.println("learner-bench failed: " + e);
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("learner-bench: interrupted");
            return 1;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // options

    /** Bad command line: exit code 2, the message names the option. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** An environment problem with a precise message (exit code 1, no stack trace). */
    static final class BenchFailure extends Exception {
        private static final long serialVersionUID = 1L;

        BenchFailure(String message) {
            super(message);
        }
    }

    record Options(Path out, int steps, int warmup, int repetitions, int threads, String python, Path script,
            List<String> torchDtypes, String torchBlas, boolean guard) {

        static Options parse(List<String> args) throws UsageException {
            CommandLineArgs a;
            Map<String, String> v = new LinkedHashMap<>();
            boolean noGuard;
            try {
                a = new CommandLineArgs(args.toArray(new String[0]), java.util.Set.of("no-guard"));
                noGuard = a.flag("no-guard");
                for (String name : List.of("out", "steps", "warmup", "repetitions", "threads", "python", "script",
                        "torch-dtypes", "torch-blas")) {
                    String value = a.string(name, null);
                    if (value != null) {
                        v.put(name, value);
                    }
                }
                a.rejectUnknown("bench learner");
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
            String outFile = v.get("out");
            if (outFile == null || outFile.isBlank()) {
                throw new UsageException("--out FILE is required (the JSON result)");
            }
            int steps = positive(v, "steps", 20, 1);
            int warmup = positive(v, "warmup", 3, 0);
            int reps = positive(v, "repetitions", 3, 1);
            int threads = positive(v, "threads", Runtime.getRuntime().availableProcessors(), 1);
            String python = v.getOrDefault("python", "python3");
            if (python.isBlank()) {
                throw new UsageException("--python must name a Python 3 executable, e.g. python3");
            }
            Path script;
            if (v.containsKey("script")) {
                script = Paths.get(v.get("script"));
                if (!Files.isRegularFile(script)) {
                    throw new UsageException("--script " + script + " is not a file");
                }
            } else {
                script = findDefaultScript();
            }
            List<String> dtypes = new ArrayList<>();
            for (String d : v.getOrDefault("torch-dtypes", "float64").split(",")) {
                String t = d.trim();
                if (!t.equals("float64") && !t.equals("float32")) {
                    throw new UsageException("--torch-dtypes takes float64 and/or float32, got '" + d + "'");
                }
                if (dtypes.contains(t)) {
                    throw new UsageException("--torch-dtypes lists " + t + " twice");
                }
                dtypes.add(t);
            }
            String blas = v.getOrDefault("torch-blas", "nd4j");
            if (!blas.equals("nd4j") && !blas.equals("system") && !Files.isDirectory(Paths.get(blas))) {
                throw new UsageException("--torch-blas must be nd4j, system or an existing folder, got '" + blas + "'");
            }
            return new Options(Paths.get(outFile), steps, warmup, reps, threads, python, script, List.copyOf(dtypes), blas,
                    !noGuard);
        }

        private static int positive(Map<String, String> v, String name, int dflt, int min) throws UsageException {
            String s = v.get(name);
            if (s == null) {
                return dflt;
            }
            int n;
            try {
                n = Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                throw new UsageException("--" + name + " must be an integer, got '" + s + "'");
            }
            if (n < min) {
                throw new UsageException("--" + name + " must be >= " + min + ", got " + n);
            }
            return n;
        }

        /** bench/learner/pearl_step.py under -Dmetastream.home, the working directory or one of its parents. */
        static Path findDefaultScript() throws UsageException {
            Path rel = Paths.get("bench", "learner", "pearl_step.py");
            List<Path> roots = new ArrayList<>();
            String home = System.getProperty("metastream.home");
            if (home != null && !home.isBlank()) {
                roots.add(Paths.get(home));
            }
            for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
                roots.add(p);
            }
            for (Path root : roots) {
                Path candidate = root.resolve(rel);
                if (Files.isRegularFile(candidate)) {
                    return candidate;
                }
            }
            throw new UsageException("--script not given and " + rel + " not found under the working directory "
                    + Paths.get("").toAbsolutePath() + " or its parents; run from the repository or pass --script FILE");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // one benchmark run

    /** One repetition of one side. */
    /** One repetition of one side; {@code cpuPerWall} is process CPU time over wall time (NaN when unknown). */
    record Rep(double stepsPerSecond, double medianStepMs, double[] stepMs, double cpuPerWall) {}

    private static final class Session {
        private final Options o;
        private final PearlConfig cfg;
        private final PrintStream out;

        Session(Options o, PearlConfig cfg, PrintStream out) {
            this.o = o;
            this.cfg = cfg;
            this.out = out;
        }

        int run() throws IOException, InterruptedException, BenchFailure {
            // fail fast on a missing Python or torch, before the (long) ND4J warm-up
            PythonSide.probe(o, out);

            Nd4jSide nd4j = new Nd4jSide(cfg, o.threads());
            out.println("learner-bench: ND4J " + nd4j.describe());
            Map<String, String> childEnv = torchEnvironment(o, nd4j);
            List<PythonSide> torchSides = new ArrayList<>();
            try {
                for (String dtype : o.torchDtypes()) {
                    out.println("learner-bench: starting PyTorch " + dtype + " (" + o.python() + " " + o.script()
                            + "), warm-up " + o.warmup() + " steps");
                    torchSides.add(PythonSide.start(o, dtype, childEnv));
                }
                for (PythonSide t : torchSides) {
                    out.println("learner-bench: PyTorch " + t.dtype + ": torch " + t.info.path("torch").asText() + ", "
                            + t.info.path("threads").asInt() + " threads, BLAS " + t.info.path("blas").asText());
                }
                out.println("learner-bench: ND4J warm-up " + o.warmup() + " steps");
                nd4j.warmup(o.warmup());
                List<Rep> nd4jReps = new ArrayList<>();
                Map<String, List<Rep>> torchReps = new LinkedHashMap<>();
                for (PythonSide t : torchSides) {
                    torchReps.put(t.dtype, new ArrayList<>());
                }
                for (int r = 0; r < o.repetitions(); r++) {
                    Rep n = nd4j.time(o.steps());
                    nd4jReps.add(n);
                    out.printf(Locale.ROOT, "learner-bench: rep %d/%d  ND4J float64 %.3f steps/s (median step %.1f ms, "
                            + "CPU/wall %.2f)%n", r + 1, o.repetitions(), n.stepsPerSecond(), n.medianStepMs(), n.cpuPerWall());
                    for (PythonSide t : torchSides) {
                        Rep p = t.time();
                        torchReps.get(t.dtype).add(p);
                        out.printf(Locale.ROOT, "learner-bench: rep %d/%d  PyTorch %s %.3f steps/s (median step %.1f ms, "
                                + "CPU/wall %.2f)%n", r + 1, o.repetitions(), t.dtype, p.stepsPerSecond(), p.medianStepMs(),
                                p.cpuPerWall());
                    }
                }
                Map<String, JsonNode> torchInfo = new LinkedHashMap<>();
                for (PythonSide t : torchSides) {
                    torchInfo.put(t.dtype, t.info);
                }
                ObjectNode json = result(o, cfg, nd4j.info(), nd4jReps, torchInfo, torchReps, machine(childEnv));
                Path parent = o.out().toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                Files.writeString(o.out(), Json.withoutMachinePaths(JSON.writeValueAsString(json)) + "\n", StandardCharsets.UTF_8);
                out.printf(Locale.ROOT, "learner-bench: ND4J %.3f steps/s, PyTorch %s %.3f steps/s, ratio %.3f -> %s%n",
                        json.get("nd4jStepsPerSecond").asDouble(), o.torchDtypes().get(0),
                        json.get("pytorchStepsPerSecond").asDouble(), json.get("ratio").asDouble(), o.out());
                return 0;
            } finally {
                for (PythonSide t : torchSides) {
                    t.close();
                }
            }
        }
    }

    /** The child's extra environment: thread counts and the BLAS chosen by --torch-blas. */
    static Map<String, String> torchEnvironment(Options o, Nd4jSide nd4j) throws IOException, BenchFailure {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("OMP_NUM_THREADS", Integer.toString(o.threads()));
        env.put("OPENBLAS_NUM_THREADS", Integer.toString(o.threads()));
        String dir = null;
        if (o.torchBlas().equals("nd4j")) {
            Path lib = nd4j == null ? null : nd4j.openBlasLibrary();
            if (lib == null) {
                throw new BenchFailure("--torch-blas nd4j: could not find the libopenblas ND4J loaded in /proc/self/maps; "
                        + "use --torch-blas system or a folder holding libblas.so.3");
            }
            Path links = Files.createTempDirectory("learner-bench-blas");
            boolean withLapack = !lib.getFileName().toString().contains("nolapack");
            for (String name : withLapack ? List.of("libblas.so.3", "liblapack.so.3") : List.of("libblas.so.3")) {
                Path link = Files.createSymbolicLink(links.resolve(name), lib);
                link.toFile().deleteOnExit();
            }
            links.toFile().deleteOnExit();
            dir = links + ":" + lib.getParent();
        } else if (!o.torchBlas().equals("system")) {
            dir = Paths.get(o.torchBlas()).toAbsolutePath().toString();
        }
        if (dir != null) {
            String old = System.getenv("LD_LIBRARY_PATH");
            env.put("LD_LIBRARY_PATH", old == null || old.isEmpty() ? dir : dir + ":" + old);
        }
        return env;
    }

    // ---------------------------------------------------------------------------------------------
    // ND4J side

    static final class Nd4jSide {
        private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

        private final PearlLearner learner;
        private final List<TaskBatch> batch;
        private final ObjectNode info = JSON.createObjectNode();
        private long rejectedAtStart;

        Nd4jSide(PearlConfig cfg, int threads) {
            Nd4jBackend.load(); // as the job's operators do: the backend through this class loader
            // OMP_NUM_THREADS sized ND4J's OpenMP pool at start-up (bin/metastream and the tests use 1);
            // --threads resizes it, and OpenBLAS (an OpenMP build) follows omp_set_num_threads
            NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
            Nd4j.getEnvironment().setMaxMasterThreads(threads);
            Nd4j.getEnvironment().setMaxThreads(threads);
            Nd4j.factory().blas().setMaxThreads(threads);
            this.learner = new PearlLearner(cfg);
            this.batch = metaBatch(cfg, 1);
            Properties env = Nd4j.getExecutioner().getEnvironmentInformation();
            info.put("dtype", "float64");
            info.put("platform", Nd4jBackend.platform());
            info.put("backend", Nd4j.getBackend().getClass().getName());
            info.put("blasVendor", String.valueOf(Nd4j.factory().blas().getBlasVendor()));
            info.put("blasThreads", Nd4j.factory().blas().getMaxThreads());
            info.put("maxThreads", Nd4j.getEnvironment().maxThreads());
            info.put("maxMasterThreads", Nd4j.getEnvironment().maxMasterThreads());
            info.put("ompThreads", String.valueOf(env.getOrDefault("omp.threads", "?")));
            Path lib = openBlasLibrary();
            info.put("blasLibrary", lib == null ? "unknown" : lib.toString());
        }

        String describe() {
            return info.get("backend").asText() + ", BLAS " + info.get("blasVendor").asText() + " ("
                    + info.get("blasLibrary").asText() + "), BLAS threads "
                    + info.get("blasThreads").asInt() + ", ND4J max threads " + info.get("maxThreads").asInt()
                    + ", OpenMP threads " + info.get("ompThreads").asText() + ", OMP_NUM_THREADS="
                    + System.getenv("OMP_NUM_THREADS");
        }

        ObjectNode info() {
            ObjectNode copy = info.deepCopy();
            copy.put("rejectedSteps", learner.rejectedSteps() - rejectedAtStart);
            return copy;
        }

        void warmup(int steps) {
            for (int i = 0; i < steps; i++) {
                learner.step(batch);
            }
            rejectedAtStart = learner.rejectedSteps();
        }

        Rep time(int steps) {
            double[] ms = new double[steps];
            long cpu0 = processCpuNanos();
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                long s0 = System.nanoTime();
                learner.step(batch);
                ms[i] = (System.nanoTime() - s0) / 1e6;
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            long cpu = processCpuNanos() - cpu0;
            return new Rep(steps / wall, median(ms), ms, cpu0 >= 0 && cpu >= 0 ? cpu / 1e9 / wall : Double.NaN);
        }

        private static long processCpuNanos() {
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
                return os.getProcessCpuTime();
            }
            return THREADS.getCurrentThreadCpuTime();
        }

        /** The libopenblas (with LAPACK, else without) this JVM mapped (Linux), or null. */
        Path openBlasLibrary() {
            Path noLapack = null;
            try {
                for (String line : Files.readAllLines(Paths.get("/proc/self/maps"))) {
                    int slash = line.indexOf('/');
                    String name = line.substring(line.lastIndexOf('/') + 1).trim();
                    if (slash < 0 || !name.startsWith("libopenblas")) {
                        continue;
                    }
                    Path lib = Paths.get(line.substring(slash).trim()).toRealPath();
                    if (!name.contains("nolapack")) {
                        return lib;
                    }
                    noLapack = lib;
                }
            } catch (IOException | RuntimeException e) {
                return noLapack;
            }
            return noLapack;
        }
    }

    /** A random meta-batch at the configured sizes (the one the PyTorch side rebuilds from the same seed). */
    static List<TaskBatch> metaBatch(PearlConfig cfg, long seed) {
        return TaskBatch.randomMetaBatch(cfg, seed);
    }

    // ---------------------------------------------------------------------------------------------
    // PyTorch side: a child process in --serve mode, one JSON line per repetition

    static final class PythonSide implements AutoCloseable {
        final String dtype;
        final JsonNode info;
        private final Process process;
        private final BufferedReader stdout;
        private final Writer stdin;
        private final StderrTail stderr;
        private final long timeoutMs;

        private PythonSide(String dtype, JsonNode info, Process process, BufferedReader stdout, Writer stdin,
                StderrTail stderr, long timeoutMs) {
            this.dtype = dtype;
            this.info = info;
            this.process = process;
            this.stdout = stdout;
            this.stdin = stdin;
            this.stderr = stderr;
            this.timeoutMs = timeoutMs;
        }

        /** Checks that the interpreter starts and imports torch (exit 1 with the apt package named otherwise). */
        static void probe(Options o, PrintStream out) throws IOException, InterruptedException, BenchFailure {
            List<String> cmd = List.of(o.python(), "-c", "import sys, torch; print(torch.__version__); "
                    + "sys.exit(0 if sys.version_info[0] == 3 else 4)");
            Process p = startProcess(o, cmd, Map.of());
            p.getOutputStream().close();
            StderrTail tail = new StderrTail(p.getErrorStream());
            String version = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new BenchFailure("'" + o.python() + " -c \"import torch\"' did not finish in 120 s");
            }
            int rc = p.exitValue();
            String e = tail.text();
            if (rc != 0) {
                if (e.contains("No module named") && e.contains("torch")) {
                    throw new BenchFailure("'" + o.python() + "' cannot import torch; " + APT_HINT);
                }
                if (rc == 4) {
                    throw new BenchFailure("'" + o.python() + "' is not Python 3; pass --python python3");
                }
                throw new BenchFailure("'" + o.python() + " -c \"import torch\"' failed with exit code " + rc + ": "
                        + lastLine(e) + "; " + APT_HINT);
            }
            out.println("learner-bench: " + o.python() + " has torch " + version);
        }

        static PythonSide start(Options o, String dtype, Map<String, String> env)
                throws IOException, InterruptedException, BenchFailure {
            List<String> cmd = new ArrayList<>(List.of(o.python(), o.script().toString(), "--serve", "--dtype", dtype,
                    "--steps", Integer.toString(o.steps()), "--warmup", Integer.toString(o.warmup()), "--threads",
                    Integer.toString(o.threads())));
            if (!o.guard()) {
                cmd.add("--no-guard");
            }
            Process p = startProcess(o, cmd, env);
            StderrTail tail = new StderrTail(p.getErrorStream());
            BufferedReader stdout = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            Writer stdin = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
            // the slowest plausible step (reference BLAS, float64) is a few seconds
            long timeoutMs = 60_000L + 30_000L * (o.steps() + o.warmup());
            PythonSide side = new PythonSide(dtype, null, p, stdout, stdin, tail, timeoutMs);
            JsonNode ready;
            try {
                ready = side.readLine("warm-up");
            } catch (IOException | BenchFailure | RuntimeException e) {
                p.destroyForcibly();
                throw e;
            }
            if (!ready.path("ready").asBoolean(false)) {
                p.destroyForcibly();
                throw new BenchFailure(o.script() + " did not answer with a ready line: " + ready);
            }
            return new PythonSide(dtype, ready, p, stdout, stdin, tail, timeoutMs);
        }

        Rep time() throws IOException, InterruptedException, BenchFailure {
            stdin.write("run\n");
            stdin.flush();
            return parseRep(readLine("a timed repetition"));
        }

        private JsonNode readLine(String what) throws IOException, InterruptedException, BenchFailure {
            // read on this thread; a watchdog kills a child that hangs
            Thread watchdog = new Thread(() -> {
                try {
                    Thread.sleep(timeoutMs);
                    process.destroyForcibly();
                } catch (InterruptedException e) {
                    // answered in time
                }
            }, "learner-bench-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
            String line;
            try {
                line = stdout.readLine();
            } finally {
                watchdog.interrupt();
            }
            if (line == null) {
                process.waitFor(10, TimeUnit.SECONDS);
                String e = stderr.text();
                if (process.isAlive()) {
                    process.destroyForcibly();
                }
                int rc = process.isAlive() ? -1 : process.exitValue();
                if (rc == 3 || (e.contains("No module named") && e.contains("torch"))) {
                    throw new BenchFailure("the PyTorch side cannot import torch; " + APT_HINT);
                }
                throw new BenchFailure("the PyTorch side (" + dtype + ") ended during " + what + " with exit code " + rc
                        + (e.isBlank() ? "" : ": " + lastLine(e)));
            }
            try {
                return JSON.readTree(line);
            } catch (IOException e) {
                throw new BenchFailure("the PyTorch side (" + dtype + ") printed a line that is not JSON during " + what
                        + ": " + line);
            }
        }

        @Override
        public void close() {
            try {
                stdin.close();
            } catch (IOException e) {
                // the child is gone already
            }
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }

        private static Process startProcess(Options o, List<String> cmd, Map<String, String> env) throws BenchFailure {
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().putAll(env);
            try {
                return pb.start();
            } catch (IOException e) {
                throw new BenchFailure("cannot run '" + o.python() + "' (" + e.getMessage() + "); install Python 3 and "
                        + "PyTorch with: sudo apt-get install -y python3-torch, or pass --python /path/to/python3");
            }
        }
    }

    /** Parses one repetition line of the PyTorch side. */
    static Rep parseRep(JsonNode line) throws BenchFailure {
        JsonNode sps = line.get("stepsPerSecond");
        JsonNode med = line.get("medianStepMs");
        if (sps == null || !sps.isNumber() || med == null || !med.isNumber()) {
            throw new BenchFailure("the PyTorch side answered without stepsPerSecond/medianStepMs: " + line);
        }
        JsonNode ms = line.path("stepMs");
        double[] stepMs = new double[ms.size()];
        for (int i = 0; i < stepMs.length; i++) {
            stepMs[i] = ms.get(i).asDouble();
        }
        return new Rep(sps.asDouble(), med.asDouble(), stepMs, line.path("cpuPerWall").asDouble(Double.NaN));
    }

    /** Drains a child's stderr (so it never blocks) and keeps the last 8 KB. */
    private static final class StderrTail {
        private final StringBuilder buf = new StringBuilder();
        private final Thread thread;

        StderrTail(InputStream in) {
            thread = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        synchronized (buf) {
                            buf.append(line).append('\n');
                            if (buf.length() > 8192) {
                                buf.delete(0, buf.length() - 8192);
                            }
                        }
                    }
                } catch (IOException e) {
                    // the child closed its stderr
                }
            }, "learner-bench-stderr");
            thread.setDaemon(true);
            thread.start();
        }

        String text() throws InterruptedException {
            thread.join(2000);
            synchronized (buf) {
                return buf.toString();
            }
        }
    }

    private static String lastLine(String s) {
        String t = s.strip();
        int nl = t.lastIndexOf('\n');
        return nl < 0 ? t : t.substring(nl + 1);
    }

    // ---------------------------------------------------------------------------------------------
    // result

    /** The result document; {@code torchReps} in --torch-dtypes order, the first is the one {@code ratio} uses. */
    static ObjectNode result(Options o, PearlConfig cfg, ObjectNode nd4jInfo, List<Rep> nd4jReps,
            Map<String, JsonNode> torchInfo, Map<String, List<Rep>> torchReps, ObjectNode machine) {
        ObjectNode root = JSON.createObjectNode();
        double nd4j = medianSps(nd4jReps);
        String first = torchReps.keySet().iterator().next();
        double torch = medianSps(torchReps.get(first));
        root.put("nd4jStepsPerSecond", nd4j);
        root.put("pytorchStepsPerSecond", torch);
        root.put("ratio", nd4j / torch);
        root.put("pytorchDtype", first);
        root.put("nd4jMedianStepMs", medianStepMs(nd4jReps));
        root.put("pytorchMedianStepMs", medianStepMs(torchReps.get(first)));
        ObjectNode extra = root.putObject("pytorchByDtype");
        for (Map.Entry<String, List<Rep>> e : torchReps.entrySet()) {
            ObjectNode d = extra.putObject(e.getKey());
            double s = medianSps(e.getValue());
            d.put("stepsPerSecond", s);
            d.put("medianStepMs", medianStepMs(e.getValue()));
            d.put("ratio", nd4j / s);
            d.set("perRepetitionStepsPerSecond", spsArray(e.getValue()));
        }
        root.set("nd4jPerRepetitionStepsPerSecond", spsArray(nd4jReps));
        root.set("pytorchPerRepetitionStepsPerSecond", spsArray(torchReps.get(first)));

        ObjectNode run = root.putObject("run");
        run.put("steps", o.steps());
        run.put("warmup", o.warmup());
        run.put("repetitions", o.repetitions());
        run.put("threads", o.threads());
        run.put("interleaving", "per repetition: ND4J, then PyTorch " + String.join(", ", torchReps.keySet()));
        run.put("guard", o.guard());
        run.put("torchBlasMode", o.torchBlas());
        run.put("python", o.python());
        run.put("script", o.script().toAbsolutePath().toString());

        ObjectNode c = root.putObject("config");
        c.put("obsDim", cfg.obsDim());
        c.put("actDim", cfg.actDim());
        c.put("latentDim", cfg.latentDim());
        c.put("encoderHidden", Arrays.toString(cfg.encoderHidden()));
        c.put("netHidden", Arrays.toString(cfg.netHidden()));
        c.put("activation", cfg.activation().name());
        c.put("batchSize", cfg.batchSize());
        c.put("contextSize", cfg.contextSize());
        c.put("metaBatch", cfg.metaBatch());
        c.put("rlRowsPerStep", cfg.batchSize() * cfg.metaBatch());
        c.put("contextRowsPerStep", cfg.contextSize() * cfg.metaBatch());
        c.put("learnAlpha", cfg.learnAlpha());
        c.put("klWeight", cfg.klWeight());
        c.put("rewardScale", cfg.rewardScale());
        c.put("gamma", cfg.gamma());
        c.put("tau", cfg.tau());

        ObjectNode n = root.putObject("nd4j");
        n.setAll(nd4jInfo);
        n.put("stepsPerSecond", nd4j);
        n.set("perRepetitionStepsPerSecond", spsArray(nd4jReps));
        n.set("perRepetitionMedianStepMs", msArray(nd4jReps));
        n.set("perRepetitionStepMs", stepMsArrays(nd4jReps));
        n.set("perRepetitionCpuPerWall", cpuArray(nd4jReps));

        ObjectNode t = root.putObject("pytorch");
        for (Map.Entry<String, JsonNode> e : torchInfo.entrySet()) {
            ObjectNode d = t.putObject(e.getKey());
            for (String k : List.of("dtype", "torch", "python", "threads", "blas", "guard")) {
                if (e.getValue() != null && e.getValue().has(k)) {
                    d.set(k, e.getValue().get(k));
                }
            }
            List<Rep> reps = torchReps.get(e.getKey());
            d.put("stepsPerSecond", medianSps(reps));
            d.set("perRepetitionStepsPerSecond", spsArray(reps));
            d.set("perRepetitionMedianStepMs", msArray(reps));
            d.set("perRepetitionStepMs", stepMsArrays(reps));
            d.set("perRepetitionCpuPerWall", cpuArray(reps));
        }
        root.set("machine", machine);
        return root;
    }

    static ObjectNode machine(Map<String, String> childEnv) {
        ObjectNode m = JSON.createObjectNode();
        m.put("date", Instant.now().toString());
        m.put("hostname", hostname());
        m.put("cpuModel", cpuModel());
        m.put("availableProcessors", Runtime.getRuntime().availableProcessors());
        m.put("javaVersion", System.getProperty("java.version"));
        m.put("javaVm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
        m.put("maxHeapMb", Runtime.getRuntime().maxMemory() / (1024 * 1024));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        m.put("OMP_NUM_THREADS", String.valueOf(System.getenv("OMP_NUM_THREADS")));
        ObjectNode env = m.putObject("pytorchChildEnvironment");
        childEnv.forEach(env::put);
        return m;
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    static String hostname() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isBlank()) {
            return h;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static double medianSps(List<Rep> reps) {
        return median(reps.stream().mapToDouble(Rep::stepsPerSecond).toArray());
    }

    private static double medianStepMs(List<Rep> reps) {
        return median(reps.stream().mapToDouble(Rep::medianStepMs).toArray());
    }

    private static ArrayNode spsArray(List<Rep> reps) {
        ArrayNode a = JSON.createArrayNode();
        reps.forEach(r -> a.add(r.stepsPerSecond()));
        return a;
    }

    private static ArrayNode msArray(List<Rep> reps) {
        ArrayNode a = JSON.createArrayNode();
        reps.forEach(r -> a.add(r.medianStepMs()));
        return a;
    }

    private static ArrayNode cpuArray(List<Rep> reps) {
        ArrayNode a = JSON.createArrayNode();
        for (Rep r : reps) {
            if (Double.isFinite(r.cpuPerWall())) {
                a.add(Math.round(r.cpuPerWall() * 1000) / 1000.0);
            } else {
                a.addNull();
            }
        }
        return a;
    }

    private static ArrayNode stepMsArrays(List<Rep> reps) {
        ArrayNode a = JSON.createArrayNode();
        for (Rep r : reps) {
            ArrayNode steps = a.addArray();
            for (double ms : r.stepMs()) {
                steps.add(Math.round(ms * 10) / 10.0);
            }
        }
        return a;
    }

    static double median(double[] v) {
        return io.metastream.cli.Stats.median(v);
    }
}

package io.metastream.cli.pearl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.metastream.core.pearl.PearlConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Option parsing, the result document and the failure messages of {@link LearnerBench}. No
 * reference-sized steps: the one end-to-end run uses tiny networks and a fake Python that speaks
 * the {@code --serve} protocol of {@code pearl_step.py}.
 */
class LearnerBenchTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Exit code, stdout and stderr of one run. */
    private record Outcome(int rc, String out, String err) {}

    private static Outcome run(PearlConfig cfg, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        int rc = cfg == null ? LearnerBench.run(List.of(args), o, e) : LearnerBench.run(List.of(args), o, e, cfg);
        return new Outcome(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Outcome run(String... args) {
        return run(null, args);
    }

    private static Path executable(Path dir, String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    @Test
    void defaultsAndTheScriptFoundFromTheWorkingDirectory() throws Exception {
        LearnerBench.Options o = LearnerBench.Options.parse(List.of("--out", "r.json"));
        assertThat(o.out()).isEqualTo(Path.of("r.json"));
        assertThat(o.steps()).isEqualTo(20);
        assertThat(o.warmup()).isEqualTo(3);
        assertThat(o.repetitions()).isEqualTo(3);
        assertThat(o.threads()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(o.python()).isEqualTo("python3");
        assertThat(o.torchDtypes()).containsExactly("float64");
        assertThat(o.torchBlas()).isEqualTo("nd4j");
        assertThat(o.guard()).isTrue();
        // surefire runs in flink-jobs/; the script is found in the repository root above it
        assertThat(o.script()).endsWith(Path.of("bench", "learner", "pearl_step.py")).isRegularFile();
    }

    @Test
    void parsesEveryOptionInBothSpellings() throws Exception {
        LearnerBench.Options o = LearnerBench.Options.parse(List.of("--out=x/y.json", "--steps", "5", "--warmup=0",
                "--repetitions", "2", "--threads", "1", "--python", "/usr/bin/python3", "--torch-dtypes",
                "float64,float32", "--torch-blas", "system", "--no-guard"));
        assertThat(o.out()).isEqualTo(Path.of("x/y.json"));
        assertThat(o.steps()).isEqualTo(5);
        assertThat(o.warmup()).isZero();
        assertThat(o.repetitions()).isEqualTo(2);
        assertThat(o.threads()).isEqualTo(1);
        assertThat(o.python()).isEqualTo("/usr/bin/python3");
        assertThat(o.torchDtypes()).containsExactly("float64", "float32");
        assertThat(o.torchBlas()).isEqualTo("system");
        assertThat(o.guard()).isFalse();
    }

    @Test
    void usageErrorsExitWithTwoAndNameTheOption() {
        Map<List<String>, String> cases = new LinkedHashMap<>();
        cases.put(List.of("--steps", "5"), "--out FILE is required");
        cases.put(List.of("--out", "r.json", "--steps", "many"), "--steps must be an integer, got 'many'");
        cases.put(List.of("--out", "r.json", "--steps", "0"), "--steps must be >= 1");
        cases.put(List.of("--out", "r.json", "--warmup", "-1"), "--warmup must be >= 0");
        cases.put(List.of("--out", "r.json", "--repetitions", "0"), "--repetitions must be >= 1");
        cases.put(List.of("--out", "r.json", "--threads", "0"), "--threads must be >= 1");
        cases.put(List.of("--out", "r.json", "--stepz", "3"), "unknown option(s) for 'bench learner': --stepz");
        cases.put(List.of("--out", "r.json", "--steps"), "option --steps needs a value");
        cases.put(List.of("--out", "r.json", "--out", "s.json"), "option --out is given twice");
        cases.put(List.of("--out", "r.json", "--torch-dtypes", "float16"), "--torch-dtypes takes float64 and/or float32");
        cases.put(List.of("--out", "r.json", "--torch-blas", "/no/such/dir"), "--torch-blas must be nd4j, system");
        cases.put(List.of("--out", "r.json", "--script", "/no/such/pearl_step.py"), "--script /no/such/pearl_step.py is not a file");
        cases.put(List.of("out", "r.json"), "expected an option like --name value, got 'out'");
        cases.forEach((args, message) -> {
            Outcome r = run(args.toArray(new String[0]));
            assertThat(r.rc()).as(args.toString()).isEqualTo(2);
            assertThat(r.err()).as(args.toString()).contains(message).contains("usage: LearnerBench");
        });
    }

    @Test
    void helpIsNotAnError() {
        Outcome r = run("--help");
        assertThat(r.rc()).isZero();
        assertThat(r.out()).contains("--out FILE", "--torch-blas");
    }

    @Test
    void aMissingPythonFailsWithExitOneAndNamesTheAptPackage(@TempDir Path dir) {
        Outcome r = run("--out", dir.resolve("r.json").toString(), "--python", dir.resolve("no-python3").toString());
        assertThat(r.rc()).isEqualTo(1);
        assertThat(r.err()).contains("cannot run '" + dir.resolve("no-python3") + "'")
                .contains("sudo apt-get install -y python3-torch").doesNotContain("\tat ").doesNotContain("Exception");
        assertThat(dir.resolve("r.json")).doesNotExist();
    }

    @Test
    @EnabledOnOs({OS.LINUX, OS.MAC})
    void aPythonWithoutTorchFailsWithExitOneAndNamesTheAptPackage(@TempDir Path dir) throws IOException {
        Path python = executable(dir, "python3", "echo \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n");
        Outcome r = run("--out", dir.resolve("r.json").toString(), "--python", python.toString());
        assertThat(r.rc()).isEqualTo(1);
        assertThat(r.err()).contains("cannot import torch").contains("sudo apt-get install -y python3-torch")
                .doesNotContain("\tat ").doesNotContain("Exception");
    }

    @Test
    void theResultHoldsMediansRatioPerRepetitionFiguresAndTheSetup() throws Exception {
        LearnerBench.Options o = LearnerBench.Options.parse(List.of("--out", "r.json", "--steps", "4", "--repetitions",
                "3", "--threads", "1", "--torch-dtypes", "float64,float32"));
        PearlConfig cfg = PearlConfig.builder().obsDim(2).actDim(2).build();
        List<LearnerBench.Rep> nd4j = reps(1.0, 1.5, 1.2);
        Map<String, List<LearnerBench.Rep>> torch = new LinkedHashMap<>();
        torch.put("float64", reps(2.0, 1.6, 1.8));
        torch.put("float32", reps(3.0, 2.4, 2.5));
        ObjectNode info = JSON.createObjectNode().put("dtype", "float64").put("torch", "1.13.1").put("blas", "libopenblas");
        Map<String, JsonNode> torchInfo = new LinkedHashMap<>();
        torchInfo.put("float64", info);
        torchInfo.put("float32", info.deepCopy().put("dtype", "float32"));
        ObjectNode nd4jInfo = JSON.createObjectNode().put("backend", "CpuBackend").put("blasThreads", 1);
        ObjectNode json = LearnerBench.result(o, cfg, nd4jInfo, nd4j, torchInfo, torch,
                LearnerBench.machine(Map.of("OMP_NUM_THREADS", "1")));
        // round trip through the text form that is written to --out
        JsonNode r = JSON.readTree(JSON.writeValueAsString(json));

        assertThat(r.get("nd4jStepsPerSecond").asDouble()).isEqualTo(1.2);
        assertThat(r.get("pytorchStepsPerSecond").asDouble()).isEqualTo(1.8);
        assertThat(r.get("ratio").asDouble()).isCloseTo(1.2 / 1.8, within(1e-12));
        assertThat(r.get("pytorchDtype").asText()).isEqualTo("float64");
        assertThat(r.at("/pytorchByDtype/float32/ratio").asDouble()).isCloseTo(1.2 / 2.5, within(1e-12));
        assertThat(doubles(r.get("nd4jPerRepetitionStepsPerSecond"))).containsExactly(1.0, 1.5, 1.2);
        assertThat(doubles(r.get("pytorchPerRepetitionStepsPerSecond"))).containsExactly(2.0, 1.6, 1.8);
        assertThat(r.at("/config/netHidden").asText()).isEqualTo("[300, 300, 300]");
        assertThat(r.at("/config/encoderHidden").asText()).isEqualTo("[200, 200, 200]");
        assertThat(r.at("/config/rlRowsPerStep").asInt()).isEqualTo(4096);
        assertThat(r.at("/config/latentDim").asInt()).isEqualTo(5);
        assertThat(r.at("/run/threads").asInt()).isEqualTo(1);
        assertThat(r.at("/run/steps").asInt()).isEqualTo(4);
        assertThat(r.at("/nd4j/backend").asText()).isEqualTo("CpuBackend");
        assertThat(r.at("/pytorch/float32/dtype").asText()).isEqualTo("float32");
        assertThat(r.at("/pytorch/float64/torch").asText()).isEqualTo("1.13.1");
        for (String k : List.of("date", "hostname", "cpuModel", "javaVersion", "OMP_NUM_THREADS")) {
            assertThat(r.path("machine").has(k)).as(k).isTrue();
        }
        assertThat(r.at("/machine/pytorchChildEnvironment/OMP_NUM_THREADS").asText()).isEqualTo("1");
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertThat(LearnerBench.median(new double[] {3, 1, 2})).isEqualTo(2);
        assertThat(LearnerBench.median(new double[] {4, 1, 3, 2})).isEqualTo(2.5);
    }

    @Test
    void aRepetitionLineWithoutFiguresIsRejected() {
        assertThatThrownBy(() -> LearnerBench.parseRep(JSON.readTree("{\"ready\": true}")))
                .hasMessageContaining("stepsPerSecond");
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void endToEndWithTinyNetworksAndAFakeTorchWritesTheFile(@TempDir Path dir) throws Exception {
        // the probe (-c ...) answers a version; otherwise the --serve protocol: a ready line, then a line per "run"
        Path python = executable(dir, "python3", String.join("\n",
                "if [ \"$1\" = -c ]; then echo 0.0-fake; exit 0; fi",
                "echo '{\"ready\": true, \"dtype\": \"float64\", \"threads\": 1, \"torch\": \"0.0-fake\", \"blas\": \"none\"}'",
                "while read line; do",
                "  [ \"$line\" = run ] || exit 0",
                "  echo '{\"stepsPerSecond\": 2.0, \"medianStepMs\": 500.0, \"stepMs\": [500.0, 500.0]}'",
                "done", ""));
        Path script = Files.writeString(dir.resolve("pearl_step.py"), "# not run: the fake python ignores it\n");
        PearlConfig tiny = PearlConfig.builder().obsDim(2).actDim(2).encoderHidden(8).netHidden(8).batchSize(4)
                .contextSize(3).metaBatch(2).build();
        Path out = dir.resolve("sub").resolve("r.json");
        Outcome r = run(tiny, "--out", out.toString(), "--steps", "2", "--warmup", "1", "--repetitions", "2",
                "--threads", "1", "--python", python.toString(), "--script", script.toString(), "--torch-blas", "system");
        assertThat(r.rc()).as(r.err()).isZero();
        assertThat(r.out()).contains("ND4J org.nd4j.linalg.cpu.nativecpu.CpuBackend", "BLAS threads", "ratio");
        JsonNode j = JSON.readTree(out.toFile());
        assertThat(j.get("pytorchStepsPerSecond").asDouble()).isEqualTo(2.0);
        double nd4j = j.get("nd4jStepsPerSecond").asDouble();
        assertThat(nd4j).isPositive();
        assertThat(j.get("ratio").asDouble()).isCloseTo(nd4j / 2.0, within(1e-12));
        assertThat(j.get("nd4jPerRepetitionStepsPerSecond")).hasSize(2);
        assertThat(j.at("/nd4j/rejectedSteps").asLong()).isZero();
        assertThat(j.at("/pytorch/float64/torch").asText()).isEqualTo("0.0-fake");
        assertThat(j.at("/config/netHidden").asText()).isEqualTo("[8]");
    }

    private static List<LearnerBench.Rep> reps(double... sps) {
        List<LearnerBench.Rep> l = new ArrayList<>();
        for (double s : sps) {
            l.add(new LearnerBench.Rep(s, 1000 / s, new double[] {1000 / s}, 1.0));
        }
        return l;
    }

    private static List<Double> doubles(JsonNode a) {
        List<Double> l = new ArrayList<>();
        a.forEach(n -> l.add(n.asDouble()));
        return l;
    }
}

package io.metastream.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Results and documents that get committed hold no path of the machine that wrote them. */
class MachinePathsTest {

    /** A path under a user's, the work area's or the temporary directory of some machine. */
    private static final Pattern MACHINE_PATH = Pattern.compile("(^|[^A-Za-z0-9_.~$/])/(work|home|tmp|root|Users)/");

    @Test
    void writtenResultsUseRelativePaths() {
        String cwd = Paths.get("").toAbsolutePath().toString();
        String text = "{\"script\": \"" + cwd + "/bench/learner/pearl_step.py\", \"lib\": \""
                + System.getProperty("java.io.tmpdir") + "/learner-bench-blas1/x.so\", \"python\": \"/usr/bin/python3\"}";
        String portable = Json.withoutMachinePaths(text);
        assertThat(portable).contains("\"bench/learner/pearl_step.py\"", "\"$TMPDIR/learner-bench-blas1/x.so\"",
                "\"/usr/bin/python3\"").doesNotContain(cwd + "/");
    }

    @Test
    void committedResultsAndDocumentsHoldNoMachinePath() throws IOException {
        Path root = Paths.get("").toAbsolutePath().getParent();
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root.resolve("bench"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json") || p.toString().endsWith(".md")).toList()) {
                check(root, f, found);
            }
        }
        try (Stream<Path> docs = Files.list(root)) {
            for (Path f : docs.filter(p -> p.toString().endsWith(".md")).toList()) {
                check(root, f, found);
            }
        }
        assertThat(found).isEmpty();
    }

    private static void check(Path root, Path file, List<String> found) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            if (MACHINE_PATH.matcher(lines.get(i)).find()) {
                found.add(root.relativize(file) + ":" + (i + 1) + ": " + lines.get(i).strip());
            }
        }
    }
}

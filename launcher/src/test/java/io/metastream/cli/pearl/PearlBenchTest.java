package io.metastream.cli.pearl;

import static org.assertj.core.api.Assertions.assertThat;

import io.metastream.client.CommandLineArgs;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench pearl} at a toy scale (one iteration of a few gradient steps per family): the report has
 * every key the issue names plus the posterior-sampling ceiling, the PNG is written, and a seed
 * reproduces every figure that does not measure time.
 */
class PearlBenchTest {

    private static final String[] TINY = {"--dense.iterations", "1", "--sparse.iterations", "1",
        "--dense.train-steps", "5", "--sparse.train-steps", "5", "--dense.tasks-per-iteration", "1",
        "--sparse.tasks-per-iteration", "1", "--dense.oracle-iterations", "1", "--seed", "3"};

    private static String bench(Path out) throws Exception {
        String[] argv = new String[TINY.length + 2];
        argv[0] = "--out";
        argv[1] = out.toString();
        System.arraycopy(TINY, 0, argv, 2, TINY.length);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        int rc = new PearlBench(new PrintStream(log, true, StandardCharsets.UTF_8))
                .run(new CommandLineArgs(argv, Set.of("skip-sparse", "skip-oracle")));
        assertThat(rc).isZero();
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("ideal posterior sampling");
        return Files.readString(out);
    }

    /**
     * The report without the fields that measure time: "seconds", and the second column of the curve's
     * points, whose first column is the environment steps (thousands, where no return or rate can be).
     */
    private static String timeless(String json) {
        String s = json.replaceAll("\"seconds\": [^,\\n]+", "");
        Matcher m = Pattern.compile("\\[([0-9]{4,}\\.0), ([0-9.eE+-]+),").matcher(s);
        return m.replaceAll("[$1, t,");
    }

    @Test
    void theReportHasTheIssuesKeysAndTheCeilingAndASeedReproducesIt(@TempDir Path dir) throws Exception {
        String first = bench(dir.resolve("a.json"));

        for (String key : List.of("\"seed\": 3", "\"pointRobot\"", "\"metaTestReturn\"", "\"priorReturn\"",
                "\"oracleReturn\"", "\"envSteps\"", "\"sparsePointRobot\"", "\"successRate\"",
                "\"posteriorSamplingCeiling\"", "\"posteriorSamplingCeilingHitsOnly\"")) {
            assertThat(first).contains(key);
        }
        assertThat(first).doesNotContain("\"oracleReturn\": null");
        assertThat(dir.resolve("a-return-vs-steps.png")).isNotEmptyFile();

        String second = bench(dir.resolve("b.json"));
        assertThat(timeless(second)).isEqualTo(timeless(first));
    }
}

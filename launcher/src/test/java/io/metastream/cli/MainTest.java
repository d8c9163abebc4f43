package io.metastream.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** Usage errors are exit code 2 with a message that names the problem; nothing is started. */
class MainTest {

    private static String stderrOf(Runnable r) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setErr(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void rejectsAnUnknownOptionBeforeStartingAnything() {
        int[] rc = new int[1];
        String err = stderrOf(() -> rc[0] = Main.run(new String[] {"run", "--duraton", "10"}));
        assertThat(rc[0]).isEqualTo(2);
        assertThat(err).contains("--duraton");
    }

    @Test
    void reportsNeverHoldACredentialGivenAsAnOption() {
        var m = LocalRun.redacted(java.util.Map.of("kafka.sasl.jaas.config", "x password=\"p\";",
                "kafka.ssl.key.password", "p", "kafka.bootstrap.servers", "h:9092", "metastream.seed", "3"));
        assertThat(m).containsEntry("kafka.sasl.jaas.config", "(redacted)").containsEntry("kafka.ssl.key.password", "(redacted)")
                .containsEntry("kafka.bootstrap.servers", "h:9092").containsEntry("metastream.seed", "3");
    }

    @Test
    void benchStreamRejectsAnUnknownOptionAndBadListsBeforeStartingAnything() {
        int[] rc = {0};
        String err = stderrOf(() -> rc[0] = Main.run(new String[] {"bench", "stream", "--out", "x.json", "--transitons", "5"}));
        assertThat(rc[0]).isNotZero();
        assertThat(err).contains("unknown option(s) for 'bench stream': --transitons");
        err = stderrOf(() -> rc[0] = Main.run(new String[] {"bench", "stream", "--out", "x.json", "--intervals", "1,x"}));
        assertThat(rc[0]).isNotZero();
        assertThat(err).contains("--intervals takes checkpoint intervals in seconds such as 1,4, got '1,x'");
        err = stderrOf(() -> rc[0] = Main.run(new String[] {"bench", "stream", "--out", "x.json", "--scale-tasks", "0"}));
        assertThat(err).contains("--scale-tasks must be positive, got '0'");
    }

    @Test
    void rejectsAnUnknownTaskFamilyAndBadNumbers() {
        int[] rc = new int[1];
        String err = stderrOf(() -> rc[0] = Main.run(new String[] {"run", "--family", "cheetah"}));
        assertThat(rc[0]).isEqualTo(2);
        assertThat(err).contains("cheetah");
        err = stderrOf(() -> rc[0] = Main.run(new String[] {"run", "--agents", "many"}));
        assertThat(rc[0]).isEqualTo(2);
        assertThat(err).contains("--agents must be an integer");
    }

    @Test
    void rejectsAnUnknownCommand() {
        int[] rc = new int[1];
        String err = stderrOf(() -> rc[0] = Main.run(new String[] {"train"}));
        assertThat(rc[0]).isEqualTo(2);
        assertThat(err).contains("unknown command 'train'");
    }

    @Test
    void benchAndPearlUsageErrorsNameTheProblem() {
        int[] rc = new int[1];
        String err = stderrOf(() -> rc[0] = Main.run(new String[] {"bench"}));
        assertThat(rc[0]).isEqualTo(2);
        assertThat(err).contains("name a benchmark: bench grbal, bench fleet, bench pearl, bench learner");
        err = stderrOf(() -> rc[0] = Main.run(new String[] {"bench", "fleet", "--agents", "4"}));
        assertThat(rc[0]).isEqualTo(2);
        assertThat(err).contains("--out FILE is required");
        err = stderrOf(() -> rc[0] = Main.run(new String[] {"bench", "fleet", "--out", "x.json", "--hidden", "3y3"}));
        assertThat(rc[0]).isEqualTo(2);
        assertThat(err).contains("--hidden takes comma-separated integers");
        err = stderrOf(() -> rc[0] = Main.run(new String[] {"bench", "grbal", "--seeds", "1"}));
        assertThat(rc[0]).isEqualTo(2);
        assertThat(err).contains("--out FILE is required");
        err = stderrOf(() -> rc[0] = Main.run(new String[] {"bench", "grbal", "--out", "x.json", "--families", "cartpole"}));
        assertThat(rc[0]).isEqualTo(2);
        assertThat(err).contains("unknown task family 'cartpole'");
        err = stderrOf(() -> rc[0] = Main.run(new String[] {"bench", "maml"}));
        assertThat(rc[0]).isEqualTo(2);
        assertThat(err).contains("unknown benchmark 'maml'");
        err = stderrOf(() -> rc[0] = Main.run(new String[] {"bench", "pearl", "--seed", "1"}));
        assertThat(rc[0]).isEqualTo(2);
        assertThat(err).contains("needs --out FILE");
        err = stderrOf(() -> rc[0] = Main.run(new String[] {"bench", "pearl", "--out", "x.json", "--dense.iteratons", "3"}));
        assertThat(rc[0]).isEqualTo(2);
        assertThat(err).contains("dense.iteratons");
        err = stderrOf(() -> rc[0] = Main.run(new String[] {"run", "--algorithm", "maml"}));
        assertThat(rc[0]).isEqualTo(2);
        assertThat(err).contains("'maml' is not supported; supported: grbal, pearl");
    }

    @Test
    void jobOnlyWithoutAFamilyNeedsTheSizesAndAConflictingSizeIsRefused(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        int[] rc = {-1};
        // --work: the run may write its learner key pair before the sizes are checked; not into the source tree
        String work = dir.toString();
        String err = stderrOf(() -> rc[0] = Main.run(new String[] {"run", "--job-only", "--work", work,
            "--metastream.obs-dim", "5"}));
        assertThat(rc[0]).isEqualTo(2);
        assertThat(err).contains("set metastream.act-dim");
        err = stderrOf(() -> rc[0] = Main.run(new String[] {"run", "--job-only", "--work", work, "--family", "pendulum",
            "--metastream.obs-dim", "5"}));
        assertThat(rc[0]).isEqualTo(2);
        assertThat(err).contains("metastream.obs-dim 5 conflicts with task family 'pendulum', whose observation size is 3");
    }

    @Test
    void clientPropertiesComeFromAFileAndFromKafkaPrefixedOptions(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path file = dir.resolve("client.properties");
        java.nio.file.Files.writeString(file, "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n"
                + "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"fleet\" "
                + "password=\"secret\";\n");
        io.metastream.client.CommandLineArgs a = new io.metastream.client.CommandLineArgs(new String[] {
            "--client-properties", file.toString(), "--kafka.client.id", "fleet-1"}, java.util.Set.of());
        java.util.Map<String, String> p = Main.clientProperties(a);
        assertThat(p).containsEntry("security.protocol", "SASL_PLAINTEXT").containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("client.id", "fleet-1").containsKey("sasl.jaas.config");
        a.rejectUnknown("fleet");

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Main.clientProperties(new io.metastream.client.CommandLineArgs(
                new String[] {"--client-properties", dir.resolve("none").toString()}, java.util.Set.of())))
                .hasMessageContaining("no such file");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Main.clientProperties(new io.metastream.client.CommandLineArgs(
                new String[] {"--kafka.bootstrap.servers", "x:1"}, java.util.Set.of())))
                .hasMessageContaining("--bootstrap-servers");
    }
}

package io.metastream.core.pearl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.within;

import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.Activation;
import io.metastream.core.nn.Mlp;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PearlPolicyTest {

    /** Regenerate the golden files with {@code -Dmetastream.golden.regenerate=true} (only for a new format version). */
    private static final String REGENERATE = "metastream.golden.regenerate";
    private static final Path GOLDEN_DIR = Path.of("src", "test", "resources", "golden");
    private static final String BLOB = "pearl-policy-v1.bin";
    private static final String OUTPUTS = "pearl-policy-v1.outputs.txt";

    /** A small deterministic model: obs 2, act 1, latent 2, encoder {4}, policy {5}, tanh. */
    static PearlPolicy deterministicPolicy() {
        Random rng = new Random(2024);
        ContextEncoder enc = new ContextEncoder(6, 2, new int[] {4}, Activation.TANH);
        Mlp pol = PearlConfig.mlp(4, new int[] {5}, 2, Activation.TANH);
        double[] e = NdArrays.toFlatArray(enc.initParams(rng));
        double[] p = NdArrays.toFlatArray(pol.initParams(rng));
        for (int i = 0; i < e.length; i++) {
            e[i] += 0.1 * rng.nextGaussian();
        }
        for (int i = 0; i < p.length; i++) {
            p[i] += 0.1 * rng.nextGaussian();
        }
        return new PearlPolicy(17, 2, 1, 2, Activation.TANH, new int[] {4}, new int[] {5}, e, p);
    }

    /** Probe rows: obs0 obs1 z0 z1, and a fixed 3-row context. */
    static double[][] probes() {
        Random rng = new Random(7);
        double[][] x = new double[6][4];
        for (double[] row : x) {
            for (int c = 0; c < 4; c++) {
                row[c] = rng.nextGaussian();
            }
        }
        return x;
    }

    static double[][] context() {
        Random rng = new Random(8);
        double[][] c = new double[3][6];
        for (double[] row : c) {
            for (int k = 0; k < 6; k++) {
                row[k] = rng.nextGaussian();
            }
        }
        return c;
    }

    /** One line per probe (deterministic action), then the posterior mean and variance of the context. */
    static List<double[]> outputs(PearlPolicy p) {
        List<double[]> out = new ArrayList<>();
        for (double[] x : probes()) {
            out.add(p.act(new double[] {x[0], x[1]}, new double[] {x[2], x[3]}, null, true));
        }
        Posterior q = p.posterior(context());
        out.add(q.mean());
        out.add(q.variance());
        return out;
    }

    @Test
    void goldenVersionOneBlobStillDecodesToTheSameActionsAndPosterior() throws IOException {
        if (Boolean.getBoolean(REGENERATE)) {
            writeGolden();
        }
        byte[] blob = read(BLOB);
        PearlPolicy p = PearlPolicy.decode(blob);
        assertThat(p.version()).isEqualTo(17);
        assertThat(p.encode()).isEqualTo(blob);
        List<double[]> expected = new ArrayList<>();
        for (String line : new String(read(OUTPUTS), StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                expected.add(Arrays.stream(line.trim().split("\\s+")).mapToDouble(Double::parseDouble).toArray());
            }
        }
        List<double[]> actual = outputs(p);
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < actual.size(); i++) {
            for (int j = 0; j < actual.get(i).length; j++) {
                assertThat(actual.get(i)[j]).as("line %d value %d", i, j).isCloseTo(expected.get(i)[j], within(1e-12));
            }
        }
        assertThat(blob).isEqualTo(deterministicPolicy().encode()); // the encoder still writes version 1 the same way
    }

    @Test
    void actionsAreSquashedAndStochasticActionsFollowTheSeed() {
        PearlPolicy p = deterministicPolicy();
        double[] obs = {0.2, -0.4};
        double[] z = {1.0, 0.5};
        for (int i = 0; i < 50; i++) {
            double a = p.act(obs, z, new Random(i), false)[0];
            assertThat(a).isBetween(-1.0, 1.0);
        }
        assertThat(p.act(obs, z, new Random(3), false)).containsExactly(p.act(obs, z, new Random(3), false));
        assertThatThrownBy(() -> p.act(obs, z, null, false)).hasMessageContaining("rng is null");
        assertThatThrownBy(() -> p.act(obs, new double[1], null, true)).hasMessageContaining("latentDim = 2");
        assertThatThrownBy(() -> p.posterior(new double[][] {{1, 2}})).hasMessageContaining("2 values but 6");
    }

    private static byte[] read(String name) throws IOException {
        try (InputStream in = PearlPolicyTest.class.getResourceAsStream("/golden/" + name)) {
            if (in == null) {
                fail("golden file golden/" + name + " is missing from the test resources; restore it from version control "
                        + "(or, only when introducing a new format version, run once with -D" + REGENERATE + "=true)");
            }
            return in.readAllBytes();
        }
    }

    private static void writeGolden() throws IOException {
        PearlPolicy p = deterministicPolicy();
        Files.createDirectories(GOLDEN_DIR);
        Files.write(GOLDEN_DIR.resolve(BLOB), p.encode());
        StringBuilder sb = new StringBuilder("# deterministic actions for PearlPolicyTest.probes(), then posterior mean and "
                + "variance of PearlPolicyTest.context(), for golden/" + BLOB + " (written by PearlPolicyTest; do not edit)\n");
        for (double[] row : outputs(p)) {
            for (int j = 0; j < row.length; j++) {
                sb.append(j > 0 ? " " : "").append(row[j]);
            }
            sb.append('\n');
        }
        Files.writeString(GOLDEN_DIR.resolve(OUTPUTS), sb.toString());
    }
}
